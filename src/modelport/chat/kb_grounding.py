"""Knowledge-base grounding for `knowledge_base.ids` and the `retrieval` tool.

Retrieve the best passages from the caller's knowledge bases, put them in the prompt as
numbered sources, and cite them in the response's `knowledge_base.cites` (`title` = file
name, `content` = the passage, `file_id`, plus `kb_id`, `page` and `score`). Runs before web
search: when both are asked for, Baichuan's reference says the knowledge base wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..knowledge.retrieve import Passage
from ..knowledge.service import KnowledgeService, UnknownIds
from ..protocol.chat import (
    ChatCompletionRequest,
    ChatMessage,
    KnowledgeBaseRef,
    RetrievalTool,
    WebSearchTool,
)
from ..protocol.chat_response import Cite, KnowledgeBaseCites
from ..protocol.errors import APIError
from ..settings import KnowledgeSettings
from .augment import Augmentation

if TYPE_CHECKING:
    from .service import Caller

INSTRUCTIONS = (
    "Answer the user's question using the numbered passages from their knowledge base below. "
    "If the passages do not contain the answer, say that the knowledge base does not cover it."
)
# Opt-in (`knowledge_base.citation_markers`): Baichuan's answers carry no markers, and
# clients that show `cites` beside the answer need none.
MARKERS = "Cite a passage as [n] after the sentence that uses it, n being its number below."
NOTHING_FOUND = (
    "The user's knowledge base has no passage relevant to this question: say that the "
    "knowledge base does not cover it, then answer briefly if you can."
)
PENDING_NOTE = (
    "Note: {count} file(s) of the knowledge base are still being indexed, so these passages "
    "come only from the files that are ready; mention that the answer may be incomplete."
)
MIN_PASSAGE_CHARS = 120


class KnowledgeGrounding:
    """The `Augmenter` that grounds a request in the caller's knowledge bases."""

    def __init__(self, knowledge: KnowledgeService, settings: KnowledgeSettings) -> None:
        self._knowledge = knowledge
        self._settings = settings

    async def augment(self, request: ChatCompletionRequest, caller: Caller) -> Augmentation | None:
        kb_ids = request.knowledge_base_ids()
        if not kb_ids:
            return None
        plain = without_retrieval(request)
        query = last_user_turn(request.messages)
        asked = request.knowledge_base or KnowledgeBaseRef()
        try:
            found = await self._knowledge.retrieve(
                caller.owner,
                kb_ids,
                query,
                top_k=asked.top_k or self._settings.top_k,
                relative_cut=self._settings.relative_cut,
                score_threshold=asked.score_threshold,
            )
        except UnknownIds as exc:
            raise APIError(
                404,
                f"No such knowledge base: {', '.join(exc.ids)}.",
                param="knowledge_base.ids",
                code="knowledge_base_not_found",
            ) from exc
        passages = found.passages if query else []
        system = grounding_text(
            passages, found.pending_files, self._settings.prompt_chars, asked.citation_markers
        )
        cites = KnowledgeBaseCites(cites=[cite(p) for p in passages])
        return Augmentation(with_system(plain, system), {"knowledge_base": cites})


def cite(passage: Passage) -> Cite:
    return Cite(
        title=passage.title,
        content=passage.content,
        file_id=passage.file_id,
        kb_id=passage.kb_id,
        page=passage.page,
        heading=passage.heading,
        score=round(passage.score, 4),
    )


def last_user_turn(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user" and message.text().strip():
            return " ".join(message.text().split())
    return ""


def grounding_text(
    passages: Sequence[Passage], pending: int, budget: int, markers: bool = False
) -> str:
    """Instructions plus the numbered passages, cut to share `budget` characters."""
    if not passages:
        parts = [NOTHING_FOUND]
    else:
        parts = [f"{INSTRUCTIONS} {MARKERS}" if markers else INSTRUCTIONS]
    if pending:
        parts.append(PENDING_NOTE.format(count=pending))
    if passages:
        each = max(MIN_PASSAGE_CHARS, budget // len(passages))
        for n, passage in enumerate(passages, start=1):
            where = f", page {passage.page}" if passage.page else ""
            where += f", {passage.heading}" if passage.heading else ""
            text = passage.content if len(passage.content) <= each else passage.content[:each] + "…"
            parts.append(f"[{n}] {passage.title}{where}\n{text}")
    return "\n\n".join(parts)


def without_retrieval(request: ChatCompletionRequest) -> ChatCompletionRequest:
    """The request minus knowledge-base and search switches, which no provider should see."""
    tools = [t for t in request.tools or [] if not isinstance(t, RetrievalTool | WebSearchTool)]
    return request.model_copy(
        update={"knowledge_base": None, "with_search_enhance": False, "tools": tools or None}
    )


def with_system(request: ChatCompletionRequest, text: str) -> ChatCompletionRequest:
    """The request with `text` added to its leading system message (or in a new one)."""
    messages = list(request.messages)
    first = messages[0] if messages else None
    if (
        first is not None
        and first.role in ("system", "developer")
        and isinstance(first.content, str)
    ):
        messages[0] = first.model_copy(update={"content": f"{first.content}\n\n{text}"})
    else:
        messages.insert(0, ChatMessage(role="system", content=text))
    return request.model_copy(update={"messages": messages})

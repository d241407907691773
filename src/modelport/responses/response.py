"""A chat answer as a Responses `response`: the output items, status, usage, annotations.

Knowledge-base cites (`knowledge_base.cites`, see `chat/kb_grounding.py`) become a
`file_search_call` item before the message (its `results` when the request's `include` asks
for `file_search_call.results`) and `file_citation` annotations on the text: one per passage
the answer cites as `[n]`, at the marker; when it cites none, one per passage at the end.
"""

from __future__ import annotations

import time
from typing import Any

from ..chat.kb_grounding import last_user_turn
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion, Cite, FinishReason, KnowledgeBaseCites, Usage
from ..protocol.response_objects import (
    FileCitation,
    FileSearchCall,
    FileSearchResult,
    FunctionCallOutput,
    IncompleteDetails,
    OutputItem,
    OutputMessage,
    OutputText,
    ResponseObject,
    ResponseUsage,
)
from ..protocol.responses import ResponseCreateRequest

RESULTS = "file_search_call.results"


def shell(request: ResponseCreateRequest, model: str) -> ResponseObject:
    """The response as it starts: in progress, no output, the request's settings echoed."""
    text: dict[str, Any] = {"format": {"type": "text"}}
    if request.text is not None and request.text.format is not None:
        text = request.text.model_dump(mode="json", by_alias=True, exclude_none=True)
    choice: Any = request.tool_choice or "auto"
    if not isinstance(choice, str):
        choice = choice.model_dump(mode="json", exclude_none=True)
    return ResponseObject(
        created_at=int(time.time()),
        instructions=request.instructions,
        max_output_tokens=request.max_output_tokens,
        model=model,
        parallel_tool_calls=request.parallel_tool_calls is not False,
        previous_response_id=request.previous_response_id,
        store=request.store,
        temperature=request.temperature,
        text=text,
        tool_choice=choice,
        tools=[t.model_dump(mode="json", exclude_none=True) for t in request.tools or []],
        top_p=request.top_p,
        user=request.user,
        metadata=dict(request.metadata or {}),
    )


def usage_of(usage: Usage) -> ResponseUsage:
    return ResponseUsage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def citations(text: str, cites: list[Cite]) -> list[FileCitation]:
    """`file_citation` annotations for the passages `text` cites (see the module's docstring)."""
    found = [(text.find(f"[{n}]"), cite) for n, cite in enumerate(cites, start=1)]
    used = [(at, cite) for at, cite in found if at >= 0]
    if not used:
        used = [(len(text), cite) for cite in cites]
    return [
        FileCitation(file_id=cite.file_id or "", filename=cite.title, index=at)
        for at, cite in sorted(used, key=lambda pair: pair[0])
    ]


def file_search_call(
    chat: ChatCompletionRequest, cites: KnowledgeBaseCites | None, with_results: bool
) -> FileSearchCall:
    """The `file_search_call` item of a request grounded in knowledge bases."""
    results = None
    if with_results and cites is not None:
        results = [
            FileSearchResult(
                file_id=c.file_id,
                filename=c.title,
                score=c.score,
                text=c.content,
                attributes={"kb_id": c.kb_id or "", **({"page": c.page} if c.page else {})},
            )
            for c in cites.cites
        ]
    return FileSearchCall(
        status="completed", queries=[last_user_turn(chat.messages)], results=results
    )


def finish_status(response: ResponseObject, reason: FinishReason | None) -> None:
    """Set the response's status from the chat answer's finish reason."""
    if reason == "length":
        response.status = "incomplete"
        response.incomplete_details = IncompleteDetails(reason="max_output_tokens")
    elif reason == "content_filter":
        response.status = "incomplete"
        response.incomplete_details = IncompleteDetails(reason="content_filter")
    else:
        response.status = "completed"
        response.completed_at = int(time.time())


def answered(
    request: ResponseCreateRequest,
    chat: ChatCompletionRequest,
    completion: ChatCompletion,
) -> ResponseObject:
    """The whole response for a chat answer (non-stream)."""
    response = shell(request, completion.model)
    choice = completion.choices[0]
    finish_status(response, choice.finish_reason)
    item_status = "completed" if response.status == "completed" else "incomplete"
    cites = completion.knowledge_base
    output: list[OutputItem] = []
    if request.vector_store_ids():
        output.append(file_search_call(chat, cites, request.includes(RESULTS)))
    message = choice.message
    text = message.content or ""
    if text or not message.tool_calls:
        notes = citations(text, cites.cites) if cites is not None and cites.cites else []
        part = OutputText(text=text, annotations=notes)
        output.append(OutputMessage(status=item_status, content=[part]))
    for call in message.tool_calls or ():
        output.append(
            FunctionCallOutput(
                call_id=call.id,
                name=call.function.name,
                arguments=call.function.arguments,
                status="completed",
            )
        )
    response.output = output
    response.usage = usage_of(completion.usage)
    response.knowledge_base = cites
    return response

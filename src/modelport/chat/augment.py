"""The hook through which retrieval (knowledge bases, web search) grounds a request.

An augmenter may rewrite the request (e.g. add a grounding system message) and name extra
fields for the response (e.g. `knowledge_base: {cites: [...]}`); the service applies them to
the completion, or to the final chunk of a stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..protocol.chat import ChatCompletionRequest

if TYPE_CHECKING:
    from .service import Caller


@dataclass
class Augmentation:
    request: ChatCompletionRequest
    response_fields: dict[str, Any] = field(default_factory=dict)
    searches: int = 0  # web searches made (billed per search)


class Augmenter(Protocol):
    async def augment(self, request: ChatCompletionRequest, caller: Caller) -> Augmentation | None:
        """Return None when this augmenter has nothing to do for the request."""
        ...

"""DeepL's `/v2/translate` as a chat provider, and as a batch translator for `/v1/translate`.

A chat request on a DeepL channel translates its last user message into the channel's
`target_lang`; a stream gives the translation as one content chunk. DeepL bills characters,
so the usage reports `prompt_tokens` = characters sent (DeepL's `billed_characters`), and the
completion the fewest tokens the usage guard allows for the text relayed (one per 32
characters): a DeepL model's `price.prompt` is its price per 1,000 characters and its
`price.completion` should be 0.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    Usage,
    completion_id,
)
from ...protocol.errors import APIError
from ...settings import ChannelConfig
from ..base import ProviderDeps, UpstreamProvider
from ..budget import MAX_CHARS_PER_TOKEN, OutputBudget
from ..driver import convert
from ..errors import malformed
from ..keyring import KeyRing
from ..stream import Batch, ProviderStream, StreamEnd
from .errors import VENDOR, deepl_error
from .options import DeepLOptions, base_url

TRANSLATE_PATH = "/v2/translate"


class _Translation(BaseModel):
    text: str
    detected_source_language: str | None = None
    billed_characters: int | None = Field(default=None, ge=0)  # with show_billed_characters


class _Answer(BaseModel):
    translations: list[_Translation]


@dataclass(frozen=True, slots=True)
class Translated:
    """DeepL's answer: each text's translation and detected language, the characters billed."""

    texts: list[str]
    detected: list[str | None]
    characters: int


class DeepLProvider(UpstreamProvider):
    vendor = VENDOR
    Options = DeepLOptions

    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._limits = deps.settings.upstream
        self._keys = KeyRing()

    async def translate(
        self,
        texts: list[str],
        channel: ChannelConfig,
        *,
        target_lang: str | None = None,
        source_lang: str | None = None,
    ) -> Translated:
        """One `/v2/translate` call for all `texts` (languages default to the channel's)."""
        options = channel.typed_options(DeepLOptions)
        key = self._keys.next(channel) or ""
        body: dict[str, Any] = {
            "text": texts,
            "target_lang": (target_lang or options.target_lang).upper(),
            "show_billed_characters": True,
        }
        source = source_lang or options.source_lang
        if source:
            body["source_lang"] = source.upper()
        if options.formality is not None:
            body["formality"] = options.formality
        data = await self._http.post_json(
            base_url(channel, key) + TRANSLATE_PATH,
            body=body,
            headers={"Authorization": f"DeepL-Auth-Key {key}"},
            channel=channel,
            on_error=deepl_error,
            vendor=VENDOR,
        )
        answer = convert(_Answer.model_validate, data, VENDOR)
        if len(answer.translations) != len(texts):
            raise malformed(VENDOR, f"{len(answer.translations)} translations for {len(texts)}")
        sent = sum(len(text) for text in texts)
        counts = [t.billed_characters for t in answer.translations]
        billed = None if None in counts else sum(c or 0 for c in counts)
        return Translated(
            [t.text for t in answer.translations],
            [t.detected_source_language for t in answer.translations],
            sent if billed is None else min(billed, sent),
        )

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        done = await self.translate([_last_user_text(request)], channel)
        text = done.texts[0]
        return ChatCompletion(
            id=completion_id(),
            created=int(time.time()),
            model=request.model,
            choices=[Choice(index=0, message=AssistantMessage(content=text), finish_reason="stop")],
            usage=_usage(done.characters, text),
        )

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream:
        budget = OutputBudget.of(request, self._limits)
        items = self._stream_items(request, channel)
        return ProviderStream(items, request=request, budget=budget, vendor=VENDOR)

    async def _stream_items(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncGenerator[Batch, None]:
        """The translation as one content chunk, then the finish and the usage."""
        done = await self.translate([_last_user_text(request)], channel)
        text = done.texts[0]
        chat_id, created = completion_id(), int(time.time())

        def chunk(delta: Delta, finish: FinishReason | None) -> ChatCompletionChunk:
            choice = ChunkChoice(index=0, delta=delta, finish_reason=finish)
            return ChatCompletionChunk(
                id=chat_id, created=created, model=request.model, choices=[choice]
            )

        yield [chunk(Delta(role="assistant", content=text), None)]
        yield [chunk(Delta(), "stop"), StreamEnd(_usage(done.characters, text))]


def _last_user_text(request: ChatCompletionRequest) -> str:
    if request.n > 1:
        raise APIError(400, "a DeepL model gives one translation: n must be 1", param="n")
    for message in reversed(request.messages):
        if message.role == "user" and message.text().strip():
            return message.text()
    raise APIError(400, "a DeepL model translates the last user message: there is none")


def _usage(characters: int, translation: str) -> Usage:
    """Characters sent as prompt tokens; the completion the fewest tokens the guard allows."""
    return Usage.of(characters, -(-len(translation) // MAX_CHARS_PER_TOKEN))

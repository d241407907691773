"""Translating for `/v1/translate`, under the same keys, quotas and ledger as chat.

- A model whose channels are all DeepL: every text in one `/v2/translate` call, tried on the
  model's channels in turn (a 456 "quota exceeded" moves on to the next); the key is admitted
  first with a hold of the characters' price, and one usage row books the characters sent
  as `prompt_tokens` (a DeepL model is priced per 1,000 characters).
- Any other chat model: one chat completion per text through `ChatService` with a system
  prompt asking for the translation only, so admission, quota holds and booking are chat's.
"""

from __future__ import annotations

import asyncio
import time

from ..accounting.booking import book_usage
from ..accounting.keys import KeyRecord
from ..accounting.usage import UsageEntry
from ..chat.service import Caller
from ..observability.metrics import channel_label
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import Usage
from ..protocol.errors import APIError
from ..protocol.translate import TranslateRequest, TranslateResponse, Translation
from ..providers.deepl import DeepLProvider, Translated
from ..routing.retry import Attempts
from ..routing.router import Route
from ..services import Services
from ..settings import ModelConfig

DEEPL = "deepl"
PROMPT = "Translate the user's text into {language}; answer with the translation only."
LANGUAGES = {
    "AR": "Arabic",
    "DE": "German",
    "EN": "English",
    "EN-GB": "British English",
    "EN-US": "American English",
    "ES": "Spanish",
    "FR": "French",
    "IT": "Italian",
    "JA": "Japanese",
    "KO": "Korean",
    "NL": "Dutch",
    "PL": "Polish",
    "PT": "Portuguese",
    "PT-BR": "Brazilian Portuguese",
    "PT-PT": "European Portuguese",
    "RU": "Russian",
    "TR": "Turkish",
    "UK": "Ukrainian",
    "ZH": "Chinese",
    "ZH-HANS": "Simplified Chinese",
    "ZH-HANT": "Traditional Chinese",
}
OUTPUT_TOKENS_PER_CHAR = 4  # a chat model's answer may take this many tokens per character
MIN_OUTPUT_TOKENS = 64
MAX_OUTPUT_TOKENS = 2048


def language_name(code: str) -> str:
    return LANGUAGES.get(code.upper(), code)


def default_model(services: Services) -> str:
    """The first model the embedded engine serves, else the catalogue's first."""
    models = services.catalogue.models()
    local = [m for m in models if any(c.provider == "local" for c in m.channels)]
    return (local or models)[0].name


def is_deepl(model: ModelConfig) -> bool:
    return all(channel.provider == DEEPL for channel in model.channels)


async def translate(
    services: Services, key: KeyRecord, body: TranslateRequest, request_id: str
) -> TranslateResponse:
    model = services.catalogue.resolve(body.model or default_model(services))
    if is_deepl(model):
        return await _by_deepl(services, key, model, body, request_id)
    return await _by_chat(services, key, model, body, request_id)


async def _by_chat(
    services: Services, key: KeyRecord, model: ModelConfig, body: TranslateRequest, rid: str
) -> TranslateResponse:
    system = PROMPT.format(language=language_name(body.target_lang))
    texts = body.all_texts()
    translations: list[Translation] = []
    prompt = completion = 0
    for i, text in enumerate(texts):
        limit = min(max(len(text) * OUTPUT_TOKENS_PER_CHAR, MIN_OUTPUT_TOKENS), MAX_OUTPUT_TOKENS)
        request = ChatCompletionRequest.model_validate(
            {
                "model": model.name,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": text},
                ],
                "temperature": 0,
                "max_tokens": limit,
            }
        )
        caller = Caller.of(key, rid if len(texts) == 1 else f"{rid}-{i}")
        answer = await services.chat.complete(request, caller)
        content = answer.choices[0].message.content or "" if answer.choices else ""
        translations.append(Translation(text=content.strip()))
        prompt += answer.usage.prompt_tokens
        completion += answer.usage.completion_tokens
    return TranslateResponse(
        model=model.name, translations=translations, usage=Usage.of(prompt, completion)
    )


async def _by_deepl(
    services: Services, key: KeyRecord, model: ModelConfig, body: TranslateRequest, rid: str
) -> TranslateResponse:
    texts = body.all_texts()
    characters = sum(len(text) for text in texts)
    gate, reservation = services.gate, None
    if gate is not None:  # refused here means no upstream call at all
        hold = gate.hold(key, model, characters, 0) if key.has_quota else None
        reservation = await gate.admit(key, model.name, [], hold)
    started = time.perf_counter()
    attempts = Attempts(services.chat.router, model)

    async def call(route: Route) -> Translated:
        provider = services.providers.get(route.channel.provider)
        assert isinstance(provider, DeepLProvider)
        return await provider.translate(
            texts, route.channel, target_lang=body.target_lang, source_lang=body.source_lang
        )

    def entry(usage: Usage, status: int, code: str | None) -> UsageEntry:
        channel = attempts.last.channel if attempts.last is not None else model.channels[0]
        router = services.chat.router
        route_id = attempts.last.id if attempts.last is not None else router.route_id(model, 0)
        latency = int((time.perf_counter() - started) * 1000)
        user_id = key.user_id
        cost = gate.cost(key, model, usage.prompt_tokens, 0) if gate is not None else 0
        return UsageEntry(
            request_id=rid,
            key_id=key.id,
            owner=key.owner,
            model=model.name,
            provider=channel.provider,
            prompt_tokens=usage.prompt_tokens,
            total_tokens=usage.total_tokens,
            latency_ms=latency,
            status=status,
            error_code=code,
            cost_micros=cost,
            reservation=reservation,
            channel=route_id,
            channel_name=channel.name,
            user_id=user_id,
            ttft_ms=latency,
        )

    async def book(row: UsageEntry) -> None:
        channel = attempts.last.channel if attempts.last is not None else model.channels[0]
        await book_usage(
            row,
            key,
            ledger=services.ledger,
            gate=gate,
            metrics=services.metrics,
            channel=channel_label(model, channel),
        )

    try:
        _, done = await attempts.run(call)
    except APIError as exc:
        await book(entry(Usage(), exc.status, exc.code))
        raise
    except asyncio.CancelledError:  # the client left: what DeepL did is not known here
        await asyncio.shield(book(entry(Usage(), 499, "client_disconnected")))
        raise
    usage = Usage.of(done.characters, 0)
    await book(entry(usage, 200, None))
    translations = [
        Translation(text=text, detected_source_lang=lang)
        for text, lang in zip(done.texts, done.detected, strict=True)
    ]
    return TranslateResponse(model=model.name, translations=translations, usage=usage)

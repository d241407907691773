"""A fake DeepL API (`POST /v2/translate`) after its published reference.

The free host (api-free.deepl.com, keys ending `:fx`) and the pro host (api.deepl.com) serve
the same path, so one fake stands for either. It checks `Authorization: DeepL-Auth-Key <key>`
(403 for another key), answers 456 once the characters translated would pass `quota`, 400
`{"message": ...}` for a body DeepL refuses, and "translates" by tagging the text with the
target language: `[ZH] hello`. `detected_source_language` is `EN` unless `source_lang` was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEEPL_KEY = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:fx"
FORMALITIES = {"default", "more", "less", "prefer_more", "prefer_less"}


@dataclass
class FakeDeepL:
    key: str = DEEPL_KEY
    quota: int | None = None  # characters this account may translate, None: no limit
    used: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reset(self, quota: int | None = None) -> None:
        self.quota, self.used = quota, 0
        self.requests.clear()

    async def translate(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if auth != f"DeepL-Auth-Key {self.key}":
            return JSONResponse({"message": "Wrong endpoint or authorization"}, 403)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"message": "Invalid request: expected a JSON body"}, 400)
        self.requests.append({"headers": dict(request.headers), "body": body})
        texts, target = body.get("text"), body.get("target_lang")
        if not isinstance(texts, list) or not texts or not isinstance(target, str):
            return JSONResponse({"message": "Parameter 'text' or 'target_lang' missing"}, 400)
        if body.get("formality") not in (None, *FORMALITIES):
            return JSONResponse({"message": "Value for 'formality' not supported."}, 400)
        characters = sum(len(str(text)) for text in texts)
        if self.quota is not None and self.used + characters > self.quota:
            return JSONResponse({"message": "Quota exceeded"}, 456)
        self.used += characters
        source = body.get("source_lang") or "EN"
        translations: list[dict[str, Any]] = []
        for text in texts:
            one: dict[str, Any] = {"detected_source_language": source, "text": f"[{target}] {text}"}
            if body.get("show_billed_characters"):
                one["billed_characters"] = len(str(text))
            translations.append(one)
        return JSONResponse({"translations": translations})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/translate", self.translate, methods=["POST"])])

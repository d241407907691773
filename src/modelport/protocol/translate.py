"""`POST /v1/translate`: one text or a batch into one language, by DeepL or a chat model.

Request: `text` or `texts` (not both), `target_lang` (DeepL's codes: `EN`, `EN-US`, `ZH`,
`JA`, ...; case does not matter), `source_lang` (detected when absent), `model` (a DeepL
model, or any chat model; default: the first local model). Answer: one translation per text,
in order, with the language DeepL detected (null from a chat model), and the usage booked.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from .base import RequestModel, WireModel
from .chat_response import Usage

MAX_TEXTS = 50  # DeepL's bound per request
MAX_TEXT_CHARS = 8192


NOT_BLANK = r"\S"
LANG = r"^[A-Za-z]{2,3}(-[A-Za-z]+)?$"
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, pattern=NOT_BLANK)]
Texts = Annotated[list[Text], Field(min_length=1, max_length=MAX_TEXTS)]


class TranslateRequest(RequestModel):
    # Exactly one of `text` and `texts`, as the schema says (`oneOf`), and never null.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["texts"]}]}
    )

    text: Text | SkipJsonSchema[None] = None
    texts: Texts | SkipJsonSchema[None] = None
    target_lang: str = Field(min_length=2, max_length=16, pattern=LANG)
    source_lang: str | None = Field(default=None, min_length=2, max_length=16, pattern=LANG)
    model: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [name for name in ("text", "texts") if name in data]
            if len(given) != 1:
                raise ValueError("give either 'text' or 'texts' (one of them)")
            if data[given[0]] is None:
                raise ValueError(f"'{given[0]}' must not be null")
        return data

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or ())


class Translation(WireModel):
    text: str
    detected_source_lang: str | None = None


class TranslateResponse(WireModel):
    object: str = "translation"
    model: str
    translations: list[Translation]
    usage: Usage

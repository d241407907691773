"""Rendering a conversation into the model's own prompt format (the GGUF's chat template)."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# ChatML: what SmolLM2, Qwen and many others use; the fallback when a GGUF has no template.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class PromptError(ValueError):
    """The conversation cannot be rendered by this model's template."""


def _raise(message: str) -> None:
    raise PromptError(message)


class PromptRenderer:
    def __init__(self, template: str | None, bos_token: str = "", eos_token: str = "") -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        self._template = env.from_string(template or CHATML_TEMPLATE)
        self._bos = bos_token
        self._eos = eos_token

    def render(self, messages: list[dict[str, Any]]) -> str:
        try:
            return self._template.render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=self._bos,
                eos_token=self._eos,
            )
        except TemplateError as exc:
            raise PromptError(
                f"the model's chat template rejected the conversation: {exc}"
            ) from exc

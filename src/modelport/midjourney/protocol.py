"""The midjourney-proxy protocol's bodies and answers, as clients and upstreams send them.

Field names are the protocol's (camelCase). Fields a client may add that this server does not
use (`accountFilter`, `chooseSameChannel`, …) are ignored rather than refused: existing bots
send them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BotType = Literal["MID_JOURNEY", "NIJI_JOURNEY"]
Status = Literal["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "FAILURE", "SUCCESS", "CANCEL"]
FINISHED: frozenset[str] = frozenset({"FAILURE", "SUCCESS", "CANCEL"})

# The protocol's answer codes.
SUBMITTED = 1
NOT_FOUND = 3
VALIDATION_ERROR = 4
FAILURE = 9
EXISTED = 21
IN_QUEUE = 22
QUEUE_REJECTED = 23
BANNED_PROMPT = 24
ACCEPTED: frozenset[int] = frozenset({SUBMITTED, EXISTED, IN_QUEUE})

_MAX_IMAGE_CHARS = 28_000_000  # base64 of the largest image upstreams take, with room
# An http(s) URL with a host and no credentials (hooks.py checks it again before dialling).
_HOOK_URL = r"^https?://[^\s/@:?#\[\]]+(:[0-9]{1,5})?([/?#].*)?$"


class _Submit(BaseModel):
    model_config = ConfigDict(extra="ignore")

    notifyHook: str | None = Field(default=None, max_length=2048, pattern=_HOOK_URL)
    state: str | None = Field(default=None, max_length=4096)


class ImagineBody(_Submit):
    prompt: str = Field(min_length=1, max_length=8192)
    base64Array: list[str] = Field(default_factory=list, max_length=5)
    botType: BotType = "MID_JOURNEY"


class ActionBody(_Submit):
    customId: str = Field(min_length=1, max_length=512)
    taskId: str = Field(min_length=1, max_length=32)


class ChangeBody(_Submit):
    action: Literal["UPSCALE", "VARIATION", "REROLL"]
    index: int | None = Field(default=None, ge=1, le=4)
    taskId: str = Field(min_length=1, max_length=32)


class SimpleChangeBody(_Submit):
    content: str = Field(min_length=1, max_length=64)  # "<taskId> U1" | "V2" | "R"


class BlendBody(_Submit):
    base64Array: list[str] = Field(min_length=2, max_length=5)
    dimensions: Literal["PORTRAIT", "SQUARE", "LANDSCAPE"] = "SQUARE"
    botType: BotType = "MID_JOURNEY"


class DescribeBody(_Submit):
    base64: str = Field(min_length=1, max_length=_MAX_IMAGE_CHARS)
    botType: BotType = "MID_JOURNEY"


class ModalBody(_Submit):
    taskId: str = Field(min_length=1, max_length=32)
    prompt: str | None = Field(default=None, max_length=8192)
    maskBase64: str | None = Field(default=None, max_length=_MAX_IMAGE_CHARS)


class ShortenBody(_Submit):
    prompt: str = Field(min_length=1, max_length=8192)
    botType: BotType = "MID_JOURNEY"


class ListCondition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ids: list[str] = Field(default_factory=list, max_length=1000)


class SubmitResult(BaseModel):
    """Every submission's answer (and every error's, with `result` null)."""

    code: int
    description: str
    properties: dict[str, Any] = Field(default_factory=dict)
    result: str | None = None


class Button(BaseModel):
    model_config = ConfigDict(extra="ignore")

    customId: str = ""
    emoji: str = ""
    label: str = ""
    type: int = 2
    style: int = 2


class Task(BaseModel):
    """The task object of `/mj/task/{id}/fetch`, `list-by-condition` and notify hooks."""

    model_config = ConfigDict(extra="ignore")

    id: str
    action: str | None = None
    customId: str | None = None
    prompt: str | None = None
    promptEn: str | None = None
    description: str | None = None
    state: str | None = None
    submitTime: int | None = None
    startTime: int | None = None
    finishTime: int | None = None
    imageUrl: str | None = None
    status: str | None = None
    progress: str | None = None
    failReason: str | None = None
    buttons: list[Button] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)


def action_of(custom_id: str) -> str:
    """The task action a button's custom id starts (`MJ::JOB::upsample::1::…` → UPSCALE)."""
    parts = custom_id.split("::")
    head = parts[1] if len(parts) > 1 else ""
    verb = parts[2] if len(parts) > 2 else ""
    if head == "JOB":
        if verb.startswith("upsample"):
            return "UPSCALE"
        if verb.endswith("variation"):
            return "VARIATION"
        if verb == "reroll":
            return "REROLL"
        if verb.startswith("pan_"):
            return "PAN"
    if head in ("Outpaint", "CustomZoom"):
        return "ZOOM"
    if head == "Inpaint":
        return "INPAINT"
    return "ACTION"

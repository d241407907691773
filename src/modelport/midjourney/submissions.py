"""Clients' bodies as submissions to the upstream (`service.Submission`).

Bodies that name a task (`taskId`) are resolved against the caller's own tasks first; the
upstream gets its own id for it.
"""

from __future__ import annotations

import re
from typing import Any

from ..storage.mj_tables import MidjourneyTask
from .protocol import (
    ActionBody,
    BlendBody,
    ChangeBody,
    DescribeBody,
    ImagineBody,
    ModalBody,
    ShortenBody,
    action_of,
)
from .service import Submission

_SIMPLE_CHANGE = re.compile(r"^\s*(\d{1,32})\s+([UV][1-4]|R)\s*$", re.IGNORECASE)


def _verb(custom_id: str) -> str:
    parts = custom_id.split("::")
    return "::".join(parts[2:4]) if len(parts) > 2 else ""


def _common(body: Any) -> dict[str, Any]:
    return {"notify_hook": body.notifyHook or None, "state": body.state}


def imagine(body: ImagineBody) -> Submission:
    upstream: dict[str, Any] = {"prompt": body.prompt, "botType": body.botType, "state": body.state}
    if body.base64Array:
        upstream["base64Array"] = body.base64Array
    return Submission(
        "IMAGINE",
        "/submit/imagine",
        upstream,
        prompt=body.prompt,
        description=f"/imagine {body.prompt}",
        **_common(body),
    )


def blend(body: BlendBody) -> Submission:
    upstream = {
        "base64Array": body.base64Array,
        "dimensions": body.dimensions,
        "botType": body.botType,
        "state": body.state,
    }
    description = f"/blend {len(body.base64Array)} {body.dimensions.lower()}"
    return Submission("BLEND", "/submit/blend", upstream, description=description, **_common(body))


def describe(body: DescribeBody) -> Submission:
    upstream = {"base64": body.base64, "botType": body.botType, "state": body.state}
    return Submission(
        "DESCRIBE", "/submit/describe", upstream, description="/describe", **_common(body)
    )


def shorten(body: ShortenBody) -> Submission:
    upstream = {"prompt": body.prompt, "botType": body.botType, "state": body.state}
    return Submission(
        "SHORTEN",
        "/submit/shorten",
        upstream,
        prompt=body.prompt,
        description=f"/shorten {body.prompt}",
        **_common(body),
    )


def action(body: ActionBody, origin: MidjourneyTask) -> Submission:
    upstream = {"customId": body.customId, "taskId": origin.upstream_id, "state": body.state}
    return Submission(
        action_of(body.customId),
        "/submit/action",
        upstream,
        prompt=origin.prompt,
        description=f"/action {origin.id} {_verb(body.customId)}".rstrip(),
        custom_id=body.customId,
        origin=origin,
        **_common(body),
    )


def change(body: ChangeBody, origin: MidjourneyTask) -> Submission:
    upstream: dict[str, Any] = {
        "action": body.action,
        "taskId": origin.upstream_id,
        "state": body.state,
    }
    label = "R"
    if body.action != "REROLL":
        upstream["index"] = body.index
        label = f"{body.action[0]}{body.index}"
    return Submission(
        body.action,
        "/submit/change",
        upstream,
        prompt=origin.prompt,
        description=f"/up {origin.id} {label}",
        origin=origin,
        **_common(body),
    )


def modal(body: ModalBody, origin: MidjourneyTask) -> Submission:
    upstream: dict[str, Any] = {"taskId": origin.upstream_id, "state": body.state}
    if body.prompt is not None:
        upstream["prompt"] = body.prompt
    if body.maskBase64:
        upstream["maskBase64"] = body.maskBase64
    return Submission(
        origin.action,
        "/submit/modal",
        upstream,
        prompt=body.prompt or origin.prompt,
        description=origin.description,
        custom_id=origin.custom_id,
        origin=origin,
        **_common(body),
    )


def parse_simple_change(content: str) -> tuple[str, str, int | None] | None:
    """`"<taskId> U1"` → (task id, UPSCALE, 1); `"<taskId> R"` → (task id, REROLL, None)."""
    match = _SIMPLE_CHANGE.match(content)
    if match is None:
        return None
    task_id, verb = match.group(1), match.group(2).upper()
    if verb == "R":
        return task_id, "REROLL", None
    return task_id, "UPSCALE" if verb[0] == "U" else "VARIATION", int(verb[1])

"""A stored task as clients see it: our id, our image URL, and none of the upstream's
internals (its task ids, its notify hook, its Discord ids)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

from ..storage.mj_tables import MidjourneyTask
from .protocol import Button, Task

# Upstream properties a client may see; the rest (notifyHook, discord ids, nonces) stay here.
_SHOWN_PROPERTIES = ("finalPrompt", "finalZhPrompt", "botType", "progressMessageId")
IMAGE_URL_SECONDS = 86_400


class Signer:
    """Signs the image and notify URLs this server hands out."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def valid(self, signature: str, *parts: str) -> bool:
        return hmac.compare_digest(self.sign(*parts), signature)

    def image_path(self, task_id: str, now: float | None = None) -> str:
        """`/mj/image/{id}?…`, valid for a day; the expiry is rounded up to the hour so a
        client polling a task sees the same URL all along."""
        expires = int((now or time.time()) + IMAGE_URL_SECONDS) // 3600 * 3600 + 3600
        signature = self.sign("mj-image", task_id, str(expires))
        return f"/mj/image/{task_id}?expires={expires}&signature={signature}"

    def image_valid(self, task_id: str, expires: int, signature: str) -> bool:
        return expires >= time.time() and self.valid(signature, "mj-image", task_id, str(expires))


def public_task(row: MidjourneyTask, base: str, signer: Signer) -> Task:
    properties: dict[str, Any] = orjson.loads(row.properties or "{}")
    shown = {k: properties[k] for k in _SHOWN_PROPERTIES if k in properties}
    shown["mode"] = row.mode
    return Task(
        id=row.id,
        action=row.action,
        customId=row.custom_id,
        prompt=row.prompt,
        promptEn=row.prompt_en,
        description=row.description,
        state=row.state,
        submitTime=row.submit_time,
        startTime=row.start_time,
        finishTime=row.finish_time,
        imageUrl=base + signer.image_path(row.id) if row.upstream_image_url else None,
        status=row.status,
        progress=row.progress,
        failReason=row.fail_reason,
        buttons=[Button.model_validate(b) for b in orjson.loads(row.buttons or "[]")],
        properties=shown,
    )

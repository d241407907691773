"""Submitting Midjourney tasks: the channel, the price, the stored task.

A submission holds its price against the key's quota, goes to a channel serving the speed mode
(weighted, the next one when a channel cannot take it: unreachable, busy, or out of accounts,
which also disables it), and is charged only when the upstream accepts it (codes 1, 21, 22).
A task that acts on another (a button, a change, a modal) goes to the channel that drew the
original, with the upstream's own id for it; clients only ever see ours.
"""

from __future__ import annotations

import logging
import random
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ..accounting.keys import KeyRecord
from ..accounting.metered import Accounting, Metered
from ..accounting.reservations import Hold
from ..images.service import cost_micros
from ..protocol.errors import APIError
from ..providers.errors import UpstreamError, malformed
from ..storage.mj_tables import MidjourneyTask
from ..storage.tables import utcnow
from .config import MidjourneyChannelConfig, MidjourneySettings
from .protocol import ACCEPTED, FAILURE, QUEUE_REJECTED, SubmitResult
from .tasks import TaskStore
from .tracking import ledger_model
from .upstream import MidjourneyUpstream
from .view import Signer

log = logging.getLogger("modelport.midjourney")
_OPEN_STATUSES = frozenset({"NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS"})
_NO_ACCOUNT = re.compile(r"无可用|no available (discord )?(account|instance)", re.IGNORECASE)


@dataclass
class Submission:
    """One task as the upstream is to get it."""

    action: str  # IMAGINE, UPSCALE, … (what it is priced and booked as)
    path: str  # the upstream's path under /mj, e.g. /submit/imagine
    body: dict[str, Any]  # the upstream's body (task ids already the upstream's)
    prompt: str = ""
    description: str = ""
    custom_id: str | None = None
    origin: MidjourneyTask | None = None  # the task this one acts on
    notify_hook: str | None = None
    state: str | None = None


class _Answered(Exception):
    """A submission that ends without a charge: refused upstream, or a task already ours."""

    def __init__(self, result: SubmitResult) -> None:
        self.result = result


def new_task_id() -> str:
    """Milliseconds and six random digits: numeric like the protocol's, and unique."""
    return f"{int(time.time() * 1000)}{secrets.randbelow(10**6):06d}"


class Submitter:
    def __init__(
        self,
        settings: MidjourneySettings,
        store: TaskStore,
        upstream: MidjourneyUpstream,
        accounting: Accounting,
        signer: Signer,
    ) -> None:
        self._settings = settings
        self._store = store
        self._upstream = upstream
        self._accounting = accounting
        self._signer = signer
        self.disabled: dict[str, str] = {}  # channel → why (shown to the operator)

    def channel(self, name: str) -> MidjourneyChannelConfig | None:
        return next((c for c in self._settings.channels if c.name == name), None)

    def _candidates(
        self, mode: str, origin: MidjourneyTask | None
    ) -> list[MidjourneyChannelConfig]:
        if origin is not None:
            pinned = self.channel(origin.channel)
            return [pinned] if pinned is not None and pinned.name not in self.disabled else []
        usable = [
            c
            for c in self._settings.channels
            if c.enabled and c.name not in self.disabled and mode in c.modes
        ]
        ordered: list[MidjourneyChannelConfig] = []
        while usable:  # a weighted order without replacement
            pick = random.choices(usable, weights=[c.weight for c in usable])[0]
            usable.remove(pick)
            ordered.append(pick)
        return ordered

    def _body_for(self, channel: MidjourneyChannelConfig, sub: Submission) -> dict[str, Any]:
        body = {k: v for k, v in sub.body.items() if k != "notifyHook"}
        public = self._settings.public_url
        if public:  # the upstream tells us, never the client directly (its ids are not theirs)
            token = self._signer.sign("mj-notify", channel.name)
            body["notifyHook"] = f"{public}/mj/notify/{channel.name}?token={token}"
        return body

    async def _send(
        self, sub: Submission, mode: str
    ) -> tuple[SubmitResult, MidjourneyChannelConfig]:
        busy: SubmitResult | None = None
        failure: APIError | None = None
        for channel in self._candidates(mode, sub.origin):
            try:
                result = await self._upstream.submit(
                    channel, sub.path, mode, self._body_for(channel, sub)
                )
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                log.warning("midjourney channel %s failed: %s", channel.name, exc.message)
                failure = exc
                continue
            if _NO_ACCOUNT.search(result.description):
                self.disabled[channel.name] = f"no available account: {result.description}"
                log.warning("midjourney channel %s disabled: %s", channel.name, result.description)
                continue
            if result.code == QUEUE_REJECTED:
                busy = result
                continue
            return result, channel
        if busy is not None:
            raise _Answered(busy)
        if failure is not None:
            raise failure
        raise APIError(
            503,
            "No Midjourney channel can take this task now.",
            type="server_error",
            code="no_channel_available",
        )

    async def submit(
        self, key: KeyRecord, request_id: str, mode: str, sub: Submission
    ) -> SubmitResult:
        price = cost_micros(self._settings.price_of(sub.action), 1, key.price_multiplier)
        model = ledger_model(sub.action)
        try:
            async with Metered(self._accounting, key, request_id, model, Hold(0, price)) as meter:
                result, channel = await self._send(sub, mode)
                if result.code not in ACCEPTED:
                    raise _Answered(result.model_copy(update={"result": None}))
                if not result.result:
                    raise malformed("Midjourney proxy", "an accepted task without an id")
                task_id = await self._record(key, channel, mode, sub, result, price)
        except _Answered as answered:
            return answered.result
        await meter.book(
            provider=f"midjourney:{channel.name}",
            completion_tokens=1,
            total_tokens=0,
            cost_micros=price,
            detail=f"{sub.action} {mode} task {task_id}",
        )
        return SubmitResult(
            code=result.code, description=result.description, properties={}, result=task_id
        )

    async def _record(
        self,
        key: KeyRecord,
        channel: MidjourneyChannelConfig,
        mode: str,
        sub: Submission,
        result: SubmitResult,
        price: int,
    ) -> str:
        upstream_id = str(result.result)
        # A task we already have (an existing task, or a modal continuing its task): already
        # paid for, so it is answered with its id and not charged again.
        known = await self._store.by_upstream(channel.name, upstream_id)
        if known is not None and known.owner == key.owner:
            raise _Answered(result.model_copy(update={"result": known.id, "properties": {}}))
        if known is not None:
            raise _Answered(SubmitResult(code=FAILURE, description="The task exists."))
        status = result.properties.get("status")
        task_id = new_task_id()
        await self._store.insert(
            {
                "id": task_id,
                "owner": key.owner,
                "key_id": key.id,
                "channel": channel.name,
                "upstream_id": upstream_id,
                "mode": mode,
                "action": sub.action,
                "status": status if status in _OPEN_STATUSES else "SUBMITTED",
                "finished": False,
                "progress": "0%",
                "prompt": sub.prompt,
                "prompt_en": "",
                "description": sub.description,
                "state": sub.state,
                "custom_id": sub.custom_id,
                "buttons": "[]",
                "properties": "{}",
                "submit_time": int(time.time() * 1000),
                "notify_hook": sub.notify_hook,
                "price_micros": price,
                "refunded": False,
                "version": 0,
                "changed_at": utcnow(),
            }
        )
        return task_id

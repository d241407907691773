"""Midjourney of one app: submissions, stored tasks, their tracking, and their images."""

from __future__ import annotations

from pydantic import ValidationError

from ..accounting.metered import Accounting
from ..images.store import media_type
from ..protocol.errors import APIError
from ..providers.errors import malformed
from ..providers.http_client import UpstreamHTTP
from ..storage.db import Database
from ..storage.mj_tables import MidjourneyTask
from .config import MidjourneySettings
from .hooks import HookSender
from .protocol import SubmitResult, Task
from .service import Submitter
from .tasks import TaskStore
from .tracking import TaskTracker
from .upstream import VENDOR, MidjourneyUpstream
from .view import Signer


class Midjourney:
    def __init__(
        self,
        settings: MidjourneySettings,
        db: Database,
        http: UpstreamHTTP,
        accounting: Accounting,
        secret: bytes,
    ) -> None:
        self.settings = settings
        self.store = TaskStore(db)
        self.upstream = MidjourneyUpstream(http)
        self.signer = Signer(secret)
        self.hooks = HookSender(settings.hook_networks, settings.hook_timeout)
        self.submitter = Submitter(settings, self.store, self.upstream, accounting, self.signer)
        self.tracker = TaskTracker(settings, self.store, self.upstream, self.hooks, self.signer)

    async def task(self, owner: str, task_id: str) -> MidjourneyTask:
        task = await self.store.get(owner, task_id)
        if task is None:
            raise APIError(404, f"No task {task_id}.", code="task_not_found")
        return task

    async def image(self, task_id: str, expires: int, signature: str) -> tuple[bytes, str]:
        """A finished task's image from its upstream, for whoever holds the signed URL."""
        if not self.signer.image_valid(task_id, expires, signature):
            raise APIError(
                403,
                "This image URL has expired or its signature is not valid.",
                type="permission_error",
                code="invalid_signature",
            )
        task = await self.store.by_id(task_id)
        channel = self.submitter.channel(task.channel) if task else None
        if task is None or channel is None or not task.upstream_image_url:
            raise APIError(404, "No such image.", code="image_not_found")
        data = await self.upstream.image(
            channel, task.upstream_image_url, self.settings.max_image_bytes
        )
        kind = media_type(data)
        if not kind.startswith("image/"):  # whatever else the upstream's URL led to
            raise malformed(VENDOR, "the task's image is not an image")
        return data, kind

    async def image_seed(self, owner: str, task_id: str) -> SubmitResult:
        task = await self.task(owner, task_id)
        channel = self.submitter.channel(task.channel)
        if channel is None:
            raise APIError(404, f"The channel of task {task_id} is gone.", code="task_not_found")
        result = await self.upstream.image_seed(channel, task.upstream_id)
        return result.model_copy(update={"properties": {}})

    async def notified(self, channel: str, token: str, payload: object) -> bool:
        """An upstream's webhook: False when its token is not the one we gave it."""
        if self.submitter.channel(channel) is None or not self.signer.valid(
            token, "mj-notify", channel
        ):
            return False
        try:
            news = Task.model_validate(payload)
        except ValidationError:
            raise APIError(400, "The body is not a task.", code="invalid_task") from None
        await self.tracker.apply(channel, news)
        return True

    def channels(self) -> list[dict[str, object]]:
        """Each channel and why it is out of use, for the operator."""
        return [
            {
                "name": c.name,
                "base_url": c.base_url,
                "modes": list(c.modes),
                "enabled": c.enabled and c.name not in self.submitter.disabled,
                "disabled_reason": self.submitter.disabled.get(c.name)
                or (None if c.enabled else "disabled in the settings"),
            }
            for c in self.settings.channels
        ]

    def start(self) -> None:
        self.tracker.start()

    async def aclose(self) -> None:
        await self.tracker.aclose()
        await self.hooks.aclose()

"""The midjourney-proxy protocol (`/mj/...`, and `/mj-fast`, `/mj-relax`, `/mj-turbo` in front
for the speed mode): submissions, tasks, their images, and the upstreams' notify webhook.

Clients sign in with their modelport key (`Authorization: Bearer`, or `mj-api-secret` as
midjourney-proxy clients send it). Every error leaves in the protocol's envelope
`{code, description, properties, result: null}` with its HTTP status: code 4 for a request
that is not valid, 3 for a task not found, 9 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from ..accounting.keys import KeyRecord
from ..midjourney import submissions
from ..midjourney.hooks import hook_url_problem
from ..midjourney.midjourney import Midjourney
from ..midjourney.protocol import (
    FAILURE,
    NOT_FOUND,
    VALIDATION_ERROR,
    ActionBody,
    BlendBody,
    ChangeBody,
    DescribeBody,
    ImagineBody,
    ListCondition,
    ModalBody,
    ShortenBody,
    SimpleChangeBody,
    SubmitResult,
    Task,
)
from ..midjourney.service import Submission
from ..midjourney.view import public_task
from ..protocol.errors import APIError
from .admin import AdminDep
from .deps import ServicesDep, authenticate
from .errors import validation_error

_CODES = {400: VALIDATION_ERROR, 404: NOT_FOUND, 413: VALIDATION_ERROR}
_PREFIXES = {"": "fast", "/mj-fast": "fast", "/mj-relax": "relax", "/mj-turbo": "turbo"}


def mj_error(error: APIError) -> JSONResponse:
    body = SubmitResult(code=_CODES.get(error.status, FAILURE), description=error.message)
    return JSONResponse(body.model_dump(), status_code=error.status, headers=error.headers)


class MidjourneyRoute(APIRoute):
    """Answers this router's errors in the protocol's envelope, not OpenAI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_envelope(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return mj_error(validation_error(exc))
            except APIError as exc:
                return mj_error(exc)
            except HTTPException as exc:  # a body that is not JSON, say
                detail = exc.detail if isinstance(exc.detail, str) else "request failed"
                return mj_error(APIError(exc.status_code, detail))

        return in_envelope


router = APIRouter(route_class=MidjourneyRoute)
admin_router = APIRouter()  # the operator's view, in the usual envelope


def midjourney_of(request: Request) -> Midjourney:
    midjourney: Midjourney | None = request.app.state.services.midjourney
    if midjourney is None:  # made only when channels are configured
        raise APIError(404, "Midjourney is not configured on this server.", code="not_configured")
    return midjourney


async def mj_key(request: Request, services: ServicesDep) -> KeyRecord:
    secret = request.headers.get("mj-api-secret", "").strip()
    header = f"Bearer {secret}" if secret else request.headers.get("authorization", "")
    record = await authenticate(services, header)
    request.state.key = record
    return record


MidjourneyDep = Annotated[Midjourney, Depends(midjourney_of)]
MjKeyDep = Annotated[KeyRecord, Depends(mj_key)]


def speed_mode(request: Request) -> str:
    path = request.url.path
    return next((m for p, m in _PREFIXES.items() if p and path.startswith(p + "/")), "fast")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _submit(
    request: Request, key: KeyRecord, mj: Midjourney, sub: Submission
) -> SubmitResult:
    if sub.notify_hook:
        problem = hook_url_problem(sub.notify_hook)
        if problem:
            raise APIError(400, problem, code="invalid_notify_hook")
    return await mj.submitter.submit(key, request.state.request_id, speed_mode(request), sub)


async def imagine(
    request: Request, body: ImagineBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    return await _submit(request, key, mj, submissions.imagine(body))


async def blend(
    request: Request, body: BlendBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    return await _submit(request, key, mj, submissions.blend(body))


async def describe(
    request: Request, body: DescribeBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    return await _submit(request, key, mj, submissions.describe(body))


async def shorten(
    request: Request, body: ShortenBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    return await _submit(request, key, mj, submissions.shorten(body))


async def action(
    request: Request, body: ActionBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    origin = await mj.task(key.owner, body.taskId)
    return await _submit(request, key, mj, submissions.action(body, origin))


async def change(
    request: Request, body: ChangeBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    if body.action != "REROLL" and body.index is None:
        raise APIError(400, "index (1-4) is required for UPSCALE and VARIATION.", param="index")
    origin = await mj.task(key.owner, body.taskId)
    return await _submit(request, key, mj, submissions.change(body, origin))


async def simple_change(
    request: Request, body: SimpleChangeBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    parsed = submissions.parse_simple_change(body.content)
    if parsed is None:
        raise APIError(400, "content must be '<taskId> U1-U4 | V1-V4 | R'.", param="content")
    task_id, verb, index = parsed
    origin = await mj.task(key.owner, task_id)
    fields: dict[str, Any] = {"action": verb, "index": index, "taskId": task_id}
    changed = ChangeBody(**fields, notifyHook=body.notifyHook, state=body.state)
    return await _submit(request, key, mj, submissions.change(changed, origin))


async def modal(
    request: Request, body: ModalBody, key: MjKeyDep, mj: MidjourneyDep
) -> SubmitResult:
    origin = await mj.task(key.owner, body.taskId)
    return await _submit(request, key, mj, submissions.modal(body, origin))


async def fetch_task(request: Request, task_id: str, key: MjKeyDep, mj: MidjourneyDep) -> Task:
    return public_task(await mj.task(key.owner, task_id), base_url(request), mj.signer)


async def list_by_condition(
    request: Request, body: ListCondition, key: MjKeyDep, mj: MidjourneyDep
) -> list[Task]:
    """The caller's tasks among `ids` (their latest when `ids` is empty), newest first."""
    rows = await mj.store.of_owner(key.owner, body.ids, mj.settings.list_limit)
    return [public_task(row, base_url(request), mj.signer) for row in rows]


async def image_seed(task_id: str, key: MjKeyDep, mj: MidjourneyDep) -> SubmitResult:
    return await mj.image_seed(key.owner, task_id)


_SUBMITS: dict[str, Callable[..., Awaitable[SubmitResult]]] = {
    "imagine": imagine,
    "action": action,
    "change": change,
    "simple-change": simple_change,
    "blend": blend,
    "describe": describe,
    "modal": modal,
    "shorten": shorten,
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": SubmitResult} for code in (400, 401, 404, 429, 502, 503)
}

for _prefix in _PREFIXES:
    _shown = _prefix == ""  # the speed-mode copies are the same operations
    for _name, _endpoint in _SUBMITS.items():
        router.add_api_route(
            f"{_prefix}/mj/submit/{_name}",
            _endpoint,
            methods=["POST"],
            response_model=SubmitResult,
            responses=_ERRORS,
            include_in_schema=_shown,
            tags=["midjourney"],
        )
    router.add_api_route(
        f"{_prefix}/mj/task/{{task_id}}/fetch",
        fetch_task,
        methods=["GET"],
        response_model=Task,
        responses=_ERRORS,
        include_in_schema=_shown,
        tags=["midjourney"],
    )
    router.add_api_route(
        f"{_prefix}/mj/task/list-by-condition",
        list_by_condition,
        methods=["POST"],
        response_model=list[Task],
        responses=_ERRORS,
        include_in_schema=_shown,
        tags=["midjourney"],
    )
    router.add_api_route(
        f"{_prefix}/mj/task/{{task_id}}/image-seed",
        image_seed,
        methods=["GET"],
        response_model=SubmitResult,
        responses=_ERRORS,
        include_in_schema=_shown,
        tags=["midjourney"],
    )


@router.get(
    "/mj/image/{task_id}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The task's image."}},
    tags=["midjourney"],
)
async def task_image(
    task_id: str,
    mj: MidjourneyDep,
    expires: Annotated[int, Query()] = 0,
    signature: Annotated[str, Query()] = "",
) -> Response:
    """A finished task's image, proxied from its upstream, for whoever holds the signed URL."""
    data, kind = await mj.image(task_id, expires, signature)
    return Response(data, media_type=kind, headers={"cache-control": "private, max-age=3600"})


@router.post("/mj/notify/{channel}", tags=["midjourney"], include_in_schema=False)
async def upstream_notify(
    request: Request, channel: str, mj: MidjourneyDep, token: Annotated[str, Query()] = ""
) -> SubmitResult:
    """An upstream's news of a task (the notifyHook we gave it, signed per channel)."""
    try:
        payload = await request.json()
    except ValueError:
        raise APIError(400, "The body must be JSON.") from None
    if not await mj.notified(channel, token, payload):
        raise APIError(403, "Unknown channel or token.", type="permission_error")
    return SubmitResult(code=1, description="ok")


@admin_router.get("/admin/midjourney/channels")
async def midjourney_channels(admin: AdminDep, mj: MidjourneyDep) -> list[dict[str, object]]:
    """Each Midjourney channel, and why it is disabled when it is."""
    return mj.channels()

"""`POST /v1/images/generations`, `POST /v1/images/edits` (multipart) and the signed image
URLs they answer with (`GET /v1/images/files/{id}`).

Each request holds `n` × the price of its size and quality against the key's quota before any
upstream call; only images delivered are booked (one usage row: `completion_tokens` is the
number of images, `total_tokens` 0, so token quotas are not touched; `detail` says how many of
which size and quality, e.g. "2 × 1024x1024 hd"). A failed draw gives the hold back and books
nothing.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ..accounting.keys import KeyRecord
from ..accounting.metered import Metered
from ..accounting.reservations import Hold
from ..images.providers.base import InputImage
from ..images.service import ImageService, cost_micros
from ..images.store import ImageStore, media_type
from ..protocol.errors import APIError, ErrorResponse, invalid_request
from ..protocol.images import ImageData, ImageGenerateRequest, ImagesResponse
from ..services import Services
from .deps import KeyDep, ServicesDep

router = APIRouter()
log = logging.getLogger("modelport.images")
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429, 502)
}
_FORM_FIELDS = (
    *("model", "prompt", "n", "size", "quality", "style", "background"),
    *("output_format", "response_format", "user"),
)

_TEXT = {"type": "string"}
_FORM = {
    "schema": {
        "type": "object",
        "required": ["model", "prompt", "image"],
        "properties": {
            **{name: _TEXT for name in _FORM_FIELDS},
            "prompt": {"type": "string", "minLength": 1, "maxLength": 32000},
            "n": {"type": "integer", "minimum": 1, "maximum": 10},
            "response_format": {"type": "string", "enum": ["url", "b64_json"]},
            "image": {"type": "string", "format": "binary"},
            "mask": {"type": "string", "format": "binary"},
        },
    }
}
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


class Images:
    """The image service and store of one app, made on first use."""

    def __init__(self, services: Services) -> None:
        self.service = ImageService(services.settings.images, services.upstream)
        self.store = ImageStore(services.settings.data_dir)


def images_of(request: Request, services: Services) -> Images:
    images: Images | None = getattr(request.app.state, "images", None)
    if images is None:
        images = request.app.state.images = Images(services)
    return images


@router.post(
    "/v1/images/generations",
    response_model=ImagesResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
)
async def create_image(
    request: Request, body: ImageGenerateRequest, key: KeyDep, services: ServicesDep
) -> ImagesResponse:
    return await _draw(request, body, key, services)


@router.post(
    "/v1/images/edits",
    response_model=ImagesResponse,
    response_model_exclude_none=True,
    responses=_ERRORS,
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": _FORM}}},
)
async def edit_image(request: Request, key: KeyDep, services: ServicesDep) -> ImagesResponse:
    try:
        form = await request.form()
    except Exception:
        raise invalid_request("The body must be multipart/form-data.") from None
    fields = {k: form[k] for k in _FORM_FIELDS if isinstance(form.get(k), str)}
    try:
        body = ImageGenerateRequest.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        raise invalid_request(f"{param}: {first['msg']}", param) from None
    images_of(request, services).service.resolve(body.model)  # 404 before reading images
    uploads = [f for k in ("image", "image[]") for f in form.getlist(k)]
    images = tuple([await _input(f) for f in uploads if isinstance(f, UploadFile)])
    if not images:
        raise invalid_request("An edit needs an `image` file.", "image")
    mask_field = form.get("mask")
    mask = await _input(mask_field) if isinstance(mask_field, UploadFile) else None
    return await _draw(request, body, key, services, images, mask)


async def _input(upload: UploadFile) -> InputImage:
    data = await upload.read()
    kind = media_type(data)
    if not kind.startswith("image/"):
        raise invalid_request("Uploaded images must be PNG, JPEG, WebP or GIF.", "image")
    return InputImage(upload.filename or "image.png", data, kind)


async def _draw(
    request: Request,
    body: ImageGenerateRequest,
    key: KeyRecord,
    services: Services,
    images: tuple[InputImage, ...] = (),
    mask: InputImage | None = None,
) -> ImagesResponse:
    state = images_of(request, services)
    model = state.service.resolve(body.model)
    job, unit = state.service.job(model, body, images, mask)
    hold = Hold(0, cost_micros(unit, job.n, key.price_multiplier))
    async with Metered(services, key, request.state.request_id, model.name, hold) as meter:
        result, channel = await state.service.draw(model, job)
        ids = [await asyncio.to_thread(state.store.put, image.data) for image in result.images]
    cost = cost_micros(unit, len(ids), key.price_multiplier)
    # completion_tokens counts the images drawn (see the module's docstring)
    quality = f" {job.quality}" if job.quality else ""
    await meter.book(
        provider=channel.provider,
        completion_tokens=len(ids),
        total_tokens=0,
        cost_micros=cost,
        detail=f"{len(ids)} × {job.size}{quality}{' edit' if job.is_edit else ''}",
    )
    log.info(
        "images booked",
        extra={"images": len(ids), "size": job.size, "quality": job.quality or "default"}
        | {"model": model.name, "edit": job.is_edit, "cost_micros": cost},
    )
    base = str(request.base_url).rstrip("/")
    data = []
    for image_id, image in zip(ids, result.images, strict=True):
        if body.response_format == "b64_json":
            encoded = base64.b64encode(image.data).decode()
            data.append(ImageData(b64_json=encoded, revised_prompt=image.revised_prompt))
        else:
            url = base + state.store.signed_path(image_id, model.url_seconds)
            data.append(ImageData(url=url, revised_prompt=image.revised_prompt))
    return ImagesResponse(created=int(time.time()), data=data, usage=result.usage)


@router.get(
    "/v1/images/files/{image_id}",
    response_class=Response,
    responses={
        200: {"content": {kind: {} for kind in _IMAGE_TYPES}, "description": "The image."},
        **{code: {"model": ErrorResponse} for code in (400, 403, 404)},
    },
)
async def image_file(
    request: Request,
    image_id: str,
    services: ServicesDep,
    expires: Annotated[int, Query()] = 0,
    signature: Annotated[str, Query()] = "",
) -> Response:
    """An image drawn here, for whoever holds its signed URL until it expires."""
    store = images_of(request, services).store
    if not store.verify(image_id, expires, signature):
        raise APIError(
            403,
            "This image URL has expired or its signature is not valid.",
            type="permission_error",
            code="invalid_signature",
        )
    data = await asyncio.to_thread(store.read, image_id)
    if data is None:
        raise APIError(404, "No such image.", code="image_not_found")
    remaining = max(0, int(expires - time.time()))
    return Response(
        data,
        media_type=media_type(data),
        headers={"cache-control": f"private, max-age={remaining}"},
    )

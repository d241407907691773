"""A fake Stability AI REST API: `POST /v2beta/stable-image/generate/{ultra,core,sd3}`.

Multipart form fields as documented: `prompt` (required), `aspect_ratio` (16:9 1:1 21:9 2:3
3:2 4:5 5:4 9:16 9:21), `output_format` (png jpeg webp; sd3: png jpeg), `negative_prompt`,
`seed`, `style_preset` (core); sd3's `model` and `mode` (text-to-image | image-to-image with
`image` and `strength`); ultra takes `image` + `strength` too. `authorization: Bearer` and
`accept: image/*` (the bytes, with `finish-reason` and `seed` headers) or `application/json`
(`{"image": base64, "finish_reason": "SUCCESS" | "CONTENT_FILTERED", "seed": n}`).
Errors: `{"id", "name", "errors": [...]}` (400 bad_request, 401 unauthorized, 403
content_moderation; `FAULT:moderation` in the prompt), `FAULT:filtered` answers a 200 whose
finish_reason is CONTENT_FILTERED. Requests are recorded in `app.state.requests` as
(endpoint, fields, file names, accept).
"""

from __future__ import annotations

import base64
import secrets

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.tiny_png import tiny_png

KEYS = frozenset({"sk-stab-1"})
RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SD3_MODELS = ("sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3-large")


def error(status: int, name: str, *errors: str) -> JSONResponse:
    body = {"id": secrets.token_hex(16), "name": name, "errors": list(errors)}
    return JSONResponse(body, status_code=status)


def _check(endpoint: str, fields: dict[str, str], files: list[str]) -> JSONResponse | None:
    if not fields.get("prompt"):
        return error(400, "bad_request", "prompt: is required")
    formats = ("png", "jpeg") if endpoint == "sd3" else ("png", "jpeg", "webp")
    if fields.get("output_format", "png") not in formats:
        return error(400, "bad_request", f"output_format: must be one of {formats}")
    if fields.get("aspect_ratio", "1:1") not in RATIOS:
        return error(400, "bad_request", "aspect_ratio: must be one of " + ", ".join(RATIOS))
    if endpoint == "sd3" and fields.get("model", "sd3.5-large") not in SD3_MODELS:
        return error(400, "bad_request", "model: unknown")
    to_image = fields.get("mode") == "image-to-image" or (endpoint != "sd3" and "image" in files)
    if endpoint == "core" and "image" in files:
        return error(400, "bad_request", "image: core does not take an image")
    if to_image and ("image" not in files or "strength" not in fields):
        return error(400, "bad_request", "image and strength are required for image-to-image")
    if "FAULT:moderation" in fields["prompt"]:
        return error(
            403,
            "content_moderation",
            "Your request was flagged by our content moderation system, as a result your "
            "request was denied and you were not charged.",
        )
    return None


async def generate(request: Request) -> Response:
    endpoint = request.path_params["endpoint"]
    if endpoint not in ("ultra", "core", "sd3"):
        return error(404, "not_found", f"no such endpoint: {endpoint}")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or token not in KEYS:
        return error(401, "unauthorized", "authorization: invalid or missing header value")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return error(400, "bad_request", "content-type: must be multipart/form-data")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    files = [k for k, v in form.multi_items() if isinstance(v, UploadFile)]
    accept = request.headers.get("accept", "image/*")
    request.app.state.requests.append((endpoint, fields, files, accept))
    refused = _check(endpoint, fields, files)
    if refused is not None:
        return refused
    finish = "CONTENT_FILTERED" if "FAULT:filtered" in fields["prompt"] else "SUCCESS"
    image = tiny_png(200 + len(request.app.state.requests), 4, 4)
    seed = int(fields.get("seed") or 0) or 4242
    if accept == "application/json":
        encoded = base64.b64encode(image).decode()
        return JSONResponse({"image": encoded, "finish_reason": finish, "seed": seed})
    headers = {"finish-reason": finish, "seed": str(seed)}
    return Response(image, media_type="image/png", headers=headers)


def create_app() -> Starlette:
    app = Starlette(
        routes=[Route("/v2beta/stable-image/generate/{endpoint}", generate, methods=["POST"])]
    )
    app.state.requests = []
    return app

"""A fake OpenAI Images API (`POST /v1/images/generations`, `POST /v1/images/edits`), as
OpenAI documents it: `authorization: Bearer`, errors in the `{"error": {message, type, param,
code}}` envelope.

- `dall-e-3`: n must be 1; sizes 1024x1024, 1792x1024, 1024x1792; quality standard | hd;
  style vivid | natural; `response_format` url (default, a vendor URL) or b64_json; each
  image has a `revised_prompt`.
- `gpt-image-1`: sizes 1024x1024, 1536x1024, 1024x1536, auto; quality low | medium | high |
  auto; background; always base64; `response_format` is refused; answers token `usage`.
- edits: multipart `image` (or `image[]`, several, gpt-image only), `mask`, `prompt`, ...

Faults by prompt: `FAULT:500` (a 500), `FAULT:moderation` (400 content_policy_violation).
Requests are recorded in `app.state.requests` as (path, fields, file names).
"""

from __future__ import annotations

import base64
import time
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.tiny_png import tiny_png

KEYS = frozenset({"sk-img-1"})
SIZES = {
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "gpt-image-1": ("1024x1024", "1536x1024", "1024x1536", "auto"),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}
QUALITIES = {"dall-e-3": ("standard", "hd"), "gpt-image-1": ("low", "medium", "high", "auto")}


def error(status: int, message: str, type: str, param: str | None, code: str | None) -> Any:
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def invalid(message: str, param: str | None = None) -> Any:
    return error(400, message, "invalid_request_error", param, None)


def _check(fields: dict[str, Any], files: list[str]) -> Any:
    model = fields.get("model", "dall-e-2")
    if model not in SIZES:
        return error(
            404,
            f"The model `{model}` does not exist.",
            "invalid_request_error",
            "model",
            "model_not_found",
        )
    if not fields.get("prompt"):
        return invalid("Missing required parameter: 'prompt'.", "prompt")
    n = int(fields.get("n", 1))
    if model == "dall-e-3" and n != 1:
        return invalid("You must provide n=1 for this model.", "n")
    if fields.get("size", SIZES[model][0]) not in SIZES[model]:
        return invalid(f"Invalid size for {model}.", "size")
    if "quality" in fields and fields["quality"] not in QUALITIES.get(model, ("standard",)):
        return invalid("Invalid quality.", "quality")
    if "response_format" in fields:
        if model.startswith("gpt-image"):
            return invalid("Unknown parameter: 'response_format'.", "response_format")
        if fields["response_format"] not in ("url", "b64_json"):
            return invalid("Invalid response_format.", "response_format")
    if "style" in fields and (model != "dall-e-3" or fields["style"] not in ("vivid", "natural")):
        return invalid("Invalid style.", "style")
    if files.count("image[]") and not model.startswith("gpt-image"):
        return invalid("Several images are for GPT image models only.", "image")
    prompt = str(fields["prompt"])
    if "FAULT:500" in prompt:
        return error(
            500, "The server had an error processing your request.", "server_error", None, None
        )
    if "FAULT:moderation" in prompt:
        return error(
            400,
            "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            None,
            "content_policy_violation",
        )
    return None


def _answer(request: Request, fields: dict[str, Any]) -> JSONResponse:
    model = fields.get("model", "dall-e-2")
    n = int(fields.get("n", 1))
    data = []
    for i in range(n):
        png = tiny_png(len(request.app.state.requests) * 10 + i)
        item: dict[str, Any] = {}
        if model.startswith("gpt-image") or fields.get("response_format") == "b64_json":
            item["b64_json"] = base64.b64encode(png).decode()
        else:
            item["url"] = f"https://oaidalle.example/img-{i}.png?se=soon"
        if model == "dall-e-3":
            item["revised_prompt"] = "A detailed rendering of " + str(fields["prompt"])
        data.append(item)
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    if model.startswith("gpt-image"):
        text = len(str(fields["prompt"]).split())
        images_in = 65 * len(request.app.state.last_files)
        body["usage"] = {
            "total_tokens": text + images_in + 272 * n,
            "input_tokens": text + images_in,
            "output_tokens": 272 * n,
            "input_tokens_details": {"text_tokens": text, "image_tokens": images_in},
        }
    return JSONResponse(body)


def _authorized(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme == "Bearer" and token in KEYS


async def generations(request: Request) -> Any:
    if not _authorized(request):
        return error(
            401, "Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"
        )
    fields = await request.json()
    request.app.state.requests.append(("generations", fields, []))
    request.app.state.last_files = []
    return _check(fields, []) or _answer(request, fields)


async def edits(request: Request) -> Any:
    if not _authorized(request):
        return error(
            401, "Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key"
        )
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    files = [k for k, v in form.multi_items() if isinstance(v, UploadFile)]
    request.app.state.requests.append(("edits", fields, files))
    request.app.state.last_files = [k for k in files if k != "mask"]
    if not request.app.state.last_files:
        return invalid("Missing required parameter: 'image'.", "image")
    return _check(fields, files) or _answer(request, fields)


def create_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/v1/images/generations", generations, methods=["POST"]),
            Route("/v1/images/edits", edits, methods=["POST"]),
        ]
    )
    app.state.requests = []
    app.state.last_files = []
    return app

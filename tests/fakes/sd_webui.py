"""A fake Stable Diffusion WebUI API (AUTOMATIC1111, started with `--api --api-auth`).

`POST /sdapi/v1/txt2img` and `/sdapi/v1/img2img` take its JSON fields (prompt, width,
height, batch_size, n_iter, init_images, mask, denoising_strength, override_settings ...) and
answer `{"images": [base64...], "parameters": {...}, "info": "<JSON text>"}`; a batch of more
than one image gets a grid first unless `do_not_save_grid`. HTTP Basic auth (`app.state.auth`
user:password; 401 `{"detail": "Incorrect username or password"}`); a body that does not
validate is FastAPI's 422 `{"detail": [{"loc", "msg", "type"}]}`; `FAULT:500` in the prompt is
its exception answer `{"error", "detail", "body", "errors"}` with a 500.
Bodies are recorded in `app.state.requests` as (path, body).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.tiny_png import tiny_png

AUTH = "painter:secret"
_INTS = ("width", "height", "batch_size", "n_iter", "steps")


def _validation(body: dict[str, Any], img2img: bool) -> list[dict[str, Any]]:
    errors = []
    for field in _INTS:
        if field in body and not isinstance(body[field], int):
            errors.append(
                {
                    "loc": ["body", field],
                    "msg": "value is not a valid integer",
                    "type": "type_error.integer",
                }
            )
    if img2img and not body.get("init_images"):
        errors.append(
            {"loc": ["body", "init_images"], "msg": "field required", "type": "value_error.missing"}
        )
    return errors


def _handler(img2img: bool) -> Any:
    async def handle(request: Request) -> JSONResponse:
        expected = "Basic " + base64.b64encode(AUTH.encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"detail": "Incorrect username or password"}, status_code=401)
        body = await request.json()
        path = "img2img" if img2img else "txt2img"
        request.app.state.requests.append((path, body))
        errors = _validation(body, img2img)
        if errors:
            return JSONResponse({"detail": errors}, status_code=422)
        if "FAULT:500" in body.get("prompt", ""):
            return JSONResponse(
                {"error": "RuntimeError", "detail": "", "body": "", "errors": "CUDA out of memory"},
                status_code=500,
            )
        batch = body.get("batch_size", 1) * body.get("n_iter", 1)
        images = [tiny_png(100 + i, 3, 3) for i in range(batch)]
        if batch > 1 and not body.get("do_not_save_grid"):
            images.insert(0, tiny_png(255, 6, 3))  # the grid
        seeds = [1234 + i for i in range(batch)]
        info = {
            "prompt": body.get("prompt"),
            "all_seeds": seeds,
            "seed": seeds[0],
            "width": body.get("width", 512),
            "height": body.get("height", 512),
        }
        return JSONResponse(
            {
                "images": [base64.b64encode(i).decode() for i in images],
                "parameters": body,
                "info": json.dumps(info),
            }
        )

    return handle


def create_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/sdapi/v1/txt2img", _handler(False), methods=["POST"]),
            Route("/sdapi/v1/img2img", _handler(True), methods=["POST"]),
        ]
    )
    app.state.requests = []
    return app

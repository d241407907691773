"""Fake balance endpoints of DeepSeek, SiliconFlow, OpenRouter and a one-api style reseller,
answering as each vendor's documentation shows, on one app (their paths do not collide):

- DeepSeek `GET /user/balance`: `is_available` and per-currency `balance_infos` (strings).
- SiliconFlow `GET /v1/user/info`: `{"code": 20000, "status": true, "data": {...}}`, the
  balances as strings.
- OpenRouter `GET /api/v1/key`: `{"data": {"limit", "limit_remaining", "usage", ...}}`
  (numbers; `limit` and `limit_remaining` null for a key without a credit limit).
- one-api `GET /v1/dashboard/billing/subscription` (`hard_limit_usd`) and
  `GET /v1/dashboard/billing/usage?start_date&end_date` (`total_usage`, in cents).

`app.state.accounts` maps an API key to what each endpoint says for it; any other key gets
the vendor's own 401. `app.state.faults` maps a key to a misbehaviour: `html` (a 200 page
that is not JSON), `huge` (a 200 JSON body of a mebibyte, sent chunked), `shape` (JSON of
another shape), `numbers` (absurd numbers), `leak` (a 401 quoting the key), `redirect`,
`stall` (no answer for `app.state.stall_seconds`), `500`. Requests go to `app.state.requests`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

# The docs' own examples.
DEEPSEEK = {
    "is_available": True,
    "balance_infos": [
        {
            "currency": "CNY",
            "total_balance": "110.00",
            "granted_balance": "10.00",
            "topped_up_balance": "100.00",
        }
    ],
}
SILICONFLOW = {
    "code": 20000,
    "message": "OK",
    "status": True,
    "data": {
        "id": "userid",
        "name": "username",
        "image": "user_avatar_image_url",
        "email": "user_email_address",
        "isAdmin": False,
        "balance": "0.88",
        "status": "normal",
        "introduction": "",
        "role": "",
        "chargeBalance": "88.00",
        "totalBalance": "88.88",
    },
}
OPENROUTER = {
    "data": {
        "label": "sk-or-v1-au7...890",
        "limit": 100,
        "limit_reset": "monthly",
        "limit_remaining": 74.5,
        "include_byok_in_limit": False,
        "usage": 25.5,
        "usage_daily": 25.5,
        "usage_weekly": 25.5,
        "usage_monthly": 25.5,
        "byok_usage": 0,
        "is_free_tier": False,
        "rate_limit": {"requests": -1, "interval": "10s"},
    }
}
OPENROUTER_UNLIMITED = {
    "data": {**OPENROUTER["data"], "limit": None, "limit_reset": None, "limit_remaining": None}
}
SUBSCRIPTION = {
    "object": "billing_subscription",
    "has_payment_method": True,
    "soft_limit_usd": 50.0,
    "hard_limit_usd": 50.0,
    "system_hard_limit_usd": 50.0,
    "access_until": 0,
}
USAGE = {"object": "list", "total_usage": 1234.5}  # cents: $12.345 used


def _key(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def _deepseek_401(key: str) -> Response:
    message = f"Authentication Fails, Your api key: ****{key[-4:]} is invalid"
    error = {"message": message, "type": "authentication_error", "param": None}
    return JSONResponse({"error": {**error, "code": "invalid_request_error"}}, 401)


def _siliconflow_401(key: str) -> Response:
    return PlainTextResponse("Invalid token", 401)


def _openrouter_401(key: str) -> Response:
    return JSONResponse({"error": {"message": "User not found.", "code": 401}}, 401)


def _one_api_401(key: str) -> Response:
    error = {"message": "无效的令牌 (request id: 20261208021900)", "type": "one_api_error"}
    return JSONResponse({"error": error}, 401)


def _vendor(name: str, refuse: Callable[[str], Response]) -> Callable[[Request], Awaitable[Any]]:
    async def endpoint(request: Request) -> Response:
        state = request.app.state
        key = _key(request)
        path = request.url.path
        state.requests.append({"path": path, "query": dict(request.query_params), "key": key})
        fault = state.faults.get(key)
        if fault is not None:
            return await _misbehave(fault, key, state.stall_seconds)
        said = state.accounts.get(key, {}).get(name)
        if said is None:
            return refuse(key)
        if name == "billing":
            part = "usage" if path.endswith("/usage") else "subscription"
            return JSONResponse(said[part])
        return JSONResponse(said)

    return endpoint


async def _misbehave(fault: str, key: str, stall_seconds: float) -> Response:
    if fault == "html":
        return Response("<html><body>502 Bad Gateway</body></html>", media_type="text/html")
    if fault == "huge":
        return StreamingResponse(_huge(), media_type="application/json")
    if fault == "shape":
        return JSONResponse({"balance_infos": "plenty", "data": ["totalBalance"]})
    if fault == "numbers":
        return JSONResponse(_absurd())
    if fault == "leak":
        message = f"Incorrect API key provided: {key}. You can find your API key at ..."
        return JSONResponse({"error": {"message": message, "code": "invalid_api_key"}}, 401)
    if fault == "redirect":
        return Response(status_code=302, headers={"location": "https://example.invalid/login"})
    if fault == "stall":
        await asyncio.sleep(stall_seconds)
        return JSONResponse(DEEPSEEK)
    return JSONResponse({"error": {"message": "The server had an error"}}, 500)


async def _huge() -> AsyncIterator[bytes]:
    yield b'{"is_available": true, "pad": "'
    for _ in range(64):
        yield b"x" * 16384
    yield b'"}'


def _absurd() -> dict[str, Any]:
    info = {"currency": "CNY", "total_balance": "1e999999999", "granted_balance": "NaN"}
    return {
        "is_available": True,
        "balance_infos": [info],
        "data": {"totalBalance": "Infinity", "usage": True, "limit": "1e999999999"},
        "hard_limit_usd": "1e999999999",
        "total_usage": -1e308,
    }


def create_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/user/balance", _vendor("deepseek", _deepseek_401)),
            Route("/v1/user/info", _vendor("siliconflow", _siliconflow_401)),
            Route("/api/v1/key", _vendor("openrouter", _openrouter_401)),
            Route("/v1/dashboard/billing/subscription", _vendor("billing", _one_api_401)),
            Route("/v1/dashboard/billing/usage", _vendor("billing", _one_api_401)),
        ]
    )
    app.state.accounts = {}
    app.state.faults = {}
    app.state.requests = []
    app.state.stall_seconds = 3.0
    return app

"""Which upstream errors switch a channel off: vendors' real answers, read by the adapters
that meet them, then classified."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from modelport.channels.disabling import disabling_reason
from modelport.providers.anthropic.convert import error_from_claude
from modelport.providers.ernie.adapter import _refusal_error
from modelport.providers.ernie.codes import ernie_error
from modelport.providers.ernie.wire import ErnieErrorBody
from modelport.providers.errors import UpstreamError, unreachable, upstream_error
from modelport.providers.gemini.convert import error_from_gemini
from modelport.providers.openai_compat.adapter import error_from_upstream, stream_error
from modelport.providers.spark.codes import handshake_error, spark_error

AUTH, QUOTA = "the upstream refused authentication", "the upstream says the account's quota"
Mapper = Callable[[int, bytes, dict[str, str]], UpstreamError]


def openai(status: int, message: str, type: str | None = None, code: Any = None) -> UpstreamError:
    error = {"message": message, "type": type, "param": None, "code": code}
    return error_from_upstream(status, json.dumps({"error": error}).encode(), {})


def claude(status: int, type: str, message: str) -> UpstreamError:
    body = {"type": "error", "error": {"type": type, "message": message}}
    return error_from_claude(status, json.dumps(body).encode(), {})


def gemini(status: int, state: str, message: str, reason: str | None = None) -> UpstreamError:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if reason:
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}
        error["details"] = [{**info, "domain": "googleapis.com"}]
    return error_from_gemini(status, json.dumps({"error": error}).encode(), {})


def raw(status: int, body: str) -> UpstreamError:
    return error_from_upstream(status, body.encode(), {})


def ernie_token_refused(code: int, message: str) -> UpstreamError:
    return _refusal_error(ErnieErrorBody(error_code=code, error_msg=message))


CASES: list[tuple[str, UpstreamError, str | None]] = [
    # OpenAI (and every OpenAI-compatible vendor that copies its errors)
    (
        "openai wrong key",
        openai(
            401,
            "Incorrect API key provided: sk-proj-****abcd. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        AUTH,
    ),
    (
        "openai spent account",
        openai(
            429,
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        QUOTA,
    ),
    (
        "openai deactivated account",
        openai(
            401, "This key is associated with a deactivated account.", None, "account_deactivated"
        ),
        AUTH,
    ),
    (
        "openai rate limit",
        openai(
            429,
            "Rate limit reached for gpt-4o in organization org-abc on requests per min (RPM): "
            "Limit 500, Used 500, Requested 1. Please try again in 120ms.",
            "requests",
            "rate_limit_exceeded",
        ),
        None,
    ),
    ("openai 500", openai(500, "The server had an error while processing your request."), None),
    (
        "openai 503",
        openai(503, "The engine is currently overloaded, please try again later."),
        None,
    ),
    (
        "openai context too long",
        openai(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9000 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        None,
    ),
    (
        "a 400 quoting the tenant's text is not the vendor speaking",
        openai(400, "Invalid 'messages[0].name': 'Incorrect API key provided, 余额不足'"),
        None,
    ),
    (
        "an error inside a 200 answer",
        stream_error({"message": "You exceeded your current quota", "code": "insufficient_quota"}),
        QUOTA,
    ),
    ("a bare server error inside a 200 answer", stream_error("upstream busy"), None),
    # DeepSeek (its error-code table)
    (
        "deepseek wrong key",
        openai(
            401,
            "Authentication Fails, Your api key: ****abcd is invalid",
            "authentication_error",
            "invalid_request_error",
        ),
        AUTH,
    ),
    (
        "deepseek insufficient balance",
        openai(402, "Insufficient Balance", "unknown_error", "invalid_request_error"),
        QUOTA,
    ),
    ("deepseek rate limit", openai(429, "Rate Limit Reached"), None),
    ("deepseek overloaded", openai(503, "Server Overloaded"), None),
    # Anthropic
    ("anthropic wrong key", claude(401, "authentication_error", "invalid x-api-key"), AUTH),
    (
        "anthropic no credit",
        claude(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
            "Billing to upgrade or purchase credits.",
        ),
        QUOTA,
    ),
    (
        "anthropic billing",
        claude(402, "billing_error", "There's an issue with your billing."),
        QUOTA,
    ),
    (
        "anthropic permission",
        claude(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        AUTH,
    ),
    (
        "anthropic rate limit",
        claude(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests "
            "per minute.",
        ),
        None,
    ),
    ("anthropic overloaded", claude(529, "overloaded_error", "Overloaded"), None),
    # Gemini
    (
        "gemini wrong key",
        gemini(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            "API_KEY_INVALID",
        ),
        AUTH,
    ),
    (
        "gemini no key",
        gemini(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity)."
            " Please use API Key or other form of API consumer identity to call this API.",
        ),
        AUTH,
    ),
    (
        "gemini resource exhausted",
        gemini(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        None,
    ),
    (
        "gemini free-tier limit worded as quota",
        gemini(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, head to: "
            "https://ai.google.dev/gemini-api/docs/rate-limits.",
        ),
        None,
    ),
    (
        "vertex per-minute quota",
        raw(
            429,
            "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute"
            "_per_project_per_base_model with base model: gemini-pro.",
        ),
        None,
    ),
    (
        "gemini overloaded",
        gemini(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        None,
    ),
    # ERNIE (Qianfan's codes inside a 200 body)
    (
        "ernie token invalid",
        ernie_token_refused(110, "Access token invalid or no longer valid"),
        AUTH,
    ),
    ("ernie token expired", ernie_token_refused(111, "Access token expired"), AUTH),
    ("ernie iam", ernie_error(14, "IAM Certification failed"), AUTH),
    ("ernie total limit", ernie_error(19, "Open api total request limit reached"), QUOTA),
    ("ernie daily limit", ernie_error(17, "Open api daily request limit reached"), None),
    ("ernie qps", ernie_error(18, "Open api qps request limit reached"), None),
    ("ernie rpm", ernie_error(336501, "Rate limit reached for RPM"), None),
    ("ernie bad argument", ernie_error(336003, "Invalid parameter"), None),
    (
        "ernie AK/SK refused",
        upstream_error(
            401,
            "ERNIE access token request failed: unknown client id",
            code="ernie_token_failed",
        ),
        AUTH,
    ),
    (
        "ernie token endpoint down",
        upstream_error(
            503, "ERNIE access token request failed: HTTP 503", code="ernie_token_failed"
        ),
        None,
    ),
    # Spark (header.code of a frame, or the gateway refusing the handshake)
    ("spark blacklisted", spark_error(10015, "appid cannot be used"), AUTH),
    ("spark not authorised", spark_error(10016, "app has no auth"), AUTH),
    ("spark volume used up", spark_error(11200, "AppIdNoAuthError:(11200)授权错误"), QUOTA),
    ("spark daily limit", spark_error(11201, "AppIdQpsOverFlowError:日流控超限"), None),
    ("spark busy", spark_error(10110, "服务忙，请稍后再试"), None),
    ("spark content review", spark_error(10013, "输入内容审核不通过"), None),
    (
        "spark bad signature",
        handshake_error(401, b'{"message":"HMAC signature cannot be verified"}'),
        AUTH,
    ),
    # Chinese OpenAI-compatible vendors and resellers
    (
        "one-api spent token",
        openai(403, "该令牌额度已用尽 (request id: 2026120802)", "one_api_error"),
        QUOTA,
    ),
    (
        "one-api wrong token",
        openai(401, "无效的令牌 (request id: 2026120802)", "one_api_error"),
        AUTH,
    ),
    (
        "one-api user short of quota",
        openai(403, "用户额度不足, 剩余额度为: $0.0012", "one_api_error"),
        QUOTA,
    ),
    ("zhipu in arrears", openai(429, "您的账户已欠费，请充值后重试。", None, "1113"), QUOTA),
    (
        "zhipu too many at once",
        openai(429, "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。", None, "1302"),
        None,
    ),
    (
        "siliconflow short of balance",
        raw(
            403,
            '{"code":30001,"message":"Sorry, your account balance is insufficient","data":null}',
        ),
        QUOTA,
    ),
    (
        "openrouter out of credits",
        raw(
            402,
            '{"error":{"code":402,"message":"Insufficient credits. Add more using '
            'https://openrouter.ai/settings/credits"}}',
        ),
        QUOTA,
    ),
    (
        "a reseller 429 short of balance",
        openai(429, "Insufficient balance, please recharge", None, None),
        QUOTA,
    ),
    # Neither the key nor the account
    ("a CDN's 403 page", raw(403, "<html><body>Request blocked</body></html>"), None),
    ("not found", openai(404, "The model `gpt-5` does not exist", None, "model_not_found"), None),
    ("timeout", upstream_error(408, "Request Timeout"), None),
    (
        "connection refused",
        unreachable("OpenAI", "ClientConnectorError: refused"),
        None,
    ),
]


@pytest.mark.parametrize(("error", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_disabling_reason(error: UpstreamError, expected: str | None) -> None:
    reason = disabling_reason(error)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)


def test_the_reason_quotes_the_vendor_briefly() -> None:
    reason = disabling_reason(openai(402, "Insufficient Balance " + "x" * 500))
    assert reason is not None
    assert reason.startswith(f"{QUOTA} or balance is spent (Insufficient Balance xxx")
    assert len(reason) < 300 and reason.endswith("…)")


def test_the_upstream_status_is_kept_beside_ours() -> None:
    error = openai(401, "invalid x-api-key")
    assert (error.status, error.upstream_status) == (400, 401)

"""Property-based API testing: schemathesis drives every route of the app's own OpenAPI
document (valid and invalid inputs) as the admin key against a real server.

Expected everywhere: no 5xx, every error in the OpenAI envelope, every response matching the
documented status codes, content types and schemas. Chat bodies keep their generated shape but
are pointed at a real model with at most two tokens, so generation stays fast.

The routes are listed from the app's document at collection time (no server needed), so each
route and generation mode is its own test; the cases come from the running server's document.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from modelport.app import create_app
from modelport.settings import Settings
from tests.support.server import RunningServer

from .conftest import LOCAL_MODEL

MAX_EXAMPLES = 12
# Routes with rules JSON Schema cannot state, where a schema-valid request may rightly be
# refused with 400: cross-field rules (a tool message needs a tool_call_id, an overlap below
# the chunk length, a code carries tokens or an amount, a PATCH cannot null a key's owner),
# codes the server never minted, and `group_by` lists that name unknown groups.
CROSS_FIELD_RULES = {
    # The request log and dashboard: a status that is neither a code nor ok/error, a cursor
    # the server never gave, `since` after `until`, a time zone no IANA name are 400s.
    "/v1/usage/requests",
    "/v1/usage/requests.csv",
    "/admin/usage/requests",
    "/admin/usage/requests.csv",
    "/v1/dashboard",
    "/admin/dashboard",
    "/admin/keys/{key_id}",
    "/v1/chat/completions",
    "/v1/kbs",
    "/admin/redemption-codes",
    "/v1/redeem",
    "/admin/usage",
    "/v1/usage",
    "/v1/embeddings",  # an empty input
    # Features it accepts in the schema and refuses with a clear 400 (token-id prompts,
    # `suffix`, `logprobs`, `best_of` > 1), and prompts × n past 128 choices.
    "/v1/completions",
    # Anthropic's Messages API: its body is read by the route (not in the document), and its
    # errors are in Anthropic's envelope (`check_envelope`).
    "/v1/messages",
    "/v1/messages/count_tokens",
    # OpenAI's Responses items are broader than what is served: a function output of image or
    # file parts, `background`, hosted tools other than file_search are clear 400s.
    "/v1/responses",
    # An upload whose bytes are no format the server parses (binary noise) is a 400 that no
    # schema of a file part can state.
    "/v1/files",
    # Midjourney routes that name a task: a schema-valid id of no task of the caller's is a
    # 404 (code 3), an unsigned image URL a 403; `content` has a grammar of its own.
    "/mj/submit/action",
    "/mj/submit/change",
    "/mj/submit/simple-change",
    "/mj/submit/modal",
    "/mj/task/{task_id}/fetch",
    "/mj/task/{task_id}/image-seed",
    "/mj/image/{task_id}",
    # A runtime model's file must exist in the models directory (404 otherwise), its name
    # must be new (409), and only a runtime-added name can be deleted (404).
    "/admin/models",
    "/admin/models/{name}",
    # A channel the catalogue could not use (an unknown provider, a mapping of a model it
    # does not serve, options the vendor does not take) is a 400; an id of no channel a 404.
    "/admin/channels",
    "/admin/channels/{channel_id}",
    "/admin/channels/{channel_id}/test",
    "/admin/channels/{channel_id}/balance",
    # Accounts: an id of no user, group or code is a 404; a quota set below what is used, a
    # group that does not exist, a quota both set and adjusted, a taken group name, a used
    # code disabled or deleted are 400/409; a key of no user has no user keys (403).
    "/admin/keys",
    "/admin/users/{user_id}",
    "/admin/users/{user_id}/keys",
    "/admin/groups",
    "/admin/groups/{name}",
    "/admin/codes/{code_id}",
    "/admin/codes/{code_id}/disable",
    "/v1/user/keys",
    "/v1/user/keys/{key_id}",
    # Console sign-in: a schema-valid body may be a wrong password (401), a weak password or
    # an invalid username (400), a taken name (409), a throttled client (429); a key of no
    # account has no account to show (403); a role change of no user is a 404, of the last
    # root a 409.
    "/auth/signup",
    "/auth/signin",
    "/auth/me",
    "/auth/password",
    "/admin/users/{user_id}/role",
    # OpenID Connect: no provider is configured here (404), and a callback without a flow
    # started by this browser is a 400.
    "/auth/oidc/login",
    "/auth/oidc/callback",
}
MJ_ENVELOPE = {"code", "description", "properties", "result"}
CASES: list[int] = []


def _constrained(schema: dict[str, Any]) -> bool:
    """Whether some value of a query/path parameter breaks this schema (not any string)."""
    options = schema.get("anyOf", [schema])
    if any(o.get("type") not in ("string", "null") for o in options):
        return True
    keys = ("minLength", "maxLength", "pattern", "enum", "format")
    return all(o.get("type") == "string" and any(k in o for k in keys) for o in options)


def _routes() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) for every operation; negative only where invalid input exists."""
    document = create_app(Settings()).openapi()
    routes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            routes.append((method.upper(), path, GenerationMode.POSITIVE))
            params = operation.get("parameters", [])
            if "requestBody" in operation or any(_constrained(p["schema"]) for p in params):
                routes.append((method.upper(), path, GenerationMode.NEGATIVE))
    return routes


@pytest.fixture(scope="module")
def api_schema(hard_server: RunningServer) -> Any:
    loaded = schemathesis.openapi.from_url(hard_server.base_url + "/openapi.json")
    loaded.config.update(base_url=hard_server.base_url, request_timeout=60)
    return loaded


def _valid_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def bound_chat(body: Any) -> None:
    """Point a generated chat body at a real, fast model without making it valid or invalid:
    only fields that are already valid are replaced by other valid values."""
    if not isinstance(body, dict):
        return
    if isinstance(body.get("model"), str) and body["model"]:
        local = zlib.crc32(repr(sorted(body)).encode()) % 2 == 0
        body["model"] = LOCAL_MODEL if local else "fake-gpt"
    if "max_tokens" not in body or _valid_int(body["max_tokens"]):
        body["max_tokens"] = 2
    if _valid_int(body.get("max_completion_tokens")):
        body["max_completion_tokens"] = 2
    if _valid_int(body.get("n")):
        body["n"] = min(body["n"], 2)


def check_envelope(response: Any, anthropic: bool = False, midjourney: bool = False) -> None:
    status = response.status_code
    assert status < 500, f"server error {status}: {response.text[:500]}"
    if status >= 400 and midjourney:
        body = response.json()
        assert set(body) == MJ_ENVELOPE and body["code"] in (3, 4, 9), body
        assert isinstance(body["description"], str) and body["description"]
    elif status >= 400:
        body = response.json()
        assert set(body) == ({"type", "error"} if anthropic else {"error"}), body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
        assert isinstance(body["error"]["type"], str)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {len(CASES)} cases run")


@pytest.mark.parametrize(("method", "path", "mode"), _routes())
def test_route_keeps_its_contract(
    method: str, path: str, mode: GenerationMode, api_schema: Any, hard_server: RunningServer
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {hard_server.admin_key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        if path == "/v1/chat/completions":
            bound_chat(case.body)
        if path == "/v1/translate" and isinstance(case.body, dict):
            model = case.body.get("model")
            if "model" not in case.body or (isinstance(model, str) and model):
                case.body["model"] = "fake-gpt"  # the fake upstream: fast
        excluded = [positive_data_acceptance] if path in CROSS_FIELD_RULES else []
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        CASES.append(response.status_code)
        check_envelope(
            response,
            anthropic=path.startswith("/v1/messages"),
            midjourney=path.startswith("/mj/"),
        )

    run()

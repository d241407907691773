"""DeepL as chat models and `POST /v1/translate`, end to end against a fake DeepL: through
the OpenAI SDK (sync and stream), keys, quotas (refused before any upstream call), the
ledger (characters booked and priced), a 456 moving on to the next channel, and the
embedded model translating offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.deepl import DEEPL_KEY, FakeDeepL
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer
from tests.support.stores import STORES, run_on_store

LOCAL = "smollm2-135m-instruct"
PRICE = 0.02  # per 1,000 characters: 20 micros a character


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    main, spent = FakeDeepL(), FakeDeepL(quota=0)  # `spent` answers every call with 456
    with serve_asgi(main.app()) as main_url, serve_asgi(spent.app()) as spent_url:
        yield {"main": main, "spent": spent, "main_url": main_url, "spent_url": spent_url}


@pytest.fixture(scope="module", params=STORES)
def server(
    request: pytest.FixtureRequest,
    fakes: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    def channel(url: str, target: str, **more: Any) -> dict[str, Any]:
        return {
            "provider": "deepl",
            "base_url": url,
            "api_key": DEEPL_KEY,
            "options": {"target_lang": target},
            **more,
        }

    main, spent = fakes["main_url"], fakes["spent_url"]
    price = {"prompt": PRICE, "completion": 0}
    config = {
        "models": [
            {"name": LOCAL, "channels": [{"provider": "local"}]},
            {"name": "deepl-zh", "price": price, "channels": [channel(main, "ZH")]},
            {"name": "deepl-en", "price": price, "channels": [channel(main, "EN-US")]},
            {
                "name": "deepl-ja",
                "price": price,
                # the spent account first; the other only once it failed (weight 0)
                "channels": [channel(spent, "JA"), channel(main, "JA", weight=0)],
            },
            {"name": "deepl-spent", "channels": [channel(spent, "ZH")]},
        ]
    }
    data_dir = tmp_path_factory.mktemp(f"translate-{request.param}") / "data"
    with run_on_store(request.param, data_dir, config) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.api_url, headers=headers, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def sdk(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)


def new_key(server: RunningServer, http: httpx.Client, quota: float) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    answer = http.post(
        f"{server.base_url}/admin/keys", json={"owner": "t", "quota": quota}, headers=admin
    )
    assert answer.status_code in (200, 201), answer.text
    created: dict[str, Any] = answer.json()
    return created


def totals(server: RunningServer, http: httpx.Client, key_id: str) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    report = http.get(f"{server.base_url}/admin/usage", params={"key_id": key_id}, headers=admin)
    assert report.status_code == 200, report.text
    result: dict[str, Any] = report.json()["totals"]
    return result


def test_chat_model_translates_the_last_user_message(
    sdk: openai.OpenAI, fakes: dict[str, Any]
) -> None:
    answer = sdk.chat.completions.create(
        model="deepl-zh",
        messages=[
            {"role": "system", "content": "not sent"},
            {"role": "user", "content": "Good morning"},
        ],
    )
    assert answer.model == "deepl-zh"
    assert answer.choices[0].message.content == "[ZH] Good morning"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.prompt_tokens == len("Good morning")
    sent = fakes["main"].requests[-1]
    assert sent["headers"]["authorization"] == f"DeepL-Auth-Key {DEEPL_KEY}"
    assert sent["body"]["text"] == ["Good morning"]


def test_chat_stream_is_one_content_chunk(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="deepl-en", messages=[{"role": "user", "content": "Guten Tag"}], stream=True
    )
    chunks = list(stream)
    contents = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert contents == ["[EN-US] Guten Tag"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_translate_a_batch_with_deepl(http: httpx.Client, fakes: dict[str, Any]) -> None:
    before = len(fakes["main"].requests)
    body = {"texts": ["Hello", "Good night"], "target_lang": "de", "model": "deepl-zh"}
    answer = http.post("/translate", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["translations"] == [
        {"text": "[DE] Hello", "detected_source_lang": "EN"},
        {"text": "[DE] Good night", "detected_source_lang": "EN"},
    ]
    assert data["usage"]["prompt_tokens"] == len("Hello") + len("Good night")
    assert len(fakes["main"].requests) == before + 1  # the batch in one call
    assert fakes["main"].requests[-1]["body"]["target_lang"] == "DE"


def test_translate_offline_with_the_local_model(http: httpx.Client) -> None:
    body = {"texts": ["Bonjour le monde", "Merci beaucoup"], "target_lang": "EN"}
    answer = http.post("/translate", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["model"] == LOCAL
    assert len(data["translations"]) == 2
    assert all(t["text"].strip() for t in data["translations"])
    assert all(t["detected_source_lang"] is None for t in data["translations"])
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0


def test_translate_refuses_a_bad_body(http: httpx.Client) -> None:
    both = http.post("/translate", json={"text": "a", "texts": ["b"], "target_lang": "EN"})
    assert both.status_code == 400, both.text
    unknown = http.post("/translate", json={"text": "a", "target_lang": "EN", "model": "nope"})
    assert unknown.status_code == 404


def test_booked_in_characters_and_priced(
    server: RunningServer, http: httpx.Client, sdk: openai.OpenAI
) -> None:
    key = new_key(server, http, quota=1.0)
    auth = {"Authorization": f"Bearer {key['key']}"}
    text = "Where is the station?"
    body = {"text": text, "target_lang": "ZH", "model": "deepl-zh"}
    assert http.post("/translate", json=body, headers=auth).status_code == 200
    report = totals(server, http, key["id"])
    assert (report["requests"], report["prompt_tokens"]) == (1, len(text))
    assert report["cost_micros"] == len(text) * 20
    client = openai.OpenAI(base_url=server.api_url, api_key=key["key"], max_retries=0)
    client.chat.completions.create(model="deepl-zh", messages=[{"role": "user", "content": text}])
    report = totals(server, http, key["id"])
    assert (report["requests"], report["prompt_tokens"]) == (2, 2 * len(text))
    assert report["cost_micros"] == 2 * len(text) * 20  # completion priced 0


def test_quota_refuses_before_the_upstream_call(
    server: RunningServer, http: httpx.Client, fakes: dict[str, Any]
) -> None:
    key = new_key(server, http, quota=0.0001)  # 100 micros: five characters
    auth = {"Authorization": f"Bearer {key['key']}"}
    body = {"text": "far more than five characters", "target_lang": "ZH", "model": "deepl-zh"}
    # Admitted while something is left, so this one overspends the quota ...
    assert http.post("/translate", json=body, headers=auth).status_code == 200
    before = len(fakes["main"].requests)
    # ... and the next ones are refused before DeepL is asked.
    refused = http.post("/translate", json=body, headers=auth)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "insufficient_quota"
    client = openai.OpenAI(base_url=server.api_url, api_key=key["key"], max_retries=0)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="deepl-zh", messages=[{"role": "user", "content": body["text"]}]
        )
    assert len(fakes["main"].requests) == before  # DeepL never asked
    assert totals(server, http, key["id"])["requests"] == 1


def test_quota_exceeded_upstream_moves_to_the_next_channel(
    http: httpx.Client, sdk: openai.OpenAI, fakes: dict[str, Any]
) -> None:
    spent_before = len(fakes["spent"].requests)
    answer = sdk.chat.completions.create(
        model="deepl-ja", messages=[{"role": "user", "content": "Thank you"}]
    )
    assert answer.choices[0].message.content == "[JA] Thank you"
    assert len(fakes["spent"].requests) == spent_before + 1  # 456 there first
    batch = http.post(
        "/translate", json={"texts": ["Yes"], "target_lang": "JA", "model": "deepl-ja"}
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["translations"][0]["text"] == "[JA] Yes"


def test_quota_exceeded_everywhere_is_a_429_without_the_secret(
    http: httpx.Client, sdk: openai.OpenAI
) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(
            model="deepl-spent", messages=[{"role": "user", "content": "Hello"}]
        )
    assert DEEPL_KEY not in str(caught.value)
    answer = http.post(
        "/translate", json={"text": "Hello", "target_lang": "ZH", "model": "deepl-spent"}
    )
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "upstream_quota_exceeded"
    assert DEEPL_KEY not in answer.text

"""The DeepL adapter against a fake that keeps DeepL's rules: the key's header, the host a
key belongs to, characters billed, 456 and 403 mapped, a stream as one content chunk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelport.protocol.errors import APIError
from modelport.providers.base import ProviderDeps
from modelport.providers.deepl import DeepLProvider
from modelport.providers.deepl.options import FREE_BASE_URL, PRO_BASE_URL, base_url
from modelport.providers.errors import UpstreamError
from modelport.providers.registry import ChannelConfigError, check_catalogue
from modelport.settings import ChannelConfig, ModelConfig
from tests.fakes.deepl import DEEPL_KEY, FakeDeepL
from tests.fakes.server import serve_asgi
from tests.providers.helpers import chat, collect_with_end, streamed_text


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeDeepL, str]]:
    fake = FakeDeepL()
    with serve_asgi(fake.app()) as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeDeepL, str]) -> FakeDeepL:
    served[0].reset()
    return served[0]


def deepl_channel(url: str, key: str = DEEPL_KEY, **options: Any) -> ChannelConfig:
    return ChannelConfig(
        provider="deepl", base_url=url, api_key=key, options={"target_lang": "ZH", **options}
    )


@pytest.fixture
def deepl(deps: ProviderDeps) -> DeepLProvider:
    return DeepLProvider(deps)


async def test_complete_translates_the_last_user_message(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    messages = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "..."},
        {"role": "user", "content": "Hello, world"},
    ]
    channel = deepl_channel(served[1], formality="prefer_more")
    answer = await deepl.complete(chat("", messages=messages), channel)
    assert answer.choices[0].message.content == "[ZH] Hello, world"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens == len("Hello, world")  # characters billed
    sent = fake.requests[-1]
    assert sent["headers"]["authorization"] == f"DeepL-Auth-Key {DEEPL_KEY}"
    assert sent["body"]["text"] == ["Hello, world"] and sent["body"]["target_lang"] == "ZH"
    assert sent["body"]["formality"] == "prefer_more"


async def test_stream_is_one_content_chunk(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    stream = deepl.stream(chat("Good morning"), deepl_channel(served[1]))
    chunks, end = await collect_with_end(stream)
    assert [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content] == [
        "[ZH] Good morning"
    ]
    assert streamed_text(chunks) == "[ZH] Good morning"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert end.usage.prompt_tokens == len("Good morning") and not end.estimated


async def test_batch_translation_with_languages(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    done = await deepl.translate(
        ["one", "two"], deepl_channel(served[1]), target_lang="en-us", source_lang="de"
    )
    assert done.texts == ["[EN-US] one", "[EN-US] two"]
    assert done.detected == ["DE", "DE"] and done.characters == 6
    assert len(fake.requests) == 1  # one call for the batch


async def test_quota_exceeded_is_a_retryable_429(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    fake.reset(quota=3)
    with pytest.raises(UpstreamError) as caught:
        await deepl.complete(chat("too long for the quota"), deepl_channel(served[1]))
    assert caught.value.status == 429 and caught.value.retryable
    assert caught.value.code == "upstream_quota_exceeded"
    assert DEEPL_KEY not in caught.value.message


async def test_wrong_key_is_refused(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await deepl.complete(chat("hi"), deepl_channel(served[1], key="wrong-secret-1234:fx"))
    assert caught.value.status == 400 and not caught.value.retryable
    assert "wrong-secret" not in caught.value.message


async def test_what_deepl_cannot_answer_is_refused_before_the_call(
    deepl: DeepLProvider, fake: FakeDeepL, served: tuple[FakeDeepL, str]
) -> None:
    channel = deepl_channel(served[1])
    with pytest.raises(APIError) as caught:
        await deepl.complete(chat("hi", n=2), channel)
    assert caught.value.status == 400 and caught.value.param == "n"
    only_system = chat("", messages=[{"role": "system", "content": "be brief"}])
    with pytest.raises(APIError) as caught:
        await deepl.complete(only_system, channel)
    assert caught.value.status == 400
    assert fake.requests == []


def test_host_follows_the_key() -> None:
    bare = ChannelConfig(provider="deepl", options={"target_lang": "ZH"})
    assert base_url(bare, "abc:fx") == FREE_BASE_URL
    assert base_url(bare, "abc") == PRO_BASE_URL
    given = ChannelConfig(provider="deepl", base_url="http://x/", options={"target_lang": "ZH"})
    assert base_url(given, "abc:fx") == "http://x"


def test_options_are_checked() -> None:
    bad = ChannelConfig(provider="deepl", options={"target_lang": "ZH", "formality": "posh"})
    with pytest.raises(ChannelConfigError, match="formality"):
        check_catalogue([ModelConfig(name="deepl-zh", channels=[bad])])
    missing = ChannelConfig(provider="deepl")
    with pytest.raises(ChannelConfigError, match="target_lang"):
        check_catalogue([ModelConfig(name="deepl-zh", channels=[missing])])

"""Vendors that cannot be asked to reason refuse `reasoning_effort` with a 400 naming them."""

from __future__ import annotations

import pytest

from modelport.providers.base import ProviderDeps
from modelport.providers.ernie.convert import openai_to_ernie
from modelport.providers.errors import UpstreamError
from modelport.providers.local.provider import LocalProvider
from modelport.providers.spark.convert import SparkTarget, openai_to_spark
from modelport.settings import ChannelConfig

from .helpers import chat

SPARK = SparkTarget(app_id="app", domain="generalv3.5", max_tokens_cap=8192)


def refused(caught: pytest.ExceptionInfo[UpstreamError], vendor: str) -> None:
    error = caught.value
    assert error.status == 400
    assert error.param == "reasoning_effort"
    assert error.code == "unsupported_by_channel"
    assert error.message.startswith(f"{vendor} channels do not support reasoning_effort")


def test_ernie_refuses_reasoning_effort() -> None:
    with pytest.raises(UpstreamError) as caught:
        openai_to_ernie(chat("hi", reasoning_effort="high"), stream=False)
    refused(caught, "ERNIE")
    openai_to_ernie(chat("hi", reasoning_effort="none"), stream=False)  # no reasoning: served


def test_spark_refuses_reasoning_effort() -> None:
    with pytest.raises(UpstreamError) as caught:
        openai_to_spark(chat("hi", reasoning_effort="low"), SPARK)
    refused(caught, "Spark")
    openai_to_spark(chat("hi", reasoning_effort="none"), SPARK)


async def test_local_engine_refuses_reasoning_effort_before_loading(deps: ProviderDeps) -> None:
    provider = LocalProvider(deps)
    channel = ChannelConfig(provider="local", model_path="/nonexistent/model.gguf")
    try:
        with pytest.raises(UpstreamError) as caught:
            await provider.complete(chat("hi", reasoning_effort="medium"), channel)
        refused(caught, "Local engine")
        assert not provider.loads()  # refused before any engine was started
    finally:
        await provider.aclose()

"""ClientDeparture: a delayed watcher costs nothing for a short answer and still notices a
client that left before it started."""

from __future__ import annotations

import asyncio

import pytest

from modelport.api.departure import ClientDeparture


class Receive:
    """A client that has already gone: `receive` answers `http.disconnect` at once."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> dict[str, str]:
        self.calls += 1
        return {"type": "http.disconnect"}


async def test_a_short_answer_never_starts_the_watcher() -> None:
    receive = Receive()
    departure = ClientDeparture(receive, after=0.05)
    await asyncio.sleep(0.01)  # the answer, done well within `after`
    departure.stop()
    await asyncio.sleep(0.08)
    assert receive.calls == 0 and not departure.watching and not departure.left


async def test_a_client_gone_before_the_watcher_starts_is_noticed_when_it_does() -> None:
    receive = Receive()
    departure = ClientDeparture(receive, after=0.05)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(5)  # a long answer: cancelled once the watcher starts
    assert departure.left and departure.absorb() and receive.calls == 1
    departure.stop()


async def test_without_a_delay_the_watcher_starts_at_once() -> None:
    receive = Receive()
    departure = ClientDeparture(receive)
    assert departure.watching
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(5)
    assert departure.absorb()
    departure.stop()

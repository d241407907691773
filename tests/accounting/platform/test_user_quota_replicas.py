"""A user's quota across two replicas on one PostgreSQL database: its keys, used on both
replicas at once, never spend more than the quota plus one request (the last admitted)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.accounting.platform.conftest import Platform
from tests.accounting.platform.test_users_api import new_user, patch, user_info, user_key

QUOTA = 60


def test_a_users_quota_holds_across_replicas(two_replicas: tuple[Platform, Platform]) -> None:
    a, b = two_replicas
    user = new_user(a, quota_tokens=QUOTA)
    keys = [user_key(a, user)["key"], user_key(a, user)["key"]]
    spent: list[int] = []
    for i in range(100):  # alternating replicas and keys until the user's quota is used up
        answer = (a, b)[i % 2].chat(keys[i // 2 % 2], max_tokens=3)
        if answer.status_code != 200:
            assert answer.status_code == 429, answer.text
            assert answer.json()["error"]["code"] == "insufficient_quota"
            break
        spent.append(answer.json()["usage"]["total_tokens"])
    used = _settled(a, user, sum(spent))["used_tokens"]
    assert used == sum(spent) and QUOTA <= used < QUOTA + spent[-1]
    for replica in (a, b):  # both replicas refuse every key of the user now
        for key in keys:
            assert replica.chat(key, max_tokens=3).status_code == 429
    # A burst on both replicas at once after a top-up: one request's overdraw at most.
    assert patch(a, user, adjust_tokens=QUOTA).status_code == 200
    jobs = [((a, b)[i % 2], keys[i % 2]) for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: job[0].chat(job[1], max_tokens=3), jobs))
    assert {r.status_code for r in answers} <= {200, 429}
    burst = [r.json()["usage"]["total_tokens"] for r in answers if r.status_code == 200]
    assert burst  # something was admitted
    after = _settled(a, user, used + sum(burst))
    assert after["used_tokens"] == used + sum(burst) < 2 * QUOTA + max(burst) + spent[-1]
    assert after["reserved_tokens"] == 0  # every hold released on both replicas


def _settled(p: Platform, user: str, used: int) -> dict[str, Any]:
    """The user once `used` tokens are booked: each replica writes its usage rows every 0.5 s
    (a replica's read flushes only its own)."""
    deadline = time.monotonic() + 10
    while (info := user_info(p, user))["used_tokens"] < used:
        assert time.monotonic() < deadline, info
        time.sleep(0.1)
    return info

"""The dashboard put together: the ledger's sums (accounting/dashboard.py) in the viewer's
days, and for admins every channel's breaker, recent error rate and last test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..accounting.dashboard import (
    ChannelErrors,
    LastTest,
    Sums,
    channel_errors,
    day_bounds,
    last_tests,
    ranked,
    summary,
)
from ..accounting.request_log import Scope
from ..protocol.dashboard import ChannelHealthInfo, Dashboard, DayInfo, ModelInfo, TopModels
from ..protocol.errors import APIError
from ..routing.catalogue import Catalogue
from ..routing.router import ChannelRouter
from ..services import Services

RECENT = timedelta(hours=1)  # the window of a channel's "recent" error rate
# Days whose midnights exist as UTC instants in every zone (the calendar's ends do not)
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 1, 1)


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone, or the client's 400."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)  # zoneinfo would read it as a path
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise APIError(
            400, f"Unknown time zone {name!r} (use an IANA name such as Asia/Shanghai).", param="tz"
        ) from None


def _day(day: date, sums: Sums) -> DayInfo:
    return DayInfo(
        date=day,
        requests=sums.requests,
        prompt_tokens=sums.prompt_tokens,
        completion_tokens=sums.completion_tokens,
        total_tokens=sums.total_tokens,
        cost_micros=sums.cost_micros,
    )


def _total(per_day: list[Sums]) -> Sums:
    return Sums(*(sum(getattr(s, f) for s in per_day) for f in Sums.__slots__))


async def dashboard(
    services: Services,
    scope: Scope,
    tz: str,
    days: int,
    end: date | None,
    *,
    with_channels: bool,
) -> Dashboard:
    zone = zone_of(tz)
    last = end or datetime.now(zone).date()
    if not EARLIEST + timedelta(days=days - 1) <= last <= LATEST:
        raise APIError(400, f"'end' must be between {EARLIEST} and {LATEST}.", param="end")
    await services.ledger.flush()
    first = last - timedelta(days=days - 1)
    bounds = day_bounds(zone, first, days)
    per_day, models = await summary(services.db, scope, bounds)
    by_requests, by_cost = ranked(models)
    channels = await channel_health(services) if with_channels else None
    return Dashboard(
        tz=zone.key,
        currency=services.settings.currency,
        start=first,
        end=last,
        days=[_day(first + timedelta(days=n), s) for n, s in enumerate(per_day)],
        totals=_day(last, _total(per_day)),
        top_models=TopModels(
            by_requests=[ModelInfo.model_validate(m, from_attributes=True) for m in by_requests],
            by_cost=[ModelInfo.model_validate(m, from_attributes=True) for m in by_cost],
        ),
        channels=channels,
    )


def _routed(catalogue: Catalogue, router: ChannelRouter) -> dict[str, str]:
    """Every channel the catalogue routes to: id → name."""
    seen: dict[str, str] = {}
    for model in catalogue.models():
        for index, channel in enumerate(model.channels):
            channel_id = router.route_id(model, index)
            seen.setdefault(channel_id, channel.name or channel_id)
    return seen


async def channel_health(services: Services) -> list[ChannelHealthInfo]:
    """The routed channels, the stored ones (a switched-off one routes nowhere) and any the
    last hour's log names (since removed), each with what is known of its health."""
    router = services.chat.router
    tests = await last_tests(services.db)
    errors = await channel_errors(services.db, datetime.now(UTC) - RECENT)
    known: dict[str, tuple[str, str]] = {
        channel_id: (name, "database" if channel_id in tests else "config")
        for channel_id, name in _routed(services.catalogue, router).items()
    }
    for channel_id, test in tests.items():
        known.setdefault(channel_id, (test.name, "database"))
    for channel_id in errors:
        known.setdefault(channel_id, (channel_id, "ledger"))
    return [
        _health(router, channel_id, name, source, errors.get(channel_id), tests.get(channel_id))
        for channel_id, (name, source) in sorted(known.items())
    ]


def _health(
    router: ChannelRouter,
    channel_id: str,
    name: str,
    source: str,
    errors: ChannelErrors | None,
    test: LastTest | None,
) -> ChannelHealthInfo:
    snap = router.health.breaker(channel_id).snapshot(channel_id) if source != "ledger" else None
    requests, failed = (errors.requests, errors.errors) if errors is not None else (0, 0)
    return ChannelHealthInfo.model_validate(
        {
            "id": channel_id,
            "name": name,
            "source": source,
            "state": snap.state if snap is not None else None,
            "opened_for": snap.opened_for if snap is not None else 0.0,
            "recent_requests": requests,
            "recent_errors": failed,
            "error_rate": round(failed / requests, 4) if requests else None,
            "last_test_at": test.at if test is not None else None,
            "last_test_ms": test.ms if test is not None else None,
            "last_test_error": test.error if test is not None else None,
        }
    )

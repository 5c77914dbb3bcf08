"""Settings from the environment (``REFVID_*``), in one place, with defaults that just work."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "refvid"


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every operator setting; each field ``name`` is read from ``REFVID_NAME``."""

    model_config = SettingsConfigDict(env_prefix="REFVID_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=_default_home, description="Data directory: database and results.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in REFVID_HOME.")
    auto_migrate: bool | None = Field(
        default=None,
        description="Upgrade the schema at start; empty: yes on SQLite, no elsewhere (run `refvid db upgrade`).",
    )
    results_url: str = Field(
        default="",
        description="Where results live: empty for REFVID_HOME/results, a folder, or s3://bucket/prefix.",
    )
    results_delivery: Literal["redirect", "stream"] = Field(
        default="redirect",
        description="Object storage downloads: a redirect to a presigned URL, or streamed by the API.",
    )
    results_url_seconds: int = Field(
        default=300, ge=1, le=7 * 24 * 3600, description="Lifetime of a presigned download URL."
    )
    engine: str = Field(default="motion", description="Engine that renders: motion (CPU) or wan (GPU).")
    workers: int = Field(default=1, ge=0, le=64, description="Render worker processes.")
    pool: str = Field(
        default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
        description="Queue that this node's submits go to and its workers claim from.",
    )
    api_processes: int = Field(
        default=0, ge=0, le=64, description="API processes sharing the port; 0: one per CPU (at most 8).",
    )
    access_log: bool = Field(
        default=True, description="Log every HTTP request (off: about a fifth less CPU per status poll).",
    )
    max_queue: int = Field(default=100, ge=1, description="Queued requests before submits get 429.")
    rate_limit: int = Field(default=60, ge=1, description="Submits per key per minute.")
    plan_rate_limit: int = Field(default=120, ge=1, description="Free shot plans per key per minute.")
    max_body_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, description="Largest request body.")
    body_buffer_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024 * 1024,
        description="Bytes of request bodies held at once; submits beyond get 503 (one key: half).",
    )
    body_timeout: float = Field(default=120.0, gt=0, description="Seconds a request body may take to arrive.")
    sse_per_key: int = Field(default=20, ge=1, description="Status event streams one key may hold open.")
    sse_total: int = Field(default=200, ge=1, description="Status event streams open at once, all keys.")
    sync_timeout: float = Field(default=600.0, gt=0, description="Seconds v1 waits before answering 504.")
    result_ttl: float = Field(default=24 * 3600.0, gt=0, description="Seconds results are kept.")
    cost_5s: Decimal = Field(default=Decimal("1"), ge=0, description="Credits charged for a 5 s video.")
    cost_10s: Decimal = Field(default=Decimal("2"), ge=0, description="Credits charged for a 10 s video.")
    allow_private_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated CIDRs that URL references and webhooks may reach.",
    )
    fetch_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1, description="Largest downloaded image.")
    fetch_timeout: float = Field(
        default=30.0, gt=0,
        description="Seconds for one whole image download: headers, body and redirects.",
    )
    webhook_backoff: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1500.0],
        description="Seconds between webhook retries (sums to about an hour).",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds for one whole webhook attempt, answer included."
    )
    webhook_concurrency: int = Field(default=4, ge=1, le=64, description="Webhook deliveries in flight.")
    webhook_per_host: int = Field(
        default=2, ge=1, description="Webhook deliveries in flight to one host, and for one key."
    )
    max_attempts: int = Field(default=2, ge=1, description="Times a job is started before a crash fails it.")
    worker_stale_seconds: float = Field(
        default=120.0, gt=0,
        description="Lease of a rendering job (database time), renewed by its worker's beats; "
        "past it, any node puts the job back in the queue. Also a node's registration.",
    )
    poll_interval: float = Field(default=0.05, gt=0, description="Seconds between job-store polls.")
    public_url: str = Field(
        default="", description="Base URL for links in answers and webhooks; empty: the request's Host."
    )
    metrics_token: str = Field(
        default="", description="If set, /metrics requires 'Authorization: Bearer <token>'."
    )
    metrics_listen: str = Field(
        default="", description="host:port to serve /metrics on instead of the API's port."
    )
    purge_after: float = Field(
        default=7 * 24 * 3600.0, ge=0,
        description="Seconds after a request finished before its record is deleted (0: never).",
    )
    wal_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024 * 1024, description="SQLite write-ahead log size kept on disk."
    )

    @field_validator("allow_private_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        value = _split(value)
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)
        return value

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(
                "must be an http:// or https:// base URL such as https://video.example.com "
                "(a path prefix is allowed, a query string is not)"
            )
        return value

    @field_validator("results_url")
    @classmethod
    def _results_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme == "s3":
            if not parts.netloc or parts.query or parts.fragment:
                raise ValueError("must be s3://bucket or s3://bucket/prefix (no query string)")
        elif "://" in value:
            raise ValueError("must be a folder or s3://bucket/prefix (other schemes are not supported)")
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        value = value.strip()
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("must be host:port, e.g. 127.0.0.1:9464")
        return value

    @field_validator("cost_5s", "cost_10s")
    @classmethod
    def _whole_thousandths(cls, value: Decimal) -> Decimal:
        # Credits are counted in thousandths (refvid.billing.credits); refuse finer prices.
        if value != round(value, 3):
            raise ValueError(f"credits {value} have more than 3 decimal places")
        return value

    @field_validator("webhook_backoff", mode="before")
    @classmethod
    def _backoff(cls, value: object) -> object:
        return _split(value)

    @cached_property
    def db_url(self) -> str:
        """The database URL actually used."""
        return self.database_url or f"sqlite:///{self.home / 'refvid.db'}"

    @property
    def results_dir(self) -> Path:
        """The local folder of finished videos and covers (with object storage: unused)."""
        if self.results_url and not self.results_url.startswith("s3://"):
            return Path(self.results_url).expanduser()
        return self.home / "results"


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()

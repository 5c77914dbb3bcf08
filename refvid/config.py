"""Settings from the environment (``REFVID_*``), in one place, with defaults that just work."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated

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
    engine: str = Field(default="motion", description="Engine that renders: motion (CPU) or wan (GPU).")
    workers: int = Field(default=1, ge=0, le=64, description="Render worker processes.")
    max_queue: int = Field(default=100, ge=1, description="Queued requests before submits get 429.")
    rate_limit: int = Field(default=60, ge=1, description="Submits per key per minute.")
    plan_rate_limit: int = Field(default=120, ge=1, description="Free shot plans per key per minute.")
    max_body_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, description="Largest request body.")
    sync_timeout: float = Field(default=600.0, gt=0, description="Seconds v1 waits before answering 504.")
    result_ttl: float = Field(default=24 * 3600.0, gt=0, description="Seconds results are kept.")
    cost_5s: Decimal = Field(default=Decimal("1"), ge=0, description="Credits charged for a 5 s video.")
    cost_10s: Decimal = Field(default=Decimal("2"), ge=0, description="Credits charged for a 10 s video.")
    allow_private_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated CIDRs that URL references and webhooks may reach.",
    )
    fetch_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1, description="Largest downloaded image.")
    fetch_timeout: float = Field(default=30.0, gt=0, description="Seconds for one image download.")
    webhook_backoff: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1500.0],
        description="Seconds between webhook retries (sums to about an hour).",
    )
    webhook_timeout: float = Field(default=10.0, gt=0, description="Seconds for one webhook delivery.")
    max_attempts: int = Field(default=2, ge=1, description="Times a job is started before a crash fails it.")
    worker_stale_seconds: float = Field(default=120.0, gt=0, description="Heartbeat age that marks a worker dead.")
    poll_interval: float = Field(default=0.05, gt=0, description="Seconds between job-store polls.")

    @field_validator("allow_private_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        value = _split(value)
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)
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
        """Where finished videos and covers live until they expire."""
        return self.home / "results"


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()

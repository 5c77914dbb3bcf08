"""Settings from REFVID_* variables: defaults that work, lists, exact credits, clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from refvid.config import Settings


def test_defaults_work_with_nothing_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REFVID_HOME", "REFVID_DATABASE_URL", "REFVID_WORKERS", "REFVID_RESULT_TTL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.home == Path.home() / ".local" / "share" / "refvid"
    assert settings.db_url == f"sqlite:///{settings.home / 'refvid.db'}"
    assert settings.result_ttl == 24 * 3600 and settings.workers == 1
    assert settings.cost_5s == 1 and settings.cost_10s == 2
    assert sum(settings.webhook_backoff) >= 3000  # retries span about an hour


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REFVID_HOME", str(tmp_path))
    monkeypatch.setenv("REFVID_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8, 10.1.0.0/16")
    monkeypatch.setenv("REFVID_WEBHOOK_BACKOFF", "1,2.5")
    monkeypatch.setenv("REFVID_COST_5S", "0.25")
    monkeypatch.setenv("REFVID_WORKERS", "3")
    settings = Settings()
    assert settings.home == tmp_path and settings.workers == 3
    assert settings.allow_private_networks == ["127.0.0.0/8", "10.1.0.0/16"]
    assert settings.webhook_backoff == [1.0, 2.5]
    assert settings.cost_5s == Decimal("0.25")


@pytest.mark.parametrize(
    ("name", "value"),
    [("REFVID_ALLOW_PRIVATE_NETWORKS", "not-a-network"), ("REFVID_WORKERS", "-1"), ("REFVID_COST_5S", "-1"), ("REFVID_COST_10S", "0.0005")],
)
def test_bad_values_are_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("REFVID_").lower()):
        Settings()

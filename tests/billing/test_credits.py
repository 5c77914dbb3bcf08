"""Credit arithmetic: exact thousandths, no rounding, prices from the settings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from refvid.billing.credits import credits_number, format_credits, from_units, price, to_units
from refvid.config import Settings


def test_credit_units_are_exact() -> None:
    assert to_units("1.5") == 1500 and to_units(Decimal("0.001")) == 1
    with pytest.raises(ValueError, match="decimal places"):
        to_units("0.0001")
    assert format_credits(1500) == "1.5" and format_credits(2000) == "2" and format_credits(0) == "0"
    assert from_units(1) == Decimal("0.001")
    assert [credits_number(u) for u in (1500, 2000, 1, 123_456)] == [1.5, 2.0, 0.001, 123.456]


def test_price_follows_the_duration(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, cost_5s=Decimal("0.25"), cost_10s=Decimal("0.5"))
    assert price(settings, 5) == 250 and price(settings, 10) == 500
    assert price(Settings(home=tmp_path), 5) == 1000

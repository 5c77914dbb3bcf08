"""Credit arithmetic: exact decimal credits stored as integer thousandths, and request prices."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from refvid.config import Settings

SCALE: Final = 1000
"""Credits are stored as integer thousandths so that arithmetic is exact."""


def to_units(credits: Decimal | int | str) -> int:
    """Credits → integer thousandths; refuses finer fractions instead of rounding."""
    scaled = Decimal(credits) * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"credits {credits} have more than 3 decimal places")
    return int(scaled)


def from_units(units: int) -> Decimal:
    """Integer thousandths → credits, normalised (``1``, ``0.5``)."""
    value = Decimal(units) / SCALE
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def format_credits(units: int) -> str:
    """Credits as a plain decimal string for headers and JSON."""
    return format(from_units(units), "f")


def credits_number(units: int) -> float:
    """Credits as a JSON number (``metrics``): thousandths print back exactly (1500 → 1.5)."""
    return units / SCALE


def price(settings: Settings, duration: int) -> int:
    """What a request of ``duration`` seconds costs, in thousandths."""
    return to_units(settings.cost_10s if duration >= 10 else settings.cost_5s)

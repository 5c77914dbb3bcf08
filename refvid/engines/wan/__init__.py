"""The generative ``wan`` engine (Wan2.1-VACE through diffusers); needs ``refvid[wan]``.

Importing this package is cheap (no torch); :func:`load_wan_engine` checks the extra,
the device and the weights and raises :class:`refvid.errors.EngineUnavailable` with
what to change when one is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from refvid.engines.wan.config import WanSettings
from refvid.errors import EngineUnavailable

if TYPE_CHECKING:
    from refvid.engines.wan.engine import WanEngine


def load_settings() -> WanSettings:
    """Read ``REFVID_WAN_*``; a bad value becomes EngineUnavailable naming the variable."""
    try:
        return WanSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"REFVID_WAN_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise EngineUnavailable(f"invalid wan engine setting: {problems}") from exc


def load_wan_engine(settings: WanSettings | None = None) -> WanEngine:
    """A ready ``wan`` engine; the pipeline itself loads on first render (or ``warm()``) and stays."""
    from refvid.engines.wan.loading import check_extra

    check_extra()
    from refvid.engines.wan.engine import WanEngine
    from refvid.engines.wan.loading import resolve

    settings = settings if settings is not None else load_settings()
    return WanEngine(settings, resolve(settings))


__all__ = ["WanSettings", "load_settings", "load_wan_engine"]

"""The connect guard of the reference tests applies here too: no test may leave loopback."""

from __future__ import annotations

from ..references.conftest import connect_attempts as connect_attempts

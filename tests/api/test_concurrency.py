"""Credits under a race: 50 concurrent submits against a key that can afford 10."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from refvid.billing import balance_of
from refvid.billing.models import LedgerEntry

from .live import LiveServer, body

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")


def test_fifty_concurrent_submits_accept_exactly_ten(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, max_queue=1000, rate_limit=1000)
    key, _, key_id = server.key("10")
    data = body()

    def submit(_: int) -> int:
        with requests.Session() as session:
            return session.post(
                server.url + "/v2/vidu-q1-reference-to-video", json=data, headers={"x-api-key": key}
            ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(submit, range(50)))
    assert codes.count(202) == 10
    assert codes.count(406) == 40
    assert balance_of(server.state.db, key_id) == 0
    with server.state.db.read() as session:
        charges = session.scalar(
            select(func.count()).where(LedgerEntry.key_id == key_id, LedgerEntry.kind == "charge")
        )
    assert charges == 10

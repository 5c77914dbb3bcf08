"""Status streams: capped per key and in total, one poll per request, and revocation ends them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from refvid.billing import balance_of
from refvid.cli import app as cli
from refvid.jobs.models import Job

from .live import LiveServer, body
from .test_webhooks import finish, receiving

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"
V2 = "/v2/vidu-q1-reference-to-video"


def _submit(server: LiveServer, key: str, **fields: Any) -> dict[str, Any]:
    response = requests.post(server.url + V2, json=body(**fields), headers={"x-api-key": key})
    assert response.status_code == 202, response.text
    return dict(response.json())


@dataclass
class Stream:
    """An open event stream; ``lines`` is read across calls (dropping it would hang up)."""

    response: requests.Response
    lines: Iterator[str]

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def close(self) -> None:
        self.response.close()


@contextmanager
def _stream(url: str, key: str) -> Iterator[Stream]:
    response = requests.get(url, headers={"x-api-key": key}, stream=True, timeout=30)
    try:
        yield Stream(response, response.iter_lines(decode_unicode=True))
    finally:
        response.close()


def _events(stream: Stream, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next ``count`` events of a stream as (name, data)."""
    events: list[tuple[str, dict[str, Any]]] = []
    name, data = "", ""
    for line in stream.lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            events.append((name, json.loads(data)))
            name, data = "", ""
            if len(events) == count:
                break
    return events


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_streams_beyond_the_caps_are_refused(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, sse_per_key=3, sse_total=5)
    hub = server.state.streams
    a, _, _ = server.key("10", name="a")
    b, _, _ = server.key("10", name="b")
    job_a, job_b = _submit(server, a), _submit(server, b)
    with ExitStack() as streams:
        opened = [streams.enter_context(_stream(job_a["stream_url"], a)) for _ in range(3)]
        assert all(s.status_code == 200 for s in opened)
        _until(lambda: hub.open == 3)
        refused = requests.get(job_a["stream_url"], headers={"x-api-key": a})
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_streams"
        assert refused.headers["Retry-After"] == "10" and "this key already has 3" in refused.json()["error"]
        others = [streams.enter_context(_stream(job_b["stream_url"], b)) for _ in range(2)]
        assert all(s.status_code == 200 for s in others)
        _until(lambda: hub.open == 5)
        full = requests.get(job_b["stream_url"], headers={"x-api-key": b})
        assert full.status_code == 429 and "the server already has 5" in full.json()["error"]
        opened[0].close()
        _until(lambda: hub.open == 4)
        with _stream(job_b["stream_url"], b) as again:
            assert again.status_code == 200
    _until(lambda: hub.open == 0 and not hub.feeds)


def test_streams_of_one_request_share_one_poll(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, sse_per_key=100, sse_total=100)
    hub = server.state.streams
    key, _, _ = server.key("10")
    job = _submit(server, key)
    with ExitStack() as stack:
        streams = [stack.enter_context(_stream(job["stream_url"], key)) for _ in range(40)]
        firsts = [_events(stream, 1)[0] for stream in streams]
        assert {(name, data["status"]) for name, data in firsts} == {("status", "QUEUED")}
        _until(lambda: hub.open == 40)
        assert list(hub.feeds) == [job["request_id"]]  # one feed (one polling task) for all 40
        started = time.monotonic()
        status = requests.get(job["status_url"], headers={"x-api-key": key})
        print(f"GET status with 40 streams open on the request: {1000 * (time.monotonic() - started):.1f} ms")
        assert status.status_code == 200
        requests.post(job["cancel_url"], headers={"x-api-key": key}).raise_for_status()
        finals = [_events(stream, 1)[0] for stream in streams]
        assert {(name, data["status"]) for name, data in finals} == {("status", "CANCELLED")}
    _until(lambda: hub.open == 0 and not hub.feeds)


@pytest.fixture
def revoke(serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch) -> Callable[[LiveServer, str], None]:
    """Revoke a key with the real ``refvid keys revoke`` command, on the server's database."""

    def run(server: LiveServer, name: str) -> None:
        monkeypatch.setenv("REFVID_HOME", str(server.settings.home))
        result = CliRunner().invoke(cli, ["keys", "revoke", name])
        assert result.exit_code == 0, result.output

    return run


def test_revoking_a_key_ends_its_streams_waits_jobs_and_webhooks(
    serve: Callable[..., LiveServer], revoke: Callable[[LiveServer, str], None]
) -> None:
    server = serve(workers=0, webhook_backoff=[0.2] * 20)
    key, _, key_id = server.key("10", name="leaked")
    other, _, other_id = server.key("10", name="other")
    with receiving(fail_first=1000) as receiver:
        hooked = _submit(server, key, webhook_url=receiver.url)  # queued, with a webhook
        retrying = _submit(server, key, webhook_url=receiver.url, seed=8)
        finish(server.state.db, retrying["request_id"])  # final; its webhook keeps failing
        _until(lambda: len(receiver.deliveries) >= 2)
        untouched = _submit(server, other)
        waited: dict[str, Any] = {}

        def wait_v1() -> None:
            waited["response"] = requests.post(server.url + V1, json=body(seed=9), headers={"x-api-key": key})

        waiter = threading.Thread(target=wait_v1)
        waiter.start()
        with _stream(hooked["stream_url"], key) as stream:
            assert _events(stream, 1)[0][1]["status"] == "QUEUED"
            _until(lambda: balance_of(server.state.db, key_id) == 8000)  # the queued one and the v1 wait
            revoke(server, "leaked")
            rest = _events(stream, 100)  # until the server ends the stream
            name, data = rest[-1]
        waiter.join(timeout=20)
        delivered = len(receiver.deliveries)
        time.sleep(0.8)  # several retry rounds
        assert len(receiver.deliveries) == delivered  # no more webhooks for the revoked key
    assert (name, data["code"]) == ("error", "invalid_api_key")
    response = waited["response"]
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    statuses = requests.get(hooked["status_url"], headers={"x-api-key": other})
    assert statuses.status_code == 404  # another key still sees nothing of it
    with server.state.db.read() as session:
        hooked_job = session.get(Job, hooked["request_id"])
        retrying_job = session.get(Job, retrying["request_id"])
    assert hooked_job is not None and hooked_job.status == "CANCELLED" and hooked_job.error_code == "key_revoked"
    assert hooked_job.webhook_state == "skipped"
    assert retrying_job is not None and retrying_job.webhook_state == "skipped"
    assert balance_of(server.state.db, key_id) == 10_000  # everything unfinished was refunded
    assert balance_of(server.state.db, other_id) == 9000
    assert requests.get(untouched["status_url"], headers={"x-api-key": other}).json()["status"] == "QUEUED"
    assert requests.get(hooked["status_url"], headers={"x-api-key": key}).status_code == 401

"""``refvid serve`` with several API processes: one port, one background, shared state.

Each client here holds one keep-alive connection, and the test finds which API process
serves it (the server side of the connection, from ``/proc``), so the checks below cover
every API process, not whichever one the kernel happened to pick.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from refvid.billing import add_credits, revoke_key

from .live import body
from .process import ServerProcess, children, start_process

pytestmark = pytest.mark.slow

API_PROCESSES = 2


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def _socket_inode(server_port: int, client_port: int) -> int | None:
    # /proc/net/tcp: "sl local rem st ... uid timeout inode"; addresses are HEX_IP:HEX_PORT.
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return int(fields[9])
    return None


def serving_pid(server: ServerProcess, conn: http.client.HTTPConnection) -> int:
    """The process that holds the server side of ``conn``."""
    assert conn.sock is not None
    inode = _socket_inode(int(server.url.rsplit(":", 1)[1]), conn.sock.getsockname()[1])
    assert inode is not None
    wanted = f"socket:[{inode}]"
    for pid in descendants(server.pid):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == wanted:
                    return pid
            except OSError:
                continue
    raise AssertionError("no server process holds the connection")


class Client:
    """One keep-alive connection with a key."""

    def __init__(self, server: ServerProcess, key: str) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.key = key

    def request(self, method: str, path: str, data: Any = None) -> tuple[int, Any]:
        headers = {"x-api-key": self.key}
        payload = None
        if data is not None:
            payload = json.dumps(data)
            headers["content-type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw.startswith((b"{", b"[")) else raw.decode()


@contextmanager
def clients_on_every_process(server: ServerProcess, key: str) -> Iterator[dict[int, Client]]:
    """One connected client per API process (opening connections until each has one)."""
    by_pid: dict[int, Client] = {}
    spare: list[Client] = []
    try:
        for _ in range(200):
            client = Client(server, key)
            assert client.request("GET", "/healthz")[0] == 200
            pid = serving_pid(server, client.conn)
            if pid in by_pid:
                spare.append(client)
            else:
                by_pid[pid] = client
            if len(by_pid) == API_PROCESSES:
                break
        assert len(by_pid) == API_PROCESSES, f"connections reached only {sorted(by_pid)}"
        yield by_pid
    finally:
        for client in [*by_pid.values(), *spare]:
            client.conn.close()


SETTINGS: dict[str, Any] = {"workers": 0, "api_processes": API_PROCESSES, "rate_limit": 4}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the tests that touch only their own key (each makes one); started once."""
    root = tmp_path_factory.mktemp("serving")
    server = start_process(root / "home", root / "server.log", **SETTINGS)
    yield server
    server.stop()


@pytest.fixture
def server(shared: ServerProcess) -> ServerProcess:
    assert shared.process.poll() is None, "the shared server has stopped"
    return shared


@pytest.fixture
def own_server(serve_process: Callable[..., ServerProcess]) -> ServerProcess:
    """A server of this test's own, for a test that stops it."""
    return serve_process(**SETTINGS)


def test_a_revoked_key_is_refused_within_a_second_on_every_process(server: ServerProcess) -> None:
    key, _, key_id = server.key("10")
    with clients_on_every_process(server, key) as clients:
        for client in clients.values():  # the key is known (and cached) everywhere
            code, doc = client.request("POST", "/v2/vidu-q1-reference-to-video", body())
            assert code == 202, doc
            assert client.request("GET", f"/v2/requests/{doc['request_id']}/status")[0] == 200
            assert client.request("GET", "/v1/get-user-credits")[0] == 200
        assert revoke_key(server.db, key_id)
        time.sleep(1.0)
        for pid, client in clients.items():
            for path in ("/v2/requests", "/v1/get-user-credits", f"/v2/requests/{doc['request_id']}/status"):
                code, answer = client.request("GET", path)
                assert code == 401 and answer["code"] == "invalid_api_key", (pid, path, answer)


def test_a_credit_change_shows_in_the_next_documents_on_every_process(server: ServerProcess) -> None:
    key, _, key_id = server.key("10")
    with clients_on_every_process(server, key) as clients:
        first = next(iter(clients.values()))
        code, doc = first.request("POST", "/v2/vidu-q1-reference-to-video", body())
        assert code == 202
        job = doc["request_id"]
        for client in clients.values():
            assert client.request("GET", f"/v2/requests/{job}/status")[1]["metrics"]["remaining_credits"] == 9
        add_credits(server.db, key_id, 2500)
        for client in clients.values():  # the very next documents, no waiting
            status = client.request("GET", f"/v2/requests/{job}/status")[1]
            result = client.request("GET", f"/v2/requests/{job}")[1]
            listed = client.request("GET", "/v2/requests")[1]
            assert status["metrics"]["remaining_credits"] == 11.5
            assert result["remaining_credits"] == "11.5" and result["metrics"]["remaining_credits"] == 11.5
            assert listed["data"][0]["metrics"]["remaining_credits"] == 11.5


def test_processes_share_one_rate_limit_and_one_metrics_page(server: ServerProcess) -> None:
    key, _, _ = server.key("100")
    with clients_on_every_process(server, key) as clients:
        codes = [
            client.request("POST", "/v2/vidu-q1-reference-to-video", body(seed=seed))[0]
            for seed in range(1, 4) for client in clients.values()
        ]
        assert sorted(codes) == [202] * 4 + [429] * 2, codes  # 4 a minute, all processes together
        before = _healthz_count(next(iter(clients.values())))
        for client in clients.values():
            for _ in range(5):
                assert client.request("GET", "/healthz")[0] == 200
        assert _healthz_count(next(iter(clients.values()))) == before + 5 * API_PROCESSES
        for client in clients.values():  # each process knows the parent's render workers
            assert client.request("GET", "/readyz")[1]["workers"] == 0


def _healthz_count(client: Client) -> float:
    text = client.request("GET", "/metrics")[1]
    for line in text.splitlines():
        if line.startswith('refvid_http_requests_total{method="GET",route="/healthz",status="200"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_api_processes_and_the_background_stop_together(own_server: ServerProcess) -> None:
    server = own_server
    processes = descendants(server.pid)
    assert len(processes) >= API_PROCESSES
    server.stop()
    assert server.process.returncode == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in processes if Path(f"/proc/{pid}").exists()]
    assert not list(server.settings.home.glob("metrics-*"))  # the counters' folder is removed

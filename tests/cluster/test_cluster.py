"""Two API servers and two workers as separate processes with separate data folders, on one
PostgreSQL and one S3-compatible bucket: what an operator gets by adding machines.

Skipped, with the reason, without PostgreSQL on 127.0.0.1:5432. Renders are tiny (1:1, 5 s).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests

from refvid.billing import balance_of, create_key
from refvid.billing.credits import to_units
from refvid.billing.ledger import entries_for
from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.jobs import nodes, store
from refvid.jobs.models import Status

from ..api.live import body, wait_status
from ..pg import new_database
from ..s3 import s3_server as s3_server
from .nodes import ROOT, Cluster, Node

pytestmark = pytest.mark.slow  # four processes, real renders

V2 = "/v2/vidu-q1-reference-to-video"
FINAL = {"COMPLETED", "FAILED", "CANCELLED"}
RATE_LIMIT = 60  # submits per key per minute, on every node: enough for each scenario's key


class _Hooks(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.headers["X-Refvid-Request-Id"], self.headers["X-Refvid-Attempt"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hooks() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    handler = type("Hooks", (_Hooks,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.seen
    server.shutdown()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with new_database("refvid_cluster") as url:
        yield url


@pytest.fixture(scope="module")
def cluster(database: str, s3_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import boto3

    bucket = f"refvid-{secrets.token_hex(4)}"
    aws = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": s3_server,
    }
    boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    env = {
        **aws, "NO_PROXY": "127.0.0.1,localhost", "CUDA_VISIBLE_DEVICES": "",
        "REFVID_DATABASE_URL": database, "REFVID_RESULTS_URL": f"s3://{bucket}/results",
        "REFVID_RATE_LIMIT": str(RATE_LIMIT), "REFVID_MAX_QUEUE": "100", "REFVID_POLL_INTERVAL": "0.05",
        "REFVID_WEBHOOK_BACKOFF": "0.3,0.3", "REFVID_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
        "REFVID_WORKER_STALE_SECONDS": "20",
    }
    root = tmp_path_factory.mktemp("cluster")
    group = Cluster(root, env)
    upgrade = subprocess.run(
        [sys.executable, "-m", "refvid.cli", "db", "upgrade"], capture_output=True, text=True,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), "REFVID_HOME": str(root)},
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    try:
        # The two API nodes start side by side, as machines would.
        starting = [group.api("a", "--no-workers", ready=False), group.api("b", "--no-workers", ready=False)]
        for node in starting:
            group.ready(node)
        group.worker("w1")
        group.worker("w2")
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="module")
def db(cluster: Cluster, database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    handle = open_db(Settings(home=tmp_path_factory.mktemp("test"), database_url=database))
    _wait_workers(handle, 2)
    yield handle
    handle.dispose()


def _wait_workers(db: Database, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pool = nodes.pools(db, stale_seconds=20).get("default")
        if pool is not None and pool.workers >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} workers registered")


def _node(cluster: Cluster, name: str) -> Node:
    return next(node for node in reversed(cluster.nodes) if node.name == name)


def _key(db: Database, credits: str) -> tuple[str, int]:
    new = create_key(db, "cluster", to_units(credits))
    return new.key, new.id


def _submit(node: Node, key: str, **fields: Any) -> requests.Response:
    return requests.post(node.url + V2, json=body(**fields), headers={"x-api-key": key}, timeout=60)


def _ledger(db: Database, job_id: str) -> list[str]:
    with db.read() as session:
        return [entry.kind for entry in entries_for(session, job_id)]


def test_submit_on_a_watch_and_download_on_b_webhook_once(
    cluster: Cluster, db: Database, hooks: tuple[str, list[tuple[str, str]]]
) -> None:
    a, b = _node(cluster, "a"), _node(cluster, "b")
    url, seen = hooks
    key, key_id = _key(db, "5")
    sub = _submit(a, key, webhook_url=url).json()
    job_id = sub["request_id"]
    events: list[dict[str, Any]] = []
    with requests.get(
        f"{b.url}/v2/requests/{job_id}/status/stream", headers={"x-api-key": key}, stream=True, timeout=120
    ) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["status"] in FINAL:
                    break
    assert events[-1]["status"] == "COMPLETED", b.tail()
    assert len(events) >= 2  # at least the first state and the final one, pushed by B
    answer = requests.get(f"{b.url}/v2/requests/{job_id}/video", headers={"x-api-key": key}, allow_redirects=False)
    assert answer.status_code == 307 and "X-Amz-Expires=300" in answer.headers["location"]
    assert requests.get(answer.headers["location"], timeout=30).content[4:8] == b"ftyp"
    ready = requests.get(f"{b.url}/readyz", timeout=10).json()
    assert ready["pools"]["default"]["workers"] == 2 and ready["pools"]["default"]["nodes"] == 2
    metrics = requests.get(f"{a.url}/metrics", timeout=10).text
    assert 'refvid_pool_workers{pool="default"} 2.0' in metrics
    # Both API nodes run a webhook sender: the receiver still hears attempt 1 once.
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # a duplicate from the other node would have arrived by now
    assert [hit for hit in seen if hit[0] == job_id] == [(job_id, "1")]
    assert balance_of(db, key_id) == to_units("4")

    # Cancel on B what A accepted: refunded once.
    other = _submit(a, key, seed=99).json()
    cancelled = requests.post(f"{b.url}/v2/requests/{other['request_id']}/cancel", headers={"x-api-key": key})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert _ledger(db, other["request_id"]) == ["charge", "refund"]
    assert balance_of(db, key_id) == to_units("4")


def test_fifty_concurrent_submits_on_two_nodes_charge_exactly_what_the_key_affords(
    cluster: Cluster, db: Database
) -> None:
    a, b = _node(cluster, "a"), _node(cluster, "b")
    key, key_id = _key(db, "10")
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: _submit((a, b)[n % 2], key, seed=1000 + n), range(50)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(202) == 10 and codes.count(406) == 40, codes
    assert balance_of(db, key_id) == 0
    for answer in answers:  # nothing to render here: cancel (and refund) them
        if answer.status_code == 202:
            requests.post(answer.json()["cancel_url"], headers={"x-api-key": key}, timeout=30)


def test_the_rate_limit_is_counted_once_across_api_nodes(cluster: Cluster, db: Database) -> None:
    a, b = _node(cluster, "a"), _node(cluster, "b")
    key, _ = _key(db, "5")
    # Invalid bodies: each takes a rate token (checked first), then fails validation (422).
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(
            pool.map(
                lambda n: requests.post(
                    (a, b)[n % 2].url + V2, json={"prompt": ""}, headers={"x-api-key": key}, timeout=60
                ).status_code,
                range(2 * RATE_LIMIT),
            )
        )
    refilled = (time.monotonic() - started) * RATE_LIMIT / 60 + 2  # tokens that came back meanwhile
    assert set(codes) == {422, 429}
    # Per-node buckets would let RATE_LIMIT through on each node; the shared one, once.
    assert RATE_LIMIT <= codes.count(422) <= RATE_LIMIT + refilled, codes.count(422)


def test_a_killed_worker_machine_s_job_completes_elsewhere_charged_once(cluster: Cluster, db: Database) -> None:
    a = _node(cluster, "a")
    key, key_id = _key(db, "5")
    sub = _submit(a, key, seed=4242).json()  # 5 s: the kill comes at 2 %
    job_id = sub["request_id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        doc = wait_status(a.url, key, job_id, {"PROCESSING"} | FINAL, timeout=90)
        if doc["status"] != "PROCESSING" or doc["progress"] > 0.02:
            break
        time.sleep(0.05)
    assert doc["status"] == "PROCESSING"
    job = store.get_job(db, job_id)
    assert job is not None and job.worker_id is not None
    owner = nodes.node_of(job.worker_id)
    victim = next(
        node for node in cluster.nodes
        if node.name.startswith("w") and node.process.poll() is None
        and any(n.id == owner for n in nodes.listing(db, 20)) and _registered_pid(db, owner) == node.pid
    )
    victim.kill()  # the whole machine: supervisor and render process
    final = wait_status(a.url, key, job_id, FINAL, timeout=180)
    assert final["status"] == "COMPLETED" and final["attempts"] == 2
    assert _ledger(db, job_id) == ["charge"] and balance_of(db, key_id) == to_units("4")  # one charge of 1
    done = store.get_job(db, job_id)
    assert done is not None and done.result_key == f"{job_id}/2"
    cluster.worker(f"{victim.name}r")  # a replacement machine for what follows
    _wait_workers(db, 2)


def _registered_pid(db: Database, node_id: str) -> int | None:
    from refvid.jobs.models import Node as NodeRow

    with db.read() as session:
        row = session.get(NodeRow, node_id)
    return None if row is None else row.pid


def test_a_restarted_api_node_steals_nothing(cluster: Cluster, db: Database) -> None:
    a, b = _node(cluster, "a"), _node(cluster, "b")
    key, _ = _key(db, "5")
    sub = _submit(a, key, duration=10, seed=777).json()
    job_id = sub["request_id"]
    wait_status(a.url, key, job_id, {"PROCESSING"} | FINAL, timeout=90)
    before = store.get_job(db, job_id)
    assert before is not None and before.status == Status.PROCESSING
    b.stop()
    # B comes back as a full node (API and a render worker): its start-up recovery runs.
    cluster.api("b", "--workers", "1")
    final = wait_status(a.url, key, job_id, FINAL, timeout=180)
    after = store.get_job(db, job_id)
    assert final["status"] == "COMPLETED" and final["attempts"] == 1
    assert after is not None and after.worker_id == before.worker_id and after.fence == 1

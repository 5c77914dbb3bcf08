"""The node registry: only owners that are provably dead give their jobs up."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import update

from refvid.db import Database, db_now
from refvid.jobs import lifecycle, nodes
from refvid.jobs.models import Node

from .helpers import submit


def _owned_by(db: Database, worker_id: str) -> None:
    submit(db, seed=len(worker_id))
    assert lifecycle.claim(db, worker_id) is not None


def test_only_provably_dead_owners_are_reported(db: Database) -> None:
    nodes.register(db, "alive", kind="worker", slots=2)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    nodes.register(db, "exited", kind="worker", slots=1)
    nodes.register(db, "elsewhere", kind="worker", slots=1)
    nodes.register(db, "silent", kind="worker", slots=1)
    with db.write.begin() as session:
        # "exited" was a process of this host that is gone; "elsewhere" is on another
        # machine (its pid means nothing here); "silent" stopped renewing its registration.
        session.execute(update(Node).where(Node.id == "exited").values(pid=int(finished.stdout)))
        session.execute(update(Node).where(Node.id == "elsewhere").values(pid=int(finished.stdout), pid_space="other host"))
        session.execute(update(Node).where(Node.id == "silent").values(last_seen=db_now(-600)))
    for owner in ("alive.0.1.7", "exited.0.1.8", "elsewhere.0.1.9", "silent.0.1.10", "never.0.1.11"):
        _owned_by(db, owner)
    assert nodes.dead_owners(db, stale_seconds=120) == {"exited.0.1.8", "silent.0.1.10", "never.0.1.11"}
    listed = {node.id: node for node in nodes.listing(db, stale_seconds=120)}
    assert set(listed) == {"alive", "exited", "elsewhere"} and listed["alive"].slots == 2
    nodes.deregister(db, "alive")
    assert "alive.0.1.7" in nodes.dead_owners(db, stale_seconds=120)


def test_pools_count_waiting_requests_and_running_workers(db: Database) -> None:
    nodes.register(db, "gpu1", kind="worker", pool="gpu", slots=2)
    nodes.beat(db, "gpu1", alive=2)
    nodes.register(db, "api", kind="serve", slots=0)  # renders nothing: not a worker of any pool
    submit(db, seed=1)
    submit(db, seed=2)
    pools = nodes.pools(db, stale_seconds=120)
    assert set(pools) == {"default", "gpu"}
    assert (pools["default"].queued, pools["default"].workers, pools["default"].nodes) == (2, 0, 0)
    gpu = pools["gpu"]
    assert (gpu.queued, gpu.nodes, gpu.slots, gpu.workers) == (0, 1, 2, 2)
    assert gpu.last_seen_seconds is not None and gpu.last_seen_seconds < 60

"""The registry of running nodes (``refvid serve`` with workers, ``refvid worker``).

A node registers when it starts, renews ``last_seen`` (database time) while it runs and
removes itself when it stops cleanly. Job owners are named ``<node id>.<slot>...``, so any
node can tell which PROCESSING jobs have an owner that is provably dead — and only those:
their node never registered or has left, its registration went stale, or it was a process
of this very host (same boot, same PID namespace) that no longer exists.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select, update

from refvid.db import Database, db_now
from refvid.jobs.models import DEFAULT_POOL, Job, Node, Status


@cache
def pid_space() -> str:
    """Host, boot and PID namespace: two processes in the same space can check each other's pids."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: only the registration's age can prove a node dead
        return f"{socket.gethostname()} {os.getpid()} unknown"
    return f"{socket.gethostname()} {boot} {namespace}"


def node_of(worker_id: str) -> str:
    """The node id a worker id starts with."""
    return worker_id.split(".", 1)[0]


def node_made(worker_id: str) -> bool:
    """Whether a node named this worker (``<node>.<slot>.<start>.<pid>``), so the registry can judge it.

    Any other owner (a tool, a test, a foreign process) is judged by its lease alone.
    """
    parts = worker_id.split(".")
    return len(parts) == 4 and all(parts) and parts[3].isdigit()


def register(db: Database, node_id: str, *, kind: str, pool: str = DEFAULT_POOL, slots: int = 0) -> None:
    """Record this process as a running node (or refresh its record)."""
    with db.write.begin() as session:
        session.execute(delete(Node).where(Node.id == node_id))
        session.add(
            Node(
                id=node_id, kind=kind, host=socket.gethostname(), pid=os.getpid(),
                pid_space=pid_space(), pool=pool, slots=slots, alive=0,
                started_at=db_now(), last_seen=db_now(),
            )
        )


def beat(db: Database, node_id: str, alive: int) -> None:
    """Renew the node's registration, saying how many render processes run now."""
    with db.write.begin() as session:
        session.execute(update(Node).where(Node.id == node_id).values(last_seen=db_now(), alive=alive))


def deregister(db: Database, node_id: str) -> None:
    """Remove the node's registration (a clean stop, after its jobs went back to the queue)."""
    with db.write.begin() as session:
        session.execute(delete(Node).where(Node.id == node_id))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def dead_owners(db: Database, stale_seconds: float) -> set[str]:
    """Worker ids of PROCESSING jobs whose node is provably dead (see the module's docstring)."""
    with db.read() as session:
        owners = {
            owner
            for owner in session.scalars(
                select(Job.worker_id).where(Job.status == Status.PROCESSING, Job.worker_id.is_not(None))
            ).all()
            if owner is not None and node_made(owner)
        }
        if not owners:
            return set()
        nodes = {
            row.id: row
            for row in session.execute(
                select(Node.id, Node.pid, Node.pid_space, (Node.last_seen < db_now(-stale_seconds)).label("stale"))
                .where(Node.id.in_({node_of(owner) for owner in owners}))
            ).all()
        }
    here = pid_space()
    dead: set[str] = set()
    for owner in owners:
        node = nodes.get(node_of(owner))
        if node is None or node.stale or (node.pid_space == here and _gone(node.pid)):
            dead.add(owner)
    return dead


@dataclass(frozen=True)
class NodeInfo:
    """A registered node as /readyz and /metrics show it."""

    id: str
    kind: str
    host: str
    pool: str
    slots: int
    alive: int
    last_seen: datetime
    seconds_ago: float


def listing(db: Database, stale_seconds: float) -> list[NodeInfo]:
    """The nodes whose registration is fresh, oldest first."""
    with db.read() as session:
        now = session.scalar(select(db_now()))
        rows = session.scalars(
            select(Node).where(Node.last_seen >= db_now(-stale_seconds)).order_by(Node.started_at)
        ).all()
    assert now is not None
    return [
        NodeInfo(
            row.id, row.kind, row.host, row.pool, row.slots, row.alive, row.last_seen,
            max(0.0, (now - row.last_seen).total_seconds()),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PoolTotals:
    """One pool across every node: waiting requests, nodes, slots, running render processes."""

    queued: int
    nodes: int
    slots: int
    workers: int
    last_seen_seconds: float | None


def pools(db: Database, stale_seconds: float) -> dict[str, PoolTotals]:
    """Queue depth and workers per pool, from the database (every pool that has either)."""
    with db.read() as session:
        depths = dict(
            session.execute(
                select(Job.pool, func.count()).where(Job.status == Status.QUEUED).group_by(Job.pool)
            ).all()
        )
    running = [node for node in listing(db, stale_seconds) if node.slots > 0]
    totals: dict[str, PoolTotals] = {}
    for pool in sorted(set(depths) | {node.pool for node in running}):
        members = [node for node in running if node.pool == pool]
        totals[pool] = PoolTotals(
            queued=int(depths.get(pool, 0)),
            nodes=len(members),
            slots=sum(node.slots for node in members),
            workers=sum(node.alive for node in members),
            last_seen_seconds=min((node.seconds_ago for node in members), default=None),
        )
    return totals

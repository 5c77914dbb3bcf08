"""Prometheus metrics: HTTP traffic, submits, and job/queue/worker gauges read at scrape time."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from refvid.db import Database
from refvid.jobs import nodes
from refvid.jobs.models import Job, Status

HTTP_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The method as a metric label: the standard ones by name, anything else "other".

    HTTP servers accept any token as a method; each distinct label value is a new time
    series held forever, so an unbounded label is an unbounded memory leak.
    """
    return method if method in HTTP_METHODS else "other"


class _JobCollector(Collector):
    """Counts read from the job store, so they are right across worker processes."""

    def __init__(self, db: Database, workers_alive: Callable[[], int], stale_seconds: float) -> None:
        self.db, self.workers_alive, self.stale_seconds = db, workers_alive, stale_seconds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.read() as session:
            rows = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        jobs = GaugeMetricFamily("refvid_jobs", "Jobs in the store by status", labels=["status"])
        for status in Status:
            jobs.add_metric([status.value], float(rows.get(status, 0)))
        yield jobs
        yield GaugeMetricFamily(
            "refvid_queue_depth", "Requests waiting for a worker",
            value=float(rows.get(Status.QUEUED, 0)),
        )
        yield GaugeMetricFamily(
            "refvid_workers_alive", "Render worker processes running", value=float(self.workers_alive())
        )
        yield from _pool_gauges(nodes.pools(self.db, self.stale_seconds))


def _pool_gauges(pools: dict[str, nodes.PoolTotals]) -> Iterator[GaugeMetricFamily]:
    """Per pool, across every node (from the database): what an autoscaler reads."""
    gauges = {
        "queued": GaugeMetricFamily("refvid_pool_queue_depth", "Requests waiting, per pool", labels=["pool"]),
        "workers": GaugeMetricFamily(
            "refvid_pool_workers", "Render processes running on registered nodes, per pool", labels=["pool"]
        ),
        "slots": GaugeMetricFamily(
            "refvid_pool_slots", "Render processes registered nodes are set to run, per pool", labels=["pool"]
        ),
        "nodes": GaugeMetricFamily("refvid_pool_nodes", "Registered nodes, per pool", labels=["pool"]),
    }
    for name, pool in pools.items():
        for field, gauge in gauges.items():
            gauge.add_metric([name], float(getattr(pool, field)))
    yield from gauges.values()


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR``: set when several API processes serve one server."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """One registry per app, so several apps (tests) never collide.

    ``registry`` holds this process's metrics; ``exposed`` is what ``/metrics`` shows. With
    several API processes (``PROMETHEUS_MULTIPROC_DIR`` set by :mod:`refvid.api.serving`)
    each process writes its counts to a file there, and ``exposed`` sums them all.
    """

    def __init__(self, db: Database, workers_alive: Callable[[], int], stale_seconds: float = 120.0) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "refvid_http_requests", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "refvid_http_request_seconds", "HTTP request latency", ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
            registry=self.registry,
        )
        self.submits = Counter(
            "refvid_submits", "Accepted requests", ["api"], registry=self.registry
        )
        self.rejected = Counter(
            "refvid_rejected", "Refused submits", ["reason"], registry=self.registry
        )
        self.exposed = self.registry
        shared = multiprocess_dir()
        if shared is not None:
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed, path=shared)
        self.exposed.register(_JobCollector(db, workers_alive, stale_seconds))

    def serve(self, listen: str) -> WSGIServer:
        """Serve the exposed registry on ``host:port`` from a background thread (``REFVID_METRICS_LISTEN``)."""
        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=self.exposed)
        return server

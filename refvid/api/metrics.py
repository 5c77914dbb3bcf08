"""Prometheus metrics: HTTP traffic, submits, and job/queue/worker gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from refvid.db import Database
from refvid.jobs.models import Job, Status


class _JobCollector(Collector):
    """Counts read from the job store, so they are right across worker processes."""

    def __init__(self, db: Database, workers_alive: Callable[[], int]) -> None:
        self.db, self.workers_alive = db, workers_alive

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


class Metrics:
    """One registry per app, so several apps (tests) never collide."""

    def __init__(self, db: Database, workers_alive: Callable[[], int]) -> None:
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
        self.registry.register(_JobCollector(db, workers_alive))

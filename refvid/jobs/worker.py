"""Running one job, and the loop a worker process runs: claim, render, report, repeat.

Running a job is idempotent given its id: whoever claims it owns it until a final
state; a job that is already final is left alone, and a render whose job was
cancelled or reassigned meanwhile throws its files away.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from multiprocessing.synchronize import Event

from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.errors import Cancelled, EngineUnavailable, InvalidReference
from refvid.jobs import lifecycle
from refvid.jobs.models import Job
from refvid.jobs.notify import QUEUE, Listener
from refvid.jobs.states import Status
from refvid.private import UMASK
from refvid.references.load import ReferencePolicy
from refvid.request import GenerationRequest
from refvid.storage import Storage, open_storage

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.25
ALIVE_SECONDS = 5.0
WORKER_NICENESS = 5
LISTEN_POLL_SECONDS = 1.0  # with LISTEN/NOTIFY, how often an idle worker still looks (and sees stop)


def alive_seconds(lease: float) -> float:
    """How often a silent render renews its lease: often enough that one late beat never loses it."""
    return min(ALIVE_SECONDS, lease / 4)


class _Watch:
    """Progress and cancellation callbacks for one render, throttled against the store.

    A background thread also beats every ``ALIVE_SECONDS`` so that long silent phases
    (downloads, a diffusion step) never look like a dead worker to the supervisor.
    """

    def __init__(self, db: Database, job_id: str, worker_id: str, fence: int, lease: float) -> None:
        self.db, self.job_id, self.worker_id = db, job_id, worker_id
        self.fence, self.lease = fence, lease
        self.lost = False
        self._last_beat = 0.0
        self._last_poll = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._alive, daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _alive(self) -> None:
        while not self._done.wait(alive_seconds(self.lease)):
            try:
                if not self._beat(None):
                    self.lost = True
            except Exception:  # a busy database only delays the next beat
                log.warning("heartbeat of %s failed", self.job_id, exc_info=True)

    def _beat(self, progress: float | None) -> bool:
        return lifecycle.heartbeat(
            self.db, self.job_id, self.worker_id, progress, fence=self.fence, lease=self.lease
        )

    def progress(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            # Rendered frames are only 0.95 of the work: encoding tails and the cover remain.
            # Each progress write renews the lease too.
            if not self._beat(round(fraction * 0.95, 4)):
                self.lost = True

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self.lost and now - self._last_poll >= HEARTBEAT_SECONDS:
            self._last_poll = now
            self.lost = not lifecycle.still_mine(self.db, self.job_id, self.worker_id, self.fence)
        return self.lost


def request_of(job: Job) -> GenerationRequest:
    """What a claimed job renders: its stored request, with the seed chosen at acceptance."""
    request = GenerationRequest.model_validate_json(job.request_json)
    if job.seed is not None and job.seed != request.seed:  # the request said 0: pick once
        request = request.model_copy(update={"seed": job.seed})
    return request


def run_job(
    db: Database, settings: Settings, job: Job, worker_id: str, policy: ReferencePolicy | None = None,
    storage: Storage | None = None,
) -> Status:
    """Render a claimed job and record its outcome; returns the final status it reached.

    The attempt writes under its own key (``<id>/<fence>``) and publishes it with the fenced
    completion. CANCELLED also covers a job taken away meanwhile (cancelled, or recovered
    after its lease ran out): this attempt deletes its own files, never another's, and
    leaves the job's record to its new owner. Without a ``policy``, URL references are
    downloaded as the settings say, and the downloads stop as soon as the job is cancelled.
    """
    from refvid.generate import generate

    request = request_of(job)
    storage = storage or open_storage(settings)
    key = lifecycle.attempt_key(job.id, job.fence)
    out_dir = storage.attempt_dir(key)
    watch = _Watch(db, job.id, worker_id, job.fence, settings.worker_stale_seconds)
    ttl = settings.result_ttl
    if policy is None:
        policy = ReferencePolicy.for_server(settings, cancelled=watch.cancelled)

    def failed(status: int, code: str, message: str) -> Status:
        storage.discard(key)
        lifecycle.fail(
            db, job.id, http_status=status, code=code, message=message, ttl=ttl,
            worker_id=worker_id, fence=job.fence,
        )
        return Status.FAILED

    try:
        with watch:
            # Loaded by generate, so nothing here keeps the full-size pictures through the render.
            result = generate(
                request,
                out_dir / "video.mp4",
                cover=out_dir / "cover.jpg",
                engine=settings.engine,
                policy=policy,
                progress=watch.progress,
                cancelled=watch.cancelled,
            )
            outcome = lifecycle.Outcome(
                seed=result.seed,
                width=result.width,
                height=result.height,
                frame_count=result.frame_count,
                duration=result.duration,
                video_bytes=result.video_path.stat().st_size,
                generation_seconds=round(result.seconds, 3),
            )
            storage.publish(key, out_dir)
    except Cancelled:
        storage.discard(key)
        return Status.CANCELLED
    except InvalidReference as exc:
        return failed(400, "invalid_reference", f"{exc}; fix or replace this image and retry")
    except EngineUnavailable as exc:
        return failed(503, "engine_unavailable", f"{exc}; the operator must fix the engine set-up")
    except Exception:
        log.exception("job %s failed", job.id)
        return failed(
            500, "internal_error",
            f"the render failed unexpectedly (request {job.id}); you were not charged — retry, "
            "and report the request id if it keeps failing",
        )
    if not lifecycle.complete(db, job.id, worker_id, outcome, ttl, fence=job.fence, result_key=key):
        storage.discard(key)  # another attempt owns the job now: its files are not ours to touch
        return Status.CANCELLED
    return Status.COMPLETED


def _warm(engine_name: str) -> None:
    """Load the engine's model now (engines that have one) rather than in the first job."""
    from refvid.engines import get_engine

    try:
        warm = getattr(get_engine(engine_name), "warm", None)
        if warm is not None:
            warm()
    except EngineUnavailable as exc:
        # Jobs will fail with this reason (503) and a refund; the worker stays up so the
        # operator sees the message in every status, not a crash loop.
        log.warning("engine %s is not ready: %s", engine_name, exc)


def worker_main(settings: Settings, id_prefix: str, stop: Event, device: str | None = None) -> None:
    """Entry point of a worker process: claim jobs from the store until ``stop`` is set.

    ``device``: the one GPU this process may use (set before any CUDA library loads).
    """
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    worker_id = f"{id_prefix}.{os.getpid()}"
    parent = os.getppid()
    # Ctrl-C in a terminal reaches the whole process group; the server stops its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Rendering is batch work: a lower priority keeps the API's answers fast while it runs.
    os.nice(WORKER_NICENESS)
    # Results are private: every file this process writes is 0600, every folder 0700.
    os.umask(UMASK)
    db = open_db(settings)
    import refvid.generate  # noqa: F401  (pay the import cost before the first job)

    _warm(settings.engine)

    # On PostgreSQL an idle worker sleeps on LISTEN and wakes when a job is queued; the
    # poll is only the fallback. SQLite has no notifications: it polls.
    listener = Listener(db.engine, (QUEUE,)) if db.engine.dialect.name == "postgresql" else None
    idle = settings.poll_interval if listener is None else max(settings.poll_interval, LISTEN_POLL_SECONDS)
    try:
        while not stop.is_set():
            if os.getppid() != parent:  # the server died without stopping us: don't linger
                return
            job = lifecycle.claim(db, worker_id, pool=settings.pool, lease=settings.worker_stale_seconds)
            if job is None:
                if listener is None:
                    stop.wait(idle)
                else:
                    listener.wait(idle)
                continue
            status = run_job(db, settings, job, worker_id)
            log.info("job %s %s", job.id, status)
    finally:
        if listener is not None:
            listener.close()

"""Running one job in-process: bad reference → FAILED 400 and refunded; cancelled → no files."""

from __future__ import annotations

from refvid.billing import balance_of, create_key
from refvid.config import Settings
from refvid.db import Database
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Status
from refvid.jobs.worker import run_job
from refvid.references import ReferencePolicy

from .helpers import submit


def test_bad_reference_fails_with_400_and_refund(db: Database, tmp_path: object) -> None:
    settings = Settings(home=tmp_path)  # type: ignore[arg-type]
    key = create_key(db, "k", 1000)
    job = submit(db, key.id, images=["bm90IGFuIGltYWdl"]).job  # base64 of "not an image"
    claimed = lifecycle.claim(db, "w1")
    assert claimed is not None
    assert run_job(db, settings, claimed, "w1", ReferencePolicy.for_server(settings)) is Status.FAILED
    failed = store.get_job(db, job.id)
    assert failed is not None and failed.status == Status.FAILED
    assert failed.error_status == 400 and "image_urls[0]" in (failed.error_message or "")
    assert balance_of(db, key.id) == 1000
    assert not (settings.results_dir / job.id).exists()


def test_job_cancelled_before_rendering_leaves_nothing(db: Database, tmp_path: object) -> None:
    settings = Settings(home=tmp_path)  # type: ignore[arg-type]
    job = submit(db).job
    claimed = lifecycle.claim(db, "w1")
    assert claimed is not None
    lifecycle.cancel(db, job.id, reason="x", ttl=60)
    assert run_job(db, settings, claimed, "w1", ReferencePolicy.for_server(settings)) is Status.CANCELLED
    assert not (settings.results_dir / job.id).exists()
    final = store.get_job(db, job.id)
    assert final is not None and final.status == Status.CANCELLED


def test_unavailable_engine_fails_with_503_and_refund(db: Database, tmp_path: object) -> None:
    settings = Settings(home=tmp_path, engine="no-such-engine")  # type: ignore[arg-type]
    key = create_key(db, "k", 1000)
    job = submit(db, key.id).job
    claimed = lifecycle.claim(db, "w1")
    assert claimed is not None
    assert run_job(db, settings, claimed, "w1", ReferencePolicy.for_server(settings)) is Status.FAILED
    failed = store.get_job(db, job.id)
    assert failed is not None and failed.error_status == 503 and failed.error_code == "engine_unavailable"
    assert balance_of(db, key.id) == 1000

"""Submitting jobs straight into the store."""

from __future__ import annotations

from refvid.billing import create_key
from refvid.db import Database
from refvid.jobs import store
from refvid.request import GenerationRequest

from ..api.live import image_b64


def submit(
    db: Database,
    key_id: int | None = None,
    seed: int = 7,
    *,
    images: list[str] | None = None,
    max_queue: int = 100,
    idempotency_key: str | None = None,
) -> store.Submitted:
    """Queue a small 1:1 request (cost 1 credit) for ``key_id`` (a new rich key if None)."""
    if key_id is None:
        key_id = create_key(db, "k", 10_000).id
    request = GenerationRequest(
        prompt="a scene", image_urls=images or [image_b64()], aspect_ratio="1:1", seed=seed
    )
    return store.submit(
        db, key_id=key_id, request=request, body_hash=f"h{seed}", cost=1000,
        max_queue=max_queue, idempotency_key=idempotency_key,
    )

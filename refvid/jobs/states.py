"""The states a request and its webhook go through, shared by the tables, documents and client.

Kept free of SQLAlchemy so that the Python client can use them too.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Lifecycle of a request: QUEUED → PROCESSING → one of the three final states."""

    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})


class WebhookState(StrEnum):
    """Delivery of a final request's webhook: retried while pending, then delivered or failed."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"

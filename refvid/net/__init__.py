"""Outgoing network access: the public-address policy and deadline-bounded HTTP."""

from __future__ import annotations

from refvid.net.deadline import pinned_client, run_with_deadline
from refvid.net.policy import (
    ResolvedTarget,
    UrlRejected,
    check_address,
    check_url,
    forbidden_reason,
    parse_networks,
    url_label,
)

__all__ = [
    "ResolvedTarget",
    "UrlRejected",
    "check_address",
    "check_url",
    "forbidden_reason",
    "parse_networks",
    "pinned_client",
    "run_with_deadline",
    "url_label",
]

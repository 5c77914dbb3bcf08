"""Webhook signatures: HMAC-SHA256 over timestamp + "." + body, with a freshness window."""

from __future__ import annotations

import hashlib
import hmac
import time

from refvid.jobs.webhooks import sign, signature_header, verify_signature


def test_signature_matches_the_documented_recipe() -> None:
    body = b'{"request_id": "req_1"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1700000000, body) == expected
    assert signature_header("whsec_x", body, 1700000000) == f"t=1700000000,v1={expected}"


def test_verify_rejects_tampering_wrong_secret_stale_and_garbage() -> None:
    body = b"{}"
    header = signature_header("s", body)
    assert verify_signature("s", body, header)
    assert not verify_signature("s", b"{ }", header)
    assert not verify_signature("t", body, header)
    assert not verify_signature("s", body, signature_header("s", body, int(time.time()) - 3600))
    assert not verify_signature("s", body, "garbage")

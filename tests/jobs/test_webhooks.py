"""Webhook signatures: HMAC-SHA256 over timestamp + "." + body, with a freshness window."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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


GARBAGE_HEADERS: list[object] = [
    "t=1700000000,v1=\u00e9\u00e9",  # non-ASCII: hmac.compare_digest raised TypeError
    "t=\u0661\u0662\u0663,v1=00",  # Arabic-Indic digits are not a timestamp
    "v1=abc",
    "t=1700000000",
    "t=,v1=",
    "t=abc,v1=abc",
    "t=-5,v1=abc",
    ",,,",
    "=",
    "",
    "t=1e3,v1=x",
    b"t=1,v1=\xff",
    None,
    12345,
]


@pytest.mark.parametrize("header", GARBAGE_HEADERS)
def test_verify_returns_false_on_any_garbage_header(header: object) -> None:
    assert verify_signature("s", b"{}", header) is False  # type: ignore[arg-type]


def _documented_verify() -> Callable[..., bool]:
    """The ``verify`` function exactly as docs/api.md shows it to receivers."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    source = next(block for block in blocks if "def verify(" in block)
    namespace: dict[str, object] = {}
    exec(source, namespace)
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


@pytest.mark.parametrize("header", [h for h in GARBAGE_HEADERS if isinstance(h, str)])
def test_the_documented_snippet_returns_false_on_garbage(header: str) -> None:
    assert _documented_verify()("s", b"{}", header) is False


def test_the_documented_snippet_accepts_a_real_signature() -> None:
    verify = _documented_verify()
    assert verify("s", b"{}", signature_header("s", b"{}")) is True
    assert verify("s", b"{ }", signature_header("s", b"{}")) is False

"""An S3-compatible server on loopback (moto's threaded server) and a bucket in it.

moto does not check presigned signatures: tests check a redirect's shape and expiry, and
follow it to get the bytes.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class S3:
    """Where the test bucket is: the endpoint, the bucket, the AWS_* variables to reach it."""

    endpoint: str
    bucket: str
    env: dict[str, str]

    def url(self, prefix: str = "results") -> str:
        """``REFVID_RESULTS_URL`` for this bucket."""
        return f"s3://{self.bucket}/{prefix}"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under ``prefix``."""
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server on 127.0.0.1, for the whole session."""
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A new bucket; the AWS_* variables that boto3 reads point at it for this test."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": s3_server,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = S3(s3_server, f"refvid-{secrets.token_hex(4)}", env)
    store.client().create_bucket(Bucket=store.bucket)
    return store

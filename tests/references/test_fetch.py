"""fetch.py against real HTTP servers on loopback; refused URLs must never open a connection."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from refvid.errors import Cancelled, InvalidReference
from refvid.references.fetch import UrlFetcher

from ..peers import drip_headers, peer
from .helpers import Server, start_server

LOOPBACK = ["127.0.0.0/8"]
BODY = b"\xff\xd8\xff" + bytes(range(256)) * 40  # content is not decoded here


def refused(fetcher: UrlFetcher, url: str, index: int = 0) -> str:
    with pytest.raises(InvalidReference) as info:
        fetcher(url, index)
    assert info.value.index == index
    return str(info.value)


# --- success ------------------------------------------------------------------------------


def test_allowed_loopback_download_succeeds(server: Server, connect_attempts: list[Any]) -> None:
    server.route("/cat.jpg", BODY)
    data = UrlFetcher(allowed_networks=LOOPBACK)(server.url("/cat.jpg?sig=secret"), 0)
    assert data == BODY
    assert len(server.connections) == 1
    assert connect_attempts == [("127.0.0.1", server.port)]


def test_host_name_is_resolved_once_and_sent_as_host_header(
    server: Server, connect_attempts: list[Any]
) -> None:
    server.route("/a.png", BODY)
    assert UrlFetcher(allowed_networks=LOOPBACK)(f"http://localhost:{server.port}/a.png", 0) == BODY
    assert server.host_headers == [f"localhost:{server.port}"]
    # The socket went to the checked address, not to a second lookup of the name.
    assert connect_attempts == [("127.0.0.1", server.port)]


def test_relative_redirects_are_followed_up_to_the_limit(server: Server) -> None:
    server.route("/r0", BODY)
    for n in range(1, 7):
        server.redirect(f"/r{n}", f"/r{n - 1}", status=(301, 302, 303, 307, 308)[n % 5])
    fetcher = UrlFetcher(allowed_networks=LOOPBACK)
    assert fetcher(server.url("/r5"), 0) == BODY
    message = refused(fetcher, server.url("/r6"))
    assert "redirects more than 5 times; send the final URL of the image" in message


# --- SSRF: refused without any connection -------------------------------------------------

SSRF_CASES = [
    ("http://127.0.0.1:{port}/", "127.0.0.1, a loopback address"),
    ("http://localhost:{port}/", "localhost resolves to 127.0.0.1, a loopback address"),
    ("http://[::1]:{port}/", "::1, a loopback address"),
    ("http://10.0.0.1/", "10.0.0.1, a private address"),
    ("http://172.16.0.1/", "172.16.0.1, a private address"),
    ("http://192.168.1.1/", "192.168.1.1, a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254, a cloud metadata address"),
    ("http://[fe80::1]/", "a link-local address"),
    ("http://0.0.0.0:{port}/", "0.0.0.0, the unspecified address"),
    ("http://0:{port}/", "0.0.0.0, the unspecified address"),
    ("http://100.64.0.1/", "a shared (carrier-grade NAT) address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://2130706433:{port}/", "2130706433 resolves to 127.0.0.1, a loopback address"),
    ("http://0x7f000001:{port}/", "0x7f000001 resolves to 127.0.0.1, a loopback address"),
    ("http://0177.0.0.1:{port}/", "0177.0.0.1 resolves to 127.0.0.1, a loopback address"),
    ("http://127.1:{port}/", "127.1 resolves to 127.0.0.1, a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/", "IPv4-mapped IPv6 address embedding 127.0.0.1"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped IPv6 address embedding 8.8.8.8"),
    ("http://[2002:7f00:1::]/", "6to4 IPv6 address embedding 127.0.0.1 (a loopback address)"),
    ("http://[64:ff9b::a00:1]/", "NAT64 IPv6 address embedding 10.0.0.1 (a private address)"),
    ("http://[::127.0.0.1]/", "IPv4-compatible IPv6 address embedding 127.0.0.1"),
]


@pytest.mark.parametrize(("template", "expected"), SSRF_CASES)
def test_non_public_addresses_are_refused_before_connecting(
    server: Server, connect_attempts: list[Any], template: str, expected: str
) -> None:
    message = refused(UrlFetcher(), template.format(port=server.port), index=5)
    assert message.startswith("image_urls[5]: ")
    assert expected in message
    assert "refvid only fetches public addresses" in message
    assert "REFVID_ALLOW_PRIVATE_NETWORKS" in message
    assert connect_attempts == []
    assert server.connections == []


def test_allow_list_admits_only_the_named_network(server: Server, connect_attempts: list[Any]) -> None:
    server.route("/x", BODY)
    message = refused(UrlFetcher(allowed_networks=["127.0.0.2/32"]), server.url("/x"))
    assert "127.0.0.1, a loopback address" in message
    assert connect_attempts == [] and server.connections == []


def test_redirect_from_allowed_host_to_forbidden_host_is_refused(
    server_factory: Callable[[str], Server], connect_attempts: list[Any]
) -> None:
    forbidden = server_factory("127.0.0.1")
    forbidden.route("/secret", b"internal data")
    allowed = server_factory("127.0.0.2")  # Linux routes all of 127/8 to lo
    allowed.redirect("/img", forbidden.url("/secret"))
    allowed.redirect("/img-by-name", f"http://localhost:{forbidden.port}/secret")
    fetcher = UrlFetcher(allowed_networks=["127.0.0.2/32"])
    for path in ("/img", "/img-by-name"):
        message = refused(fetcher, allowed.url(path))
        assert "resolves to 127.0.0.1, a loopback address" in message
    assert len(allowed.connections) == 2
    assert forbidden.connections == []
    assert all(address[0] == "127.0.0.2" for address in connect_attempts)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://127.0.0.1/x.jpg", "'ftp:' URLs cannot be fetched; only http:// and https://"),
        ("file:///etc/passwd", "'file:' URLs cannot be fetched"),
        ("gopher://127.0.0.1:70/", "'gopher:' URLs cannot be fetched"),
        ("//127.0.0.1/x", "URLs without a scheme cannot be fetched"),
        ("http://user:pw@127.0.0.1/x", "URL contains credentials (user:password@)"),
        ("http://user@127.0.0.1/x", "URL contains credentials"),
        ("http:///x.jpg", "URL has no host name"),
        ("http://127.0.0.1:99999/", "is not a valid URL"),
        ("http://[fe80::1%25eth0]/", "IPv6 zone index"),
        ("http://256.256.256.256/", "is not a valid IPv4 address"),
        ("http://no-such-host.invalid/", "could not be resolved"),
    ],
)
def test_malformed_or_unsupported_urls_are_refused(
    url: str, expected: str, connect_attempts: list[Any]
) -> None:
    assert expected in refused(UrlFetcher(allowed_networks=LOOPBACK), url)
    assert connect_attempts == []


def test_redirect_to_another_scheme_is_refused(server: Server) -> None:
    server.redirect("/img", "file:///etc/passwd")
    assert "'file:' URLs cannot be fetched" in refused(UrlFetcher(allowed_networks=LOOPBACK), server.url("/img"))


# --- status, size, time -------------------------------------------------------------------


def test_non_200_status_is_named(server: Server) -> None:
    message = refused(UrlFetcher(allowed_networks=LOOPBACK), server.url("/missing?token=abc"))
    assert f"http://127.0.0.1:{server.port}/missing answered HTTP 404 Not Found" in message
    assert "token" not in message
    server.route("/empty", b"", status=204)
    assert "answered HTTP 204" in refused(UrlFetcher(allowed_networks=LOOPBACK), server.url("/empty"))


def test_redirect_without_location_is_refused(server: Server) -> None:
    server.route("/r", b"", status=302)
    assert "HTTP 302 without a Location header" in refused(
        UrlFetcher(allowed_networks=LOOPBACK), server.url("/r")
    )


def test_declared_content_length_over_the_cap_is_refused_before_reading(server: Server) -> None:
    server.route("/big", b"x" * 2000)
    fetcher = UrlFetcher(allowed_networks=LOOPBACK, max_bytes=1999)
    assert "is 0.0 MB (Content-Length); references may be at most" in refused(fetcher, server.url("/big"))
    assert UrlFetcher(allowed_networks=LOOPBACK, max_bytes=2000)(server.url("/big"), 0) == b"x" * 2000


def _streaming(chunks: int, size: int, pause: float = 0.0) -> Callable[[BaseHTTPRequestHandler], None]:
    """A handler that streams ``chunks`` chunks of ``size`` bytes with no Content-Length."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for _ in range(chunks):
            request.wfile.write(b"%x\r\n%s\r\n" % (size, b"y" * size))
            request.wfile.flush()
            time.sleep(pause)
        request.wfile.write(b"0\r\n\r\n")

    return handler


def test_size_cap_is_enforced_while_streaming(server: Server) -> None:
    server.routes["/stream"] = _streaming(chunks=200, size=1000)
    fetcher = UrlFetcher(allowed_networks=LOOPBACK, max_bytes=50_000)
    message = refused(fetcher, server.url("/stream"))
    assert "is larger than 0.0476837 MB; references may be at most" in message
    assert UrlFetcher(allowed_networks=LOOPBACK, max_bytes=200_000)(server.url("/stream"), 0) == b"y" * 200_000


def test_read_timeout_is_named(server: Server) -> None:
    release = threading.Event()

    def stall(request: BaseHTTPRequestHandler) -> None:
        release.wait(5)

    server.routes["/slow"] = stall
    started = time.monotonic()
    message = refused(UrlFetcher(allowed_networks=LOOPBACK, timeout=0.3), server.url("/slow"))
    release.set()
    assert "timed out after 0.3 s waiting for" in message
    assert time.monotonic() - started < 3


def test_overall_deadline_stops_a_slow_drip(server: Server) -> None:
    server.routes["/drip"] = _streaming(chunks=100, size=10, pause=0.05)
    fetcher = UrlFetcher(allowed_networks=LOOPBACK, timeout=2, deadline=0.4)
    started = time.monotonic()
    assert "took longer than 0.4 s" in refused(fetcher, server.url("/drip"))
    assert time.monotonic() - started < 3


def test_a_server_dripping_its_headers_is_cut_off_at_the_deadline() -> None:
    # One header byte every 50 ms never trips a per-read timeout; the deadline is wall-clock.
    with peer(drip_headers(0.05)) as slow:
        fetcher = UrlFetcher(allowed_networks=LOOPBACK, timeout=5, deadline=0.5)
        started = time.monotonic()
        message = refused(fetcher, slow.url("/ref.png"))
        elapsed = time.monotonic() - started
        _until(lambda: slow.open_connections == 0)
    assert f"downloading http://127.0.0.1:{slow.port}/ref.png took longer than 0.5 s" in message
    assert elapsed < 2.5
    assert slow.connections == 1


def test_a_cancelled_download_stops_at_once() -> None:
    flag = threading.Event()
    with peer(drip_headers(0.05)) as slow:
        fetcher = UrlFetcher(allowed_networks=LOOPBACK, timeout=30, deadline=30, cancelled=flag.is_set)
        threading.Timer(0.3, flag.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            fetcher(slow.url("/ref.png"), 0)
        assert time.monotonic() - started < 2.5
        _until(lambda: slow.open_connections == 0)


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_connection_refused_is_named(connect_attempts: list[Any]) -> None:
    state, http_server, _ = start_server("127.0.0.1")
    http_server.shutdown()
    http_server.server_close()  # the port is now closed
    message = refused(UrlFetcher(allowed_networks=LOOPBACK), state.url("/x"))
    assert "could not download" in message and "check the URL" in message


# --- TLS: SNI and certificate check use the name, the socket uses the checked address -----


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_uses_the_host_name_for_sni_and_certificate(
    certificate: tuple[Path, Path], connect_attempts: list[Any]
) -> None:
    cert, key = certificate
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[assignment,misc,func-returns-value]
    state, http_server, _ = start_server("127.0.0.1", tls=context)
    state.route("/cat.jpg", BODY)
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        fetcher = UrlFetcher(allowed_networks=LOOPBACK, ssl_context=client_context)
        # The certificate names only "localhost", never 127.0.0.1: this succeeds only if the
        # name, not the pinned IP, is used for SNI and verification.
        assert fetcher(f"https://localhost:{state.port}/cat.jpg", 0) == BODY
        assert server_names == ["localhost"]
        assert connect_attempts == [("127.0.0.1", state.port)]
        # Without trusting the test CA the certificate is rejected, and said so.
        message = refused(UrlFetcher(allowed_networks=LOOPBACK), f"https://localhost:{state.port}/cat.jpg")
        assert "TLS certificate could not be verified" in message
    finally:
        http_server.shutdown()
        http_server.server_close()

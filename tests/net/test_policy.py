"""The public-address policy: check_url pins one checked address; every disguise of a private one is refused."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refvid.net.policy import (
    ResolvedTarget,
    UrlRejected,
    check_url,
    forbidden_reason,
    parse_networks,
    url_label,
)


def test_check_url_returns_the_pinned_target() -> None:
    target = check_url("https://localhost:8443/hook?id=7#frag", ["127.0.0.0/8"])
    assert isinstance(target, ResolvedTarget)
    assert target.address == ipaddress.ip_address("127.0.0.1")
    assert target.pinned_url == "https://127.0.0.1:8443/hook?id=7"
    assert target.host_header == "localhost:8443"
    assert target.extensions == {"sni_hostname": "localhost"}
    assert target.label == "https://localhost:8443/hook"
    http = check_url("http://[::1]/x", ["::1/128"])
    assert http.pinned_url == "http://[::1]:80/x"
    assert http.host_header == "[::1]"
    assert http.extensions == {}


def test_check_url_accepts_public_literals_without_connecting(connect_attempts: list[Any]) -> None:
    assert check_url("https://8.8.8.8/a").address == ipaddress.ip_address("8.8.8.8")
    assert check_url("http://[2606:4700::1111]/").address == ipaddress.ip_address("2606:4700::1111")
    assert connect_attempts == []


def test_check_url_raises_url_rejected() -> None:
    with pytest.raises(UrlRejected, match=r"resolves to 10\.1\.2\.3, a private address"):
        check_url("https://10.1.2.3/hook")
    assert check_url("https://10.1.2.3/hook", ["10.0.0.0/8"]).address == ipaddress.ip_address("10.1.2.3")


def test_parse_networks_names_a_bad_entry() -> None:
    assert parse_networks(["127.0.0.0/8", " ", "10.1.2.3"]) == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.1.2.3/32"),
    )
    with pytest.raises(ValueError, match=r"'localhost' is not a network; write allowed private"):
        parse_networks(["localhost"])


def test_url_label_drops_credentials_and_query() -> None:
    assert url_label("HTTPS://u:p@Example.com/a/b.jpg?X-Amz-Signature=s#f") == "https://Example.com/a/b.jpg"


_FORBIDDEN_V4 = st.sampled_from(
    ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8"]
).flatmap(
    lambda net: st.integers(0, ipaddress.ip_network(net).num_addresses - 1).map(
        lambda i, n=net: ipaddress.ip_network(n)[i]  # type: ignore[misc]
    )
)


@settings(max_examples=200, deadline=None)
@given(_FORBIDDEN_V4, st.sampled_from(["mapped", "6to4", "nat64", "plain"]))
def test_forbidden_ipv4_is_refused_in_every_ipv6_disguise(v4: ipaddress.IPv4Address, form: str) -> None:
    value = int(v4)
    address: ipaddress.IPv4Address | ipaddress.IPv6Address = {
        "mapped": ipaddress.IPv6Address((0xFFFF << 32) | value),
        "6to4": ipaddress.IPv6Address((0x2002 << 112) | (value << 80)),
        "nat64": ipaddress.IPv6Address((0x64FF9B << 96) | value),
        "plain": v4,
    }[form]
    assert forbidden_reason(address) is not None

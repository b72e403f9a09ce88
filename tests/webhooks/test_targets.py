"""The SSRF rule itself (api/webhooks/targets.py), and the settings that configure it."""

import ipaddress

import pytest
from pydantic import ValidationError

from api.settings import Settings
from api.webhooks.targets import TargetPolicy, TargetRefused, parse_target, why_not_public


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.53", "a loopback address"),
        ("::1", "a loopback address"),
        ("172.16.5.4", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.0.1", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("ff02::1", "a multicast address"),
        ("239.1.2.3", "a multicast address"),
        ("::", "an unspecified address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("64:ff9b::a00:1", "a private address"),  # NAT64 to 10.0.0.1
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_addresses_that_are_not_public_say_what_they_are(address: str, reason: str | None) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["100.64.0.1", "240.0.0.1", "192.0.2.7", "198.18.0.1", "2001:db8::1", "0.1.2.3"]
)
def test_shared_reserved_and_documentation_addresses_are_not_public(address: str) -> None:
    """(What Python's ipaddress calls each of them varies with its version.)"""
    assert why_not_public(ipaddress.ip_address(address)) is not None


async def test_the_allowlist_takes_networks_and_exact_host_names() -> None:
    policy = TargetPolicy(["10.2.0.0/16", "127.0.0.1", "localhost"], resolve_timeout=5)

    assert await policy.addresses("10.2.3.4", 80) == [ipaddress.ip_address("10.2.3.4")]
    assert await policy.addresses("[::ffff:10.2.3.4]", 80)  # mapped into an allowed network
    assert ipaddress.ip_address("127.0.0.1") in await policy.addresses("localhost", 80)
    with pytest.raises(TargetRefused, match=r"10\.3\.0\.1 is a private address"):
        await policy.addresses("10.3.0.1", 80)
    with pytest.raises(TargetRefused, match=r"127\.0\.0\.2 is a loopback address"):
        await policy.addresses("127.0.0.2", 80)


def test_a_target_is_taken_apart_for_sending() -> None:
    plain = parse_target("http://Example.COM/hooks?x=1#fragment")
    ported = parse_target("https://[2606:4700::1111]:8443")
    accented = parse_target("https://bücher.example/")

    assert (plain.scheme, plain.host, plain.port, plain.path, plain.netloc) == (
        "http",
        "example.com",
        80,
        "/hooks?x=1",
        "example.com",
    )
    assert (ported.host, ported.port, ported.path, ported.netloc) == (
        "2606:4700::1111",
        8443,
        "/",
        "[2606:4700::1111]:8443",
    )
    assert accented.host == "xn--bcher-kva.example"
    for url, reason in [
        ("ftp://example.com/", "only http and https"),
        ("http://user:pass@example.com/", "credentials"),
        ("http:///path", "no host"),
        ("http://example.com:99999/", "malformed"),
    ]:
        with pytest.raises(TargetRefused, match=reason):
            parse_target(url)


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValidationError, match="neither a host name nor an IP network"):
        Settings(webhook_allowed_hosts=["http://hooks.internal/"])
    with pytest.raises(ValidationError, match="LEASE must be longer"):
        Settings(webhook_timeout=30, webhook_lease=20)
    with pytest.raises(ValidationError, match="shorter than the change feed's retention"):
        Settings(webhook_retry_period=2 * 86_400, change_retention_days=1)
    assert Settings(
        webhook_allowed_hosts=["Hooks.Internal", "10.0.0.0/8"]
    ).webhook_allowed_hosts == [
        "hooks.internal",
        "10.0.0.0/8",
    ]

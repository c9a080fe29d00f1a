"""The network guard on its own: what it lets through, and that it leaves nothing patched."""

from __future__ import annotations

import socket

import pytest

from pytest_sessionmem.cassette.network_guard import block_network, is_loopback
from pytest_sessionmem.errors import ConfigError, NetworkBlocked


def _describe(host: str, port: int | None) -> str:
    return f"blocked {host}:{port}"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace the resolver: nothing here may reach a real DNS server."""
    seen: list[object] = []

    def fake(host: object, port: object, *args: object, **kwargs: object) -> list[tuple]:
        seen.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.9", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return seen


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST.", "a.localhost"]
)
def test_loopback_names_and_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["api.getzep.com", "10.0.0.1", "192.0.2.7", "::2", "localhost.com"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_a_look_up_is_refused_before_the_resolver_runs(lookups: list[object]) -> None:
    with block_network(describe=_describe), pytest.raises(NetworkBlocked) as info:
        socket.getaddrinfo("api.getzep.com", 443)
    assert str(info.value) == "blocked api.getzep.com:443"
    assert lookups == []


def test_an_allowed_name_and_its_addresses_pass(
    lookups: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    connected: list[object] = []
    # The "real" connect is a stub: nothing here leaves the machine.
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connected.append(address))
    with block_network(allowed_hosts=["API.getzep.com"], describe=_describe):
        address = socket.getaddrinfo("api.getzep.com", 443)[0][4]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.connect(address)  # what the allowed name resolved to
            with pytest.raises(NetworkBlocked, match=r"blocked 198\.51\.100\.1:80"):
                sock.connect(("198.51.100.1", 80))  # anything else
    assert lookups == ["api.getzep.com"]
    assert connected == [("203.0.113.9", 443)]


def test_everything_is_restored_on_exit_also_after_an_error() -> None:
    before = (socket.getaddrinfo, socket.socket.__dict__.get("connect"))
    with pytest.raises(RuntimeError), block_network(describe=_describe):
        assert socket.getaddrinfo is not before[0]
        raise RuntimeError("the test failed")
    assert (socket.getaddrinfo, socket.socket.__dict__.get("connect")) == before


def test_blocks_nest_and_the_innermost_decides(lookups: list[object]) -> None:
    with block_network(allowed_hosts=["a.example"], describe=_describe):
        with block_network(describe=_describe), pytest.raises(NetworkBlocked):
            socket.getaddrinfo("a.example", 80)
        socket.getaddrinfo("a.example", 80)
    assert lookups == ["a.example"]


def test_unix_sockets_are_not_touched() -> None:
    with block_network(describe=_describe):
        left, right = socket.socketpair()
        left.close()
        right.close()


def test_an_allowed_url_is_a_config_error() -> None:
    with (
        pytest.raises(ConfigError, match="not a host name"),
        block_network(allowed_hosts=["https://x/y"], describe=_describe),
    ):
        pass

"""The network guard on its own: what it lets through, what it names, what it notes, and that it
leaves nothing patched."""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from pytest_sessionmem.cassette.network_guard import block_network, is_loopback
from pytest_sessionmem.errors import ConfigError, NetworkBlocked
from pytest_sessionmem.plugin.hooks import _blocked_message

_REPLAYING: Any = SimpleNamespace(record_mode="none")  # the one setting the message reads


def _describe(host: str, port: int | None, library: str | None) -> str:
    return f"blocked {host}:{port}" + (f" from {library}" if library else "")


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
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST.",
        "a.localhost",
        "::ffff:127.0.0.1",  # IPv4-mapped: the same address over an IPv6 socket
        "[::ffff:127.0.0.2]",
        "::ffff:7f00:1",
    ],
)
def test_loopback_names_and_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["api.getzep.com", "10.0.0.1", "192.0.2.7", "::2", "localhost.com", "::ffff:192.0.2.7"]
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


def _patched() -> tuple[object, ...]:
    return (
        socket.getaddrinfo,
        asyncio.base_events.BaseEventLoop.__dict__["getaddrinfo"],
        *(
            socket.socket.__dict__.get(name)
            for name in ("connect", "connect_ex", "sendto", "sendmsg")
        ),
    )


def test_everything_is_restored_on_exit_also_after_an_error() -> None:
    before = _patched()
    with pytest.raises(RuntimeError), block_network(describe=_describe):
        assert socket.getaddrinfo is not before[0]
        raise RuntimeError("the test failed")
    assert _patched() == before


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


# -- every Python socket, whichever module opened it ----------------------------------------
# Sockets here are bound to 127.0.0.1 first: Linux refuses to send from a loopback address to
# any other, so even if the guard failed nothing would leave the machine (an OSError instead).


@contextlib.contextmanager
def _bound_to_loopback(kind: int, *, raw: bool = False) -> Iterator[socket.socket]:
    factory = _socket.socket if raw else socket.socket
    sock = factory(socket.AF_INET, kind)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)  # a connect that got through would not wait either
        yield sock  # type: ignore[misc]
    finally:
        sock.close()


def test_a_datagram_to_another_host_is_refused() -> None:
    with (
        _bound_to_loopback(socket.SOCK_DGRAM) as sock,
        _bound_to_loopback(socket.SOCK_DGRAM, raw=True) as raw,
        block_network(describe=_describe),
    ):
        with pytest.raises(NetworkBlocked, match=r"^blocked 192\.0\.2\.1:9$") as info:
            sock.sendto(b"x", ("192.0.2.1", 9))
        assert (info.value.host, info.value.port) == ("192.0.2.1", 9)
        with pytest.raises(NetworkBlocked):
            sock.sendto(b"x", 0, ("192.0.2.1", 9))
        with pytest.raises(NetworkBlocked):
            sock.sendmsg([b"x"], [], 0, ("192.0.2.1", 9))
        with pytest.raises(NetworkBlocked):
            raw.sendto(b"x", ("192.0.2.1", 9))  # _socket.socket: no Python method in between


def test_a_datagram_to_loopback_passes() -> None:
    with (
        _bound_to_loopback(socket.SOCK_DGRAM) as receiver,
        _bound_to_loopback(socket.SOCK_DGRAM) as sender,
    ):
        with block_network(describe=_describe):
            sender.sendto(b"ping", receiver.getsockname())
            sender.sendmsg([b"pong"], [], 0, receiver.getsockname())
        receiver.setblocking(True)
        assert [receiver.recv(10), receiver.recv(10)] == [b"ping", b"pong"]


def test_the_c_socket_type_is_checked_too() -> None:
    with (
        _bound_to_loopback(socket.SOCK_STREAM, raw=True) as raw,
        _bound_to_loopback(socket.SOCK_STREAM) as sock,
        block_network(describe=_describe),
    ):
        with pytest.raises(NetworkBlocked, match=r"blocked 192\.0\.2\.1:9"):
            raw.connect(("192.0.2.1", 9))
        with pytest.raises(NetworkBlocked):
            raw.connect_ex(("192.0.2.1", 9))
        with pytest.raises(NetworkBlocked):  # the C method on a socket.socket
            _socket.socket.connect(sock, ("192.0.2.1", 9))


def test_an_ipv4_mapped_loopback_address_connects() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with block_network(describe=_describe):
            for factory in (socket.socket, _socket.socket):
                with contextlib.closing(factory(socket.AF_INET6)) as sock:
                    sock.connect(("::ffff:127.0.0.1", port))
                    server.accept()[0].close()


def test_every_kind_of_name_look_up_is_refused() -> None:
    # Numeric hosts: even if the guard failed, none of these calls would ask a DNS server.
    numeric = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
    with block_network(describe=_describe):
        for call in (
            lambda: socket.gethostbyname("192.0.2.1"),
            lambda: socket.gethostbyname_ex("192.0.2.1"),
            lambda: socket.getnameinfo(("192.0.2.1", 80), numeric),
            lambda: _socket.getaddrinfo("192.0.2.1", 80),  # not the patched socket.getaddrinfo
        ):
            with pytest.raises(NetworkBlocked, match=r"blocked 192\.0\.2\.1"):
                call()
        # What socket.gethostbyaddr raises before its look-up; a real call here would send a
        # reverse DNS query if the guard failed.
        with pytest.raises(NetworkBlocked, match=r"blocked 192\.0\.2\.1:None"):
            sys.audit("socket.gethostbyaddr", "192.0.2.1")
        assert socket.gethostbyname("localhost").startswith("127.")
        assert socket.getnameinfo(("127.0.0.1", 80), numeric) == ("127.0.0.1", "80")


@pytest.mark.parametrize(
    "send",
    [
        lambda sock: sock.connect(("api.getzep.com", 9)),
        lambda sock: sock.connect_ex(("api.getzep.com", 9)),
        lambda sock: sock.sendto(b"x", ("api.getzep.com", 9)),
        lambda sock: sock.sendto(b"x", 0, ("api.getzep.com", 9)),
        lambda sock: sock.sendmsg([b"x"], [], 0, ("api.getzep.com", 9)),
    ],
)
def test_a_host_name_is_refused_before_the_socket_looks_it_up(
    send: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # C resolves a name given to connect/sendto before it raises its audit event; the stubs
    # stand for that C code (nothing here leaves the machine): it must never be reached.
    reached: list[str] = []
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, lambda self, *a, n=name: reached.append(n))
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        block_network(describe=_describe),
        pytest.raises(NetworkBlocked, match=r"blocked api\.getzep\.com:9"),
    ):
        send(sock)  # type: ignore[operator]
    assert reached == []


# -- subprocesses ---------------------------------------------------------------------------


def test_the_first_subprocess_a_block_sees_is_noted() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # no block: not noted
    with block_network(describe=_describe) as guard:
        assert guard.subprocess is None
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        assert guard.subprocess == os.path.basename(sys.executable)
        os.system("true")
        assert guard.subprocess == os.path.basename(sys.executable)  # the first one stays
    with block_network(describe=_describe) as guard:
        os.system("true --secret-token-here")
        assert guard.subprocess == "true"  # the program's name, never its arguments
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert guard.subprocess == "true"  # a block that ended sees nothing more


def test_the_standard_librarys_machine_probes_are_not_noted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import platform

    # openai's platform headers call platform.processor(), which runs `uname -p` once per
    # process: a local probe, not a network client.
    monkeypatch.setattr(platform, "_uname_cache", None)  # so the probe runs again
    with block_network(describe=_describe) as guard:
        platform.uname().processor  # noqa: B018
        assert guard.subprocess is None
        subprocess.run(["true"], check=True)
        assert guard.subprocess == "true"  # any other program still is


# -- naming the library that opened the socket ----------------------------------------------

FAKE_SDK = """
import httpx


def fetch():
    with httpx.Client() as client:
        return client.get("https://api.fakesdk.example/v1/things")


async def afetch():
    async with httpx.AsyncClient() as client:
        return await client.get("https://api.fakesdk.example/v1/things")
"""


def _fake_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, *, installed: bool):
    """A package ``name`` on sys.path; ``installed``: with its dist-info (pip install --target)."""
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text(FAKE_SDK)
    if installed:
        (tmp_path / f"{name}-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    module = __import__(name)
    monkeypatch.setitem(sys.modules, name, module)  # dropped again when the test ends
    return module


def _blocked(call: object) -> NetworkBlocked:
    with block_network(describe=_describe), pytest.raises(NetworkBlocked) as info:
        call()  # type: ignore[operator]
    return info.value


def test_the_installed_library_that_opened_the_socket_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lookups: list[object]
) -> None:
    sdk = _fake_sdk(tmp_path, monkeypatch, "fakesdk_sync", installed=True)
    blocked = _blocked(sdk.fetch)  # httpx and httpcore sit between it and the socket
    assert blocked.library == "fakesdk_sync"
    assert str(blocked) == "blocked api.fakesdk.example:443 from fakesdk_sync"
    assert lookups == []


def test_an_async_library_is_named_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lookups: list[object]
) -> None:
    sdk = _fake_sdk(tmp_path, monkeypatch, "fakesdk_async", installed=True)
    # anyio resolves in an executor thread; the check runs in the loop, where the SDK is seen.
    blocked = _blocked(lambda: asyncio.run(sdk.afetch()))
    assert blocked.library == "fakesdk_async"
    assert lookups == []


def test_code_that_is_not_installed_is_no_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lookups: list[object]
) -> None:
    helper = _fake_sdk(tmp_path, monkeypatch, "fakesdk_local", installed=False)
    assert _blocked(helper.fetch).library is None  # the project's own helper module
    assert _blocked(lambda: httpx.get("https://api.example.com/")).library is None  # the test
    assert _blocked(lambda: socket.getaddrinfo("api.example.com", 80)).library is None


def test_a_real_sdk_is_named(lookups: list[object]) -> None:
    import openai  # its default client runs on httpx2 and httpcore2

    async def first_page() -> object:
        return await openai.AsyncOpenAI(api_key="k", max_retries=0).models.list()

    for call in (
        lambda: openai.OpenAI(api_key="k", max_retries=0).models.list(),
        lambda: asyncio.run(first_page()),
    ):
        assert _blocked(call).library == "openai"
    assert lookups == []


@pytest.mark.parametrize(
    ("library", "fix"),
    [
        ("openai", "hand it an httpx client on the cassette, e.g. OpenAI(http_client="),
        ("zep_cloud", "e.g. Zep(api_key=recorded_session.api_key, base_url="),
        (
            "meibel",
            "takes no httpx client: point it at the cassette's base URL, e.g. MeibelClient(",
        ),
        ("anthropic", "if it takes an httpx client, hand it recorded_session.httpx_client()"),
    ],
)
def test_the_fix_fits_the_kind_of_sdk(library: str, fix: str) -> None:
    message = _blocked_message("t.py::t", _REPLAYING, "api.example.com", 443, library)
    assert f"  - {library} opened the connection" in message
    assert fix in message
    if library != "zep_cloud":
        assert "Zep(" not in message


def test_with_no_sdk_the_fix_names_none() -> None:
    message = _blocked_message("t.py::t", _REPLAYING, "api.example.com", 443, None)
    assert message.splitlines()[1:] == [
        "  - if the test may reach api.example.com, allow it: "
        "--sessionmem-allowed-host=api.example.com (ini sessionmem_allowed_hosts, or "
        "@pytest.mark.sessionmem(allowed_hosts=['api.example.com']));",
        "  - check the test's capture setting: the cassette records and replays only the "
        "traffic it captures.",
    ]

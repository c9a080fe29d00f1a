"""The network guard of a replaying test: no socket leaves the machine.

While :func:`block_network` is active, every name look-up (``socket.getaddrinfo``) and every
``connect`` of an internet socket is checked *before* anything happens: loopback
(``127.0.0.0/8``, ``::1``, ``localhost``) and the allowed hosts pass, anything else raises
:class:`~pytest_sessionmem.errors.NetworkBlocked` at once, with no DNS query sent. That
covers our own transports, an SDK's own httpx client, and any other library, sync or async
(asyncio and trio both resolve through ``socket.getaddrinfo`` and connect through
``socket.socket``).

Addresses that an allowed host name resolves to are allowed too, so an allowed name can be
connected to after its look-up. Unix sockets are not touched.

Besides :mod:`~pytest_sessionmem.cassette.intercept` this is the only module that patches
anything: ``socket.getaddrinfo`` and ``socket.socket.connect`` / ``connect_ex``, for the
duration of the block, restored on exit. Blocks may nest; the innermost one decides.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pytest_sessionmem.errors import ConfigError, NetworkBlocked

__all__ = ["block_network", "is_loopback", "normalise_host"]

Describe = Callable[[str, "int | None"], str]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)
_MISSING = object()


def normalise_host(host: str | bytes) -> str:
    """``Api.Example.com.`` -> ``api.example.com``; ``[::1]`` -> ``::1``."""
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    return text.strip().strip("[]").rstrip(".").lower()


def is_loopback(host: str | bytes | None) -> bool:
    """True for loopback addresses and names (``None`` and ``""`` mean the local host)."""
    if host is None or host in ("", b""):
        return True
    name = normalise_host(host)
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class _Guard:
    def __init__(self, allowed_hosts: Iterable[str], describe: Describe) -> None:
        self.allowed: set[str] = set()
        for host in allowed_hosts:
            name = normalise_host(host)
            if not name or "/" in name or " " in name:
                raise ConfigError(
                    f"Allowed host {host!r} is not a host name; give the name alone, such as "
                    "--sessionmem-allowed-host=api.example.com (no scheme, no path)."
                )
            self.allowed.add(name)
        self.resolved: set[str] = set()  # addresses the allowed names resolved to
        self.describe = describe

    def permits(self, host: str | bytes | None) -> bool:
        if is_loopback(host):
            return True
        assert host is not None
        name = normalise_host(host)
        return name in self.allowed or name in self.resolved

    def check(self, host: str | bytes | None, port: Any) -> None:
        __tracebackhide__ = True  # the test's own call is what matters
        if self.permits(host):
            return
        assert host is not None
        name = normalise_host(host)
        number = port if isinstance(port, int) else _as_port(port)
        raise NetworkBlocked(self.describe(name, number), host=name, port=number)


def _as_port(port: Any) -> int | None:
    try:
        return int(port)
    except (TypeError, ValueError):
        return None


_lock = threading.Lock()
_active: list[_Guard] = []
_saved: dict[str, Any] = {}


def _current() -> _Guard | None:
    return _active[-1] if _active else None


def _install() -> None:
    previous_getaddrinfo = socket.getaddrinfo
    previous_connect = socket.socket.connect
    previous_connect_ex = socket.socket.connect_ex
    _saved["getaddrinfo"] = previous_getaddrinfo
    _saved["connect"] = socket.socket.__dict__.get("connect", _MISSING)
    _saved["connect_ex"] = socket.socket.__dict__.get("connect_ex", _MISSING)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        guard = _current()
        if guard is not None:
            guard.check(host, port)
        result = previous_getaddrinfo(host, port, *args, **kwargs)
        if guard is not None and host is not None and normalise_host(host) in guard.allowed:
            guard.resolved.update(str(info[4][0]) for info in result)
        return result

    def connect(self: socket.socket, address: Any) -> None:
        __tracebackhide__ = True
        _check_address(self, address)
        previous_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        __tracebackhide__ = True
        _check_address(self, address)
        return previous_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


def _check_address(sock: socket.socket, address: Any) -> None:
    __tracebackhide__ = True
    guard = _current()
    if guard is None or sock.family not in _INET:
        return
    if isinstance(address, tuple) and address:
        guard.check(address[0], address[1] if len(address) > 1 else None)


def _uninstall() -> None:
    socket.getaddrinfo = _saved.pop("getaddrinfo")
    for name in ("connect", "connect_ex"):
        original = _saved.pop(name)
        if original is _MISSING:
            delattr(socket.socket, name)
        else:
            setattr(socket.socket, name, original)


@contextmanager
def block_network(*, allowed_hosts: Iterable[str] = (), describe: Describe) -> Iterator[None]:
    """Refuse every non-loopback look-up and connection for the duration of the block.

    ``describe(host, port)`` builds the :class:`NetworkBlocked` message: what was refused
    and how to fix it.
    """
    guard = _Guard(allowed_hosts, describe)
    with _lock:
        if not _active:
            _install()
        _active.append(guard)
    try:
        yield
    finally:
        with _lock:
            _active.remove(guard)
            if not _active:
                _uninstall()

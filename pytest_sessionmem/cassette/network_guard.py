"""The network guard of a replaying test: no Python socket leaves the machine.

While :func:`block_network` is active, every name look-up and every connection or datagram of
an internet socket is checked *before* it happens: loopback (``127.0.0.0/8``, ``::1``, the
IPv4-mapped ``::ffff:127.0.0.1``, ``localhost``) and the allowed hosts pass, anything else
raises :class:`~pytest_sessionmem.errors.NetworkBlocked` at once.

The checks hang on Python's audit events (:func:`sys.addaudithook`), which every socket made
through Python raises, whichever module made it (``socket``, ``_socket``, ``ssl``, asyncio,
trio, anyio): ``socket.connect`` (``connect`` and ``connect_ex``), ``socket.sendto``,
``socket.sendmsg``, ``socket.getaddrinfo``, ``socket.gethostbyname`` (also raised by
``gethostbyname_ex``), ``socket.gethostbyaddr`` and ``socket.getnameinfo``. An exception
raised in the hook aborts the call before the operating system sees it. A hook cannot be
removed, so one is installed per process, the first time a guard is entered, and does nothing
while no guard is active. It also notes a subprocess started while a guard is active
(``subprocess.Popen``, ``os.system``, ``os.exec*``, ``os.posix_spawn*``):
:attr:`NetworkGuard.subprocess`, for the plugin to warn that the child is not guarded.

Three patches add what the events cannot, for the duration of the block, restored on exit:

- ``socket.getaddrinfo`` remembers the addresses an allowed name resolves to (the event comes
  before the answer), so an allowed name can be connected to after its look-up;
- ``socket.socket``'s ``connect``, ``connect_ex``, ``sendto`` and ``sendmsg`` check a host
  *name* before C looks it up (the event comes after that look-up), so no DNS query goes out.
  A name handed to ``_socket.socket`` directly is looked up first; what follows is refused;
- asyncio's ``BaseEventLoop.getaddrinfo`` checks in the event loop's thread, where the
  caller's coroutines are on the stack, instead of in the executor thread that runs the
  look-up, so that :func:`library_on_stack` can name the library.

Outside the guard: sockets that C extensions open themselves (pycurl, grpc, libpq, uvloop's
event loop) and other processes. Unix sockets are not touched. Blocks may nest; the innermost
one decides.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_sessionmem.errors import ConfigError, NetworkBlocked

__all__ = ["NetworkGuard", "block_network", "is_loopback", "library_on_stack", "normalise_host"]

#: ``describe(host, port, library)``: the message of a ``NetworkBlocked``.
Describe = Callable[[str, "int | None", "str | None"], str]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)
_MISSING = object()

# Modules between an SDK and the socket: HTTP clients, async frameworks, instrumentation
# wrappers and this package. The standard library is skipped too (sys.stdlib_module_names).
_PLUMBING = frozenset(
    {
        "aiohappyeyeballs",
        "aiohttp",
        "anyio",
        "ddtrace",
        "h11",
        "h2",
        "httpcore",
        "httpcore2",
        "httpx",
        "httpx2",
        "httpx_aiohttp",
        "opentelemetry",
        "pytest_sessionmem",
        "requests",
        "sentry_sdk",
        "sniffio",
        "trio",
        "urllib3",
        "websockets",
        "wrapt",
    }
)
# The test runner's own frames: reaching them first means the test's code called the plumbing.
_TEST_RUNNER = frozenset({"_pytest", "pluggy", "pytest", "pytest_asyncio", "xdist", "execnet"})


def normalise_host(host: str | bytes) -> str:
    """``Api.Example.com.`` -> ``api.example.com``; ``[::1]`` -> ``::1``."""
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    return text.strip().strip("[]").rstrip(".").lower()


def is_loopback(host: str | bytes | None) -> bool:
    """True for loopback addresses and names (``None`` and ``""`` mean the local host).

    ``::ffff:127.0.0.1`` (IPv4-mapped IPv6) is the IPv4 loopback address, so it is loopback.
    """
    if host is None or host in ("", b""):
        return True
    name = normalise_host(host)
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def library_on_stack(frame: FrameType | None) -> str | None:
    """The installed library that opened a socket, from the frames at the moment of the block.

    Walking outwards from ``frame``, frames of the standard library and of the plumbing
    (httpx, httpcore, anyio, urllib3, requests, ..., this package) are skipped; the first other
    frame decides: its top-level package when that is installed (``openai``, ``zep_cloud``),
    ``None`` when it is the test's own code or the test runner.
    """
    while frame is not None:
        name = frame.f_globals.get("__name__")
        top = name.partition(".")[0] if isinstance(name, str) else ""
        if top and top not in sys.stdlib_module_names and top not in _PLUMBING:
            if top in _TEST_RUNNER or not _installed(top, frame.f_globals.get("__file__")):
                return None
            return top
        frame = frame.f_back
    return None


def _installed(top: str, file: object) -> bool:
    """Is ``top`` an installed package (site-packages, or a folder beside its dist-info)?"""
    if not isinstance(file, str):
        return False
    path = Path(file)
    if {"site-packages", "dist-packages"} & set(path.parts):
        return True
    # `pip install --target DIR`: DIR holds the package (or module) and its dist-info.
    for parent in path.parents:
        if parent.name == top:
            return any(parent.parent.glob(f"{top}-*.dist-info"))
    return path.stem == top and any(path.parent.glob(f"{top}-*.dist-info"))


class NetworkGuard:
    """One active block: what it allows, and what it saw."""

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
        #: The first program a subprocess was started with while the block was active.
        self.subprocess: str | None = None

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
        library = library_on_stack(sys._getframe(1))
        raise NetworkBlocked(
            self.describe(name, number, library), host=name, port=number, library=library
        )

    def check_address(self, sock: Any, address: Any) -> None:
        """An internet socket's ``(host, port, ...)`` address; others pass."""
        __tracebackhide__ = True
        if getattr(sock, "family", None) not in _INET:
            return
        if isinstance(address, tuple) and address:
            self.check(address[0], address[1] if len(address) > 1 else None)


def _as_port(port: Any) -> int | None:
    try:
        return int(port)
    except (TypeError, ValueError):
        return None


_lock = threading.Lock()
_active: list[NetworkGuard] = []
_saved: dict[str, Any] = {}
_hook_installed = False


def _current() -> NetworkGuard | None:
    try:
        return _active[-1]
    except IndexError:  # no block, or the last one ended in another thread meanwhile
        return None


# -- the audit hook ------------------------------------------------------------------------


def _on_address(guard: NetworkGuard, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    guard.check_address(args[0], args[1])  # (socket, address); sendmsg's may be None


def _on_lookup(guard: NetworkGuard, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    guard.check(args[0], args[1] if len(args) > 1 else None)  # (host[, port, ...])


def _on_sockaddr(guard: NetworkGuard, args: tuple[Any, ...]) -> None:
    __tracebackhide__ = True
    sockaddr = args[0]
    if isinstance(sockaddr, tuple) and sockaddr:
        guard.check(sockaddr[0], sockaddr[1] if len(sockaddr) > 1 else None)


# Standard-library modules that run a local program to learn about this machine (``uname
# -p`` for ``platform.processor()``, which SDKs call for their platform headers; ``ldconfig``
# for ``ctypes.util.find_library``): never a network client, so not reported.
_MACHINE_PROBES = frozenset({"platform", "ctypes.util", "uuid"})
_LAUNCHERS = frozenset({"subprocess", "os", __name__})


def _on_subprocess(guard: NetworkGuard, args: tuple[Any, ...]) -> None:
    if guard.subprocess is None and not _started_by_a_machine_probe():
        guard.subprocess = _program(args)


def _started_by_a_machine_probe() -> bool:
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in _LAUNCHERS:
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and frame.f_globals.get("__name__") in _MACHINE_PROBES


def _program(args: tuple[Any, ...]) -> str:
    """The started program's file name only (arguments may hold secrets)."""
    # subprocess.Popen: (executable, args, cwd, env); os.system: (command,);
    # os.exec / os.posix_spawn: (path, argv, env); os.spawn: (mode, path, args, env).
    for value in args[:2]:
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if isinstance(value, (str, bytes, os.PathLike)):
            words = os.fsdecode(value).split()
            if words:
                return os.path.basename(words[0])
    return "a program"


_HANDLERS: dict[str, Callable[[NetworkGuard, tuple[Any, ...]], None]] = {
    "socket.connect": _on_address,
    "socket.sendto": _on_address,
    "socket.sendmsg": _on_address,
    "socket.getaddrinfo": _on_lookup,
    "socket.gethostbyname": _on_lookup,
    "socket.gethostbyaddr": _on_lookup,
    "socket.getnameinfo": _on_sockaddr,
    "subprocess.Popen": _on_subprocess,
    "os.system": _on_subprocess,
    "os.exec": _on_subprocess,
    "os.posix_spawn": _on_subprocess,
    "os.spawn": _on_subprocess,
}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Every audit event of the process comes here (open, import, ...): one dict look-up for
    # those, and nothing more while no block is active.
    if event in _HANDLERS and _active:
        __tracebackhide__ = True
        guard = _current()
        if guard is not None:
            _HANDLERS[event](guard, args)


# -- the patches ---------------------------------------------------------------------------


def _install() -> None:
    import asyncio.base_events

    loop_class = asyncio.base_events.BaseEventLoop
    previous_getaddrinfo = socket.getaddrinfo
    previous_loop_getaddrinfo = loop_class.getaddrinfo
    _saved["getaddrinfo"] = previous_getaddrinfo
    _saved["loop_getaddrinfo"] = loop_class.__dict__["getaddrinfo"]

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        guard = _current()
        if guard is not None:
            guard.check(host, port)
        result = previous_getaddrinfo(host, port, *args, **kwargs)
        if guard is not None and host is not None and normalise_host(host) in guard.allowed:
            guard.resolved.update(str(info[4][0]) for info in result)
        return result

    async def loop_getaddrinfo(
        self: asyncio.base_events.BaseEventLoop, host: Any, port: Any, **kwargs: Any
    ) -> Any:
        __tracebackhide__ = True
        guard = _current()
        if guard is not None:
            guard.check(host, port)
        return await previous_loop_getaddrinfo(self, host, port, **kwargs)

    socket.getaddrinfo = getaddrinfo
    loop_class.getaddrinfo = loop_getaddrinfo  # type: ignore[method-assign]
    for name, where in (("connect", 0), ("connect_ex", 0), ("sendto", -1), ("sendmsg", 3)):
        _saved[name] = socket.socket.__dict__.get(name, _MISSING)
        setattr(socket.socket, name, _name_checked(getattr(socket.socket, name), where))


def _name_checked(method: Callable[..., Any], where: int) -> Callable[..., Any]:
    """``method`` with its address argument (at ``where``) checked first."""

    def checked(self: socket.socket, *args: Any) -> Any:
        __tracebackhide__ = True
        guard = _current()
        if guard is not None and len(args) > where >= -len(args):
            guard.check_address(self, args[where])
        return method(self, *args)

    checked.__name__ = checked.__qualname__ = method.__name__
    checked.__doc__ = method.__doc__
    return checked


def _uninstall() -> None:
    import asyncio.base_events

    socket.getaddrinfo = _saved.pop("getaddrinfo")
    asyncio.base_events.BaseEventLoop.getaddrinfo = _saved.pop(  # type: ignore[method-assign]
        "loop_getaddrinfo"
    )
    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        original = _saved.pop(name)
        if original is _MISSING:
            delattr(socket.socket, name)
        else:
            setattr(socket.socket, name, original)


@contextmanager
def block_network(
    *, allowed_hosts: Iterable[str] = (), describe: Describe
) -> Iterator[NetworkGuard]:
    """Refuse every non-loopback look-up, connection and datagram for the duration of the block.

    ``describe(host, port, library)`` builds the :class:`NetworkBlocked` message: what was
    refused, the installed library that tried (``None`` when none is on the stack) and how to
    fix it. The guard yielded reports what the block saw (:attr:`NetworkGuard.subprocess`).
    """
    global _hook_installed
    guard = NetworkGuard(allowed_hosts, describe)
    with _lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True
        if not _active:
            _install()
        _active.append(guard)
    try:
        yield guard
    finally:
        with _lock:
            _active.remove(guard)
            if not _active:
                _uninstall()

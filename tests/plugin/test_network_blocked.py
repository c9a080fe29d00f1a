"""A replaying test opens no socket except to loopback and allowed hosts, whoever opens it.

The inner runs can never reach a network, even if the guard failed: their conftest answers
every name look-up other than loopback with an error (and logs it), and refuses every
connect() to an address other than loopback; their raw sockets are bound to loopback first.
The guard must act before both: a blocked request shows up as ``NetworkBlocked`` with an empty
look-up log.
"""

from __future__ import annotations

import pytest

NO_NETWORK_CONFTEST = """
import pathlib
import socket
import sys

import pytest

LOG = pathlib.Path(__file__).parent / "lookups.log"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def logged_getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in LOOPBACK:
            return real_getaddrinfo(host, port, *args, **kwargs)
        with LOG.open("a") as log:
            log.write(name + "\\n")
        raise socket.gaierror(socket.EAI_NONAME, f"no DNS in this run: {name}")

    def loopback_only(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise ConnectionRefusedError(f"this run connects to loopback only: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", logged_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    # The other look-ups raise the audit event CPython's own functions raise before they ask
    # a resolver, then log instead of asking one.
    for name, event in LOOK_UPS.items():
        monkeypatch.setattr(socket, name, audited_look_up(name, event))


LOOK_UPS = {
    "gethostbyname": "socket.gethostbyname",
    "gethostbyname_ex": "socket.gethostbyname",
    "gethostbyaddr": "socket.gethostbyaddr",
    "getnameinfo": "socket.getnameinfo",
}


def audited_look_up(name, event):
    def look_up(host, *args):
        sys.audit(event, host)
        with LOG.open("a") as log:
            log.write(f"{name}:{host}\\n")
        raise socket.gaierror(socket.EAI_NONAME, f"no DNS in this run: {host}")

    return look_up
"""

SDK_TESTS = """
import pytest
from zep_cloud.client import AsyncZep, Zep


@pytest.fixture(autouse=True)
def no_zep_url(monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)


# capture="provider": only our own client's traffic goes through the cassette, so the
# SDK's own client meets the guard.
@pytest.mark.sessionmem(provider="zep", session_id="s1", capture="provider")
def test_sdk_with_its_own_client(recorded_session):
    zep = Zep(api_key=recorded_session.api_key)  # no httpx_client=: the SDK builds its own
    zep.memory.get_session_messages("s1")


@pytest.mark.sessionmem(provider="zep", session_id="s1", capture="provider")
async def test_async_sdk_with_its_own_client(recorded_session):
    zep = AsyncZep(api_key=recorded_session.api_key)
    await zep.memory.get_session_messages("s1")
"""


def _lookups(inner) -> list[str]:
    log = inner.path / "lookups.log"
    return log.read_text().split() if log.exists() else []


def test_an_sdk_that_builds_its_own_client_is_blocked_before_dns(inner) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(test_sdk=SDK_TESTS)
    result = inner.run()
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert _lookups(inner) == []  # nothing reached the resolver, let alone the network
    assert "ConnectionRefusedError" not in text and "gaierror" not in text
    # Only the tracebacks' "E" lines: under CI=true pytest also prints the short summary
    # lines in full, and those name the error again.
    errors = [
        line
        for line in result.stdout.lines
        if line.startswith("E ") and "NetworkBlocked: test_sdk.py::" in line
    ]
    assert len(errors) == 2
    for line in errors:
        assert "it may not connect to api.getzep.com:443" in line
    assert "network_guard.py" not in text  # the guard's own frames are hidden
    # The message names every fix, each one copyable, and the SDK that opened the socket
    # (for the async client too, though it looks names up in an executor thread).
    for fix in (
        "--sessionmem-allowed-host=api.getzep.com",
        "sessionmem_allowed_hosts",
        "allowed_hosts=['api.getzep.com']",
        "check the test's capture setting",
        "zep_cloud opened the connection",
        "httpx_client=recorded_session.httpx_client()",
    ):
        assert text.count(fix) >= 2, fix


@pytest.mark.parametrize("how", ["flag", "ini", "marker"])
def test_an_allowed_host_is_let_through(inner, how: str) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    marker = 'allowed_hosts=["api.getzep.com"], ' if how == "marker" else ""
    inner.pytester.makepyfile(
        test_sdk=f"""
import httpx
import pytest
from zep_cloud.client import Zep


@pytest.mark.sessionmem({marker}provider="zep", session_id="s1")
def test_sdk(recorded_session, monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    with pytest.raises(httpx.ConnectError, match="no DNS in this run"):
        Zep(api_key=recorded_session.api_key).memory.get_session_messages("s1")
"""
    )
    args: list[str] = []
    if how == "flag":
        args.append("--sessionmem-allowed-host=api.getzep.com")
    if how == "ini":
        ini = inner.path / "tox.ini"  # what pytester.makeini() wrote
        ini.write_text(ini.read_text() + "\nsessionmem_allowed_hosts = api.getzep.com\n")
    result = inner.run(*args)
    result.assert_outcomes(passed=1)
    assert _lookups(inner) == ["api.getzep.com"]  # it went on to the (fake) resolver


def test_loopback_stays_open_while_replaying(inner) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(
        test_loopback="""
import socket

import pytest


@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_local_server(recorded_session):
    assert recorded_session.replaying
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port)):
                conn, _ = server.accept()
                conn.close()
"""
    )
    inner.run().assert_outcomes(passed=1)


def test_a_raw_socket_to_an_address_is_blocked_too(inner) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(
        test_raw="""
import socket

import pytest
from pytest_sessionmem import NetworkBlocked


@pytest.mark.sessionmem(provider="eliza", session_id="s1")
def test_connect(recorded_session):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked, match="may not connect to 192.0.2.7:80") as info:
            sock.connect(("192.0.2.7", 80))
        assert (info.value.host, info.value.port) == ("192.0.2.7", 80)
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("192.0.2.7", 80))
    finally:
        sock.close()
"""
    )
    inner.run().assert_outcomes(passed=1)


def test_a_recording_test_is_not_blocked(inner) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(
        test_rec="""
import httpx
import pytest


@pytest.mark.sessionmem(provider="zep", session_id="s1", record_mode="all")
def test_sdk_like_call(recorded_session):
    assert not recorded_session.replaying
    with pytest.raises(httpx.ConnectError, match="no DNS in this run"):
        httpx.get("https://api.getzep.com/api/v2/sessions/s1")
"""
    )
    inner.run().assert_outcomes(passed=1)
    assert _lookups(inner) == ["api.getzep.com"]


def test_a_bad_allowed_host_is_a_usage_error(inner) -> None:
    inner.pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = inner.run("--sessionmem-allowed-host=https://api.getzep.com/api/v2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*allowed host 'https://api.getzep.com/api/v2' is not a host name*api.example.com*"]
    )


def test_every_python_socket_is_checked(inner) -> None:
    """UDP, the C socket type and every name look-up, not only socket.socket.connect."""
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(
        test_raw="""
import _socket
import socket
import sys

import pytest
from pytest_sessionmem import NetworkBlocked

pytestmark = pytest.mark.sessionmem(provider="eliza", session_id="s1")


def bound(sock):
    # Linux sends nothing from a loopback address to any other: safe even if the guard failed.
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def test_udp(recorded_session):
    with bound(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as sock:
        with pytest.raises(NetworkBlocked, match="may not connect to 192.0.2.1:9"):
            sock.sendto(b"x", ("192.0.2.1", 9))


def test_the_c_socket_type(recorded_session):
    raw = bound(_socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    with socket.socket() as sock:
        bound(sock)
        with pytest.raises(NetworkBlocked, match="may not connect to 192.0.2.1:9"):
            raw.connect(("192.0.2.1", 9))
        with pytest.raises(NetworkBlocked, match="may not connect to 192.0.2.1:9"):
            _socket.socket.connect(sock, ("192.0.2.1", 9))
    raw.close()


@pytest.mark.parametrize(
    "look_up",
    [
        lambda: socket.gethostbyname("api.example.com"),
        lambda: socket.gethostbyname_ex("api.example.com"),
        lambda: socket.gethostbyaddr("api.example.com"),
        lambda: socket.getnameinfo(("api.example.com", 80), 0),
    ],
)
def test_name_look_ups(recorded_session, look_up):
    with pytest.raises(NetworkBlocked, match="may not connect to api.example.com"):
        look_up()
"""
    )
    result = inner.run()
    result.assert_outcomes(passed=6)
    assert _lookups(inner) == []


def test_no_sdk_on_the_stack_names_none(inner) -> None:
    inner.pytester.makeconftest(NO_NETWORK_CONFTEST)
    inner.pytester.makepyfile(
        test_plain="""
import httpx
import pytest


# capture="provider": a request to another host is not the cassette's, so it meets the guard.
@pytest.mark.sessionmem(provider="zep", session_id="s1", capture="provider")
def test_plain_httpx(recorded_session):
    httpx.get("https://api.example.com/v1/things")
"""
    )
    result = inner.run()
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "it may not connect to api.example.com:443" in text
    assert "--sessionmem-allowed-host=api.example.com" in text
    assert "check the test's capture setting" in text
    assert "opened the connection" not in text  # no SDK named...
    assert "Zep(" not in text and "httpx_client" not in text  # ...nor any SDK's fix
    assert _lookups(inner) == []


SUBPROCESS_TEST = """
import subprocess
import sys

import pytest


@pytest.mark.sessionmem(provider="eliza", session_id="s1"{mode})
def test_starts_python(recorded_session):
    for _ in range(2):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
"""


def test_a_replaying_test_that_starts_a_subprocess_is_warned_once(inner) -> None:
    inner.pytester.makepyfile(test_sub=SUBPROCESS_TEST.format(mode=""))
    result = inner.run()  # filterwarnings = error: the warning fails the test, in one line
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*UnguardedSubprocessWarning: test_sub.py::test_starts_python started a subprocess "
            "(python*) while replaying its cassette. The network guard covers this process only*",
        ]
    )
    assert "hooks.py" not in result.stdout.str()  # no traceback through the fixture
    shown = inner.run("-W", "default::pytest_sessionmem.UnguardedSubprocessWarning")
    shown.assert_outcomes(passed=1, warnings=1)  # two subprocesses, one warning
    shown.stdout.fnmatch_lines(["*test_sub.py:*: UnguardedSubprocessWarning: *"])


def test_the_warning_names_its_own_fix(inner) -> None:
    fix = '@pytest.mark.filterwarnings("ignore::pytest_sessionmem.UnguardedSubprocessWarning")'
    inner.pytester.makepyfile(
        test_sub=SUBPROCESS_TEST.format(mode="").replace(
            "@pytest.mark.sessionmem", fix + "\n@pytest.mark.sessionmem"
        )
    )
    inner.run().assert_outcomes(passed=1)


def test_a_recording_test_that_starts_a_subprocess_is_not_warned(inner) -> None:
    inner.pytester.makepyfile(test_sub=SUBPROCESS_TEST.format(mode=', record_mode="all"'))
    inner.run("--sessionmem-emulator").assert_outcomes(passed=1)

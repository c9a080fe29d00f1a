"""Commands in error messages, written so that they work when copied.

Every "to record it, run ..." line the plugin prints comes from here: the test's node id,
the record mode that fixes the problem, and ``--sessionmem-emulator`` when the cassette was
recorded against the embedded emulator (or both variants when nobody knows).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_sessionmem.support.terminal_text import escape_controls

if TYPE_CHECKING:
    from pytest_sessionmem.cassette.recorder import CassetteSession, RecordHint
    from pytest_sessionmem.providers.registry import ProviderSpec

__all__ = [
    "key_note",
    "missing_key",
    "no_provider",
    "pytest_command",
    "record_hint",
    "sdk_fix",
    "unused_message",
]


def pytest_command(nodeid: str, *flags: str) -> str:
    """``pytest 'tests/test_x.py::test_y[a b]' --flag ...``, quoted for a POSIX shell."""
    return " ".join(["pytest", shlex.quote(nodeid), *flags])


def key_note(spec: ProviderSpec | None) -> str:
    """How a command for the real service must be run, credential-wise."""
    if spec is None:
        return ""
    if spec.key_required:
        return f" (with {spec.api_key_env} set)"
    return f" (with {spec.api_key_env} set if your server needs one)"


def record_hint(nodeid: str, spec: ProviderSpec | None) -> RecordHint:
    """The cassette layer's ``RecordHint`` for one test."""

    def hint(mode: str, against: str | None) -> str:
        command = pytest_command(nodeid, f"--sessionmem-record-mode={mode}")
        emulator = f"{command} --sessionmem-emulator"
        if against == "emulator":
            return f"run:\n    {emulator}"
        if against == "service":
            return f"run{key_note(spec)}:\n    {command}"
        return (
            f"run, against the embedded emulator:\n    {emulator}\n"
            f"or against the real service{key_note(spec)}:\n    {command}"
        )

    return hint


def missing_key(spec: ProviderSpec, *, base_url: str, nodeid: str, mode: str) -> str | None:
    """Why a recording test cannot start without its key, or ``None`` when it can.

    Recording against a server on this machine (the embedded emulator, a local fake or a
    self-hosted server) needs no key; a service that requires one would refuse every request.
    """
    import os
    from urllib.parse import urlsplit

    from pytest_sessionmem.cassette.network_guard import is_loopback

    if not spec.key_required or os.environ.get(spec.api_key_env):
        return None
    if is_loopback(urlsplit(base_url).hostname):
        return None
    command = pytest_command(nodeid, f"--sessionmem-record-mode={mode}")
    return (
        f"{nodeid} would record from {spec.service} at {base_url}, but {spec.api_key_env} is "
        "not set, so the service would refuse every request. Nothing was sent. Either "
        f"export {spec.api_key_env} with your key and run:\n    {command}\n"
        f"or record against the embedded emulator, which needs no key:\n"
        f"    {command} --sessionmem-emulator"
    )


def no_provider(nodeid: str, marker_names: Iterable[str]) -> str:
    """Why a test that needs ``recorded_session`` has nothing to talk to, and the three fixes.

    ``marker_names`` are the names of the test's markers: one spelled close to ``sessionmem``
    (``sesionmem``) is named first, as the likely cause.
    """
    import difflib

    from pytest_sessionmem.providers.registry import PROVIDERS

    names = sorted({name for name in marker_names if name != "sessionmem"})
    close = difflib.get_close_matches("sessionmem", names, n=1, cutoff=0.75)
    typo = (
        f"It is marked @pytest.mark.{close[0]}: did you mean @pytest.mark.sessionmem? "
        if close
        else ""
    )
    return (
        f"{nodeid} uses recorded_session (session_client and async_session_client use it "
        "too), but no provider is set for this test, so there is no service to record from "
        f"or replay. {typo}Set the provider in one of these ways:\n"
        "  - on the test, its class or its module: "
        "@pytest.mark.sessionmem(provider='zep', session_id='s1')\n"
        f"  - for the whole run: {pytest_command(nodeid, '--sessionmem-provider=zep')}\n"
        "  - in the ini file: sessionmem_provider = zep (under [pytest] in pytest.ini; "
        'in pyproject.toml, sessionmem_provider = "zep" under [tool.pytest.ini_options])\n'
        f"Providers: {', '.join(PROVIDERS)}."
    )


#: How many unused requests an unused-interactions message names before "and N more".
MAX_NAMED_UNUSED = 3


def unused_message(session: CassetteSession, *, nodeid: str, rootdir: Path) -> str:
    """One line: which recorded requests the test did not replay, and how to drop them."""
    unused = session.unused()
    names = [escape_controls(item.request.describe()) for item in unused[:MAX_NAMED_UNUSED]]
    if len(unused) > MAX_NAMED_UNUSED:
        names.append(f"and {len(unused) - MAX_NAMED_UNUSED} more")
    try:
        shown = session.path.relative_to(rootdir)
    except ValueError:
        shown = session.path
    flags = ["--sessionmem-record-mode=all"]
    if session.recorded_against == "emulator":
        flags.append("--sessionmem-emulator")
    count = len(unused)
    noun = "interaction" if count == 1 else "interactions"
    return (
        f"{count} recorded {noun} in {shown} {'was' if count == 1 else 'were'} not used by "
        f"{nodeid}: {', '.join(names)}. To drop them, record the test again "
        f"({pytest_command(nodeid, *flags)}), or mark it "
        "@pytest.mark.sessionmem(unused='ignore')."
    )


# SDKs that take an httpx client: the constructor a fix shows (sync; the async client takes
# recorded_session.async_httpx_client() the same way).
_SDK_CLIENT_EXAMPLES = {
    "openai": "OpenAI(http_client=recorded_session.httpx_client())",
    "zep_cloud": (
        "Zep(api_key=recorded_session.api_key, base_url=recorded_session.base_url, "
        "httpx_client=recorded_session.httpx_client())"
    ),
}
# SDKs that build their own httpx client and take none.
_SDK_OWN_CLIENT_EXAMPLES = {
    "meibel": (
        "MeibelClient(api_key=recorded_session.api_key, base_url=recorded_session.base_url)"
    ),
}


def sdk_fix(library: str) -> str:
    """The fix for an SDK whose connection the network guard refused, by the SDK's kind."""
    example = _SDK_CLIENT_EXAMPLES.get(library)
    if example is not None:
        return (
            f"{library} opened the connection with a client of its own: hand it an httpx "
            f"client on the cassette, e.g. {example} (its async client takes "
            "recorded_session.async_httpx_client())"
        )
    example = _SDK_OWN_CLIENT_EXAMPLES.get(library)
    if example is not None:
        return (
            f"{library} opened the connection and takes no httpx client: point it at the "
            f"cassette's base URL, e.g. {example}, and use "
            "@pytest.mark.sessionmem(intercept_httpx=True)"
        )
    return (
        f"{library} opened the connection: if it takes an httpx client, hand it "
        "recorded_session.httpx_client() (recorded_session.async_httpx_client() for an async "
        "client)"
    )

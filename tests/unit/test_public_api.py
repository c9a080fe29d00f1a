"""The public names: ``from pytest_sessionmem import ...`` is the contract users code against."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pytest_sessionmem

PUBLIC_NAMES = [
    "ANY",
    "AsyncSessionClient",
    "AuthenticationError",
    "CassetteCorrupt",
    "CassetteDrift",
    "CassetteError",
    "CassetteNotFound",
    "CassetteSession",
    "ConfigError",
    "Contains",
    "EmulatorServer",
    "Fact",
    "FinishReport",
    "LLMCall",
    "Memory",
    "Message",
    "NetworkBlocked",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "RecordMode",
    "RecordedSession",
    "RecordingTransport",
    "Regex",
    "ReplayTransport",
    "Role",
    "ScrubConfig",
    "Session",
    "SessionClient",
    "SessionExpired",
    "SessionNotFound",
    "SessionmemError",
    "ToolCall",
    "Transcript",
    "TranscriptFileError",
    "UnguardedSubprocessWarning",
    "UnmatchedRequest",
    "UnsupportedOperation",
    "UnusedInteractionsWarning",
    "WaitTimeout",
    "__version__",
    "assert_memory",
    "assert_transcript",
    "async_wait_until",
    "wait_until",
]

# Run in a fresh interpreter: in this process other tests have imported most modules already,
# which would hide a lazy export that points at the wrong module.
IMPORT_EVERY_NAME = """
import json, sys
import pytest_sessionmem

found = {}
for name in pytest_sessionmem.__all__:
    namespace = {}
    exec(f"from pytest_sessionmem import {name}", namespace)
    value = namespace[name]
    home = getattr(value, "__module__", None) or type(value).__module__
    found[name] = home
star = {}
exec("from pytest_sessionmem import *", star)
print(json.dumps({"found": found, "star": sorted(k for k in star if k != "__builtins__")}))
"""


def test_all_is_pinned() -> None:
    assert sorted(pytest_sessionmem.__all__) == PUBLIC_NAMES
    assert len(set(pytest_sessionmem.__all__)) == len(pytest_sessionmem.__all__)


def test_every_public_name_imports_from_a_fresh_interpreter() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_NAME], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(report["found"]) == PUBLIC_NAMES
    assert report["star"] == PUBLIC_NAMES
    outside = {
        name: home
        for name, home in report["found"].items()
        if name != "__version__" and not home.startswith("pytest_sessionmem.")
    }
    assert outside == {}  # every public name is defined in this package


def test_dir_lists_every_public_name() -> None:
    assert set(PUBLIC_NAMES) <= set(dir(pytest_sessionmem))


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'SessionClinet'"):
        pytest_sessionmem.SessionClinet  # noqa: B018
    with pytest.raises(ImportError, match="SessionClinet"):
        exec("from pytest_sessionmem import SessionClinet", {})

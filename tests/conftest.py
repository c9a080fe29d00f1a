"""Suite-wide set-up: keep pytester's in-process runs from changing the outer run.

pytester (``tests/plugin``, ``tests/docs``) runs inner pytest sessions in this process. Around
each one it takes a snapshot of ``sys.modules`` and afterwards drops every module the inner run
imported first. A module that outlives the inner run but cached objects of a dropped one then
holds stale classes. That made the suite depend on its order: httpx imports httpcore lazily and
caches a map from httpcore's exception classes to its own on first use. When an inner run was
the first to make a request, httpcore was dropped after it; the next request of the outer run
imported a fresh httpcore whose exceptions the cached map does not know, so a refused
connection raised ``httpcore.ConnectError`` instead of ``httpx.ConnectError``.

The fix: before the first test of a run that uses pytester, import every module an inner run
would otherwise import first (``PRELOAD``). Those modules are then part of every snapshot and
survive every inner run. ``tests/plugin/test_inner_runs.py`` fails, naming the module, if an
inner run still imports one first.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import pytest

import pytest_sessionmem

# Third-party modules that our code, the SDKs or the emulator import lazily (inside functions),
# so importing the package does not load them.
PRELOAD = (
    "httpcore",  # httpx's network transports import it on first construction
    "h11",
    "anyio._backends._asyncio",  # httpx's async transport and pytest-asyncio's loops
    "uvicorn",  # the emulator runner
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.lifespan.off",
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "multiprocessing",  # uvicorn's config
    "logging.config",
    "logging.handlers",
    "socketserver",
    "encodings.idna",  # first non-ASCII host name or URL
    "stringprep",
    "encodings.utf_16_le",
    "doctest",  # pytest's doctest plugin
    "zep_cloud.client",
    "meibel",
)


def preload_for_inner_runs() -> None:
    # The SDKs emit pydantic deprecation warnings at import that are not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            importlib.import_module(name)
        # Our own modules too: a module of ours imported afresh by an inner run would hold new
        # classes while the package's lazy exports hand out the old ones, and isinstance()
        # checks would fail for reasons no user ever meets.
        for module in pkgutil.walk_packages(pytest_sessionmem.__path__, "pytest_sessionmem."):
            importlib.import_module(module.name)


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("pytester" in getattr(item, "fixturenames", ()) for item in session.items):
        preload_for_inner_runs()

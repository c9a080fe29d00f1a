"""The pytest plugin: the only layer that imports pytest.

The ``pytest11`` entry point names this package. Its hooks and fixtures live in
``hooks``; ``settings`` resolves option precedence, ``paths`` names each test's files,
``run_state`` keeps the per-process state and the end-of-run report, and
``context`` is the per-test context behind the ``recorded_session`` fixture.
"""

from pytest_sessionmem.plugin.hooks import (
    async_session_client,
    pytest_addoption,
    pytest_assertrepr_compare,
    pytest_configure,
    pytest_deselected,
    pytest_itemcollected,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
    recorded_session,
    session_client,
    sessionmem_config,
    sessionmem_emulator,
)

__all__ = [
    "async_session_client",
    "pytest_addoption",
    "pytest_assertrepr_compare",
    "pytest_configure",
    "pytest_deselected",
    "pytest_itemcollected",
    "pytest_report_header",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "recorded_session",
    "session_client",
    "sessionmem_config",
    "sessionmem_emulator",
]

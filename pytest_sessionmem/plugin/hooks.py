"""pytest hooks, options, markers and fixtures.

No logic lives here: each fixture reads the config, builds an object from another
module, yields it and runs its teardown checks. Everything heavy is imported inside
the fixtures that need it, so loading the plugin costs a pytest run almost nothing.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_sessionmem.errors import (
    CassetteError,
    ConfigError,
    UnguardedSubprocessWarning,
    UnusedInteractionsWarning,
)
from pytest_sessionmem.plugin.hints import no_provider, sdk_fix, unused_message
from pytest_sessionmem.plugin.misses import swallowed_message, watching_raises
from pytest_sessionmem.plugin.prune import PruneResult, PruneTracker, partial_reason
from pytest_sessionmem.plugin.run_state import RunState
from pytest_sessionmem.plugin.settings import (
    CAPTURE_MODES,
    PROVIDERS,
    RECORD_MODES,
    UNUSED_POLICIES,
    Settings,
)
from pytest_sessionmem.support.gc_freeze import old_objects_frozen

if TYPE_CHECKING:
    from pytest_sessionmem.cassette.network_guard import NetworkGuard
    from pytest_sessionmem.client import AsyncSessionClient, SessionClient
    from pytest_sessionmem.emulator.runner import EmulatorServer
    from pytest_sessionmem.plugin.context import RecordedSession
    from pytest_sessionmem.plugin.report_html import HtmlCollector, TestRecord

RUN_STATE = pytest.StashKey[RunState]()
PRUNE = pytest.StashKey[PruneTracker]()
PRUNE_RESULT = pytest.StashKey[PruneResult]()
# The HTML report's module loads only for runs that write one.
HTML: pytest.StashKey[HtmlCollector] = pytest.StashKey()
HTML_RECORD: pytest.StashKey[TestRecord] = pytest.StashKey()
HTML_WRITTEN = pytest.StashKey[str]()
CALL_FAILED = pytest.StashKey[bool]()
# The secret_env names a test's own settings add (its marker or sessionmem_config).
SECRET_ENV = pytest.StashKey[tuple[str, ...]]()

# The one table of options: (setting, kind, help, older flag spellings still accepted).
# Each setting is the flag --sessionmem-<setting with dashes> and the ini key
# sessionmem_<setting>, one to one.
_OPTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "record_mode",
        "choice",
        f"none (default: replay only, no network), once, new_episodes or all. One of {RECORD_MODES}.",
        (),
    ),
    ("provider", "choice", f"default provider: one of {PROVIDERS}.", ()),
    (
        "base_url",
        "list",
        "PROVIDER=URL: where that provider's tests record, such as "
        "eliza=http://localhost:3000 (repeatable, one per provider).",
        (),
    ),
    (
        "cassette_dir",
        "str",
        "cassette folder beside each test file (default: cassettes).",
        (),
    ),
    (
        "transcript_dir",
        "str",
        "expected-transcript folder beside each test file (default: transcripts).",
        (),
    ),
    ("update", "bool", "write or update expected-transcript files.", ()),
    ("emulator", "bool", "record against the embedded emulator started for this run.", ()),
    (
        "unused",
        "choice",
        f"what unused recorded interactions do: one of {UNUSED_POLICIES} (default warn).",
        (),
    ),
    (
        "capture",
        "choice",
        "which HTTP requests of a test go through its cassette: all (default: every request, "
        "to any host, through httpx, httpx2, requests or urllib3) or provider (only the "
        f"memory provider's). One of {CAPTURE_MODES}.",
        (),
    ),
    (
        "keep_failed",
        "bool",
        "keep the cassette a failing test recorded (discarded by default).",
        (),
    ),
    (
        "allowed_hosts",
        "list",
        "host a replaying test may connect to besides loopback (repeatable).",
        ("--sessionmem-allowed-host",),
    ),
    (
        "scrub_headers",
        "list",
        "extra header to scrub (repeatable).",
        ("--sessionmem-scrub-header",),
    ),
    (
        "scrub_query_params",
        "list",
        "query parameter to scrub (repeatable).",
        ("--sessionmem-scrub-query-param", "--sessionmem-scrub-query"),
    ),
    (
        "scrub_json_paths",
        "list",
        "dotted JSON path to scrub, * matches any key or index (repeatable).",
        ("--sessionmem-scrub-json-path",),
    ),
    (
        "scrub_patterns",
        "list",
        "regex scrubbed anywhere in recordings (repeatable).",
        ("--sessionmem-scrub-pattern",),
    ),
    (
        "secret_env",
        "list",
        "environment variable whose value is scrubbed as <NAME> like the built-in key "
        "variables (repeatable).",
        (),
    ),
    # The review tools: scrubbing personal data, matching, prune, report, drift check.
    (
        "scrub_pii",
        "bool",
        "replace e-mail addresses and phone numbers in recordings with stable placeholders.",
        (),
    ),
    (
        "match_ignore",
        "list",
        "query parameter, header or dotted JSON path left out of request matching (repeatable).",
        (),
    ),
    (
        "prune",
        "bool",
        "delete cassette and transcript files no collected test uses (full runs only).",
        (),
    ),
    ("html", "str", "write a self-contained HTML report to this path.", ()),
    (
        "verify",
        "bool",
        "run against the live service (or --sessionmem-emulator) and fail on drift from the "
        "cassettes; writes nothing.",
        (),
    ),
)


def option_flag(name: str) -> str:
    """The command-line flag of a setting: ``allowed_hosts`` -> ``--sessionmem-allowed-hosts``."""
    return "--sessionmem-" + name.replace("_", "-")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sessionmem", "record and replay agent memory sessions")
    for name, kind, help_text, aliases in _OPTIONS:
        flags = (option_flag(name), *aliases)
        dest = f"sessionmem_{name}"
        if kind == "bool":
            group.addoption(*flags, action="store_true", default=None, dest=dest, help=help_text)
            parser.addini(dest, help_text, type="bool", default=None)
        elif kind == "list":
            group.addoption(*flags, action="append", default=None, dest=dest, help=help_text)
            parser.addini(dest, help_text, type="linelist", default=None)
        else:
            group.addoption(*flags, default=None, dest=dest, help=help_text)
            parser.addini(dest, help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sessionmem(provider=, session_id= (or thread_id=), cassette=, record_mode=, base_url=, "
        "unused=, keep_failed=, intercept_httpx=, capture=, allowed_hosts=, scrub_headers=, "
        "scrub_query_params=, scrub_json_paths=, scrub_patterns=, scrub_pii=, secret_env=, "
        "match_ignore=, before_record_request=, before_record_response=): record/replay "
        "settings for one test.",
    )
    cli = {name: config.getoption(f"sessionmem_{name}") for name, *_ in _OPTIONS}
    ini = {name: _ini(config, f"sessionmem_{name}") for name, *_ in _OPTIONS}
    try:
        config.stash[RUN_STATE] = RunState(cli=cli, ini=ini, rootdir=config.rootpath)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = config.stash[RUN_STATE]
    state.note_selection(list(config.args))
    if state.base.html:
        from pytest_sessionmem.plugin.report_html import HtmlCollector

        config.stash[HTML] = HtmlCollector()
    reason = partial_reason(
        args=[str(arg) for arg in config.args],
        keyword=config.getoption("keyword", "") or "",
        markexpr=config.getoption("markexpr", "") or "",
        last_failed=bool(config.getoption("lf", False)),
        stepwise=bool(config.getoption("stepwise", False)),
        deselect=config.getoption("deselect", None) or [],
    )
    if reason:
        # --lf, --sw, -k ...: a file whose test was left out would look unused.
        state.partial = True
    if state.base.prune and reason and not hasattr(config, "workerinput"):
        raise pytest.UsageError(
            f"--sessionmem-prune needs a full run, and {reason}: a file whose test is left out "
            "would look unused. Run the whole suite: pytest --sessionmem-prune"
        )
    # Which cassette names markers use: for --sessionmem-prune and the unused-file report.
    config.stash[PRUNE] = PruneTracker()


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(RUN_STATE, None)
    if state is not None:
        state.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return "sessionmem: " + config.stash[RUN_STATE].base.describe()


def pytest_itemcollected(item: pytest.Item) -> None:
    config_state = item.config.stash[RUN_STATE]
    config_state.note_collected(item.path, _test_name(item))
    markers = [m.kwargs for m in item.iter_markers("sessionmem")]
    if "recorded_session" in getattr(item, "fixturenames", ()):
        # Two tests recording into one cassette fail at set-up, in every xdist worker.
        override = next((m["cassette"] for m in markers if "cassette" in m), None)
        config_state.note_cassette_user(
            item.path,
            _test_name(item),
            item.nodeid,
            override if isinstance(override, str) else None,
        )
    tracker = item.config.stash.get(PRUNE, None)
    if tracker is not None:
        from pytest_sessionmem.plugin.prune import marker_cassette_names

        names = marker_cassette_names(markers)
        if names:  # most tests name no cassette: no path arithmetic for them
            folder = item.path.parent / config_state.base.cassette_dir / item.path.stem
            for name in names:
                tracker.note_marker_cassette(folder, name)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[RUN_STATE].note_deselected()


def _html_record(item: pytest.Item) -> TestRecord:
    record = item.stash.get(HTML_RECORD, None)
    if record is None:
        from pytest_sessionmem.plugin.report_html import TestRecord

        record = item.stash[HTML_RECORD] = TestRecord(nodeid=item.nodeid)
    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if item.config.stash.get(HTML, None) is None:
        return (yield)
    from pytest_sessionmem.assertions.review import observe

    with observe(_html_record(item).reviews.append):
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    collector = item.config.stash.get(HTML, None)
    if collector is not None:
        record = _html_record(item)
        record.note_phase(
            report.when, report.outcome, str(report.longrepr) if report.failed else None
        )
        if report.when == "teardown":
            collector.tests.append(_without_test_secrets(item, record))
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
        item.config.stash[RUN_STATE].note_ran(item.path, _test_name(item))
    return report


def _without_test_secrets(item: pytest.Item, record: TestRecord) -> TestRecord:
    """``record`` with the values of the test's own ``secret_env`` variables replaced.

    The run-wide names (built-in, command line, ini) are replaced when the report is
    written; a marker's names are known only here, in the process that ran the test.
    """
    names = item.stash.get(SECRET_ENV, ())
    if not names:
        return record
    import os

    from pytest_sessionmem.plugin.report_html import without_secrets
    from pytest_sessionmem.support.redaction import Redactor

    redactor = Redactor({name: os.environ.get(name) for name in names})
    record.reviews = without_secrets(record.reviews, redactor)
    record.longrepr = without_secrets(record.longrepr, redactor)
    return record


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    # Nothing of ours can be compared before our models were imported: stay free otherwise.
    if op != "==" or "pytest_sessionmem.models" not in sys.modules:
        return None
    from pytest_sessionmem.assertions.asserts import explain_transcript_equality

    return explain_transcript_equality(left, right)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[RUN_STATE]
    tracker = config.stash.get(PRUNE, None)
    if hasattr(config, "workeroutput"):
        config.workeroutput["sessionmem"] = state.export()
        if tracker is not None:
            config.workeroutput["sessionmem_prune"] = tracker.export()
    elif tracker is not None and state.base.prune:
        from pytest_sessionmem.plugin.prune import prune_unused

        config.stash[PRUNE_RESULT] = prune_unused(
            state,
            tracker,
            failed=session.testsfailed,
            interrupted=exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop),
        )
    collector = config.stash.get(HTML, None)
    if collector is not None and hasattr(config, "workeroutput"):
        config.workeroutput["sessionmem_html"] = collector.export()
    elif collector is not None and state.base.html:
        _write_html(config, collector)
    state.stop()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("sessionmem")
    if data:
        node.config.stash[RUN_STATE].merge(data)
    html_collector = node.config.stash.get(HTML, None)
    html_data = getattr(node, "workeroutput", {}).get("sessionmem_html")
    if html_collector is not None and html_data:
        html_collector.merge(html_data)
    tracker = node.config.stash.get(PRUNE, None)
    prune_data = getattr(node, "workeroutput", {}).get("sessionmem_prune")
    if tracker is not None and prune_data:
        tracker.merge(prune_data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.get_verbosity() <= -2:  # quiet under -qq
        return
    from pytest_sessionmem.plugin.prune import unused_cassettes
    from pytest_sessionmem.plugin.report import summary_lines

    state = config.stash[RUN_STATE]
    tracker = config.stash.get(PRUNE, None)
    stale = [] if state.partial or tracker is None else unused_cassettes(state, tracker)
    lines = summary_lines(state, unused_cassettes=stale)
    pruned = config.stash.get(PRUNE_RESULT, None)
    if pruned is not None:
        lines = [*lines, *pruned.lines(config.rootpath)]
    written = config.stash.get(HTML_WRITTEN, None)
    if written is not None:
        lines = [*lines, f"HTML report: {written}"]
    if lines:
        terminalreporter.section("sessionmem")
        for line in lines:
            terminalreporter.write_line(line)


def _write_html(config: pytest.Config, collector: HtmlCollector) -> None:
    import os
    from pathlib import Path

    from pytest_sessionmem.plugin.report import summary_lines
    from pytest_sessionmem.plugin.report_html import without_secrets, write_html
    from pytest_sessionmem.providers.registry import secret_env_names
    from pytest_sessionmem.support.redaction import Redactor

    state = config.stash[RUN_STATE]
    lines = summary_lines(state)
    pruned = config.stash.get(PRUNE_RESULT, None)
    if pruned is not None:
        lines = [*lines, *pruned.lines(config.rootpath)]
    # Reports are files the product writes: no credential reaches them either.
    names = (*secret_env_names(), *state.base.secret_env)
    redactor = Redactor({name: os.environ.get(name) for name in names})
    tests = without_secrets(collector.export(), redactor)
    target = Path(config.invocation_params.dir) / str(state.base.html)
    write_html(target, tests, summary=redactor.value(lines))
    config.stash[HTML_WRITTEN] = str(target)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def sessionmem_config() -> dict[str, Any]:
    """Marker keys for every test in scope; override it in a ``conftest.py``.

    Precedence: command line > marker > this fixture > ini > default.
    """
    return {}


@pytest.fixture
def recorded_session(
    request: pytest.FixtureRequest, sessionmem_config: Any
) -> Iterator[RecordedSession]:
    """The test's record/replay context: cassette, clients, transcript file."""
    state = request.config.stash[RUN_STATE]
    node = request.node
    marker: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers("sessionmem"))):  # closest marker wins
        if mark.args:
            pytest.fail(
                "ConfigError: @pytest.mark.sessionmem takes keyword arguments only, such as "
                "@pytest.mark.sessionmem(provider='zep', session_id='s1').",
                pytrace=False,
            )
        marker.update(mark.kwargs)
    problem: ConfigError | CassetteError | None = None
    # Opening imports the cassette layer and loads the cassette, and closing writes it: bulk
    # work whose full collections would otherwise walk all of pytest's objects each time.
    with old_objects_frozen():
        try:
            settings = state.settings_for(marker, sessionmem_config)
            node.stash[SECRET_ENV] = settings.secret_env
            if settings.provider is None and settings.base_url is None:
                # Without either, every request would go to a host that never resolves.
                markers = [mark.name for mark in node.iter_markers()]
                raise ConfigError(no_provider(node.nodeid, markers))
            recorded = state.open_session(
                settings, test_path=node.path, test_name=_test_name(node), nodeid=node.nodeid
            )
        except (ConfigError, CassetteError) as exc:
            problem = exc
    if problem is not None:
        # Its text says it all: the type and the message once, with no traceback of ours
        # (failing outside the except block, so no "During handling..." chain either).
        pytest.fail(f"{type(problem).__name__}: {problem}", pytrace=False)
    from pytest_sessionmem.assertions.polling import virtual_time

    guard: NetworkGuard | None = None
    expected_misses: set[int] = set()
    with contextlib.ExitStack() as stack:
        if recorded.replaying:
            from pytest_sessionmem.cassette.network_guard import block_network

            guard = stack.enter_context(
                block_network(
                    allowed_hosts=settings.allowed_hosts,
                    describe=functools.partial(_blocked_message, node.nodeid, settings),
                )
            )
            stack.enter_context(virtual_time())
            # The cassette answers what seeding shaped: the emulator's control calls send
            # nothing, so one test body records and replays.
            from pytest_sessionmem.emulator.control_client import inert

            stack.enter_context(inert())
            expected_misses = stack.enter_context(watching_raises())
        if settings.capture == "all":
            stack.enter_context(recorded.capture_all(settings.allowed_hosts))
        elif settings.intercept_httpx:
            stack.enter_context(recorded.intercept_httpx())
        yield recorded
    try:
        with old_objects_frozen():
            outcome = state.close_session(
                recorded,
                nodeid=node.nodeid,
                failed=node.stash.get(CALL_FAILED, True),
                keep_failed=settings.keep_failed,
            )
    except CassetteError as exc:  # the cassette could not be written
        problem = exc
    if problem is not None:
        pytest.fail(f"{type(problem).__name__}: {problem}", pytrace=False)
    passed = not node.stash.get(CALL_FAILED, True)
    swallowed = (
        swallowed_message(recorded.cassette.session.misses, expected_misses, nodeid=node.nodeid)
        if passed
        else None
    )
    if swallowed:
        pytest.fail(swallowed, pytrace=False)
    # Warned now, failed (when filterwarnings made it an error) only after the other checks.
    unguarded: Warning | None = None
    if guard is not None and guard.subprocess is not None:
        unguarded = _warn_at_test(
            node, UnguardedSubprocessWarning(_subprocess_message(node.nodeid, guard.subprocess))
        )
    if recorded.missing_transcripts:
        pytest.fail(
            "\n".join(
                recorded.missing_transcript_message(path, kept=outcome.written)
                for path in recorded.missing_transcripts
            ),
            pytrace=False,
        )
    if outcome.unused and settings.unused != "ignore":
        message = unused_message(
            recorded.cassette.session, nodeid=node.nodeid, rootdir=request.config.rootpath
        )
        if settings.unused == "error":
            pytest.fail(f"UnusedInteractions: {message}", pytrace=False)
        # Reported at the test, not in this fixture; under `filterwarnings = error` the
        # warning becomes this one line, not a traceback through the fixture's source.
        warned = _warn_at_test(node, UnusedInteractionsWarning(message))
        if warned is not None:
            pytest.fail(f"UnusedInteractionsWarning: {warned}", pytrace=False)
    if unguarded is not None:
        pytest.fail(f"UnguardedSubprocessWarning: {unguarded}", pytrace=False)


@pytest.fixture
def session_client(recorded_session: RecordedSession) -> SessionClient:
    """Our provider-neutral client on the test's cassette."""
    return recorded_session.client


@pytest.fixture
def async_session_client(recorded_session: RecordedSession) -> AsyncSessionClient:
    """The async client on the test's cassette (pytest-asyncio or anyio)."""
    return recorded_session.async_client


@pytest.fixture
def sessionmem_emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    """The embedded emulator, on a loopback port, shared by the run (needs the emulator extra).

    In a test whose ``recorded_session`` replays, no emulator is started: its control calls
    do nothing and succeed, because the cassette answers what seeding shaped.
    """
    if "recorded_session" in request.fixturenames:
        recorded = request.getfixturevalue("recorded_session")
        if recorded.replaying:
            from pytest_sessionmem.plugin.upstream import ReplayingEmulator

            stand_in = ReplayingEmulator()
            yield stand_in  # type: ignore[misc]
            stand_in.stop()
            return
    problem: ConfigError | None = None
    try:
        server = request.config.stash[RUN_STATE].upstream.emulator()
    except ConfigError as exc:
        problem = exc
    else:
        yield server
        return
    pytest.fail(f"{type(problem).__name__}: {problem}", pytrace=False)


def _blocked_message(
    nodeid: str, settings: Settings, host: str, port: int | None, library: str | None
) -> str:
    where = f"{host}:{port}" if port else host
    fixes = [
        f"if the test may reach {host}, allow it: --sessionmem-allowed-host={host} "
        f"(ini sessionmem_allowed_hosts, or @pytest.mark.sessionmem(allowed_hosts=[{host!r}]))",
        "check the test's capture setting: the cassette records and replays only the traffic "
        "it captures",
    ]
    if library is not None:
        fixes.append(sdk_fix(library))
    return (
        f"{nodeid} replays its cassette (record mode {settings.record_mode!r}), so it may not "
        f"connect to {where}: the request did not go through the cassette, and nothing was "
        "sent (not even a DNS look-up). Fix it in one of these ways:\n"
        + ";\n".join(f"  - {fix}" for fix in fixes)
        + "."
    )


def _subprocess_message(nodeid: str, program: str) -> str:
    return (
        f"{nodeid} started a subprocess ({program}) while replaying its cassette. The network "
        "guard covers this process only: the subprocess's connections are neither refused "
        "nor recorded. If it needs no network, mark the test "
        '@pytest.mark.filterwarnings("ignore::pytest_sessionmem.UnguardedSubprocessWarning").'
    )


def _warn_at_test(node: Any, warning: Warning) -> Warning | None:
    """Warn at the test's own line, not in a fixture; the warning when it became an error.

    Under ``filterwarnings = error`` the caller fails the test with the returned warning's one
    line instead of a traceback through the fixture's source.
    """
    path, lineno, _ = node.reportinfo()
    try:
        warnings.warn_explicit(
            warning,
            type(warning),
            filename=str(path),
            lineno=(lineno or 0) + 1,
            module=node.module.__name__ if getattr(node, "module", None) else None,
        )
    except type(warning) as exc:
        return exc
    return None


def _test_name(item: pytest.Item) -> str:
    cls = getattr(item, "cls", None)
    return f"{cls.__name__}.{item.name}" if cls is not None else item.name


def _ini(config: pytest.Config, name: str) -> Any:
    value = config.getini(name)
    return None if value == [] else value

"""Per-run state of the plugin: the settings sources and what the run has seen so far.

One :class:`RunState` lives in ``config.stash`` for each pytest process. Under
pytest-xdist every worker has its own and sends :meth:`RunState.export` to the
controller, which folds it in with :meth:`RunState.merge`, so the summary and the
unused-file report (:mod:`.report`) cover the whole run.

Imported when pytest starts, so it stays light: httpx, pydantic and the emulator load
only when a test needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.plugin.context_factory import close_context, open_context
from pytest_sessionmem.plugin.paths import CASSETTE_SUFFIX, safe_name, test_file_path
from pytest_sessionmem.plugin.report import CassetteOutcome
from pytest_sessionmem.plugin.settings import Settings, resolve_settings
from pytest_sessionmem.plugin.upstream import Upstream

if TYPE_CHECKING:
    from pytest_sessionmem.plugin.context import RecordedSession

__all__ = ["RunState"]


class RunState:
    """Everything the plugin keeps for one pytest process."""

    def __init__(self, *, cli: Mapping[str, Any], ini: Mapping[str, Any], rootdir: Path) -> None:
        self.cli = dict(cli)
        self.ini = dict(ini)
        self.rootdir = rootdir
        self.base = resolve_settings(cli=self.cli, ini=self.ini)
        self.upstream = Upstream()
        self.outcomes: list[CassetteOutcome] = []
        self.transcripts_used: set[str] = set()
        self.transcripts_written: set[str] = set()
        # transcript folder of a collected module -> safe names of its collected tests
        self.collected: dict[str, set[str]] = {}
        self.ran: set[str] = set()  # "<transcript folder>::<safe test name>" of tests that ran
        # A run that selected some tests only (-k, -m, node ids, --lf) cannot tell a stale
        # transcript file from one whose test it left out, so it reports none.
        self.partial = False
        self._folders: dict[Path, str] = {}
        # (module, safe name) -> every collected test name that maps to it. Two names map to
        # one file when they differ only in characters a file name cannot hold
        # (``test_x[a b]`` and ``test_x[a/b]``): those tests would overwrite each other.
        self._file_names: dict[tuple[Path, str], set[str]] = {}
        # cassette file -> node ids of the collected tests that use ``recorded_session`` and
        # would record into it (its own name, or a marker's ``cassette=``).
        self._cassette_users: dict[str, set[str]] = {}

    # -- what the run collected and ran ----------------------------------------------------

    def settings_for(self, marker: Mapping[str, Any], config: Any = None) -> Settings:
        return resolve_settings(cli=self.cli, marker=marker, config=config, ini=self.ini)

    def transcript_folder(self, test_path: Path) -> Path:
        return test_path.parent / self.base.transcript_dir / test_path.stem

    def note_collected(self, test_path: Path, test_name: str) -> None:
        # Called for every collected item: one folder computation per module, not per test.
        folder = self._folders.get(test_path)
        if folder is None:
            folder = self._folders[test_path] = str(self.transcript_folder(test_path))
        safe = safe_name(test_name)
        self.collected.setdefault(folder, set()).add(safe)
        self._file_names.setdefault((test_path, safe), set()).add(test_name)

    def note_cassette_user(
        self, test_path: Path, test_name: str, nodeid: str, override: str | None
    ) -> None:
        """A collected test that uses ``recorded_session`` records into this cassette."""
        from pytest_sessionmem.errors import ConfigError

        try:
            path = self._cassette_path(test_path, test_name, override)
        except ConfigError:  # a bad cassette= name: the test's set-up says so
            return
        self._cassette_users.setdefault(path, set()).add(nodeid)

    def _cassette_path(self, test_path: Path, test_name: str, override: str | None) -> str:
        return str(
            test_file_path(
                test_path,
                folder=self.base.cassette_dir,
                test_name=test_name,
                suffix=CASSETTE_SUFFIX,
                override=override,
            )
        )

    def note_ran(self, test_path: Path, test_name: str) -> None:
        self.ran.add(f"{self.transcript_folder(test_path)}::{safe_name(test_name)}")

    def note_selection(self, args: list[str]) -> None:
        """Node ids on the command line (``file.py::test``) collect part of a module only."""
        if any("::" in arg for arg in args):
            self.partial = True

    def note_deselected(self) -> None:
        self.partial = True

    # -- each test's context -----------------------------------------------------------------

    def open_session(
        self, settings: Settings, *, test_path: Path, test_name: str, nodeid: str
    ) -> RecordedSession:
        """Build the ``recorded_session`` of one test."""
        if settings.cassette is None:
            self._check_own_files(test_path, test_name, nodeid)
        self._check_shared_cassette(test_path, test_name, nodeid, settings.cassette)
        return open_context(
            settings, self.upstream, test_path=test_path, test_name=test_name, nodeid=nodeid
        )

    def _check_own_files(self, test_path: Path, test_name: str, nodeid: str) -> None:
        safe = safe_name(test_name)
        others = sorted(self._file_names.get((test_path, safe), set()) - {test_name})
        if not others:
            return
        from pytest_sessionmem.errors import ConfigError

        shown = ", ".join(repr(name) for name in others)
        raise ConfigError(
            f"{nodeid} and {shown} in the same module would share one cassette and one "
            f"expected-transcript file, {safe}.*: their names differ only in characters a file "
            "name cannot hold, so each would overwrite the other's recording. Give each test "
            "its own parametrize id, e.g. pytest.param(..., id='a-b') (or, for the cassette "
            "alone, @pytest.mark.sessionmem(cassette='...'))."
        )

    def _check_shared_cassette(
        self, test_path: Path, test_name: str, nodeid: str, override: str | None
    ) -> None:
        """Two collected tests that record into one cassette fail, both, with one message."""
        path = self._cassette_path(test_path, test_name, override)
        users = self._cassette_users.get(path, set()) | {nodeid}
        if len(users) < 2:
            return
        from pytest_sessionmem.errors import ConfigError

        try:
            shown_path = str(Path(path).relative_to(self.rootdir))
        except ValueError:
            shown_path = path
        tests = sorted(users)
        listed = ", ".join(tests[:-1]) + f" and {tests[-1]}"
        raise ConfigError(
            f"{listed} record into one cassette, {shown_path}: each would overwrite the "
            "other's recording, and the next replay would miss its requests. Give each test "
            "its own cassette: a different @pytest.mark.sessionmem(cassette='...') name, or "
            "none (each test then records into a file named after it)."
        )

    def close_session(
        self, recorded: RecordedSession, *, nodeid: str, failed: bool, keep_failed: bool
    ) -> CassetteOutcome:
        """Close the test's context, then remember what happened to its files."""
        outcome = close_context(recorded, nodeid=nodeid, failed=failed, keep_failed=keep_failed)
        self.outcomes.append(outcome)
        for use in recorded.transcript_uses:
            self.transcripts_used.add(str(use.path))
            if use.written:
                self.transcripts_written.add(str(use.path))
        return outcome

    def stop(self) -> None:
        self.upstream.stop()

    # -- xdist ---------------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """What a worker sends to the controller (plain JSON-able data)."""
        return {
            "outcomes": [asdict(o) for o in self.outcomes],
            "transcripts_used": sorted(self.transcripts_used),
            "transcripts_written": sorted(self.transcripts_written),
            "collected": {k: sorted(v) for k, v in self.collected.items()},
            "ran": sorted(self.ran),
            "partial": self.partial,
        }

    def merge(self, data: Mapping[str, Any]) -> None:
        self.outcomes.extend(CassetteOutcome(**o) for o in data.get("outcomes", ()))
        self.transcripts_used.update(data.get("transcripts_used", ()))
        self.transcripts_written.update(data.get("transcripts_written", ()))
        for folder, names in data.get("collected", {}).items():
            self.collected.setdefault(folder, set()).update(names)
        self.ran.update(data.get("ran", ()))
        self.partial = self.partial or bool(data.get("partial", False))

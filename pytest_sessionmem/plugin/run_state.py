"""Per-run state of the plugin: settings sources, the shared emulator, and the end-of-run report.

One :class:`RunState` lives in ``config.stash`` for each pytest process. Under
pytest-xdist every worker has its own and sends :meth:`RunState.export` to the
controller, which merges them with :meth:`RunState.merge`, so the summary and the
unused-file report cover the whole run.

Imported when pytest starts, so it stays light: httpx, pydantic and the emulator load
only when a test needs them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.plugin.paths import (
    CASSETTE_SUFFIX,
    TRANSCRIPT_SUFFIX,
    safe_name,
    test_file_path,
)
from pytest_sessionmem.plugin.settings import Settings, resolve_settings

if TYPE_CHECKING:
    from pytest_sessionmem.emulator.runner import EmulatorServer
    from pytest_sessionmem.plugin.context import RecordedSession

__all__ = ["API_KEY_ENV", "CassetteOutcome", "RunState"]

# Credentials per provider; their values are scrubbed from every recording.
API_KEY_ENV: dict[str, str] = {
    "zep": "ZEP_API_KEY",
    "meibel": "MEIBEL_API_KEY",
    "eliza": "ELIZA_SERVER_AUTH_TOKEN",
}


@dataclass(frozen=True)
class CassetteOutcome:
    """What happened to one test's cassette."""

    nodeid: str
    path: str
    mode: str
    played: int
    recorded: int
    unused: int
    written: bool
    discarded: bool


class RunState:
    """Everything the plugin keeps for one pytest process."""

    def __init__(self, *, cli: Mapping[str, Any], ini: Mapping[str, Any], rootdir: Path) -> None:
        self.cli = dict(cli)
        self.ini = dict(ini)
        self.rootdir = rootdir
        self.base = resolve_settings(cli=self.cli, ini=self.ini)
        self.outcomes: list[CassetteOutcome] = []
        self.transcripts_used: set[str] = set()
        self.transcripts_written: set[str] = set()
        # transcript folder of a collected module -> safe names of its collected tests
        self.collected: dict[str, set[str]] = {}
        self.ran: set[str] = set()  # "<transcript folder>::<safe test name>" of tests that ran
        # A run that selected some tests only (-k, -m, node ids, --lf) cannot tell a stale
        # transcript file from one whose test it left out, so it reports none.
        self.partial = False
        self._emulator: EmulatorServer | None = None
        self._folders: dict[Path, str] = {}

    # -- settings and sessions -----------------------------------------------------------

    def settings_for(self, marker: Mapping[str, Any]) -> Settings:
        return resolve_settings(cli=self.cli, marker=marker, ini=self.ini)

    def transcript_folder(self, test_path: Path) -> Path:
        return test_path.parent / self.base.transcript_dir / test_path.stem

    def note_collected(self, test_path: Path, test_name: str) -> None:
        # Called for every collected item: one folder computation per module, not per test.
        folder = self._folders.get(test_path)
        if folder is None:
            folder = self._folders[test_path] = str(self.transcript_folder(test_path))
        self.collected.setdefault(folder, set()).add(safe_name(test_name))

    def note_ran(self, test_path: Path, test_name: str) -> None:
        self.ran.add(f"{self.transcript_folder(test_path)}::{safe_name(test_name)}")

    def note_selection(self, args: list[str]) -> None:
        """Node ids on the command line (``file.py::test``) collect part of a module only."""
        if any("::" in arg for arg in args):
            self.partial = True

    def note_deselected(self) -> None:
        self.partial = True

    def open_session(
        self,
        settings: Settings,
        *,
        test_path: Path,
        test_name: str,
        nodeid: str,
    ) -> RecordedSession:
        """Build the ``recorded_session`` of one test."""
        from pytest_sessionmem.cassette import CassetteSession, RecordMode, ScrubConfig
        from pytest_sessionmem.plugin.context import RecordedSession

        cassette_path = test_file_path(
            test_path,
            folder=settings.cassette_dir,
            test_name=test_name,
            suffix=CASSETTE_SUFFIX,
            override=settings.cassette,
        )
        mode = RecordMode(settings.record_mode)
        secrets = {env: value for env in API_KEY_ENV.values() if (value := os.environ.get(env))}
        scrub = ScrubConfig(
            headers=settings.scrub_headers,
            query_params=settings.scrub_query_params,
            json_paths=settings.scrub_json_paths,
            patterns=settings.scrub_patterns,
            secrets=secrets,
        )
        will_record = (
            mode is RecordMode.ALL
            or mode is RecordMode.NEW_EPISODES
            or (mode is RecordMode.ONCE and not cassette_path.exists())
        )
        base_url = self._base_url(settings, recording=will_record, nodeid=nodeid)
        record_command = f"pytest '{nodeid}' --sessionmem-record-mode=once"
        session = CassetteSession(
            cassette_path,
            mode=mode,
            base_url=base_url,
            scrub=scrub,
            record_command=record_command,
            # Only a recording test needs the network side; building one costs an SSL
            # context, which replay-only runs skip.
            real_transport=_one_shot_transport() if will_record else None,
            real_async_transport=_one_shot_async_transport() if will_record else None,
        )
        api_key = os.environ.get(API_KEY_ENV[settings.provider]) if settings.provider else None
        transcript_path = test_file_path(
            test_path,
            folder=settings.transcript_dir,
            test_name=test_name,
            suffix=TRANSCRIPT_SUFFIX,
        )
        return RecordedSession(
            provider=settings.provider,
            session_id=settings.session_id,
            base_url=base_url,
            cassette=session,
            transcript_path=transcript_path,
            update=settings.update,
            api_key=api_key,
            replaying=not session.is_recording,
            emulator=self._emulator if will_record and settings.emulator else None,
        )

    def close_session(
        self, recorded: RecordedSession, *, nodeid: str, failed: bool, keep_failed: bool
    ) -> CassetteOutcome:
        """Close the clients, write the cassette if it should be, and remember the outcome."""
        recorded.close()
        report = recorded.cassette.session.finish(failed=failed, keep_on_failure=keep_failed)
        outcome = CassetteOutcome(
            nodeid=nodeid,
            path=str(report.path),
            mode=recorded.cassette.mode,
            played=report.played,
            recorded=report.recorded,
            # A failed test stopped early: what it did not replay says nothing about the
            # cassette, and a warning on top of the failure would only hide it.
            unused=0 if failed else report.unused,
            written=report.written,
            discarded=report.discarded,
        )
        self.outcomes.append(outcome)
        for use in recorded.transcript_uses:
            self.transcripts_used.add(str(use.path))
            if use.written:
                self.transcripts_written.add(str(use.path))
        return outcome

    # -- the emulator ----------------------------------------------------------------------

    def emulator(self) -> EmulatorServer:
        """The emulator shared by this process, started on first use."""
        if self._emulator is None:
            from pytest_sessionmem.emulator.runner import EmulatorServer

            self._emulator = EmulatorServer(seed=0).start()
        return self._emulator

    def _base_url(self, settings: Settings, *, recording: bool, nodeid: str) -> str:
        if settings.base_url:
            return settings.base_url
        if settings.emulator and recording and settings.provider:
            server = self.emulator()
            # A fresh, seeded emulator per recording test: the same test records the
            # same bytes every time, whatever ran before it.
            server.control.reset(seed=_seed_for(nodeid))
            return server.base_url(settings.provider)
        if settings.provider:
            from pytest_sessionmem.providers import PROVIDERS

            return PROVIDERS[settings.provider].default_base_url
        return "http://sessionmem.invalid"

    def stop(self) -> None:
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    # -- xdist -------------------------------------------------------------------------------

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

    # -- the report --------------------------------------------------------------------------

    def unused_transcript_files(self) -> list[Path]:
        """Expected-transcript files no test used, in folders of modules this run collected.

        A file counts as unused when its test no longer exists, or when its test ran and
        did not read it. Only folders of collected modules are looked at, and a run that
        selected part of the tests (``-k``, ``-m``, node ids) reports nothing, so a partial
        run never calls a file unused.
        """
        unused: list[Path] = []
        if self.partial:
            return unused
        for folder, names in self.collected.items():
            directory = Path(folder)
            if not directory.is_dir():
                continue
            for file in sorted(directory.glob(f"*{TRANSCRIPT_SUFFIX}")):
                stem = file.name[: -len(TRANSCRIPT_SUFFIX)]
                gone = stem not in names
                ran_without_use = (
                    f"{folder}::{stem}" in self.ran and str(file) not in self.transcripts_used
                )
                if gone or ran_without_use:
                    unused.append(file)
        return unused

    def summary_lines(self) -> list[str]:
        if not self.outcomes and not self.transcripts_written and not self.collected:
            return []
        replayed = [o for o in self.outcomes if o.played and not o.recorded]
        written = [o for o in self.outcomes if o.written]
        discarded = [o for o in self.outcomes if o.discarded]
        added = sum(o.recorded for o in self.outcomes)
        unused = sum(o.unused for o in self.outcomes)
        lines: list[str] = []
        if self.outcomes:
            lines.append(
                f"{len(replayed)} cassettes replayed, {len(written)} recorded "
                f"({added} interactions added), {unused} unused interactions"
            )
        for o in self.outcomes:
            if o.unused:
                lines.append(
                    f"  unused: {o.unused} interaction(s) in {self._rel(o.path)} ({o.nodeid})"
                )
        for o in discarded:
            lines.append(
                f"  discarded: {self._rel(o.path)} was not written because {o.nodeid} failed "
                "(--sessionmem-keep-failed keeps it)"
            )
        for path in sorted(self.transcripts_written):
            lines.append(f"  transcript written: {self._rel(path)}")
        stale = self.unused_transcript_files()
        if stale:
            lines.append(f"{len(stale)} expected-transcript file(s) no test used:")
            lines.extend(f"  {self._rel(str(p))}" for p in stale)
        return lines

    def _rel(self, path: str) -> str:
        try:
            return str(Path(path).relative_to(self.rootdir))
        except ValueError:
            return path


def _seed_for(nodeid: str) -> int:
    return int.from_bytes(hashlib.sha256(nodeid.encode("utf-8")).digest()[:4], "big")


def _one_shot_transport() -> Any:
    """A real transport that closes each connection after its response.

    Recording needs no keep-alive, and a pool left open at the end of a test would leak
    sockets (a ResourceWarning under ``filterwarnings = error``). It is a "direct"
    transport, so an active ``intercept_httpx`` does not record its traffic twice.
    """
    import httpx

    from pytest_sessionmem.cassette.intercept import DirectHTTPTransport

    return DirectHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


def _one_shot_async_transport() -> Any:
    import httpx

    from pytest_sessionmem.cassette.intercept import DirectAsyncHTTPTransport

    return DirectAsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))

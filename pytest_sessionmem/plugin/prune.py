"""``--sessionmem-prune``: delete the cassette and transcript files no collected test uses.

Only a full, green run can tell an unused file from one whose test was left out, so prune
refuses, and says why, when the run

* selected part of the tests: ``-k``, ``-m``, node ids, ``--lf``, ``--sw``, ``--deselect``
  (refused before any test runs), or a plugin deselected some (refused at the end);
* had a failing test (it may have stopped before it read its files) or was interrupted.

Prune also removes the temporary files a killed writer left in those folders (see
:mod:`pytest_sessionmem.support.atomic_file`) and lists them. It deletes nothing whose real place
is outside the real cassette or transcript folder: a file reached through a symlinked
folder that leads elsewhere is reported, not deleted.

A file counts as unused, in the cassette and transcript folders of the modules the run
collected, when no test of that module has its name (the test is gone), or when its test
ran and did not open it. Files a test opened (also through ``cassette=``) and files a
marker names with ``cassette=`` are kept. Under pytest-xdist the workers report what
they collected, ran and opened, and the controller alone deletes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_sessionmem.plugin.paths import CASSETTE_SUFFIX, link_leaving
from pytest_sessionmem.plugin.report import unused_transcript_files
from pytest_sessionmem.support.atomic_file import remove_stale_temporaries

if TYPE_CHECKING:
    from pytest_sessionmem.plugin.run_state import RunState

__all__ = ["PruneResult", "PruneTracker", "partial_reason", "prune_unused"]


def partial_reason(
    *,
    args: Sequence[str],
    keyword: str,
    markexpr: str,
    last_failed: bool,
    stepwise: bool,
    deselect: Sequence[str],
) -> str | None:
    """Why a run with these options selects part of the tests, or ``None`` for a full run."""
    if keyword:
        return f"-k {keyword!r} selects part of the tests"
    if markexpr:
        return f"-m {markexpr!r} selects part of the tests"
    node_ids = [arg for arg in args if "::" in arg]
    if node_ids:
        return f"node id {node_ids[0]!r} selects part of a module"
    if last_failed:
        return "--lf runs the last failures only"
    if stepwise:
        return "--sw may stop at the first failure and skips what passed before"
    if deselect:
        return f"--deselect {deselect[0]!r} leaves tests out"
    return None


@dataclass
class PruneTracker:
    """What prune needs beyond the run state: the ``cassette=`` names markers use."""

    # cassette folder of a collected module -> cassette names its markers set
    overrides: dict[str, set[str]] = field(default_factory=dict)

    def note_marker_cassette(self, folder: Path, name: str) -> None:
        file = name if Path(name).suffix else name + CASSETTE_SUFFIX
        self.overrides.setdefault(str(folder), set()).add(str(folder / file))

    def export(self) -> dict[str, Any]:
        return {"overrides": {k: sorted(v) for k, v in self.overrides.items()}}

    def merge(self, data: Mapping[str, Any]) -> None:
        for folder, names in data.get("overrides", {}).items():
            self.overrides.setdefault(folder, set()).update(names)


@dataclass(frozen=True)
class PruneResult:
    """What prune did: the files deleted, or why it deleted nothing."""

    deleted: tuple[Path, ...] = ()
    refused: str | None = None
    # (symlinked folder, where it leads, unused files behind it): left alone
    outside: tuple[tuple[Path, str, int], ...] = ()
    temporaries: tuple[Path, ...] = ()  # left by a writer that was killed

    def lines(self, rootdir: Path) -> list[str]:
        if self.refused:
            return [f"prune: nothing deleted: {self.refused}"]
        lines: list[str] = []
        if self.deleted:
            lines.append(f"prune: deleted {len(self.deleted)} unused file(s):")
            lines.extend(f"  {_rel(rootdir, path)}" for path in self.deleted)
        elif not self.outside and not self.temporaries:
            lines.append("prune: every cassette and transcript file is used; nothing deleted")
        if self.temporaries:
            lines.append(
                f"prune: removed {len(self.temporaries)} temporary file(s) a killed run left:"
            )
            lines.extend(f"  {_rel(rootdir, path)}" for path in self.temporaries)
        if self.outside:
            count = sum(files for _, _, files in self.outside)
            lines.append(
                f"prune: left {count} unused file(s) alone behind symlinked folders that lead "
                "out of the cassette and transcript folders:"
            )
            lines.extend(
                f"  {_rel(rootdir, link)} -> {target} ({files} file(s))"
                for link, target, files in self.outside
            )
        return lines


def _rel(rootdir: Path, path: Path) -> str:
    try:
        return str(path.relative_to(rootdir))
    except ValueError:
        return str(path)


def _module_folders(
    state: RunState, transcript_dir: str, cassette_dir: str
) -> Iterable[tuple[Path, str, set[str]]]:
    """``(cassette folder, transcript folder, test names)`` of every collected module."""
    depth = len(Path(transcript_dir).parts)
    for folder, names in state.collected.items():
        transcripts = Path(folder)
        test_dir = transcripts.parents[depth]  # <test dir>/<transcript_dir>/<module>
        yield test_dir / cassette_dir / transcripts.name, folder, names


def unused_cassettes(state: RunState, tracker: PruneTracker) -> list[Path]:
    """Cassette files in collected modules' folders that no test uses (see the module doc)."""
    opened = {str(Path(o.path)) for o in state.outcomes}
    unused: list[Path] = []
    base = state.base
    for folder, transcript_folder, names in _module_folders(
        state, base.transcript_dir, base.cassette_dir
    ):
        if not folder.is_dir():
            continue
        kept = tracker.overrides.get(str(folder), set())
        for file in sorted(folder.rglob(f"*{CASSETTE_SUFFIX}")):
            if str(file) in opened or str(file) in kept:
                continue
            stem = file.name[: -len(CASSETTE_SUFFIX)]
            named_after_test = file.parent == folder and stem in names
            ran = f"{transcript_folder}::{stem}" in state.ran
            if not named_after_test or ran:
                unused.append(file)
    return unused


def prune_unused(
    state: RunState, tracker: PruneTracker, *, failed: int, interrupted: bool
) -> PruneResult:
    """Delete the unused files of a full, green run; otherwise say why not."""
    if state.partial:
        return PruneResult(
            refused="this run left some tests out (deselected), so a file whose test did not "
            "run would look unused; run the whole suite with --sessionmem-prune"
        )
    if interrupted:
        return PruneResult(refused="the run was interrupted before every test ran")
    if failed:
        return PruneResult(
            refused=f"{failed} test(s) failed, and a failing test may have stopped before it "
            "read its files; fix them, then run again with --sessionmem-prune"
        )
    module_folders = {
        Path(folder)
        for cassettes, transcripts, _ in _module_folders(
            state, state.base.transcript_dir, state.base.cassette_dir
        )
        for folder in (cassettes, transcripts)
    }
    deleted: list[Path] = []
    outside: dict[Path, int] = {}
    for file in [*unused_cassettes(state, tracker), *unused_transcript_files(state)]:
        link = _link_out(file, module_folders)
        if link is not None:
            outside[link] = outside.get(link, 0) + 1
            continue
        try:
            file.unlink()
        except FileNotFoundError:
            continue
        deleted.append(file)
        _remove_empty_folders(file.parent, module_folders)
    temporaries: list[Path] = []
    for folder in sorted(module_folders):
        if folder.is_dir() and link_leaving(folder / "file", folder.parent) is None:
            for here, _, _ in os.walk(folder):  # links below are not followed
                temporaries.extend(remove_stale_temporaries(Path(here)))
    return PruneResult(
        deleted=tuple(deleted),
        temporaries=tuple(temporaries),
        outside=tuple(
            (link, os.path.realpath(link), files) for link, files in sorted(outside.items())
        ),
    )


def _link_out(file: Path, module_folders: set[Path]) -> Path | None:
    """The symlinked folder through which ``file`` lies outside its cassette or transcript
    folder (the parent of its module's folder), or ``None``."""
    for folder in file.parents:
        if folder in module_folders:
            return link_leaving(file, folder.parent)
    return None


def _remove_empty_folders(folder: Path, module_folders: set[Path]) -> None:
    """Remove folders the deletion emptied, up to and including the module's folder."""
    while True:
        try:
            folder.rmdir()
        except OSError:
            return
        if folder in module_folders or folder.parent == folder:
            return
        folder = folder.parent


def marker_cassette_names(markers: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ``cassette=`` values of a test's ``sessionmem`` markers."""
    return [str(kw["cassette"]) for kw in markers if isinstance(kw.get("cassette"), str)]

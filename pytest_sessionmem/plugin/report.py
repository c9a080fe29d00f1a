"""The end-of-run report: what happened to each cassette and which files no test used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pytest_sessionmem.plugin.paths import TRANSCRIPT_SUFFIX

__all__ = ["CassetteOutcome", "RunFacts", "summary_lines", "unused_transcript_files"]


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
    verified: int = 0
    drifted: int = 0
    verify: bool = False
    """Under ``--sessionmem-verify``: compared with the live service, never replayed or recorded."""


class RunFacts(Protocol):
    """What the report reads of the run (``RunState`` has it all)."""

    @property
    def rootdir(self) -> Path: ...

    @property
    def outcomes(self) -> Sequence[CassetteOutcome]: ...

    @property
    def transcripts_used(self) -> Set[str]: ...

    @property
    def transcripts_written(self) -> Set[str]: ...

    @property
    def collected(self) -> Mapping[str, Set[str]]: ...

    @property
    def ran(self) -> Set[str]: ...

    @property
    def partial(self) -> bool: ...


def unused_transcript_files(state: RunFacts) -> list[Path]:
    """Expected-transcript files no test used, in folders of modules this run collected.

    A file counts as unused when its test no longer exists, or when its test ran and
    did not read it. Only folders of collected modules are looked at, and a run that
    selected part of the tests (``-k``, ``-m``, node ids) reports nothing, so a partial
    run never calls a file unused.
    """
    unused: list[Path] = []
    if state.partial:
        return unused
    for folder, names in state.collected.items():
        directory = Path(folder)
        if not directory.is_dir():
            continue
        for file in sorted(directory.glob(f"*{TRANSCRIPT_SUFFIX}")):
            stem = file.name[: -len(TRANSCRIPT_SUFFIX)]
            gone = stem not in names
            ran_without_use = (
                f"{folder}::{stem}" in state.ran and str(file) not in state.transcripts_used
            )
            if gone or ran_without_use:
                unused.append(file)
    return unused


def _count(number: int, noun: str) -> str:
    """``1 cassette``, ``2 cassettes``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def summary_lines(state: RunFacts, *, unused_cassettes: Sequence[Path] = ()) -> list[str]:
    if not state.outcomes and not state.transcripts_written and not state.collected:
        return []
    # A verified cassette is neither replayed nor recorded: the verify line speaks for it.
    verifying = [o for o in state.outcomes if o.verify]
    others = [o for o in state.outcomes if not o.verify]
    replayed = [o for o in others if o.played and not o.recorded]
    written = [o for o in others if o.written]
    discarded = [o for o in state.outcomes if o.discarded]
    added = sum(o.recorded for o in others)
    unused = sum(o.unused for o in others)
    lines: list[str] = []
    if others:
        lines.append(
            f"{_count(len(replayed), 'cassette')} replayed, {len(written)} recorded "
            f"({_count(added, 'interaction')} added), {_count(unused, 'unused interaction')}"
        )
    if verifying:
        verified = [o for o in verifying if o.verified]
        drifted = sum(o.drifted for o in verified)
        lines.append(
            f"verify: {sum(o.verified for o in verified)} interaction(s) of {len(verified)} "
            f"cassette(s) compared with the live service, {drifted} drifted"
        )
        lines.extend(
            f"  drifted: {_rel(state.rootdir, o.path)} ({o.nodeid})" for o in verified if o.drifted
        )
    for o in state.outcomes:
        if o.unused:
            lines.append(
                f"  unused: {_count(o.unused, 'interaction')} in {_rel(state.rootdir, o.path)} "
                f"({o.nodeid})"
            )
    for o in discarded:
        lines.append(
            f"  discarded: {_rel(state.rootdir, o.path)} was not written because {o.nodeid} failed "
            "(--sessionmem-keep-failed keeps it)"
        )
    for path in sorted(state.transcripts_written):
        lines.append(f"  transcript written: {_rel(state.rootdir, path)}")
    stale = unused_transcript_files(state)
    if stale:
        lines.append(f"{_count(len(stale), 'expected-transcript file')} no test used:")
        lines.extend(f"  {_rel(state.rootdir, str(p))}" for p in stale)
    if unused_cassettes:
        lines.append(f"{_count(len(unused_cassettes), 'cassette file')} no test used:")
        lines.extend(f"  {_rel(state.rootdir, str(p))}" for p in unused_cassettes)
    return lines


def _rel(rootdir: Path, path: str) -> str:
    try:
        return str(Path(path).relative_to(rootdir))
    except ValueError:
        return path

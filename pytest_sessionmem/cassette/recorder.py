"""One test's record/replay state: :class:`CassetteSession`.

Record modes (the vcrpy meanings):

========================  =====================================================================
``none``                  replay only; never opens a socket. A miss is :class:`UnmatchedRequest`.
``once``                  record everything when the file does not exist, else behave like ``none``.
``new_episodes``          replay what matches, record (and append) what does not.
``all``                   record everything afresh; the existing file is not even read and is
                          replaced when the test finishes well.
========================  =====================================================================

Each recorded response replays once, in recorded order, so "read, write, read again" and
polling loops replay faithfully. The plugin calls :meth:`CassetteSession.finish` after the
test: new recordings are written atomically, or discarded when the test failed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import httpx

from pytest_sessionmem.cassette.capture import capture_request, capture_response, to_httpx_response
from pytest_sessionmem.cassette.direct import (
    OnFirstUse,
    one_shot_async_transport,
    one_shot_transport,
)
from pytest_sessionmem.cassette.matching import (
    MatchKey,
    explain_miss,
    ignoring,
    match_key,
    pii_blind_key,
)
from pytest_sessionmem.cassette.schema import (
    REPLACE,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from pytest_sessionmem.cassette.scrub import Scrubber, ScrubConfig
from pytest_sessionmem.cassette.store import (
    dump_cassette,
    load_cassette,
    sniff_recorded_against,
    write_atomic,
)
from pytest_sessionmem.cassette.transports import RecordingTransport, ReplayTransport
from pytest_sessionmem.errors import (
    CassetteDrift,
    CassetteNotFound,
    ConfigError,
    UnmatchedRequest,
)
from pytest_sessionmem.support.gc_freeze import old_objects_frozen

__all__ = ["CassetteSession", "FinishReport", "RecordHint", "RecordMode", "goes_live"]


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_T = TypeVar("_T")


def _checked(value: object, kind: type[_T], hook: str) -> _T:
    """A ``before_record_*`` hook's answer, or a ConfigError saying what it must return."""
    if not isinstance(value, kind):
        raise ConfigError(
            f"{hook} returned {type(value).__name__}; it must return the {kind.__name__} it "
            f"was given, changed with dataclasses.replace(...) if needed."
        )
    return value


class RecordMode(str, Enum):
    """When a cassette session may go to the network (see the module docstring)."""

    NONE = "none"
    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"


def goes_live(mode: RecordMode, *, file_exists: bool, verify: bool = False) -> bool:
    """The one decision whether a test records (reaches the network) or replays.

    ``--sessionmem-verify`` goes live like a recording run and compares instead of writing.
    """
    if verify:
        return True
    if mode is RecordMode.ONCE:
        return not file_exists
    return mode in (RecordMode.NEW_EPISODES, RecordMode.ALL)


@dataclass(frozen=True)
class FinishReport:
    """What :meth:`CassetteSession.finish` did."""

    path: Path
    written: bool
    played: int
    recorded: int
    unused: int
    discarded: bool
    verified: int = 0
    drifted: int = 0


#: Builds the end of a "to record it" message: ``hint(record_mode, recorded_against)``, where
#: ``recorded_against`` is ``"emulator"``, ``"service"`` or ``None`` (unknown). The plugin
#: passes one that prints commands that work when copied.
RecordHint = Callable[[str, "str | None"], str]


def _default_hint(record_command: str) -> RecordHint:
    def hint(mode: str, against: str | None) -> str:
        if record_command:
            return f"run:\n    {record_command}"
        flag = " --sessionmem-emulator" if against == "emulator" else ""
        return f"run the test with --sessionmem-record-mode={mode}{flag}."

    return hint


def _sibling_recorded_against(path: Path) -> str | None:
    """Where the other cassettes of the same test module were recorded, if they agree."""
    seen: set[str] = set()
    try:
        siblings = sorted(path.parent.glob("*.json"))[:50]
    except OSError:
        return None
    for sibling in siblings:
        try:
            found = sniff_recorded_against(sibling.read_bytes()[:4096])
        except OSError:
            continue
        if found:
            seen.add(found)
    return seen.pop() if len(seen) == 1 else None


class CassetteSession:
    """The cassette of one test: loads it, replays from it, records into it, writes it back."""

    def __init__(
        self,
        path: Path,
        *,
        mode: RecordMode,
        base_url: str,
        scrub: ScrubConfig = ScrubConfig(),  # noqa: B008 - frozen, so sharing the default is safe
        record_command: str = "",
        record_hint: RecordHint | None = None,
        recorded_against: str = "",
        real_transport: httpx.BaseTransport | None = None,
        real_async_transport: httpx.AsyncBaseTransport | None = None,
        match_ignore: Sequence[str] = (),
        before_record_request: Callable[[RecordedRequest], RecordedRequest] | None = None,
        before_record_response: Callable[[RecordedResponse], RecordedResponse] | None = None,
        verify: bool = False,
    ) -> None:
        try:
            self.mode = RecordMode(mode)
        except ValueError:
            valid = ", ".join(m.value for m in RecordMode)
            raise ConfigError(f"{mode!r} is not a record mode. Valid modes: {valid}.") from None
        self.path = Path(path)
        self.base_url = base_url
        self._base = httpx.URL(base_url)
        self._redactor = Scrubber(scrub)
        self._match_ignore = tuple(match_ignore)
        self._pii_blind = scrub.pii
        self._before_request = before_record_request
        self._before_response = before_record_response
        self._record_hint = record_hint or _default_hint(record_command)
        # Where this session records ("emulator" or "service"); stored in the file it writes.
        self._recording_against = recorded_against
        self._recorded_against = ""  # what the loaded file says
        # The network side is built on first use: a replaying session never builds one.
        self._real = OnFirstUse(real_transport, one_shot_transport)
        self._real_async = OnFirstUse(real_async_transport, one_shot_async_transport)
        self._lock = threading.Lock()  # SDKs may send from several threads
        self._file_existed = self.path.exists()
        self.verify = verify
        self.verified = 0
        self.drifted = 0
        if verify and not self._file_existed:
            command = record_command or "pytest --sessionmem-record-mode=once"
            raise CassetteNotFound(
                f"Cassette {self.path} does not exist, so --sessionmem-verify has nothing to "
                f"compare the live answers with. Record it first:\n    {command}",
                path=str(self.path),
            )
        self._recorded_base_url = ""
        loaded: tuple[Interaction, ...] = ()
        self._standard_json = True
        # `all` ignores the old file entirely, so even a corrupt one can be re-recorded.
        if self._file_existed and (self.mode is not RecordMode.ALL or verify):
            with old_objects_frozen():  # a large file is 100,000s of objects, none garbage
                cassette = load_cassette(self.path, rerecord=self._rerecord)
            loaded, self._recorded_base_url = cassette.interactions, cassette.base_url
            self._recorded_against = cassette.recorded_against
            self._standard_json = cassette.standard_json
        self._loaded = loaded
        self._play_counts = [0] * len(loaded)
        # match key -> indices of loaded interactions not played yet, in recorded order;
        # built on the first replay, so a request costs one lookup, not a scan of the file.
        self._unplayed: dict[MatchKey, deque[int]] | None = None
        self._new: list[Interaction] = []
        # Every exchange the test made, replayed or recorded, in the order it made them.
        self._exchanges: list[Interaction] = []
        self._transport: ReplayTransport | RecordingTransport | None = None
        # Every CassetteNotFound / UnmatchedRequest raised, in order: a test that catches one
        # (a broad ``except``) still has it reported when it ends.
        self.misses: list[CassetteNotFound | UnmatchedRequest] = []

    # -- state --------------------------------------------------------------------------------

    @property
    def is_recording(self) -> bool:
        """True when this session may reach the network (and, unless verifying, write the file)."""
        return goes_live(self.mode, file_exists=self._file_existed, verify=self.verify)

    @property
    def recorded_against(self) -> str:
        """Where the interactions come from: ``"emulator"``, ``"service"`` or ``""`` (unknown)."""
        return self._recording_against if self.is_recording else self._recorded_against

    @property
    def replays_first(self) -> bool:
        """True when a recording session still answers matching requests from the file."""
        return self.mode is RecordMode.NEW_EPISODES and not self.verify

    @property
    def interactions(self) -> Sequence[Interaction]:
        """Every interaction the file will hold: loaded ones, then new ones, in order."""
        return (*self._loaded, *self._new)

    @property
    def exchanges(self) -> Sequence[Interaction]:
        """What this test sent and got, in order, as stored (scrubbed): replayed or recorded."""
        with self._lock:
            return tuple(self._exchanges)

    @property
    def played(self) -> int:
        """How many requests were answered from the cassette."""
        return sum(self._play_counts)

    @property
    def recorded(self) -> int:
        """How many interactions were recorded in this run."""
        return len(self._new)

    def unused(self) -> list[Interaction]:
        """Loaded interactions that no request replayed."""
        pairs = zip(self._loaded, self._play_counts, strict=True)
        return [item for item, count in pairs if count == 0]

    # -- transports ---------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """The transport to hand to ``httpx.Client(transport=...)``: replays or records per mode."""
        return self._shared_transport()

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """The same, for ``httpx.AsyncClient``."""
        return self._shared_transport()

    def _shared_transport(self) -> ReplayTransport | RecordingTransport:
        if self._transport is None:
            self._transport = self.make_transport(real=self._real, real_async=self._real_async)
        return self._transport

    def make_transport(
        self,
        *,
        real: Callable[[], httpx.BaseTransport],
        real_async: Callable[[], httpx.AsyncBaseTransport],
    ) -> ReplayTransport | RecordingTransport:
        """A transport over this session; ``real()`` is called only when a request must go out."""
        if self.is_recording:
            return RecordingTransport(self, real=real, real_async=real_async)
        return ReplayTransport(self)

    # -- scrubbing for other files ---------------------------------------------------------------

    def scrub(self, value: Any) -> Any:
        """``value`` as this cassette would store it: secrets (and patterns, PII) replaced.

        Strings, and every string nested in lists and dicts. Anything else written next to
        the cassette (an expected-transcript file, a report) goes through this, so no file
        holds what the cassette would not, and placeholders agree across the files.
        """
        return self._redactor.value(value)

    # -- what the transports call -------------------------------------------------------------

    def capture(self, request: httpx.Request) -> RecordedRequest:
        """The scrubbed, base-relative form of a request (body already read)."""
        captured = capture_request(request, self._base)
        if self._before_request is not None:
            captured = _checked(
                self._before_request(captured), RecordedRequest, "before_record_request"
            )
        return self._redactor.request(captured)

    def _key(self, request: RecordedRequest) -> MatchKey:
        """What replay compares: :func:`match_key`, minus ``match_ignore``, PII-number blind."""
        if self._match_ignore:
            request = ignoring(request, self._match_ignore)
        return pii_blind_key(request) if self._pii_blind else match_key(request)

    def try_replay(
        self, request: httpx.Request, recorded: RecordedRequest
    ) -> httpx.Response | None:
        """The next unplayed recorded response for this request, or ``None``."""
        __tracebackhide__ = True
        if not self._file_existed and not self.is_recording:
            missing = CassetteNotFound(self._not_found_message(recorded), path=str(self.path))
            self.misses.append(missing)
            raise missing
        index = self._take(recorded)
        if index is None:
            return None
        with self._lock:
            self._exchanges.append(self._loaded[index])
        return to_httpx_response(
            self._loaded[index].response, request, standard_json=self._standard_json
        )

    def _take(self, recorded: RecordedRequest) -> int | None:
        """The first unplayed loaded interaction matching ``recorded``, marked played."""
        key = self._key(recorded)
        with self._lock:
            if self._unplayed is None:
                self._unplayed = {}
                for number, interaction in enumerate(self._loaded):
                    key_of = self._key(interaction.request)
                    self._unplayed.setdefault(key_of, deque()).append(number)
            waiting = self._unplayed.get(key)
            if not waiting:
                return None
            index = waiting.popleft()
            self._play_counts[index] += 1
            return index

    def replay(self, request: httpx.Request) -> httpx.Response:
        """Answer from the cassette, or raise ``UnmatchedRequest`` / ``CassetteNotFound``."""
        __tracebackhide__ = True
        recorded = self.capture(request)
        response = self.try_replay(request, recorded)
        if response is None:
            with self._lock:
                counts = list(self._play_counts)
            loaded: Sequence[Interaction] = self._loaded
            if self._match_ignore:  # explain what is compared, not what is ignored
                recorded = ignoring(recorded, self._match_ignore)
                loaded = [
                    Interaction(ignoring(item.request, self._match_ignore), item.response)
                    for item in loaded
                ]
            message = explain_miss(
                recorded,
                loaded,
                counts,
                cassette=str(self.path),
                mode=self.mode.value,
                how_to_record=self._unmatched_hint(),
            )
            unmatched = UnmatchedRequest(message, path=str(self.path))
            self.misses.append(unmatched)
            raise unmatched
        return response

    def record(self, recorded: RecordedRequest, response: httpx.Response, decoded: bytes) -> None:
        """Store the scrubbed copy of a live exchange (the test keeps the real response)."""
        captured = capture_response(response.status_code, response.headers, decoded)
        if self._before_response is not None:
            captured = _checked(
                self._before_response(captured), RecordedResponse, "before_record_response"
            )
        stored = self._redactor.response(captured)
        with self._lock:
            self._exchanges.append(Interaction(recorded, stored))
        if self.verify:
            self._check_drift(recorded, stored)
            return
        with self._lock:
            self._new.append(self._exchanges[-1])

    def _check_drift(self, recorded: RecordedRequest, live: RecordedResponse) -> None:
        """``--sessionmem-verify``: compare a live answer with its recorded twin; never store."""
        from pytest_sessionmem.cassette.drift import response_drift

        fix = (
            "Once the change is expected, re-record with --sessionmem-record-mode=all (add "
            "--sessionmem-emulator if the cassette was recorded against the emulator) and update "
            "the tests that read it."
        )
        index = self._take(recorded)
        with self._lock:
            self.verified += 1
        if index is None:
            with self._lock:
                self.drifted += 1
            raise CassetteDrift(
                f"Cassette drift in {self.path}: the live run sent {recorded.describe()}, which "
                "no recorded interaction matches, so the test's traffic has changed (or the "
                f"service now returns other ids). {fix}",
                path=str(self.path),
                interaction=recorded.describe(),
                paths=("request",),
            )
        changes = response_drift(self._loaded[index].response, live)
        if not changes:
            return
        with self._lock:
            self.drifted += 1
        name = f"interaction {index + 1} ({self._loaded[index].request.describe()})"
        raise CassetteDrift(
            f"Cassette drift in {name} of {self.path}: the live answer changed shape:\n"
            + "\n".join(f"  - {change}" for change in changes)
            + f"\n{fix}",
            path=str(self.path),
            interaction=name,
            paths=tuple(changes),
        )

    def _not_found_message(self, recorded: RecordedRequest) -> str:
        against = self._recorded_against or _sibling_recorded_against(self.path)
        return (
            f"Cassette {self.path} does not exist, and record mode {self.mode.value!r} only "
            f"replays, so {recorded.describe()} has no recorded answer. To record it, "
            f"{self._record_hint('once', against)}"
        )

    def _rerecord(self, against: str | None) -> str:
        # `all` ignores the old file, so the command works without deleting it first.
        return f"{REPLACE}; {self._record_hint('all', against)}"

    def _unmatched_hint(self) -> str:
        against = self._recorded_against or None
        if against == "emulator":
            return (
                "To record it, record the whole test again (new_episodes cannot work against "
                "the emulator: it starts empty for each recording test, so what the replayed "
                f"writes created would be missing); {self._record_hint('all', against)}"
            )
        if against == "service":
            return (
                "To add it to the cassette (the recorded interactions are kept), "
                f"{self._record_hint('new_episodes', against)}\n"
                "To record the whole test afresh instead, use --sessionmem-record-mode=all."
            )
        return f"To record the whole test again, {self._record_hint('all', against)}"

    # -- end of test --------------------------------------------------------------------------

    def finish(self, *, failed: bool, keep_on_failure: bool = False) -> FinishReport:
        """Write the cassette if this run recorded something (or the mode is ``all``).

        A failed test's recording is discarded, leaving the old file untouched, unless
        ``keep_on_failure``.
        """
        self.close()
        has_news = (bool(self._new) or self.mode is RecordMode.ALL) and not self.verify
        discarded = has_news and failed and not keep_on_failure
        written = has_news and not discarded
        if written:
            cassette = Cassette(
                base_url=self._recorded_base_url or self._stored_base_url(),
                interactions=tuple(self.interactions),
                recorded_against=self._recording_against or self._recorded_against,
            )
            with old_objects_frozen():
                data = dump_cassette(cassette)
            write_atomic(self.path, data)
        return FinishReport(
            path=self.path,
            written=written,
            played=self.played,
            recorded=self.recorded,
            unused=len(self.unused()),
            discarded=discarded,
            verified=self.verified,
            drifted=self.drifted,
        )

    def _stored_base_url(self) -> str:
        # Never store credentials from the URL, and scrub secrets like everything else.
        url = self._base.copy_with(username=None, password=None)
        if url.host in _LOOPBACK_HOSTS:
            # A local server (the emulator) gets a fresh port every run; keeping it would
            # make every re-recording a diff.
            url = url.copy_with(port=None)
        return self._redactor.text(str(url))

    def close(self) -> None:
        """Close the network transports this session created (never ones it was given)."""
        owned = self._real.release()
        if owned is not None:
            owned.close()

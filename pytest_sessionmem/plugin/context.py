"""The ``recorded_session`` object: one test's record/replay context.

It ties together the test's cassette, the provider and base URL the test talks to, our
clients on the cassette transport, httpx clients for SDKs, and the test's
expected-transcript file. It knows nothing of pytest; the plugin builds it and closes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_sessionmem.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from pytest_sessionmem.cassette import CassetteSession
    from pytest_sessionmem.client import AsyncSessionClient, SessionClient
    from pytest_sessionmem.emulator.runner import EmulatorServer
    from pytest_sessionmem.models import LLMCall, Memory, Transcript

__all__ = ["CassetteInfo", "RecordedSession", "TranscriptFileUse"]

T = TypeVar("T")

# Message fields an expected-transcript file can hold or compare (``raw`` is neither).
_SCRUBBED_FIELDS = ("content", "name", "metadata", "tool_id", "tool_name", "arguments", "result")

# The key an SDK is handed while replaying without credentials: it is scrubbed from
# every recording, so any non-empty value matches.
REPLAY_API_KEY = "sessionmem-replay"


@dataclass(frozen=True)
class CassetteInfo:
    """What a test can learn about its cassette."""

    path: Path
    mode: str
    session: CassetteSession = field(repr=False)

    @property
    def interactions(self) -> Sequence[Any]:
        return self.session.interactions

    @property
    def exists(self) -> bool:
        return self.path.exists()


@dataclass
class TranscriptFileUse:
    """How a test used its expected-transcript file (for the end-of-run report)."""

    path: Path
    written: bool = False


class RecordedSession:
    """Record/replay context of one test; reached through the ``recorded_session`` fixture."""

    def __init__(
        self,
        *,
        provider: str | None,
        session_id: str | None,
        base_url: str,
        cassette: CassetteSession,
        transcript_path: Path,
        update: bool,
        api_key: str | None,
        replaying: bool,
        emulator: EmulatorServer | None = None,
        nodeid: str = "",
    ) -> None:
        self.nodeid = nodeid
        self.provider = provider
        self.session_id = session_id
        self.base_url = base_url
        self.cassette = CassetteInfo(cassette.path, cassette.mode.value, cassette)
        self.transcript_path = transcript_path
        self.update = update
        self.replaying = replaying
        self.emulator = emulator
        """The emulator this test records against, or ``None`` (replaying, or a real service).

        Seed it through ``emulator.control`` only when it is not ``None``: control calls
        are not part of the cassette, their effects are.
        """
        self._api_key = api_key
        self._cassette = cassette
        self._client: SessionClient | None = None
        self._async_client: AsyncSessionClient | None = None
        self._httpx_clients: list[httpx.Client] = []
        self._async_httpx_clients: list[httpx.AsyncClient] = []
        self.transcript_uses: list[TranscriptFileUse] = []
        # Expected-transcript files a recording test could not compare with because they do
        # not exist yet: the recording is kept, and the test fails at teardown.
        self.missing_transcripts: list[Path] = []

    # -- credentials and clients -------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key to hand an SDK: the real one while recording, a placeholder in replay.

        Keys never reach the cassette, so a replay matches whatever key it sends.
        """
        return self._api_key or REPLAY_API_KEY

    @property
    def client(self) -> SessionClient:
        """Our provider-neutral client, talking through the cassette."""
        if self._client is None:
            from pytest_sessionmem.client import SessionClient

            self._client = self._on_cassette(SessionClient, self._cassette.transport(), _no_sleep)
        return self._client

    @property
    def async_client(self) -> AsyncSessionClient:
        """The async twin of :attr:`client`."""
        if self._async_client is None:
            from pytest_sessionmem.client import AsyncSessionClient

            self._async_client = self._on_cassette(
                AsyncSessionClient, self._cassette.async_transport(), _no_async_sleep
            )
        return self._async_client

    def _on_cassette(self, client_class: Callable[..., T], transport: Any, no_sleep: Any) -> T:
        """A client of the test's provider on ``transport``; under replay it never waits."""
        return client_class(
            self._require_provider(),
            base_url=self.base_url,
            api_key=self._client_key(),
            transport=transport,
            sleep=no_sleep if self.replaying else None,
        )

    def httpx_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` on the cassette, for SDKs: ``Zep(httpx_client=...)``.

        Its base URL is :attr:`base_url`, so relative paths (``client.get("/users/u1")``)
        reach the provider; ``base_url=`` overrides it. Other keywords go to ``httpx.Client``.
        """
        import httpx

        kwargs.setdefault("base_url", self.base_url)
        client = httpx.Client(transport=self._cassette.transport(), **kwargs)
        self._httpx_clients.append(client)
        return client

    def async_httpx_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on the cassette, for ``AsyncZep(httpx_client=...)``.

        Its base URL is :attr:`base_url` too, unless ``base_url=`` names another.
        """
        import httpx

        kwargs.setdefault("base_url", self.base_url)
        client = httpx.AsyncClient(transport=self._cassette.async_transport(), **kwargs)
        self._async_httpx_clients.append(client)
        return client

    @contextlib.contextmanager
    def intercept_httpx(self) -> Iterator[None]:
        """Route SDKs that build their own httpx client (the Meibel SDK) through the cassette.

        Needed only with ``capture="provider"``, where it patches httpx's transport classes
        for requests under :attr:`base_url` while the block runs. With ``capture="all"``
        (the default) every request already goes through the cassette; the block lays the
        same capture over whatever patched httpx since (a mock library, say).
        """
        from pytest_sessionmem.cassette.intercept import intercept_httpx

        with intercept_httpx(self._cassette, base_url=self.base_url):
            yield

    @contextlib.contextmanager
    def capture_all(self, allowed_hosts: Sequence[str] = ()) -> Iterator[None]:
        """Every HTTP request made in the block goes through the cassette (``capture="all"``).

        The plugin holds this open for the whole test; ``allowed_hosts`` and the emulator's
        control API stay live and are never recorded.
        """
        from pytest_sessionmem.cassette.intercept import Routing, intercept
        from pytest_sessionmem.cassette.network_guard import normalise_host

        routing = Routing(
            base_url=self.base_url,
            allowed_hosts=frozenset(normalise_host(host) for host in allowed_hosts),
        )
        with intercept(self._cassette, routing):
            yield

    def llm_calls(self) -> list[LLMCall]:
        """The LLM exchanges this test made, in order, read back as :class:`LLMCall` objects.

        The same while recording and in replay: each exchange is read from its stored
        (scrubbed) form. A request no reader understands is left out.
        """
        from pytest_sessionmem.cassette.llm_calls import llm_calls

        return llm_calls(self._cassette.exchanges)

    # -- reading and asserting ---------------------------------------------------------

    def transcript(self, session_id: str | None = None) -> Transcript:
        """All messages of the session, oldest first, through the cassette."""
        __tracebackhide__ = True
        return self.client.get_messages(self._session(session_id))

    def memory(
        self,
        session_id: str | None = None,
        *,
        last_n: int | None = None,
        min_rating: float | None = None,
    ) -> Memory:
        """The session's memory (Zep), through the cassette."""
        __tracebackhide__ = True
        return self.client.get_memory(
            self._session(session_id), last_n=last_n, min_rating=min_rating
        )

    def assert_transcript(
        self,
        expected: Any = None,
        *,
        actual: Transcript | None = None,
        mode: str = "exact",
        **options: Any,
    ) -> None:
        """Compare the session's transcript with ``expected``.

        With ``expected=None`` the test's expected-transcript file is used; with
        ``--sessionmem-update`` that file is written (or updated, keeping matchers that
        still hold) from the actual transcript first.
        """
        from pytest_sessionmem import assertions
        from pytest_sessionmem.assertions import transcript_file

        __tracebackhide__ = True
        transcript = actual if actual is not None else self.transcript()
        if expected is not None:
            assertions.assert_transcript(transcript, expected, mode=mode, **options)
            return
        # The file holds what the cassette would: secrets as their placeholders.
        transcript = self.scrubbed(transcript)
        use = TranscriptFileUse(self.transcript_path)
        self.transcript_uses.append(use)
        state = transcript_file.sync_transcript_file(
            transcript, self.transcript_path, update=self.update
        )
        use.written = state == "written"
        if state == "missing":
            if not self.replaying:
                # A sound recording is not thrown away for a file that does not exist yet:
                # the test goes on (so the cassette is complete) and fails at teardown.
                self.missing_transcripts.append(self.transcript_path)
                return
            raise AssertionError(self.missing_transcript_message(self.transcript_path))
        assertions.assert_transcript(transcript, self.transcript_path, mode=mode, **options)

    def missing_transcript_message(self, path: Path, *, kept: bool = False) -> str:
        """Why a test has nothing to compare with, and the command that writes the file."""
        from pytest_sessionmem.plugin.hints import pytest_command

        command = pytest_command(self.nodeid, "--sessionmem-update") if self.nodeid else ""
        how = f":\n    {command}\n" if command else " with --sessionmem-update; "
        kept_note = "The recording was kept. " if kept else ""
        return (
            f"No expected-transcript file at {path} yet. {kept_note}Write it from the "
            f"{'recording' if kept else 'cassette'}{how}then review it and commit it."
        )

    def scrubbed(self, transcript: Transcript) -> Transcript:
        """``transcript`` with every secret replaced as the cassette stores it."""
        scrub = self._cassette.scrub
        messages = tuple(
            message.model_copy(
                update={
                    name: scrub(getattr(message, name))
                    for name in _SCRUBBED_FIELDS
                    if getattr(message, name) is not None
                }
            )
            for message in transcript.messages
        )
        return transcript.model_copy(update={"messages": messages})

    def wait_until(
        self,
        fetch: Callable[[], T],
        predicate: Callable[[T], object] | None = None,
        **options: Any,
    ) -> T:
        """Poll ``fetch`` until ``predicate`` holds; instant under replay (see ``wait_until``)."""
        from pytest_sessionmem.assertions.polling import wait_until

        return wait_until(fetch, predicate, **options)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close every client this object handed out."""
        if self._client is not None:
            self._client.close()
        for client in self._httpx_clients:
            client.close()
        # Async clients hold no sockets here (recording closes connections after each
        # response), and closing them needs the test's event loop, which is gone by now.
        self._httpx_clients.clear()

    def _client_key(self) -> str | None:
        return self._api_key if self._api_key else (REPLAY_API_KEY if self.replaying else None)

    def _require_provider(self) -> str:
        if self.provider is None:
            raise ConfigError(
                "recorded_session has no provider. Set one with "
                "@pytest.mark.sessionmem(provider='zep'|'zep-v3'|'zep-v4'|'meibel'|'eliza'), "
                "--sessionmem-provider or the sessionmem_provider ini key."
            )
        return self.provider

    def _session(self, session_id: str | None) -> str:
        chosen = session_id or self.session_id
        if not chosen:
            raise ConfigError(
                "No session id: pass one, or set @pytest.mark.sessionmem(session_id=...)."
            )
        return chosen


def _no_sleep(_seconds: float) -> None:
    """Replay never waits: the recorded answers are already there."""


async def _no_async_sleep(_seconds: float) -> None:
    """Async twin of :func:`_no_sleep`."""

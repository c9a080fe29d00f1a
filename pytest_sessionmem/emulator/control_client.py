"""``EmulatorControl``: a small synchronous client for the emulator's ``/_emulator`` control API.

Each method maps to one endpoint and returns its decoded JSON. A rejected call raises
:class:`~pytest_sessionmem.errors.ConfigError` carrying the emulator's explanation, because a bad
control call is a mistake in the test's setup, not a provider failure.

While a test replays (:func:`inert`, entered by the plugin), control calls send nothing and
succeed: the cassette already answers every request the seeding shaped, so one test body
records and replays. Each then returns what it was given (the ids passed, the values
seeded) or an empty answer.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx

from ..errors import ConfigError

__all__ = ["KEEP_SEED", "ClosesOnExit", "EmulatorControl", "KeepSeed", "inert"]


class KeepSeed(enum.Enum):
    """``reset()``'s default: keep the seed the server runs with."""

    KEEP = "keep"


KEEP_SEED = KeepSeed.KEEP


_inert_lock = threading.Lock()
_inert_depth = 0


@contextmanager
def inert() -> Iterator[None]:
    """Control calls made in the block send nothing and succeed (a replaying test)."""
    global _inert_depth
    with _inert_lock:
        _inert_depth += 1
    try:
        yield
    finally:
        with _inert_lock:
            _inert_depth -= 1


def _inert_answer(sent: Any) -> dict[str, Any]:
    """What a control call answers in a replaying test: what it was given, else nothing."""
    given = dict(sent) if sent else {}
    return {"faults": [], "fault": given, "cleared": 0, "now": "", **given}


class ClosesOnExit:
    """``with`` support for an object that ``close()`` releases: leaving the block closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EmulatorControl(ClosesOnExit):
    """Control an emulator at ``url`` (``http://127.0.0.1:PORT``, without ``/_emulator``)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._base_url = url.rstrip("/") + "/_emulator"
        self._timeout = timeout
        # Built on the first call that sends: a replaying test's control calls never do, and
        # an httpx client costs an SSL context.
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def request(self, method: str, path: str, json: Any = None) -> Any:
        """Call any control endpoint (``path`` below ``/_emulator``); the JSON answer."""
        if _inert_depth:
            return _inert_answer(json if isinstance(json, dict) else None)
        # The control API takes only JSON, an empty body included (see ``control.refusal``).
        headers = {"Content-Type": "application/json"}
        if self._client is None:
            self._client = httpx.Client(base_url=self._base_url, timeout=self._timeout)
        response = self._client.request(method, path, json=json, headers=headers)
        if response.is_error:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text
            raise ConfigError(
                f"emulator control {method} {path} failed ({response.status_code}): {reason}"
            )
        return response.json()

    def _seed(self, path: str, key: str, values: list[Any]) -> list[dict[str, Any]]:
        """POST ``{key: values}``; what was created, as the answer's ``key`` lists it."""
        created: list[Any] = self.request("POST", path, {key: values})[key]
        # A replaying test's inert answer echoes the values; plain strings are contents.
        return [value if isinstance(value, dict) else {"content": value} for value in created]

    # ------------------------------------------------------------------ core

    def info(self) -> dict[str, Any]:
        """Seed, emulator time, which providers check keys, active faults."""
        result: dict[str, Any] = self.request("GET", "/info")
        return result

    def reset(self, seed: int | KeepSeed | None = KEEP_SEED) -> None:
        """Forget all data and faults; restart clock and ids.

        ``reset()`` keeps the seed the server runs with, ``reset(seed=3)`` starts over from
        seed 3, and ``reset(seed=None)`` drops the seed (wall clock, random ids).
        """
        self.request("POST", "/reset", {} if isinstance(seed, KeepSeed) else {"seed": seed})

    def set_keys(self, **keys: str | None) -> None:
        """``set_keys(zep="k", meibel=None)``: require that key, or turn auth off."""
        self.request("POST", "/keys", keys)

    def advance_clock(self, seconds: float) -> str:
        """Move emulator time forward; returns the new time (RFC 3339)."""
        now: str = self.request("POST", "/clock/advance", {"seconds": seconds})["now"]
        return now

    def add_fault(
        self,
        *,
        provider: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        latency_ms: int = 0,
        drop: bool = False,
        body: Any = None,
        times: int | None = None,
    ) -> dict[str, Any]:
        """Inject a fault (see ``core.Fault``); ``path`` is a regex below the provider prefix."""
        fault: dict[str, Any] = self.request(
            "POST",
            "/faults",
            {
                "provider": provider,
                "method": method,
                "path": path,
                "status": status,
                "retry_after": retry_after,
                "latency_ms": latency_ms,
                "drop": drop,
                "body": body,
                "times": times,
            },
        )["fault"]
        return fault

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self.request("GET", "/faults")["faults"]
        return faults

    def clear_faults(self) -> int:
        """Remove every fault; returns how many there were."""
        cleared: int = self.request("DELETE", "/faults")["cleared"]
        return cleared

    # ------------------------------------------------------------------ Zep

    def zep_add_facts(
        self, session_id: str, facts: list[str | dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Facts Zep "extracted": strings or ``{"content", "name"?, "rating"?, ...}``."""
        return self._seed(f"/zep/sessions/{session_id}/facts", "facts", facts)

    def zep_set_context(self, session_id: str, context: str) -> None:
        self.request("POST", f"/zep/sessions/{session_id}/context", {"context": context})

    def zep_set_summary(self, session_id: str, summary: str) -> None:
        self.request("POST", f"/zep/sessions/{session_id}/summary", {"summary": summary})

    def zep_add_edges(self, thread: str, edges: list[str | dict[str, Any]]) -> list[dict[str, Any]]:
        """Facts in the graph of the thread's user (zep-v3/zep-v4): strings or
        ``{"fact", "name"?, "rating"?, "valid_at"?, "invalid_at"?}``; ``thread`` is its id or uuid."""
        return self._seed(f"/zep/threads/{thread}/edges", "edges", edges)

    def zep_set_thread_context(self, thread: str, context: str) -> None:
        """What the thread's context call answers (by thread id or uuid)."""
        self.request("POST", f"/zep/threads/{thread}/context", {"context": context})

    def zep_set_thread_summary(self, thread: str, summary: str) -> None:
        """What the thread's summary call answers (by thread id or uuid)."""
        self.request("POST", f"/zep/threads/{thread}/summary", {"summary": summary})

    def zep_processing(
        self, *, after_reads: int | None = None, after_seconds: float | None = None
    ) -> None:
        """Delay processing of what is written from now on; no arguments = processed at once."""
        self.request(
            "POST", "/zep/processing", {"after_reads": after_reads, "after_seconds": after_seconds}
        )

    def zep_seed_answer(
        self,
        method: str,
        response: Any,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Make a model-backed method answer ``response`` verbatim.

        ``method`` is the SDK method name: ``search``, ``get_summaries``,
        ``synthesize_question``, ``classify_session``, ``extract_data`` (keyed by
        ``session_id``), ``get_node`` (by ``user_id``) or ``search_sessions`` (no key).
        """
        self.request(
            "POST",
            "/zep/answers",
            {"method": method, "session_id": session_id, "user_id": user_id, "response": response},
        )

    def zep_clear_answers(self) -> int:
        """Forget every seeded answer; the deterministic stand-ins answer again."""
        cleared: int = self.request("DELETE", "/zep/answers")["cleared"]
        return cleared

    # ------------------------------------------------------------------ Meibel

    def meibel_add_agent(
        self, name: str, *, agent_id: str | None = None, version: str | None = None
    ) -> str:
        """Register an agent (what ``create_by_name`` looks up); returns its id."""
        created: str = self.request(
            "POST", "/meibel/agents", {"name": name, "agent_id": agent_id, "version": version}
        )["agent_id"]
        return created

    def meibel_create_session(
        self,
        agent_id: str,
        *,
        session_id: str | None = None,
        agent_name: str | None = None,
        version: str | None = None,
        status: str = "RUNNING",
    ) -> str:
        """A session for ``agent_id`` (named, versioned as given); returns its id."""
        created: str = self.request(
            "POST",
            "/meibel/sessions",
            {
                "agent_id": agent_id,
                "session_id": session_id,
                "agent_name": agent_name,
                "version": version,
                "status": status,
            },
        )["session_id"]
        return created

    def meibel_add_items(
        self, session_id: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Append SessionMessageItems (any ``type``, tool items included) to a session."""
        return self._seed(f"/meibel/sessions/{session_id}/items", "items", items)

    def meibel_queue_replies(self, session_id: str, replies: list[str]) -> None:
        """The agent's next answers in this session, used before falling back to ``Echo: ...``."""
        self.request("POST", f"/meibel/sessions/{session_id}/replies", {"replies": replies})

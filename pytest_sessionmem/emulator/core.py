"""What every provider of the embedded emulator shares: clock, id factory, API keys, faults.

Every provider handler gets a :class:`SharedState` and its own provider's store::

    shared.clock       Clock      -- call ``shared.clock.now()`` for every timestamp you hand out
    shared.ids         IdFactory  -- call ``shared.ids.uuid4()`` for every id you hand out
    shared.api_keys    {"zep": str | None, "meibel": str | None, "eliza": str | None}
                                  -- None means auth is off for that provider
    shared.faults      FaultTable -- applied by the app's middleware; providers never look at it
    shared.lock        threading.RLock -- hold it while reading or changing a provider's store

How a provider module plugs in (``zep``, ``meibel`` and ``eliza`` all follow it):

* it defines its store, a :class:`Store` (a dataclass whose no-argument constructor gives an
  empty provider),
* ``routes(shared, store) -> list[BaseRoute]`` -- the provider's public API, mounted by ``app.py``
  under the provider's prefix (``/zep/api/v2``, ``/meibel/v2``, ``/eliza``),
* ``control_routes(shared, store) -> list[BaseRoute]`` -- seeding endpoints, mounted under
  ``/_emulator/<provider>``.

:mod:`.state` puts the shared state and the stores together; this module knows no provider.

Rules for handlers:

* Read ``shared.clock`` and ``shared.ids`` *at request time*, never capture them when building
  routes: a reset replaces both (and empties each store in place).
* Check the API key yourself (header names and 401 bodies differ per provider) against
  ``shared.api_keys["<provider>"]``.
* Fault injection is not your concern; the app applies it before your handler runs.

Determinism: with a seed, the clock starts at :data:`DETERMINISTIC_START` and moves by
:data:`DETERMINISTIC_TICK` on every ``now()`` call (plus explicit ``advance()``), and ids
come from a RNG seeded with the seed, so the same request script gives byte-identical responses.
Without a seed, the clock is the wall clock (plus whatever ``advance()`` added) and ids are random.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from ..providers.registry import PROVIDERS as _REGISTRY

__all__ = [
    "DETERMINISTIC_START",
    "DETERMINISTIC_TICK",
    "KEY_PROVIDERS",
    "LATEST",
    "MAX_DELAY_SECONDS",
    "MAX_LATENCY_MS",
    "PROVIDERS",
    "Clock",
    "Fault",
    "FaultTable",
    "IdFactory",
    "SharedState",
    "Store",
    "isoformat_z",
    "to_epoch_ms",
]

PROVIDERS: tuple[str, ...] = tuple(_REGISTRY)


def key_owner(provider: str) -> str:
    """The provider whose emulator key guards ``provider``: one credential, one key.

    Providers that share a key variable are one service (``zep``, ``zep-v3`` and ``zep-v4``
    all take ``ZEP_API_KEY``), so the first of them in the registry holds the key.
    """
    env = _REGISTRY[provider].api_key_env
    return next(name for name, spec in _REGISTRY.items() if spec.api_key_env == env)


#: The providers that hold an API key in :attr:`SharedState.api_keys`.
KEY_PROVIDERS: tuple[str, ...] = tuple(dict.fromkeys(key_owner(name) for name in PROVIDERS))

DETERMINISTIC_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
DETERMINISTIC_TICK = timedelta(milliseconds=1)
#: The emulator's clock stops short of this instant, so that every delay the emulator adds to
#: "now" (at most :data:`MAX_DELAY_SECONDS`) still lands on a date Python can hold.
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
#: The longest delay a setting may ask for (Zep's ``after_seconds``): a hundred years.
MAX_DELAY_SECONDS = 100 * 365 * 24 * 3600
#: The longest wait a fault may add before its answer: an hour.
MAX_LATENCY_MS = 3_600_000


def isoformat_z(moment: datetime) -> str:
    """RFC 3339 with millisecond precision and a ``Z`` suffix, as the real services write it."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Clock:
    """The emulator's notion of "now".

    Deterministic mode hands out strictly increasing instants (one tick per ``now()`` call), so
    two messages written in the same request still get distinct, ordered timestamps, and a
    replayed script sees the same instants. Live mode follows the wall clock; ``advance()``
    shifts it so tests can expire sessions without sleeping.
    """

    def __init__(
        self,
        *,
        deterministic: bool,
        start: datetime = DETERMINISTIC_START,
        tick: timedelta = DETERMINISTIC_TICK,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("Clock start must be timezone-aware")
        self.deterministic = deterministic
        self._tick = tick
        self._lock = threading.Lock()
        self._current = start  # deterministic mode only
        self._offset = timedelta()  # live mode only

    def now(self) -> datetime:
        """The current instant (aware, UTC); a deterministic clock also moves one tick."""
        with self._lock:
            if not self.deterministic:
                return datetime.now(timezone.utc) + self._offset
            self._current += self._tick
            return self._current

    def peek(self) -> datetime:
        """The current instant without moving a deterministic clock (for expiry checks)."""
        with self._lock:
            if not self.deterministic:
                return datetime.now(timezone.utc) + self._offset
            return self._current

    def now_ms(self) -> int:
        """``now()`` as integer milliseconds since the Unix epoch."""
        return to_epoch_ms(self.now())

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never backward: timestamps handed out stay ordered).

        Raises ``ValueError``, moving nothing, for a step that is negative, not finite, or that
        would take the clock past :data:`LATEST`.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(
                f"Clock.advance() needs a finite number of seconds >= 0, got {seconds}"
            )
        with self._lock:
            now = self._current if self.deterministic else datetime.now(timezone.utc) + self._offset
            room = (LATEST - now).total_seconds()
            if seconds >= room:
                raise ValueError(
                    f"advancing by {seconds} seconds would take the emulator's clock past "
                    f"{LATEST:%Y-%m-%d}; advance by less than {max(room, 0):.0f} seconds"
                )
            if self.deterministic:
                self._current += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)


def to_epoch_ms(moment: datetime) -> int:
    """Integer milliseconds since the Unix epoch (exact: no float rounding)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return delta // timedelta(milliseconds=1)


class IdFactory:
    """Version-4 UUID strings, reproducible when a seed is given."""

    def __init__(self, seed: int | None) -> None:
        # A private Random so that nothing else drawing random numbers disturbs the sequence.
        self._random = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()

    def uuid4(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        with self._lock:
            bits = self._random.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))


@dataclass
class Fault:
    """One injected failure, matched against requests to provider routes (never ``/_emulator``).

    ``provider``/``method`` of None match anything; ``path`` is a regex searched (``re.search``) in
    the path *below* the provider prefix, e.g. ``/sessions/[^/]+/messages`` for Zep.
    What happens on a match, in order: wait ``latency_ms``; then either close the connection
    without a response (``drop``), or answer ``status`` (with ``Retry-After: retry_after`` and
    ``body`` or the provider's usual error body); with neither, the request proceeds normally
    (a pure latency fault). ``times`` is how many requests it applies to (None = until cleared).
    """

    provider: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: float | None = None
    latency_ms: int = 0
    drop: bool = False
    body: Any = None
    times: int | None = None
    hits: int = 0

    def __post_init__(self) -> None:
        # Everything a fault will need to answer is checked here, before it is stored: a fault
        # that cannot answer would fail every request it matches.
        if self.provider is not None and self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}; use one of {list(PROVIDERS)}")
        if self.status is not None and not 200 <= self.status <= 599:
            # A 1xx is not a final answer: the connection would be dropped instead.
            raise ValueError(f"status must be a final HTTP status, 200-599, got {self.status}")
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and self.retry_after >= 0
        ):
            raise ValueError(
                f"retry_after must be a finite number of seconds >= 0, got {self.retry_after}"
            )
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(
                f"latency_ms must be from 0 to {MAX_LATENCY_MS} (an hour), got {self.latency_ms}"
            )
        if self.times is not None and self.times < 1:
            raise ValueError(f"times must be >= 1 (or null for 'until cleared'), got {self.times}")
        try:
            json.dumps(self.body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValueError(
                f"body must be a value standard JSON can hold (no NaN, no infinities, "
                f"no lone surrogates): {exc}"
            ) from None
        if self.path is not None:
            try:
                re.compile(self.path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from exc
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, provider: str, method: str, path: str) -> bool:
        return (
            (self.provider is None or self.provider == provider)
            and (self.method is None or self.method == method.upper())
            and (self.path is None or re.search(self.path, path) is not None)
        )


class FaultTable:
    """Faults in the order they were added; the first match wins and is used up one time."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, provider: str, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, counting it as used."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(provider, method, path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None


_StateT = TypeVar("_StateT", bound="SharedState")


def _no_keys() -> dict[str, str | None]:
    return dict.fromkeys(KEY_PROVIDERS)


@dataclass
class SharedState:
    """The emulator's mutable state that is no provider's own. Build with :meth:`create`."""

    seed: int | None
    clock: Clock
    ids: IdFactory
    api_keys: dict[str, str | None] = field(default_factory=_no_keys)
    faults: FaultTable = field(default_factory=FaultTable)
    # Re-entrant so a handler holding it may call helpers that take it again.
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def create(
        cls: type[_StateT], seed: int | None = None, api_keys: dict[str, str | None] | None = None
    ) -> _StateT:
        state = cls(seed=seed, clock=Clock(deterministic=seed is not None), ids=IdFactory(seed))
        if api_keys:
            state.set_api_keys(api_keys)
        return state

    def set_api_keys(self, api_keys: dict[str, str | None]) -> None:
        """Turn auth on (a key) or off (None) per provider; unnamed providers keep theirs."""
        unknown = set(api_keys) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown provider(s) {sorted(unknown)}; use {list(PROVIDERS)}")
        with self.lock:
            # A key named for a provider's own name wins over one named for a key-sharing alias
            # (``{"zep": "k", "zep-v4": None}`` keeps "k").
            owners = {key_owner(n): k for n, k in api_keys.items() if key_owner(n) != n}
            owners.update({n: k for n, k in api_keys.items() if key_owner(n) == n})
            self.api_keys.update(owners)

    def reset(self, seed: int | None = None) -> None:
        """Forget every fault; restart clock and ids from ``seed``.

        API keys survive: they are server configuration, not data, so a test that resets between
        cases keeps the auth setup the server was started with.
        """
        with self.lock:
            self.seed = seed
            self.clock = Clock(deterministic=seed is not None)
            self.ids = IdFactory(seed)
            self.faults.clear()


class Store:
    """Base of each provider's store (a dataclass whose no-argument constructor is empty).

    Routes are built once around their store, so a reset empties the store in place instead of
    handing out a new one the routes would never see.
    """

    def clear(self) -> None:
        fresh = vars(type(self)())
        vars(self).clear()
        vars(self).update(fresh)

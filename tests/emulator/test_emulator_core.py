"""Clock, ids, faults and state reset, without HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pytest_sessionmem.emulator.core import (
    DETERMINISTIC_START,
    Clock,
    Fault,
    FaultTable,
    IdFactory,
    isoformat_z,
    to_epoch_ms,
)
from pytest_sessionmem.emulator.state import EmulatorState


def test_deterministic_clock_ticks_one_millisecond_per_reading() -> None:
    clock = Clock(deterministic=True)
    assert clock.peek() == DETERMINISTIC_START
    first, second = clock.now(), clock.now()
    assert second - first == timedelta(milliseconds=1)
    assert clock.peek() == second  # peek does not tick
    assert clock.now_ms() == to_epoch_ms(DETERMINISTIC_START) + 3


def test_deterministic_clock_advance_moves_forward_only() -> None:
    clock = Clock(deterministic=True)
    clock.advance(60)
    assert clock.peek() == DETERMINISTIC_START + timedelta(seconds=60)
    with pytest.raises(ValueError, match="seconds >= 0"):
        clock.advance(-1)


def test_live_clock_is_aware_utc_and_advance_adds_an_offset() -> None:
    clock = Clock(deterministic=False)
    before = datetime.now(timezone.utc)
    clock.advance(3600)
    assert clock.now().tzinfo is not None
    assert clock.now() >= before + timedelta(seconds=3600)


def test_clock_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(deterministic=True, start=datetime(2025, 1, 1))


def test_isoformat_z_has_milliseconds_and_z() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678_901, tzinfo=timezone.utc)
    assert isoformat_z(moment) == "2025-01-02T03:04:05.678Z"


def test_seeded_ids_repeat_and_are_version_4() -> None:
    assert IdFactory(7).uuid4() == IdFactory(7).uuid4()
    sequence = IdFactory(7)
    a, b = sequence.uuid4(), sequence.uuid4()
    assert a != b
    assert uuid.UUID(a).version == 4
    assert IdFactory(8).uuid4() != a


def test_unseeded_ids_differ() -> None:
    assert IdFactory(None).uuid4() != IdFactory(None).uuid4()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"provider": "openai"}, "unknown provider"),
        ({"status": 99}, "HTTP status"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"times": 0}, "times must be >= 1"),
        ({"path": "("}, "regular expression"),
    ],
)
def test_fault_validation_names_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**kwargs)  # type: ignore[arg-type]


def test_fault_table_first_match_wins_and_times_runs_out() -> None:
    table = FaultTable()
    table.add(Fault(provider="zep", method="get", path=r"/messages$", status=500, times=2))
    table.add(Fault(status=503))
    assert table.take("meibel", "GET", "/sessions/x/messages") is not None  # catch-all
    hit = table.take("zep", "GET", "/sessions/x/messages")
    assert hit is not None and hit.status == 500
    assert table.take("zep", "GET", "/sessions/x/messages") is not None
    third = table.take("zep", "GET", "/sessions/x/messages")
    assert third is not None and third.status == 503  # the first fault is used up
    assert len(table.snapshot()) == 1


def test_fault_matching_respects_method_and_path() -> None:
    fault = Fault(provider="zep", method="post", path=r"^/sessions/[^/]+/memory$", status=500)
    assert fault.matches("zep", "POST", "/sessions/s1/memory")
    assert not fault.matches("zep", "GET", "/sessions/s1/memory")
    assert not fault.matches("zep", "POST", "/sessions/s1/messages")
    assert not fault.matches("meibel", "POST", "/sessions/s1/memory")


def test_reset_wipes_data_and_faults_but_keeps_keys() -> None:
    state = EmulatorState.create(seed=1, api_keys={"zep": "k"})
    state.zep.users["u"] = {}
    state.faults.add(Fault(status=500))
    first_id = state.ids.uuid4()
    state.reset(seed=1)
    assert state.zep.users == {}
    assert state.faults.snapshot() == []
    assert state.api_keys["zep"] == "k"
    assert state.ids.uuid4() == first_id  # same seed, same sequence again
    state.reset(None)
    assert not state.clock.deterministic


def test_reset_empties_each_store_in_place() -> None:
    # Routes are built once around their store, so a reset must not swap the stores out.
    state = EmulatorState.create()
    zep, meibel, eliza = state.zep, state.meibel, state.eliza
    state.zep.threads.summary_instructions["u"] = []
    state.meibel.agent("a")
    state.eliza.auto_reply = "hi"
    state.reset()
    assert state.zep is zep and state.meibel is meibel and state.eliza is eliza
    assert state.zep.threads.summary_instructions == {}
    assert state.meibel.agents == {}
    assert state.eliza.auto_reply is None


def test_unknown_provider_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        EmulatorState.create(api_keys={"openai": "k"})

"""Message equality: ``raw`` is left out of ``==``, every other field takes part."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pytest_sessionmem import Message, Role

BASE: dict[str, Any] = {
    "id": "m1",
    "role": Role.TOOL,
    "content": "found it",
    "name": "search-bot",
    "kind": "tool_result",
    "created_at": datetime(2025, 1, 1, 10, 0, tzinfo=timezone.utc),
    "metadata": {"signal_id": "sig-1"},
    "tool_id": "t1",
    "tool_name": "search",
    "arguments": {"q": "x"},
    "result": {"hits": 1},
    "raw": {"type": "tool_result", "id": "m1"},
}

# One other value per compared field.
CHANGED: dict[str, Any] = {
    "id": "m2",
    "role": Role.ASSISTANT,
    "content": "found it!",
    "name": "other-bot",
    "kind": "tool_call",
    "created_at": BASE["created_at"] + timedelta(milliseconds=1),
    "metadata": {"signal_id": "sig-2"},
    "tool_id": "t2",
    "tool_name": "lookup",
    "arguments": {"q": "y"},
    "result": {"hits": 2},
}


def message(**changes: Any) -> Message:
    return Message(**{**BASE, **changes})


def test_every_field_but_raw_is_covered_here() -> None:
    assert set(Message.model_fields) == set(BASE)
    assert set(CHANGED) == set(Message.model_fields) - {"raw"}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_change_in_any_other_field_makes_messages_unequal(field: str) -> None:
    assert message() == message()
    assert message() != message(**{field: CHANGED[field]})


def test_metadata_is_compared_by_value() -> None:
    assert message(metadata={"a": 1, "b": 2}) == message(metadata={"b": 2, "a": 1})
    assert message(metadata={"a": 1}) != message(metadata={})
    assert message(metadata={"a": 1}) != message(metadata={"a": "1"})


def test_created_at_is_the_same_instant_in_any_zone() -> None:
    plus_one = timezone(timedelta(hours=1))
    same_instant = datetime(2025, 1, 1, 11, 0, tzinfo=plus_one)
    assert message(created_at=same_instant) == message()
    assert message(created_at=None) != message()


def test_raw_is_left_out_of_equality_hash_and_repr() -> None:
    first = message(raw={"type": "tool_result", "id": "m1"})
    second = message(raw={"something": "else entirely"})
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert "something" not in repr(second)
    assert first.raw != second.raw  # still kept, only not compared


def test_a_message_is_not_equal_to_other_types() -> None:
    assert message() != ("tool", "found it")
    assert message() != BASE
    assert Message.__eq__(message(), "found it") is NotImplemented

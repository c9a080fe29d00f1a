"""One test body records and replays: seeding through ``sessionmem_emulator`` needs no guard.

While recording, the emulator's control calls go live (and are never recorded); in a
replaying test no emulator is started and the same calls do nothing and succeed, because
the cassette already holds what the seeding shaped.
"""

from __future__ import annotations

import json

UNGUARDED = """
import pytest
from pytest_sessionmem import assert_memory

pytestmark = pytest.mark.sessionmem(provider="zep", session_id="s1")


def test_seeded_facts(recorded_session, session_client, sessionmem_emulator):
    session_client.add_user("u1")
    session_client.create_session(session_id="s1", user_id="u1")
    session_client.add_messages("s1", [("user", "I moved to Lisbon")])
    created = sessionmem_emulator.control.zep_add_facts("s1", ["Ann lives in Lisbon"])
    assert [fact["content"] for fact in created] == ["Ann lives in Lisbon"]
    sessionmem_emulator.control.zep_set_context("s1", "Ann moved recently")
    sessionmem_emulator.control.reset  # the control client is there in both modes
    assert sessionmem_emulator.base_url("zep") .endswith("/api/v2")
    assert_memory(recorded_session.memory(), facts_include=["Ann lives in Lisbon"])
"""


def test_the_same_body_records_and_replays_without_an_emulator(inner) -> None:
    inner.pytester.makepyfile(test_seed=UNGUARDED)
    recorded = inner.record()
    recorded.assert_outcomes(passed=1)
    (cassette,) = inner.cassettes()
    text = (inner.path / cassette).read_text()
    assert "/_emulator" not in text  # control calls are never recorded
    paths = [i["request"]["path"] for i in json.loads(text)["interactions"]]
    assert "/sessions/s1/memory" in paths

    # The offline conftest fails any socket connection and any EmulatorServer start.
    replayed = inner.replay_offline()
    replayed.assert_outcomes(passed=1)


def test_a_replaying_emulator_has_no_url_to_hand_out(inner) -> None:
    inner.pytester.makepyfile(
        test_url="""
import pytest

@pytest.mark.sessionmem(provider="zep", session_id="s1")
def test_url(recorded_session, sessionmem_emulator):
    sessionmem_emulator.url
"""
    )
    inner.pytester.mkdir("cassettes")
    (inner.path / "cassettes" / "test_url").mkdir()
    (inner.path / "cassettes" / "test_url" / "test_url.json").write_text(
        json.dumps({"version": 1, "base_url": "", "interactions": []})
    )
    result = inner.replay_offline()
    result.assert_outcomes(failed=1)
    assert "no emulator runs for it: send provider requests to recorded_session.base_url" in (
        result.stdout.str()
    )

"""``sessionmem show`` reads zep-v3 and zep-v4 cassettes (the committed example cassettes)."""

from __future__ import annotations

from pathlib import Path

from pytest_sessionmem.cassette.conversation import conversation_from_cassette, detect_provider
from pytest_sessionmem.cassette.store import load_cassette

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_v4_cassette_reads_as_its_thread() -> None:
    path = EXAMPLES / "zep_v4/cassettes/test_support_agent/test_zep_keeps_every_turn_in_order.json"
    cassette = load_cassette(path)
    assert detect_provider(cassette) == "zep-v4"
    conversation = conversation_from_cassette(cassette, path=str(path))
    (session,) = conversation.sessions
    assert [(m.role.value, m.name) for m in session.turns] == [
        ("user", "Alice"),
        ("assistant", "Ava"),
        ("user", "Alice"),
        ("assistant", "Ava"),
    ]
    assert session.user_id is not None  # the user's UUID, from POST /threads


def test_a_v3_cassette_is_told_from_a_v2_one_by_its_paths() -> None:
    v3 = load_cassette(
        EXAMPLES / "zep_v3/cassettes/test_support_thread/test_thread_keeps_every_turn.json"
    )
    v2 = load_cassette(
        EXAMPLES
        / "zep/cassettes/test_support_memory/test_transcript_matches_the_reviewed_file.json"
    )
    assert v3.base_url == v2.base_url  # both on /zep/api/v2
    assert (detect_provider(v3), detect_provider(v2)) == ("zep-v3", "zep")
    (session,) = conversation_from_cassette(v3, path="v3.json").sessions
    assert session.id == "support-4711"
    assert [m.content for m in session.turns] == [
        "Hi, I'm Alice. I moved to Lisbon.",
        "Welcome to Lisbon, Alice!",
    ]

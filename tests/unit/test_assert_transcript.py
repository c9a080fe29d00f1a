"""assert_transcript: every mode, every form of expected, ignores, content modes, messages."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from dirty_equals import IsStr

from pytest_sessionmem.assertions import assert_transcript
from pytest_sessionmem.assertions.asserts import explain_transcript_equality
from pytest_sessionmem.assertions.transcript_compare import DEFAULT_IGNORE
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.matchers import ANY, Contains, Regex
from pytest_sessionmem.models import Message, Role, Transcript


def msg(role: str, content: str, **fields: object) -> Message:
    return Message(role=Role(role), content=content, **fields)  # type: ignore[arg-type]


FLIGHT = Transcript(
    messages=(
        msg("user", "When does my flight leave?", id="m1"),
        msg("assistant", "Your flight leaves at 9:45.", id="m2"),
        msg("user", "thanks", id="m3"),
        msg("assistant", "See you!", id="m4"),
    ),
    provider="zep",
)


def failure(actual: object, expected: object, **kwargs: object) -> str:
    with pytest.raises(AssertionError) as info:
        assert_transcript(actual, expected, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


# --------------------------------------------------------------------------- exact mode


def test_pairs_match_and_return_none() -> None:
    expected = [
        ("user", "When does my flight leave?"),
        ("assistant", "Your flight leaves at 9:45."),
        ("user", "thanks"),
        (Role.ASSISTANT, "See you!"),
    ]
    assert assert_transcript(FLIGHT, expected) is None


def test_plain_list_of_messages_is_accepted_as_actual() -> None:
    assert_transcript(list(FLIGHT.messages), [(m.role, m.content) for m in FLIGHT])


def test_content_difference_names_turn_role_char_and_inline_diff() -> None:
    text = failure(
        FLIGHT,
        [
            ("user", "When does my flight leave?"),
            ("assistant", "Your flight leaves at 9:40."),
            ("user", "thanks"),
            ("assistant", "See you!"),
        ],
    )
    lines = text.splitlines()
    assert lines[0] == "Transcript mismatch (mode=exact, 4 expected turns, 4 actual turns)"
    assert lines[1] == "turn 2: content differs"
    assert lines[2] == "  role:     assistant"
    assert lines[3] == "  expected: 'Your flight leaves at 9:40.'"
    assert lines[4] == "  actual:   'Your flight leaves at 9:45.'"
    caret = lines[5].index("^")
    assert lines[4][caret] == "5"  # the caret sits under the first differing character
    assert lines[5].endswith("^ first difference at char 26")
    assert lines[6] == "  inline:   Your flight leaves at 9:4[-0-][+5+]."
    assert len(lines) == 7


def test_matcher_failure_names_the_matcher_and_value() -> None:
    text = failure(
        FLIGHT, [("user", ANY), ("assistant", ANY), ("user", ANY), ("assistant", Regex("^Bye"))]
    )
    assert text.splitlines()[1] == "turn 4 (assistant): Regex('^Bye') did not match 'See you!'"


def test_extra_and_missing_turns_are_reported_by_alignment() -> None:
    # One turn missing in the middle and one extra at the end: no cascade of differences.
    actual = Transcript(
        messages=(
            msg("user", "a"),
            msg("assistant", "b"),
            msg("assistant", "d"),
            msg("user", "e"),
            msg("user", "one more thing"),
        )
    )
    text = failure(
        actual,
        [("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d"), ("user", "e")],
    )
    assert text.splitlines()[1:] == [
        "missing turn 3 (user): 'c'",
        "extra turn 5 (user): 'one more thing'",
    ]


def test_inserted_turn_in_a_long_transcript_is_one_extra_turn() -> None:
    base = [msg("user" if i % 2 else "assistant", f"turn {i}") for i in range(200)]
    actual = [*base[:100], msg("system", "inserted"), *base[100:]]
    text = failure(actual, [(m.role, m.content) for m in base])
    assert text.splitlines()[1:] == ["extra turn 101 (system): 'inserted'"]


def test_role_difference_is_plain_words() -> None:
    text = failure(FLIGHT, [("user", ANY), ("user", ANY), ("user", ANY), ("assistant", ANY)])
    assert "turn 2 (assistant): role differs" in text
    assert "  role: expected user, actual assistant" in text


def test_differences_are_capped_with_a_count() -> None:
    actual = [msg("user", f"a{i}") for i in range(25)]
    text = failure(actual, [("user", f"b{i}") for i in range(25)])
    assert text.count("content differs") == 10
    assert text.splitlines()[-1] == "... and 15 more differences"


def test_empty_transcripts_match_and_empty_actual_lists_missing_turns() -> None:
    assert_transcript(Transcript(), [])
    text = failure(Transcript(), [("user", "hi")])
    assert text.splitlines() == [
        "Transcript mismatch (mode=exact, 1 expected turn, 0 actual turns)",
        "missing turn 1 (user): 'hi'",
    ]


# --------------------------------------------------------------------------- expected forms


def test_dict_compares_only_the_fields_it_names() -> None:
    actual = [msg("assistant", "hello", name="Support", metadata={"lang": "en", "seq": 1})]
    assert_transcript(actual, [{"name": "Support"}])
    assert_transcript(actual, [{"metadata": {"lang": "en"}}])  # a subset of keys is enough
    text = failure(actual, [{"role": "assistant", "name": "Bot"}])
    assert "turn 1 (assistant): name differs" in text
    assert "  name: expected 'Bot', actual 'Support'" in text


def test_dict_metadata_key_mismatch_and_missing_key() -> None:
    actual = [msg("user", "hi", metadata={"lang": "en"})]
    text = failure(actual, [{"metadata": {"lang": "fr", "tier": "gold"}}])
    assert "  metadata.lang: expected 'fr', actual 'en'" in text
    assert "  metadata.tier: missing (expected 'gold')" in text


def test_full_message_compares_every_field_but_ids_and_timestamps() -> None:
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    actual = [msg("user", "hi", id="server-1", created_at=when, metadata={"k": 1})]
    assert_transcript(actual, [msg("user", "hi", id="other", metadata={"k": 1})])
    text = failure(actual, [msg("user", "hi", metadata={"k": 1}, name="alice")])
    assert "  name: expected 'alice', actual None" in text
    text = failure(actual, [msg("user", "hi")])
    assert "  metadata.k: unexpected key (actual 1)" in text


def test_transcript_as_expected_and_explicit_ignore() -> None:
    actual = [msg("user", "hi", metadata={"seq": 7, "k": "v"})]
    expected = Transcript(messages=(msg("user", "hi", metadata={"seq": 1, "k": "v"}),))
    assert "metadata.seq: expected 1, actual 7" in failure(actual, expected)
    assert_transcript(actual, expected, ignore=["metadata.seq"])


def test_a_nested_ignore_path_is_ignored_between_two_transcripts() -> None:
    actual = [msg("user", "hi", metadata={"trace": {"id": 7, "kind": "chat"}})]
    expected = Transcript(
        messages=(msg("user", "hi", metadata={"trace": {"id": 1, "kind": "chat"}}),)
    )
    assert "metadata.trace.id: expected 1, actual 7" in failure(actual, expected)
    assert_transcript(actual, expected, ignore=["metadata.trace.id"])
    # the rest of the nested dict is still compared
    other = [msg("user", "hi", metadata={"trace": {"id": 7, "kind": "voice"}})]
    text = failure(other, expected, ignore=["metadata.trace.id"])
    assert "metadata.trace.kind: expected 'chat', actual 'voice'" in text
    assert "trace.id" not in text


def test_provider_defaults_ignore_eliza_session_metadata() -> None:
    stamped = {"sessionId": "s-1", "agentId": "a", "userId": "u", "channelType": "DM", "isDm": True}
    actual = Transcript(
        messages=(msg("user", "hi", name="uuid-1", metadata={**stamped, "topic": "x"}),),
        provider="eliza",
    )
    assert_transcript(actual, [msg("user", "hi", metadata={"topic": "x"})])
    # the same expectation against a transcript of unknown provider compares them
    assert "unexpected key" in failure(
        list(actual.messages), [msg("user", "hi", metadata={"topic": "x"})]
    )
    assert_transcript(
        list(actual.messages), [msg("user", "hi", metadata={"topic": "x"})], provider="eliza"
    )


def test_explicitly_named_ignored_field_is_still_compared() -> None:
    actual = [msg("user", "hi", id="m1")]
    assert "  id: expected 'm2', actual 'm1'" in failure(actual, [{"id": "m2"}])


def test_default_ignore_can_be_changed_module_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    actual = Transcript(messages=(msg("user", "hi", metadata={"seq": 3}),), provider="zep")
    expected = [msg("user", "hi", metadata={"seq": 1})]
    assert "metadata.seq" in failure(actual, expected)
    monkeypatch.setitem(DEFAULT_IGNORE, "zep", (*DEFAULT_IGNORE["zep"], "metadata.seq"))
    assert_transcript(actual, expected)


def test_roles_accept_aliases_and_reject_unknown_names() -> None:
    assert_transcript([msg("assistant", "x")], [("agent", "x")])
    with pytest.raises(ConfigError, match=r"unknown role 'alice'.*use name="):
        assert_transcript([msg("user", "x")], [("alice", "x")])


@pytest.mark.parametrize(
    ("expected", "error"),
    [
        ([{"contents": "x"}], r"expected turn 1: unknown field\(s\) 'contents'"),
        ([42], r"expected turn 1 is a int; give a Message"),
        (42, r"expected must be a Transcript"),
    ],
)
def test_bad_expected_values_raise_config_error(expected: object, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        assert_transcript(FLIGHT, expected)


def test_bad_actual_mode_and_ignore_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="actual must be a Transcript or a list of Message"):
        assert_transcript([{"role": "user"}], [])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="mode='fuzzy' is not a transcript mode"):
        assert_transcript(FLIGHT, [], mode="fuzzy")
    with pytest.raises(ConfigError, match="does not start with a Message field"):
        assert_transcript(FLIGHT, [], ignore=["meta.x"])
    with pytest.raises(ConfigError, match="content= must be"):
        assert_transcript(FLIGHT, [], content="loose")  # type: ignore[arg-type]


def test_expected_from_transcript_file(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(
        "# sessionmem transcript 1\n\n--- user\nWhen does my flight leave?\n\n"
        "--- assistant match=regex\n9:4\\d\n\n--- user\nthanks\n\n--- assistant\nBye\n",
        encoding="utf-8",
    )
    text = failure(FLIGHT, path)
    assert f"turn 4 ({path}:12): content differs" in text
    assert_transcript([*FLIGHT.messages[:3], msg("assistant", "Bye")], str(path))


# --------------------------------------------------------------------------- matchers


def test_matchers_in_any_field_including_dirty_equals() -> None:
    actual = [msg("assistant", "Order #123 shipped", name="bot-7", metadata={"n": 3})]
    assert_transcript(
        actual,
        [
            {
                "role": ANY,
                "content": IsStr(regex=r"Order #\d+ shipped"),
                "name": Regex(r"^bot-\d$"),
                "metadata": {"n": ANY},
            }
        ],
    )
    text = failure(actual, [{"content": Contains("delivered"), "name": IsStr(regex="^human")}])
    assert "turn 1 (assistant): content, name differ" in text
    assert "  content: Contains('delivered') did not match 'Order #123 shipped'" in text
    assert "  name: IsStr(regex='^human') did not match 'bot-7'" in text


# --------------------------------------------------------------------------- content modes


def test_normalized_content_collapses_whitespace_and_case() -> None:
    actual = [msg("user", "  Hello\n  WORLD ")]
    assert_transcript(actual, [("user", "hello world")], content="normalized")
    text = failure(actual, [("user", "hello there")], content="normalized")
    assert "turn 1: content differs after normalizing" in text


def test_callable_content_normaliser() -> None:
    actual = [msg("assistant", "Total: 1,000 EUR")]
    assert_transcript(
        actual, [("assistant", "Total: 1000 EUR")], content=lambda s: s.replace(",", "")
    )


# --------------------------------------------------------------------------- other modes


LONG = [msg("user" if i % 2 == 0 else "assistant", f"message {i}") for i in range(10)]


def test_prefix_and_suffix() -> None:
    assert_transcript(LONG, [("user", "message 0"), ("assistant", "message 1")], mode="prefix")
    assert_transcript(LONG, [("user", "message 8"), ("assistant", "message 9")], mode="suffix")
    text = failure(LONG, [("user", "message 0"), ("assistant", "message 2")], mode="prefix")
    assert (
        text.splitlines()[1]
        == "expected turns 1-2 at the start of the transcript (actual turns 1-2)"
    )
    assert "turn 2: content differs" in text
    text = failure(LONG, [("user", "message 7"), ("assistant", "message 9")], mode="suffix")
    assert (
        text.splitlines()[1]
        == "expected turns 1-2 at the end of the transcript (actual turns 9-10)"
    )
    assert "turn 9 (expected turn 1): content differs" in text


def test_prefix_longer_than_actual() -> None:
    text = failure(LONG[:1], [("user", "message 0"), ("assistant", "message 1")], mode="prefix")
    assert text.splitlines()[1:] == [
        "expected 2 turns at the start of the transcript, but it has only 1 turn",
        "missing turn 2 (assistant): 'message 1'",
    ]


def test_contains_finds_a_contiguous_run_and_explains_the_best_miss() -> None:
    assert_transcript(LONG, [("assistant", "message 5"), ("user", "message 6")], mode="contains")
    text = failure(
        LONG,
        [("assistant", "message 5"), ("user", "message 6"), ("assistant", "message 8")],
        mode="contains",
    )
    assert text.splitlines()[1] == (
        "expected turns 1-3 as a contiguous run; best match starts at actual turn 6, "
        "differs at turn 8 (2 of 3 turns match there)"
    )
    assert "turn 8 (expected turn 3): content differs" in text


def test_contains_is_not_satisfied_by_a_gapped_run() -> None:
    assert "contiguous run" in failure(
        LONG, [("user", "message 0"), ("user", "message 2")], mode="contains"
    )


def test_subsequence_allows_gaps_but_keeps_order() -> None:
    assert_transcript(
        LONG,
        [("user", "message 0"), ("user", "message 4"), ("assistant", "message 9")],
        mode="subsequence",
    )
    text = failure(LONG, [("user", "message 4"), ("user", "message 2")], mode="subsequence")
    lines = text.splitlines()
    assert lines[1] == "expected 2 turns in this order, gaps allowed; 1 could not be found"
    assert lines[2] == "expected turn 2 (user): 'message 2' not found after actual turn 5"
    assert lines[3] == "  closest candidate:"
    assert lines[4].startswith("    turn 7 (expected turn 2): content differs")


def test_subsequence_with_nothing_to_search() -> None:
    text = failure([], [("user", "hi")], mode="subsequence")
    assert "expected turn 1 (user): 'hi' not found anywhere in the transcript" in text
    assert "  (no actual turns left to search)" in text


# --------------------------------------------------------------------------- big and odd input


def test_ten_thousand_turns_equal_and_one_differing() -> None:
    actual = [msg("user" if i % 2 else "assistant", f"message number {i}") for i in range(10_000)]
    expected = [(m.role, m.content) for m in actual]
    assert_transcript(actual, expected)
    expected[7_345] = ("user", "message number 7345!")
    text = failure(actual, expected)
    assert text.splitlines()[1] == "turn 7346: content differs"
    assert "first difference at char 20 (expected is longer: 20 vs 19 chars)" in text
    assert len(text.splitlines()) < 12


def test_ten_thousand_turn_subsequence_and_contains() -> None:
    actual = [msg("user", f"m{i}") for i in range(10_000)]
    assert_transcript(actual, [("user", "m10"), ("user", "m9999")], mode="subsequence")
    assert_transcript(actual, [("user", "m5000"), ("user", "m5001")], mode="contains")
    assert "best match starts at actual turn 5001" in failure(
        actual, [("user", "m5000"), ("user", "nope")], mode="contains"
    )


# --------------------------------------------------------------------------- == explanations


def test_explain_returns_none_for_unrelated_types() -> None:
    assert explain_transcript_equality(1, 2) is None
    assert explain_transcript_equality([1], [2]) is None
    assert explain_transcript_equality(FLIGHT, "text") is None
    assert explain_transcript_equality(FLIGHT, [1, 2]) is None


def test_explain_renders_the_same_review_for_either_side() -> None:
    other = [*FLIGHT.messages[:3], msg("assistant", "Bye!", id="m4")]
    lines = explain_transcript_equality(FLIGHT, other)
    assert lines is not None
    assert lines[0] == "Transcript mismatch (mode=exact, 4 expected turns, 4 actual turns)"
    assert lines[1] == "turn 4: content differs"
    assert explain_transcript_equality(other, FLIGHT) == lines


def test_explain_notes_when_only_equality_semantics_differ() -> None:
    lines = explain_transcript_equality(FLIGHT, [{"content": m.content} for m in FLIGHT])
    assert lines is not None
    assert "use assert_transcript()" in lines[-1]

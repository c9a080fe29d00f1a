"""diff.py: invisible characters, unicode, long and multi-line text render readably."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_sessionmem import assert_transcript
from pytest_sessionmem.assertions.render import (
    display_width,
    escape,
    quote,
    render_value,
    text_difference,
)
from pytest_sessionmem.matchers import Regex
from pytest_sessionmem.models import Message, Role, Transcript


def caret_column(lines: list[str]) -> int:
    caret_line = next(line for line in lines if "^ first difference" in line)
    return caret_line.index("^")


def test_invisible_characters_are_escaped() -> None:
    assert escape("a\tb\r\nc\u200bd\x00") == "a\\tb\\r\\nc\\u200bd\\x00"
    assert escape("back\\slash") == "back\\\\slash"
    assert escape("end  ", trailing=True) == "end\\x20\\x20"
    assert quote("end ") == "'end '"


def test_display_width_counts_wide_and_combining_characters() -> None:
    assert display_width("abc") == 3
    assert display_width("日本") == 4
    assert display_width("😀") == 2
    assert display_width("e\u0301") == 1


def test_caret_lands_under_the_difference_after_wide_characters() -> None:
    lines = text_difference("日本語のテキストです", "日本語のテキストでした")
    assert lines[2].endswith("^ first difference at char 10")
    # 10 columns of prefix + 9 chars of which 8 are wide before the difference
    prefix = "  actual:   '"
    assert caret_column(lines) == len(prefix) + display_width("日本語のテキストで")
    assert lines[3] == "  inline:   日本語のテキストで[-す-][+した+]"


def test_trailing_whitespace_difference_is_visible() -> None:
    lines = text_difference("trailing ", "trailing")
    assert lines[0] == "  expected: 'trailing '"
    assert lines[2].endswith("first difference at char 9 (expected is longer: 9 vs 8 chars)")


def test_zero_width_and_tab_differences_are_shown() -> None:
    assert text_difference("zero\u200bwidth", "zerowidth")[3] == "  inline:   zero[-\\u200b-]width"
    assert text_difference("tab\there", "tab here")[3] == "  inline:   tab[-\\t-][+ +]here"


def test_long_content_is_cut_around_the_first_difference() -> None:
    expected, actual = "x" * 5000 + "A" + "y" * 5000, "x" * 5000 + "B" + "y" * 5000
    lines = text_difference(expected, actual)
    assert all(len(line) < 200 for line in lines)
    assert lines[0].startswith("  expected: '…x") and lines[0].endswith("y…'")
    assert "first difference at char 5001" in lines[2]
    assert "[-A-][+B+]" in lines[3]


def test_multi_line_content_gets_a_line_diff() -> None:
    lines = text_difference("line1\nline2\nline3 \nline4", "line1\nline2\nline3\nline4")
    assert lines == [
        "  line diff (- expected, + actual; 4 vs 4 lines), first difference on line 3:",
        "      line2",
        "    - line3\\x20",
        "    + line3",
        "    ? inline: line3[- -]",
        "      line4",
    ]


def test_huge_multi_line_diff_is_capped() -> None:
    expected = "\n".join(f"line {i}" for i in range(2000))
    actual = "\n".join(f"line {i}" if i % 3 else f"LINE {i}" for i in range(2000))
    lines = text_difference(expected, actual)
    assert len(lines) == 32
    assert lines[-1].endswith("more diff lines")


def test_unrelated_short_texts_skip_the_caret_and_inline_noise() -> None:
    assert text_difference("thanks", "one more") == [
        "  expected: 'thanks'",
        "  actual:   'one more'",
    ]


def test_render_value_for_matchers_roles_and_long_strings() -> None:
    assert render_value(Regex("^a")) == "Regex('^a')"
    assert render_value(Role.USER) == "user"
    assert render_value("z" * 200, limit=10) == "'zzzzzzzzz'… (200 chars)"
    assert render_value({"k": 1}) == "{'k': 1}"


# -- nested fields: DeepDiff names the path inside lists and dicts --------------------------


def _tool_turns(arguments: dict[str, object]) -> Transcript:
    return Transcript(
        messages=(
            Message(role=Role.USER, content="weather?"),
            Message(role=Role.TOOL, content="ok", tool_name="weather", arguments=arguments),
        )
    )


def test_a_nested_difference_names_its_path_and_both_values() -> None:
    actual = _tool_turns({"calls": [{"city": "Lyon", "days": 3}], "units": "C"})
    expected = [
        ("user", "weather?"),
        {
            "role": "tool",
            "content": "ok",
            "arguments": {"calls": [{"city": "Paris", "days": 3}], "units": "C"},
        },
    ]
    with pytest.raises(AssertionError) as info:
        assert_transcript(actual, expected)
    assert str(info.value).splitlines()[1:] == [
        "turn 2 (tool): arguments differs",
        "  arguments.calls at [0]['city']: 'Paris' != 'Lyon'",
    ]


def test_deepdiff_is_imported_only_when_a_nested_field_differs() -> None:
    script = """
import sys
from pytest_sessionmem import Message, Transcript, assert_transcript
def check(actual, expected):
    try:
        assert_transcript(Transcript(messages=(actual,)), [expected])
    except AssertionError:
        pass
check(Message(role="user", content="a"), ("user", "b"))
print("deepdiff" in sys.modules)
check(Message(role="tool", content="x", arguments={"l": [1]}),
      {"role": "tool", "content": "x", "arguments": {"l": [2]}})
print("deepdiff" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True"]

"""--sessionmem-html: the report is checked in a real headless Chromium (Debian's chromium).

The inner suite fails a transcript assertion on two turns (a plain difference and a Regex),
fails a memory assertion, passes one of each and skips one. Chromium loads the written file
with the network off, its DOM is checked (turn rows, which are highlighted, matcher names,
facts with ratings, what is collapsed), and a screenshot is taken.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

SUITE = """
import pytest

from pytest_sessionmem import Fact, Memory, Message, Regex, Transcript, assert_memory, assert_transcript

ACTUAL = Transcript(messages=(
    Message(role="user", name="Alice", content="I moved to Lisbon last month."),
    Message(role="assistant", content="Welcome to Porto, Alice! How can I help?"),
    Message(role="user", content="My order #5521 never arrived."),
    Message(role="assistant", content="Sorry, I re-sent it today."),
))

MEMORY = Memory(facts=(
    Fact(id="f1", content="Alice lives in Lisbon", rating=0.9),
    Fact(id="f2", content="Order #5521 was a blue kettle", rating=0.7),
    Fact(id="f3", content="Alice likes tea", rating=0.2),
), context="Alice is a customer in Lisbon.")


def test_turns_differ():
    assert_transcript(ACTUAL, [
        ("user", "I moved to Lisbon last month."),
        ("assistant", "Welcome to Lisbon, Alice! How can I help?"),
        ("user", Regex(r"order #\\d{5} arrived")),
        ("assistant", "Sorry, I re-sent it today."),
    ])


def test_memory_misses_a_fact():
    assert_memory(MEMORY, facts_include=["Alice likes coffee"], min_rating=0.5)


def test_transcript_passes():
    assert_transcript(ACTUAL, [("user", "I moved to Lisbon last month.")], mode="prefix")


def test_memory_holds():
    assert_memory(MEMORY, facts_include=["Alice lives in Lisbon"], min_rating=0.5)


def test_plain_failure():
    assert 1 + 1 == 3


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "The HTML report is checked in Chromium, which is not installed: "
            "apt-get install chromium (.ci/run does this)."
        )
    return found


def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    result = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.content: list[str | Node] = []  # text and children, in document order

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, *, drop: str = "") -> str:
        """All text inside, leaving out the text of ``drop`` elements."""
        return "".join(
            part if isinstance(part, str) else ("" if part.tag == drop else part.text(drop=drop))
            for part in self.content
        )

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if child.tag == tag and (cls is None or cls in child.classes):
                found.append(child)
            found.extend(child.find_all(tag, cls))
        return found


class Dom(HTMLParser):
    VOID = frozenset({"meta", "col", "br", "link", "img", "input", "hr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.root = Node("#root", {}, None)
        self.current = self.root
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        self.current.content.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.content.append(data)


def test_report_in_chromium_shows_failing_turns_side_by_side(inner, tmp_path: Path) -> None:
    inner.pytester.makepyfile(test_review=SUITE)
    result = inner.run("--sessionmem-html=report.html")
    result.assert_outcomes(passed=2, failed=3, skipped=1)
    report = inner.path / "report.html"
    result.stdout.fnmatch_lines([f"HTML report: {report}"])
    assert "http://" not in report.read_text() and "https://" not in report.read_text()

    dom = Dom(run_chromium(tmp_path, "--dump-dom", report.as_uri())).root

    header = dom.find_all("header")[0].text()
    assert "6 test(s)" in header and "3 failed" in header and "2 passed" in header
    assert "4 assertion(s) reviewed, 2 failed" in header
    tests = {t.attrs["data-nodeid"]: t for t in dom.find_all("details", "test")}
    assert {n.split("::")[1]: ("open" in t.attrs) for n, t in tests.items()} == {
        "test_turns_differ": True,
        "test_memory_misses_a_fact": True,
        "test_plain_failure": True,
        "test_transcript_passes": False,
        "test_memory_holds": False,
        "test_skipped": False,
    }
    failing = tests["test_review.py::test_turns_differ"]
    turns = failing.find_all("tr", "turn")
    assert len(turns) == 4
    assert [t.attrs["data-status"] for t in turns] == ["same", "differs", "differs", "same"]
    second, third = turns[1], turns[2]
    assert [m.attrs["data-matcher"] for m in second.find_all("span", "matcher")] == ["equality"]
    inline = second.find_all("div", "inline")[0]
    assert second.find_all("del", "removed") and second.find_all("ins", "added")
    # Leaving out one side's edits gives back the other side's text.
    assert inline.text(drop="ins") == "Welcome to Lisbon, Alice! How can I help?"
    assert inline.text(drop="del") == "Welcome to Porto, Alice! How can I help?"
    assert "Regex" in [m.attrs.get("data-matcher") for m in third.find_all("span", "matcher")]
    assert "My order #5521 never arrived." in third.find_all("td", "actual")[0].text()

    memory = tests["test_review.py::test_memory_misses_a_fact"]
    facts = [
        (f.find_all("td", "rating")[0].text(), "filtered" in f.classes)
        for f in memory.find_all("tr", "fact")
    ]
    assert facts == [("0.90", False), ("0.70", False), ("0.20", True)]
    assert "Alice likes coffee" in memory.text()
    assert "assert 1 + 1 == 3" in tests["test_review.py::test_plain_failure"].text()

    screenshot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={screenshot}", "--window-size=1280,1600", report.as_uri())
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_under_xdist_the_controller_writes_the_whole_report(inner) -> None:
    inner.pytester.makepyfile(test_review=SUITE)

    result = inner.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "2", "--sessionmem-html=out/r.html"
    )

    result.assert_outcomes(passed=2, failed=3, skipped=1)
    text = (inner.path / "out" / "r.html").read_text()
    assert text.count('<details class="test ') == 6  # every worker's tests, once
    assert text.count('data-status="differs"') == 2
    assert result.stdout.str().count("HTML report:") == 1


def test_credentials_never_reach_the_report(inner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEP_API_KEY", "zk-secret-canary-42")
    inner.pytester.makepyfile(
        test_leak="""
import os
from pytest_sessionmem import Message, Transcript, assert_transcript

def test_leak():
    key = os.environ["ZEP_API_KEY"]
    actual = Transcript(messages=(Message(role="user", content="my key is " + key),))
    assert_transcript(actual, [("user", "no key here")])
"""
    )
    inner.run("--sessionmem-html=report.html").assert_outcomes(failed=1)
    text = (inner.path / "report.html").read_text()
    assert "zk-secret-canary-42" not in text
    assert "&lt;ZEP_API_KEY&gt;" in text  # the placeholder, HTML-escaped

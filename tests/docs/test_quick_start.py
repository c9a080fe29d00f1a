"""The README's Quick start asks for what each of its two commands needs, and no more.

What the commands need is read from the Makefile itself (``make --dry-run --always-make``
prints every command a target would run, set-up included, and runs none of them).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(target: str) -> str:
    done = subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _quick_start() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Quick start", 1)[1].split("\n## ", 1)[0]


def test_node_is_asked_for_only_where_make_test_needs_it() -> None:
    # The facts: `make test` installs the ElizaOS server with npm, `make examples` does not.
    assert re.search(r"^npm ", _dry_run("test"), flags=re.MULTILINE)
    assert "npm" not in _dry_run("examples")

    section = _quick_start()
    first_sentence = section.strip().split(". ", 1)[0]
    assert "Python 3.11" in first_sentence
    assert "Node" not in first_sentence  # not a requirement for everyone
    [node] = [s for s in re.split(r"(?<=\.)\s+", section) if "Node 20" in s]
    assert "`make test`" in node
    assert "To run the examples alone, Node is not needed" in section

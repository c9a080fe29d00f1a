"""The shell sequence of docs/emulator.md ("From curl") runs as printed.

It starts the emulator with the command the page gives (``sessionmem serve --port 8765 ...``),
then runs each ``curl`` line of the block, and checks what they did. The only change made to
the printed text is the port: 8765 may be taken on a shared machine, so the server listens
on a free port (``--port 0``) and the commands use that one instead.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "emulator.md"
PORT = "8765"


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _commands(block: str) -> list[list[str]]:
    """Each command of a block, its ``\\``-continued lines joined, split as a shell would."""
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip()]


def _curl_sequence() -> tuple[list[str], list[list[str]]]:
    """The page's ``sessionmem serve`` command and the commands of its "From curl" block."""
    text = PAGE.read_text(encoding="utf-8")
    serve = next(
        command
        for block in _bash_blocks(text)
        for command in _commands(block)
        if command[:2] == ["sessionmem", "serve"]
    )
    section = text.split("### From curl", 1)[1]
    [block] = _bash_blocks(section)[:1]
    return serve, _commands(block)


@pytest.fixture
def served() -> Iterator[str]:
    """The emulator started with the page's command (on a free port); its URL."""
    serve, _ = _curl_sequence()
    assert serve[serve.index("--port") + 1] == PORT
    args = [arg if arg != PORT else "0" for arg in serve[1:]]
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_sessionmem.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("sessionmem emulator on http://127.0.0.1:"), banner
        yield banner.split()[3]
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_the_curl_sequence_runs_as_printed(served: str) -> None:
    assert shutil.which("curl"), "this check runs the page's curl commands: install curl"
    _, commands = _curl_sequence()
    assert commands and all(command[0] == "curl" for command in commands)
    port = served.rsplit(":", 1)[1]
    for command in commands:
        moved = [arg.replace(f"localhost:{PORT}", f"localhost:{port}") for arg in command]
        done = subprocess.run(moved, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, f"{shlex.join(command)}\n{done.stdout}\n{done.stderr}"

    # What the sequence set up: the seeded clock moved an hour, the fact, the fault.
    with httpx.Client(base_url=served, timeout=10) as http:
        info = http.get("/_emulator/info").json()
        assert info["seed"] == 1
        assert info["now"].startswith("2025-01-01T01:00:00.")
        assert [(f["provider"], f["status"]) for f in info["faults"]] == [("meibel", 503)]
        facts = http.get(
            "/zep/api/v2/sessions/s1/facts", headers={"Authorization": "Api-Key secret"}
        ).json()["facts"]
        assert [fact["fact"] for fact in facts] == ["Alice likes tea"]

"""The file format on disk and atomic writes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pytest_sessionmem.cassette.schema import (
    Body,
    Cassette,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from pytest_sessionmem.cassette.store import dump_cassette, load_cassette, write_atomic


def sample(text: str = "héllo") -> Cassette:
    return Cassette(
        base_url="http://127.0.0.1:1/v2",
        interactions=(
            Interaction(
                RecordedRequest(
                    "GET",
                    "/sessions/s1/messages",
                    query=(("ids", "a"), ("ids", "b"), ("limit", "2")),
                    body=Body("json", {}),
                ),
                RecordedResponse(
                    200, (("content-type", "application/json"),), Body("json", {"t": text})
                ),
            ),
            Interaction(
                RecordedRequest("POST", "/upload", body=Body("text", "a=1")),
                RecordedResponse(201, body=Body("base64", b"\x89PNG\x00")),
            ),
        ),
    )


def test_format_is_readable_json_with_structures_and_trailing_newline() -> None:
    data = dump_cassette(sample())
    text = data.decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "héllo" in text  # ensure_ascii=False
    assert '\n  "interactions": [\n' in text  # indent=2
    document = json.loads(text)
    assert list(document) == ["version", "recorded_with", "base_url", "interactions"]
    first, second = document["interactions"]
    assert first["request"] == {
        "method": "GET",
        "path": "/sessions/s1/messages",
        "query": {"ids": ["a", "b"], "limit": "2"},
        "headers": {},
        "json": {},
    }
    assert first["response"]["json"] == {"t": "héllo"}  # a structure, not an escaped string
    assert second["request"]["text"] == "a=1"
    assert second["response"]["base64"] == "iVBORwA="


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_atomic(path, dump_cassette(sample()))
    assert load_cassette(path) == sample()


def test_write_creates_parents_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.json"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == ["c.json"]


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pytest_sessionmem.cassette.store import write_atomic
    path = Path(sys.argv[1])
    payloads = [b"A" * 4_000_000 + b"\\n", b"B" * 3_000_000 + b"\\n"]
    print("ready", flush=True)
    n = 0
    while True:
        write_atomic(path, payloads[n % 2])
        n += 1
    """
)


def test_sigkill_mid_write_never_leaves_a_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    old, new = b"A" * 4_000_000 + b"\n", b"B" * 3_000_000 + b"\n"
    write_atomic(path, old)
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        # Wait until it has replaced the file at least once, so the kill lands among writes.
        before = path.stat().st_ino
        for _ in range(5000):
            if path.stat().st_ino != before:
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        content = path.read_bytes()
        assert content in (old, new), f"partial file of {len(content)} bytes"
    # Killed writers may leave their temp file; it never replaces the cassette.
    leftovers = [p for p in tmp_path.iterdir() if p.name != "c.json"]
    assert all(p.name.startswith(".c.json.") and p.name.endswith(".tmp") for p in leftovers)
    # The next run that writes into the folder removes them.
    subprocess.run(
        [sys.executable, "-c", WRITER.replace("while True", "while n < 1"), str(path)],
        check=True,
        capture_output=True,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]

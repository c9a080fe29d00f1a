"""The ElizaOS scenario the replay and recording benchmarks share.

An emulator in its own process (``sessionmem serve``) holds one session of N messages,
seeded through its control API. The same test fetches it in pages of 100 in four ways:

- ``test_sessionmem.py``: pytest-sessionmem's ``session_client`` fixture (record or replay);
- ``test_vcr.py``: the same client under vcrpy + pytest-recording (``@pytest.mark.vcr``);
- ``test_live.py``: the same client straight against the emulator, no recorder at all;
- ``test_floor.py``: the same client reading the same pages from a dict through
  ``httpx.MockTransport``: the product's own job, with no cassette machinery;
- ``test_bound.py``: no client at all, only what no replay of this session can skip while
  the models stay pydantic: pydantic and the models imported, the cassette parsed once
  with orjson, and the session's ``Message`` objects built without validation. It bounds
  from below what any replay costs, ours or another.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _common import bench_env

from pytest_sessionmem.emulator.eliza_rules import string_to_uuid

PAGE_SIZE = 100
USER_ID = "11111111-2222-4333-8444-555555555555"
AGENT_NAME = "Eliza"

INI = """\
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Using extra keyword arguments on `Field` is deprecated:DeprecationWarning
"""

SESSIONMEM_TEST = """\
import pytest
from pytest_sessionmem import SessionClient

@pytest.mark.sessionmem(provider="eliza", session_id={sid!r})
def test_fetch(session_client: SessionClient) -> None:
    transcript = session_client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

VCR_TEST = """\
import pytest
from pytest_sessionmem import SessionClient

@pytest.mark.vcr
def test_fetch() -> None:
    with SessionClient("eliza", base_url={base!r}) as client:
        transcript = client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

LIVE_TEST = """\
from pytest_sessionmem import SessionClient

def test_fetch() -> None:
    with SessionClient("eliza", base_url={base!r}) as client:
        transcript = client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

FLOOR_TEST = """\
import json
from pathlib import Path

import httpx
from pytest_sessionmem import SessionClient

def test_fetch() -> None:
    pages = json.loads(Path("pages.json").read_text())  # query string -> response body text
    def answer(request: httpx.Request) -> httpx.Response:
        body = pages[request.url.query.decode()].encode()
        return httpx.Response(200, content=body, headers={{"content-type": "application/json"}})
    with SessionClient("eliza", base_url={base!r}, transport=httpx.MockTransport(answer)) as client:
        transcript = client.get_messages({sid!r}, page_size={page})
    assert len(transcript) == {count}
"""

BOUND_TEST = """\
from datetime import datetime
from pathlib import Path

import orjson
from pytest_sessionmem.models import Role, Transcript, trusted_message_builder

build = trusted_message_builder(
    "id", "role", "content", "name", "kind", "created_at", "metadata", "raw"
)

def test_fetch() -> None:
    document = orjson.loads(Path("cassettes/test_sessionmem/test_fetch.json").read_bytes())
    messages, seen = [], set()
    for interaction in document["interactions"]:
        for m in interaction["response"]["json"]["messages"]:
            if m["id"] in seen:  # consecutive pages overlap by one message
                continue
            seen.add(m["id"])
            agent = m["isAgent"]
            messages.append(build(
                id=m["id"],
                role=Role.ASSISTANT if agent else Role.USER,
                content=m["content"],
                name=m["authorId"],
                kind="agent" if agent else "user",
                created_at=datetime.fromisoformat(m["createdAt"]),
                metadata=m["metadata"],
                raw=dict(m),
            ))
    transcript = Transcript.model_construct(messages=tuple(reversed(messages)))
    assert len(transcript) == {count}
"""

EMPTY_TEST = """\
def test_empty() -> None:
    pass
"""


@contextmanager
def emulator_process() -> Iterator[str]:
    """``sessionmem serve`` in its own process; yields its root URL."""
    command = [sys.executable, "-m", "pytest_sessionmem.cli", "serve", "--port", "0", "--seed", "1"]
    process = subprocess.Popen(
        command, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "emulator on" not in line:
            raise SystemExit(f"sessionmem serve did not start: {line}{process.stdout.read()}")
        url = line.split("emulator on", 1)[1].split()[0]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def seed_session(url: str, count: int) -> tuple[str, str]:
    """An ElizaOS session of ``count`` messages; returns (its id, the ElizaOS base URL)."""
    base = f"{url}/eliza"
    with httpx.Client(timeout=120) as http:
        agent_id = string_to_uuid(AGENT_NAME)  # the emulator's default agent
        created = http.post(
            f"{base}/api/messaging/sessions", json={"agentId": agent_id, "userId": USER_ID}
        )
        created.raise_for_status()
        session_id = created.json()["sessionId"]
        http.post(
            f"{url}/_emulator/eliza/sessions/{session_id}/seed", json={"count": count}
        ).raise_for_status()
    return session_id, base


def write_tests(workdir: Path, session_id: str, base: str, count: int) -> None:
    values = {"sid": session_id, "page": PAGE_SIZE, "count": count, "base": base}
    (workdir / "pytest.ini").write_text(INI)
    (workdir / "test_sessionmem.py").write_text(SESSIONMEM_TEST.format(**values))
    (workdir / "test_vcr.py").write_text(VCR_TEST.format(**values))
    (workdir / "test_live.py").write_text(LIVE_TEST.format(**values))
    (workdir / "test_floor.py").write_text(FLOOR_TEST.format(**values))
    (workdir / "test_bound.py").write_text(BOUND_TEST.replace("{count}", str(count)))
    (workdir / "test_empty.py").write_text(EMPTY_TEST)


def write_floor_pages(workdir: Path) -> None:
    """The recorded pages as ``query string -> body``, from our own cassette.

    Run in a child process (``python _scenario.py floor-pages DIR``): a child's peak RSS
    starts at its parent's size when it is started, so the benchmark's own process must
    never hold a large cassette.
    """
    cassette = json.loads((workdir / "cassettes/test_sessionmem/test_fetch.json").read_text())
    pages: dict[str, str] = {}
    for item in cassette["interactions"]:
        query = "&".join(f"{k}={v}" for k, v in item["request"].get("query", {}).items())
        pages[query] = json.dumps(item["response"]["json"], separators=(",", ":"))
    (workdir / "pages.json").write_text(json.dumps(pages))


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "floor-pages":
        write_floor_pages(Path(sys.argv[2]))
    else:
        raise SystemExit("usage: python _scenario.py floor-pages DIR")

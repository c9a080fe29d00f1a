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
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


# -- the agent example and a streamed completion (bench_agent.py) ------------------------------
#
# ``ours/`` is a copy of ``examples/agent`` as it ships. ``vcr/`` runs the same agent code
# (``agent.py``) with the same SDKs in the same default set-up and makes the same requests:
# the same three tests, the transcript and the memory read with the same client, the last
# prompt read from the cassette's requests instead of ``recorded_session.llm_calls()``.
# While recording, both talk to the same stand-in LLM (``llm_standin.py``); ours to the
# embedded emulator, vcrpy's to ``sessionmem serve``. vcrpy never records the emulator's
# control call, and neither replay makes it.

AGENT_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "agent"
AGENT_FILES = ("agent.py", "conftest.py", "llm_standin.py", "test_agent.py")
STREAM_EVENTS = 1000

VCR_AGENT_CONFTEST = """\
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from agent import SupportAgent
from llm_standin import BASE_URL, start
from openai import OpenAI
from zep_cloud.client import Zep

from pytest_sessionmem.emulator.control_client import EmulatorControl

SESSION_ID = "agent-lisbon-1"
EMULATOR = {emulator!r}
ZEP_BASE = EMULATOR + "/zep/api/v2"
ZEP_KEY = "z-bench"


def _drop_control(request: Any) -> Any:
    return None if "/_emulator/" in request.path else request


@pytest.fixture
def vcr_config(record_mode: str) -> dict[str, Any]:
    # While recording, the emulator's control call goes live and is not recorded.
    return {{}} if record_mode == "none" else {{"before_record_request": _drop_control}}


@pytest.fixture
def llm_server(record_mode: str) -> Iterator[None]:
    if record_mode == "none":
        yield
        return
    server = start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def add_facts(record_mode: str) -> Any:
    def add(session_id: str, facts: list[dict[str, Any]]) -> None:
        if record_mode != "none":
            with EmulatorControl(EMULATOR) as control:
                control.zep_add_facts(session_id, facts)

    return add


@pytest.fixture
def agent(llm_server: None, record_mode: str, monkeypatch: pytest.MonkeyPatch) -> SupportAgent:
    if record_mode != "none":  # each test records against a fresh emulator
        with EmulatorControl(EMULATOR) as control:
            control.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-stand-in"))
    zep = Zep(api_key=ZEP_KEY, base_url=ZEP_BASE)
    return SupportAgent(zep, {openai_client}, SESSION_ID)
"""

VCR_AGENT_TEST = """\
from __future__ import annotations

import json
from typing import Any

import pytest
from agent import SupportAgent

from pytest_sessionmem import Contains, SessionClient, assert_memory, assert_transcript

pytestmark = pytest.mark.vcr

SESSION_ID = "agent-lisbon-1"
ZEP_BASE = "{emulator}/zep/api/v2"
ZEP_KEY = "z-bench"

LISBON = [{"content": "Ann lives in Lisbon", "rating": 0.9}]


def test_the_session_holds_both_turns(agent: SupportAgent) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")

    with SessionClient("zep", base_url=ZEP_BASE, api_key=ZEP_KEY) as client:
        transcript = client.get_messages(SESSION_ID)
    assert_transcript(
        transcript, [("user", "I just moved to Lisbon"), ("assistant", Contains("You said"))]
    )


def test_memory_holds_the_fact(agent: SupportAgent, add_facts: Any) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")
    add_facts(SESSION_ID, LISBON)

    with SessionClient("zep", base_url=ZEP_BASE, api_key=ZEP_KEY) as client:
        memory = client.get_memory(SESSION_ID)
    assert_memory(memory, facts_include=[Contains("Lisbon")])


def test_the_recalled_fact_reaches_the_prompt(
    agent: SupportAgent, add_facts: Any, vcr: Any
) -> None:
    agent.start(user_id="ann", first_name="Ann")
    agent.chat("I just moved to Lisbon")
    add_facts(SESSION_ID, LISBON)

    reply = agent.chat("Any bakery near me?")

    last = [r for r in vcr.requests if r.path.endswith("/chat/completions")][-1]
    prompt = json.loads(last.body)["messages"]
    assert "Ann lives in Lisbon" in next(m["content"] for m in prompt if m["role"] == "system")
    assert "in Lisbon" in reply
"""

STREAM_BODY = """\
    llm = {openai_client}
    stream = llm.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{{"role": "user", "content": "Count to {events}."}}],
        stream=True,
    )
    words = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert len(words.split()) == {events}
"""

STREAM_SESSIONMEM_TEST = """\
import pytest
from openai import OpenAI
from pytest_sessionmem import RecordedSession

@pytest.mark.sessionmem(provider="zep")
def test_stream(recorded_session: RecordedSession) -> None:
"""

STREAM_VCR_TEST = """\
import httpx
import pytest
from openai import OpenAI

@pytest.mark.vcr
def test_stream() -> None:
"""

STREAM_FLOOR_TEST = """\
from pathlib import Path

import httpx2
from openai import OpenAI

def test_stream() -> None:
    body = Path("stream.sse").read_bytes()
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})
    transport = httpx2.MockTransport(answer)
"""

SDK_IMPORT_TEST = """\
import openai  # noqa: F401
import zep_cloud.client  # noqa: F401

def test_empty() -> None:
    pass
"""


def stream_events(model: str, count: int) -> bytes:
    """A chat completion streamed as ``count`` ``data: {chunk}`` events and ``data: [DONE]``."""
    events = []
    for index in range(count):
        delta: dict[str, str] = {"content": f"w{index} "}
        if index == 0:
            delta["role"] = "assistant"
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "finish_reason": "stop" if index == count - 1 else None,
                }
            ],
        }
        events.append(f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events).encode()


class _StreamHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = stream_events(request["model"], STREAM_EVENTS)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def stream_server() -> Iterator[str]:
    """A stand-in LLM on loopback that streams every chat completion; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StreamHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def write_agent_tests(
    workdir: Path, emulator: str, llm: str, *, vcr_openai: str = "OpenAI()"
) -> None:
    """``ours/``, ``vcr/``, the streamed completion both ways, and the two empty runs.

    ``vcr_openai`` is how the vcrpy side builds its OpenAI client (the agent's and the
    stream's): ``OpenAI()``, the example's own set-up, unless vcrpy cannot see its traffic.
    """
    (workdir / "pytest.ini").write_text(INI)
    ours, vcr = workdir / "ours", workdir / "vcr"
    for folder in (ours, vcr):
        folder.mkdir(parents=True, exist_ok=True)
    for name in AGENT_FILES:
        shutil.copyfile(AGENT_EXAMPLE / name, ours / name)
    for name in ("agent.py", "llm_standin.py"):
        shutil.copyfile(AGENT_EXAMPLE / name, vcr / name)
    values = {"emulator": emulator, "openai_client": vcr_openai}
    (vcr / "conftest.py").write_text(VCR_AGENT_CONFTEST.format(**values))
    (vcr / "test_agent.py").write_text(VCR_AGENT_TEST.replace("{emulator}", emulator))
    stream = {"events": STREAM_EVENTS}
    ours_client = f'OpenAI(base_url="{llm}", api_key="sk-bench")'
    theirs_client = vcr_openai.replace("OpenAI(", f'OpenAI(base_url="{llm}", api_key="sk-bench", ')
    theirs_client = theirs_client.replace(", )", ")")
    (workdir / "test_stream_sessionmem.py").write_text(
        STREAM_SESSIONMEM_TEST + STREAM_BODY.format(openai_client=ours_client, **stream)
    )
    (workdir / "test_stream_vcr.py").write_text(
        STREAM_VCR_TEST + STREAM_BODY.format(openai_client=theirs_client, **stream)
    )
    floor_client = (
        f'OpenAI(base_url="{llm}", api_key="sk-bench", '
        "http_client=httpx2.Client(transport=transport))"
    )
    (workdir / "test_stream_floor.py").write_text(
        STREAM_FLOOR_TEST + STREAM_BODY.format(openai_client=floor_client, **stream)
    )
    (workdir / "stream.sse").write_bytes(stream_events("gpt-4o-mini", STREAM_EVENTS))
    (workdir / "test_empty.py").write_text(EMPTY_TEST)
    (workdir / "test_sdk_import.py").write_text(SDK_IMPORT_TEST)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "floor-pages":
        write_floor_pages(Path(sys.argv[2]))
    else:
        raise SystemExit("usage: python _scenario.py floor-pages DIR")

"""Secret canary: keys set in the environment never reach any file the run writes.

Every provider is recorded with a random canary key that the emulator requires, and the
canary also travels in URLs and in request and response bodies (Meibel echoes the chat
message, Zep and ElizaOS return stored message content). The same run writes the
expected-transcript files (``--sessionmem-update``), the HTML review report and a JUnit
report. Afterwards no file under the run's directory may hold any of them.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from pytest_sessionmem.providers.registry import secret_env_names

KEY_ENV = {"zep": "ZEP_API_KEY", "meibel": "MEIBEL_API_KEY", "eliza": "ELIZA_SERVER_AUTH_TOKEN"}

CANARY_TESTS = '''
import os

import meibel
import pytest
from meibel.models import ChatMessageRequest
from zep_cloud.client import Zep
from zep_cloud.types import Message as ZepMessage

from pytest_sessionmem.emulator.eliza_rules import string_to_uuid


def seen(recorded_session, env):
    """What a response shows of a key: the key live, its placeholder on replay."""
    return f"<{env}>" if recorded_session.replaying else os.environ[env]


@pytest.fixture(autouse=True)
def emulator_requires_keys(recorded_session, request):
    if not recorded_session.replaying:
        control = request.getfixturevalue("sessionmem_emulator").control
        control.set_keys(
            zep=os.environ["ZEP_API_KEY"],
            meibel=os.environ["MEIBEL_API_KEY"],
            eliza=os.environ["ELIZA_SERVER_AUTH_TOKEN"],
        )
        assert control.info()["auth"] == {"zep": True, "meibel": True, "eliza": True}
        control.request("POST", "/eliza/auto-reply", {"text": "ACK"})


@pytest.mark.sessionmem(provider="zep")
def test_zep_client(recorded_session, session_client):
    key = os.environ["ZEP_API_KEY"]
    session_client.add_user("u1")
    session_client.create_session(session_id="s-" + key, user_id="u1")  # the key in URLs
    session_client.add_messages("s-" + key, [("user", "my key is " + key)])
    shown = seen(recorded_session, "ZEP_API_KEY")
    transcript = session_client.get_messages("s-" + key)
    assert transcript.contents == ["my key is " + shown]
    recorded_session.assert_transcript(actual=transcript)  # the expected-transcript file


@pytest.mark.sessionmem(provider="zep")
def test_zep_sdk(recorded_session, monkeypatch):
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    key = os.environ["ZEP_API_KEY"]
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )
    zep.user.add(user_id="u-" + key)
    zep.memory.add_session(session_id="s1", user_id="u-" + key)
    zep.memory.add("s1", messages=[ZepMessage(role_type="user", content=key)])
    messages = zep.memory.get_session_messages("s1").messages
    assert [m.content for m in messages] == [seen(recorded_session, "ZEP_API_KEY")]


@pytest.mark.sessionmem(provider="meibel")
def test_meibel_client(recorded_session, session_client):
    key = os.environ["MEIBEL_API_KEY"]
    session = session_client.create_session(agent_id="agent-1")
    reply = session_client.send_message(session.id, key)
    assert reply.content == "Echo: " + seen(recorded_session, "MEIBEL_API_KEY")
    recorded_session.assert_transcript(actual=session_client.get_messages(session.id))


@pytest.mark.sessionmem(provider="meibel", intercept_httpx=True)
def test_meibel_sdk(recorded_session):
    key = os.environ["MEIBEL_API_KEY"]
    client = meibel.MeibelClient(base_url=recorded_session.base_url, api_key=recorded_session.api_key)
    try:
        session_id = client.agents.sessions.create("agent-1").session_id
        reply = client.agents.sessions.send_chat_message(
            session_id, ChatMessageRequest(user_message="the key: " + key)
        )
    finally:
        client.close()
    assert reply.assistant_response == "Echo: the key: " + seen(recorded_session, "MEIBEL_API_KEY")


@pytest.mark.sessionmem(provider="eliza")
def test_eliza_client(recorded_session, session_client):
    key = os.environ["ELIZA_SERVER_AUTH_TOKEN"]
    session = session_client.create_session(
        agent_id=string_to_uuid("Eliza"), user_id="8d4c7e0a-3b61-4f5e-9a3c-2f1e0d9c8b7a"
    )
    session_client.send_message(session.id, "token " + key)
    shown = seen(recorded_session, "ELIZA_SERVER_AUTH_TOKEN")
    transcript = session_client.get_messages(session.id)
    assert transcript.contents == ["token " + shown, "ACK"]
    recorded_session.assert_transcript(actual=transcript)
'''


def _canaries() -> dict[str, str]:
    return {env: f"canary-{secrets.token_hex(16)}" for env in KEY_ENV.values()}


def _files_holding(inner, needles: list[bytes]) -> list[str]:
    found = []
    for path in inner.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.extend(f"{path}: {n!r}" for n in needles if n in data)
    return found


def test_no_canary_byte_reaches_disk(inner, monkeypatch: pytest.MonkeyPatch) -> None:
    canaries = _canaries()
    for env, value in canaries.items():
        monkeypatch.setenv(env, value)
    inner.pytester.makepyfile(test_canary=CANARY_TESTS)
    # Recording and writing the expected-transcript files in one run, with a report file.
    recorded = inner.record(
        "--sessionmem-update", "--junitxml=report.xml", "--sessionmem-html=review.html"
    )
    recorded.assert_outcomes(passed=5)
    assert len(inner.cassettes()) == 5
    assert (inner.path / "review.html").exists()
    # One expected-transcript file per provider, holding its key's placeholder instead.
    transcripts = {p.stem: p.read_text() for p in inner.files("transcripts/**/*.txt")}
    assert sorted(transcripts) == ["test_eliza_client", "test_meibel_client", "test_zep_client"]
    for provider, env in KEY_ENV.items():
        assert f"<{env}>" in transcripts[f"test_{provider}_client"]
    # The canary and its random part alone, in case a scrubber kept part of it.
    needles = [v.encode() for v in canaries.values()]
    needles += [v.removeprefix("canary-").encode() for v in canaries.values()]
    assert _files_holding(inner, needles) == []
    # The scrubbed cassettes still replay, offline, with the same keys set; responses then
    # show each key's placeholder, and they match the expected-transcript files.
    replayed = inner.replay_offline()
    replayed.assert_outcomes(passed=5)
    assert _files_holding(inner, needles) == []


def test_canary_check_would_see_a_leak(inner) -> None:
    """The walk above finds a canary where one is written (so its silence means something)."""
    canary = _canaries()["ZEP_API_KEY"]
    (inner.path / "cassettes").mkdir()
    (inner.path / "cassettes" / "leak.json").write_text(f'{{"k": "{canary}"}}', encoding="utf-8")
    assert len(_files_holding(inner, [canary.encode()])) == 1


# -- every key variable, in every form, against a real loopback server ---------------------------

EXTRA_VARIABLES = ("EXTRA_CLI_TOKEN", "EXTRA_INI_TOKEN", "EXTRA_MARKER_TOKEN")

ECHO_TESTS = """
import os

import pytest

from pytest_sessionmem import Message, Transcript, assert_transcript

NAMES = os.environ["ECHO_KEY_NAMES"].split(",")


@pytest.mark.sessionmem(base_url=os.environ["ECHO_URL"], secret_env=["EXTRA_MARKER_TOKEN"])
def test_agent_keys_in_every_form(recorded_session):
    keys = {name: os.environ[name] for name in NAMES}
    client = recorded_session.httpx_client(base_url=recorded_session.base_url, follow_redirects=True)
    # A redirect whose Location holds every key; the client follows it.
    landed = client.get("/start")
    assert landed.status_code == 200
    assert landed.json()["path_received"].startswith("/landing/")
    for name, key in keys.items():
        echoed = client.post(
            "/echo",
            params={"name": name, "key": key},
            json={"key": key, "note": f"my key is {key}"},
            headers={"x-api-key": key, "api-key": key, "x-goog-api-key": key},
            auth=(name, key),
        )
        assert echoed.status_code == 200
        if not recorded_session.replaying:
            assert key in echoed.text
    said = "; ".join(f"{name}={key}" for name, key in keys.items())
    transcript = Transcript(messages=[Message(role="user", content=said)])
    recorded_session.assert_transcript(actual=transcript)  # the expected-transcript file
    with pytest.raises(AssertionError):  # a failing review, shown in the HTML report
        assert_transcript(transcript, [("user", "something else")])
"""


class _EchoHandler(BaseHTTPRequestHandler):
    """Echoes every key back in every form a server may write it in."""

    keys: dict[str, str] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/start"):
            # The path percent-encoded with "/" left as is; the query with a raw "+", which
            # the client's decoder reads as a space.
            path = "/".join(quote(key, safe="/") for key in self.keys.values())
            query = "&".join(f"{n}={quote(k, safe='/+')}" for n, k in self.keys.items())
            cookies = [("set-cookie", f"{n}={quote(k)}") for n, k in self.keys.items()]
            self._reply(302, b"", [("location", f"/landing/{path}?{query}"), *cookies])
            return
        body = {"path_received": self.path, "query_received": urlsplit(self.path).query}
        body["forms"] = {name: _forms(key) for name, key in self.keys.items()}
        self._reply(200, json.dumps(body).encode(), [("content-type", "application/json")])

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        received = self.rfile.read(length).decode()
        name = parse_qs(urlsplit(self.path).query)["name"][0]
        key = self.keys[name]
        lines = [f"{form}: {text}" for form, text in _forms(key).items()]
        lines += [
            f"authorization: {self.headers['authorization']}",
            f"x-api-key: {self.headers['x-api-key']}",
            f"body: {received}",
            f"sse: data: {json.dumps({'delta': key})}",
        ]
        self._reply(
            200,
            "\n".join(lines).encode(),
            [
                ("content-type", "text/plain; charset=utf-8"),
                ("location", f"/done/{quote(key, safe='/')}"),
                ("set-cookie", f"session={key}; Path=/"),
                ("x-echo-key", key),
            ],
        )


def _forms(key: str) -> dict[str, str]:
    """Each form of ``key`` that the scrubber must remove, written independently of it."""
    return {
        "raw": key,
        "percent": quote(key, safe=""),
        "percent, / as is": quote(key, safe="/"),
        "percent, + and / as is": quote(key, safe="/+"),
        "percent, lower-case": quote(key, safe="").lower(),
        "plus for space, decoded": key.replace("+", " "),
        "json": json.dumps(key),
        "json, / escaped": json.dumps(key).replace("/", "\\/"),
        "json in json": json.dumps(json.dumps({"k": key})),
        "basic": "Basic " + base64.b64encode(f"agent:{key}".encode()).decode(),
        "base64url": base64.urlsafe_b64encode(f"{key}!".encode()).decode(),
    }


def _needles(key: str) -> list[bytes]:
    """What no written file may hold: each form, each random part, each base64 core."""
    needles = {text for form, text in _forms(key).items() if form not in ("basic", "base64url")}
    needles.update(part for part in re.split(r"[-+/=]", key) if len(part) >= 8)
    data = key.encode()
    for offset in range(3):  # base64 writes the key's bytes differently at each offset
        encoded = base64.b64encode(bytes(offset) + data).decode()
        core = encoded[(8 * offset + 5) // 6 : 8 * (offset + len(data)) // 6]
        needles.update({core, core.replace("+", "-").replace("/", "_")})
    return [needle.encode() for needle in needles]


def test_every_key_variable_in_every_form_reaches_no_file(inner, monkeypatch) -> None:
    names = [*secret_env_names(), *EXTRA_VARIABLES]
    # Each canary holds "+", "/" and "=", the characters encoders treat differently.
    keys = {
        name: f"ck-{secrets.token_hex(5)}+{secrets.token_hex(5)}/{secrets.token_hex(5)}=="
        for name in names
    }
    for name, key in keys.items():
        monkeypatch.setenv(name, key)
    _EchoHandler.keys = keys
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("ECHO_URL", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("ECHO_KEY_NAMES", ",".join(names))
        inner.pytester.makeini(inner.INI + "sessionmem_secret_env = EXTRA_INI_TOKEN\n")
        inner.pytester.makepyfile(test_echo=ECHO_TESTS)
        inner.online()
        recorded = inner.run(
            "--sessionmem-record-mode=once",
            "--sessionmem-secret-env=EXTRA_CLI_TOKEN",
            "--sessionmem-update",
            "--junitxml=report.xml",
            "--sessionmem-html=review.html",
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    recorded.assert_outcomes(passed=1)
    written = [*inner.files("cassettes/**/*"), *inner.files("transcripts/**/*")]
    assert len(written) == 2
    cassette = written[0].read_text()
    assert cassette.count("<OPENAI_API_KEY>") > 10  # scrubbed, not dropped wholesale
    assert "<EXTRA_MARKER_TOKEN>" in cassette and "<EXTRA_CLI_TOKEN>" in cassette
    assert "<EXTRA_INI_TOKEN>" in written[1].read_text()
    assert (inner.path / "review.html").exists()
    needles = [needle for key in keys.values() for needle in _needles(key)]
    assert _files_holding(inner, needles) == []
    # The scrubbed cassette replays, offline, with the same keys set.
    replayed = inner.replay_offline(
        "--sessionmem-secret-env=EXTRA_CLI_TOKEN", "--junitxml=report.xml"
    )
    replayed.assert_outcomes(passed=1)
    assert _files_holding(inner, needles) == []


def test_the_needles_would_see_each_form_leak() -> None:
    """Each form the echo server writes holds one of the needles looked for above."""
    key = "ck-0a1b2c3d4e+5f6a7b8c9d/0e1f2a3b4c=="
    needles = _needles(key)
    for form, text in _forms(key).items():
        assert any(needle in text.encode() for needle in needles), form

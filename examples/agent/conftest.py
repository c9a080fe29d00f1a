"""The agent example's set-up: the real SDKs, and a stand-in LLM while recording.

Recording (``--sessionmem-record-mode=once --sessionmem-emulator``) starts the stand-in LLM
server of ``llm_standin.py`` on loopback; Zep is the embedded emulator. Replay (a plain
``python -m pytest examples/agent``) starts nothing: every answer comes from the cassette.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from agent import SupportAgent
from llm_standin import BASE_URL, start
from openai import OpenAI
from zep_cloud.client import Zep

from pytest_sessionmem import RecordedSession

SESSION_ID = "agent-lisbon-1"


@pytest.fixture
def llm_server(recorded_session: RecordedSession) -> Iterator[None]:
    """The stand-in LLM, only while recording: a replay must not need it."""
    if recorded_session.replaying:
        yield
        return
    server = start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agent(
    recorded_session: RecordedSession, llm_server: None, monkeypatch: pytest.MonkeyPatch
) -> SupportAgent:
    # The agent's default set-up reads these, as it would in production.
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", os.environ.get("OPENAI_API_KEY", "sk-stand-in"))
    zep = Zep(api_key=recorded_session.api_key, base_url=recorded_session.base_url)
    return SupportAgent(zep, OpenAI(), SESSION_ID)

"""zep-cloud 3.x: the same support conversation in a thread addressed by the id you choose.

Run it in an environment with zep-cloud 3.x (``pip install "zep-cloud>=3,<4"``); see
``examples/test_zep_generations.py`` for how this repository does it.
"""

from __future__ import annotations

import pytest
from zep_cloud import Zep
from zep_cloud.types import Message

from pytest_sessionmem import Contains, RecordedSession, assert_transcript


@pytest.mark.sessionmem(provider="zep-v3", thread_id="support-4711")
def test_thread_keeps_every_turn(recorded_session: RecordedSession) -> None:
    zep = Zep(
        api_key=recorded_session.api_key,
        base_url=recorded_session.base_url,
        httpx_client=recorded_session.httpx_client(),
    )
    zep.user.add(user_id="alice-4711", first_name="Alice")
    zep.thread.create(thread_id="support-4711", user_id="alice-4711")
    zep.thread.add_messages(
        "support-4711",
        messages=[
            Message(role="user", name="Alice", content="Hi, I'm Alice. I moved to Lisbon."),
            Message(role="assistant", name="Ava", content="Welcome to Lisbon, Alice!"),
        ],
    )

    assert_transcript(
        recorded_session.transcript(),  # the marker's thread_id
        [
            {"role": "user", "name": "Alice", "content": Contains("Lisbon")},
            {"role": "assistant", "name": "Ava", "content": "Welcome to Lisbon, Alice!"},
        ],
    )

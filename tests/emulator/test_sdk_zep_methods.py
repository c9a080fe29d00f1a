"""Every session-family method of zep-cloud 2.22 against the emulator, sync and async clients.

Each test runs twice (``Zep`` with an ``httpx.Client``, ``AsyncZep`` with an
``httpx.AsyncClient``) through the ``zep`` fixture, whose ``call`` runs a lambda on the client and
awaits the result when it is a coroutine. Each method's test also checks the typed error the SDK
raises for an unknown id.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from zep_cloud import ClassifySessionRequest, NewFact
    from zep_cloud.core.api_error import ApiError
    from zep_cloud.errors import BadRequestError, NotFoundError
    from zep_cloud.types import Message

pytestmark = pytest.mark.usefixtures("zep")


def _msg(content: str, role_type: str = "user", role: str = "alice") -> Message:
    return Message(role=role, role_type=role_type, content=content)


@pytest.fixture
def seeded(zep: Any) -> Any:
    """User ``u1`` with session ``s1`` holding three messages."""
    zep.call(lambda z: z.user.add(user_id="u1", email="u1@example.com", first_name="Ada"))
    zep.call(lambda z: z.memory.add_session(session_id="s1", user_id="u1", metadata={"a": 1}))
    zep.call(
        lambda z: z.memory.add(
            "s1",
            messages=[
                _msg("I live in Oslo and my favourite colour is green."),
                _msg("Noted, Oslo it is.", "assistant", "bot"),
                _msg("What is the weather like in Oslo?"),
            ],
        )
    )
    return zep


# --- users -----------------------------------------------------------------------------------


def test_user_add(zep: Any) -> None:
    user = zep.call(lambda z: z.user.add(user_id="u9", last_name="Lovelace", metadata={"k": 1}))
    assert (user.user_id, user.last_name, user.metadata, user.session_count) == (
        "u9",
        "Lovelace",
        {"k": 1},
        0,
    )
    with pytest.raises(BadRequestError):
        zep.call(lambda z: z.user.add(user_id="u9"))


def test_user_get(seeded: Any) -> None:
    user = seeded.call(lambda z: z.user.get("u1"))
    assert (user.user_id, user.email, user.session_count) == ("u1", "u1@example.com", 1)
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.get("nobody"))


def test_user_update(seeded: Any) -> None:
    user = seeded.call(lambda z: z.user.update("u1", last_name="Byron", metadata={"b": 2}))
    assert (user.first_name, user.last_name, user.metadata) == ("Ada", "Byron", {"b": 2})
    assert seeded.call(lambda z: z.user.get("u1")).last_name == "Byron"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.update("nobody", email="x@example.com"))


def test_user_delete_removes_its_sessions(seeded: Any) -> None:
    assert seeded.call(lambda z: z.user.delete("u1")).message == "OK"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.get("u1"))
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_session("s1"))
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.delete("u1"))


def test_user_list_ordered(zep: Any) -> None:
    for n in range(5):
        zep.call(lambda z, n=n: z.user.add(user_id=f"user-{n}"))
    page = zep.call(lambda z: z.user.list_ordered(page_number=2, page_size=2))
    assert [u.user_id for u in page.users] == ["user-2", "user-3"]
    assert (page.total_count, page.row_count) == (5, 2)
    with pytest.raises(BadRequestError):
        zep.call(lambda z: z.user.list_ordered(page_number=0))


def test_user_get_sessions(seeded: Any) -> None:
    seeded.call(lambda z: z.memory.add_session(session_id="s2", user_id="u1"))
    sessions = seeded.call(lambda z: z.user.get_sessions("u1"))
    assert [s.session_id for s in sessions] == ["s1", "s2"]
    # The SDK maps no 404 for this call: an unknown user is a plain ApiError with status 404.
    with pytest.raises(ApiError) as excinfo:
        seeded.call(lambda z: z.user.get_sessions("nobody"))
    assert excinfo.value.status_code == 404


def test_user_get_facts(seeded: Any, server: EmulatorServer) -> None:
    server.control.zep_add_facts("s1", ["Ada lives in Oslo"])
    facts = seeded.call(lambda z: z.user.get_facts("u1")).facts
    assert [f.fact for f in facts] == ["Ada lives in Oslo"]
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.get_facts("nobody"))


def test_user_get_node(seeded: Any, server: EmulatorServer) -> None:
    server.control.zep_add_facts("s1", ["Ada lives in Oslo.", "Ada likes green."])
    node = seeded.call(lambda z: z.user.get_node("u1")).node
    assert (node.name, node.summary) == ("u1", "Ada lives in Oslo. Ada likes green.")
    server.control.zep_seed_answer(
        "get_node",
        {
            "node": {
                "uuid": "n1",
                "name": "Ada",
                "summary": "seeded",
                "created_at": "2025-01-01T00:00:00Z",
            }
        },
        user_id="u1",
    )
    assert seeded.call(lambda z: z.user.get_node("u1")).node.summary == "seeded"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.user.get_node("nobody"))


# --- sessions --------------------------------------------------------------------------------


def test_memory_add_session(zep: Any) -> None:
    zep.call(lambda z: z.user.add(user_id="u1"))
    session = zep.call(lambda z: z.memory.add_session(session_id="s1", user_id="u1"))
    assert (session.session_id, session.user_id, session.ended_at) == ("s1", "u1", None)
    with pytest.raises(BadRequestError):  # the user must exist
        zep.call(lambda z: z.memory.add_session(session_id="s2", user_id="nobody"))


def test_memory_get_session(seeded: Any) -> None:
    assert seeded.call(lambda z: z.memory.get_session("s1")).metadata == {"a": 1}
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_session("nope"))


def test_memory_update_session(seeded: Any) -> None:
    session = seeded.call(lambda z: z.memory.update_session("s1", metadata={"b": 2}))
    assert session.metadata == {"a": 1, "b": 2}  # merged, as Zep merges metadata
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.update_session("nope", metadata={}))


def test_memory_list_sessions(seeded: Any) -> None:
    for name in ("s3", "s2"):
        seeded.call(lambda z, name=name: z.memory.add_session(session_id=name, user_id="u1"))
    newest_first = seeded.call(lambda z: z.memory.list_sessions())
    assert [s.session_id for s in newest_first.sessions] == ["s2", "s3", "s1"]
    by_id = seeded.call(
        lambda z: z.memory.list_sessions(order_by="session_id", asc=True, page_size=2)
    )
    assert [s.session_id for s in by_id.sessions] == ["s1", "s2"]
    assert (by_id.total_count, by_id.response_count) == (3, 2)
    with pytest.raises(BadRequestError):
        seeded.call(lambda z: z.memory.list_sessions(order_by="colour"))


def test_memory_end_session(seeded: Any) -> None:
    ended = seeded.call(
        lambda z: z.memory.end_session(
            "s1", classify=ClassifySessionRequest(name="topic", classes=["sport", "weather"])
        )
    )
    assert ended.session.ended_at is not None
    assert (ended.classification.class_, ended.classification.label) == ("weather", "topic")
    with pytest.raises(ApiError) as excinfo:  # an ended session takes no more messages
        seeded.call(lambda z: z.memory.add("s1", messages=[_msg("late")]))
    assert excinfo.value.status_code == 409
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.end_session("nope"))


def test_memory_end_sessions(seeded: Any) -> None:
    seeded.call(lambda z: z.memory.add_session(session_id="s2", user_id="u1"))
    ended = seeded.call(lambda z: z.memory.end_sessions(session_ids=["s1", "s2"]))
    assert [(s.session_id, s.ended_at is not None) for s in ended.sessions] == [
        ("s1", True),
        ("s2", True),
    ]
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.end_sessions(session_ids=["s1", "nope"]))
    with pytest.raises(BadRequestError):
        seeded.call(lambda z: z.memory.end_sessions(session_ids=[]))


# --- messages and memory ---------------------------------------------------------------------


def test_memory_add(seeded: Any) -> None:
    result = seeded.call(lambda z: z.memory.add("s1", messages=[_msg("more")]))
    assert result.context is None
    # The SDK maps no 404 for this call either.
    with pytest.raises(ApiError) as excinfo:
        seeded.call(lambda z: z.memory.add("nope", messages=[_msg("x")]))
    assert excinfo.value.status_code == 404


def test_memory_get(seeded: Any, server: EmulatorServer) -> None:
    server.control.zep_set_context("s1", "Ada lives in Oslo.")
    memory = seeded.call(lambda z: z.memory.get("s1", lastn=2))
    assert memory.context == "Ada lives in Oslo."
    assert [m.content for m in memory.messages] == [
        "Noted, Oslo it is.",
        "What is the weather like in Oslo?",
    ]
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get("nope"))


def test_memory_delete(seeded: Any) -> None:
    assert seeded.call(lambda z: z.memory.delete("s1")).message == "OK"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.delete("s1"))


def test_memory_get_session_messages(seeded: Any) -> None:
    page = seeded.call(lambda z: z.memory.get_session_messages("s1", limit=2, cursor=2))
    assert [m.content for m in page.messages] == ["What is the weather like in Oslo?"]
    assert (page.row_count, page.total_count) == (1, 3)
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_session_messages("nope"))


def test_memory_get_session_message(seeded: Any) -> None:
    first = seeded.call(lambda z: z.memory.get_session_messages("s1")).messages[0]
    message = seeded.call(lambda z: z.memory.get_session_message("s1", first.uuid_))
    assert (message.uuid_, message.content) == (first.uuid_, first.content)
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_session_message("s1", "no-such-message"))


def test_memory_update_message_metadata(seeded: Any) -> None:
    first = seeded.call(lambda z: z.memory.get_session_messages("s1")).messages[0]
    updated = seeded.call(
        lambda z: z.memory.update_message_metadata("s1", first.uuid_, metadata={"seen": True})
    )
    assert updated.metadata == {"seen": True}
    again = seeded.call(lambda z: z.memory.get_session_message("s1", first.uuid_))
    assert again.metadata == {"seen": True}
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.update_message_metadata("nope", "m", metadata={}))


# --- facts -----------------------------------------------------------------------------------


def test_memory_add_and_get_session_facts(seeded: Any) -> None:
    added = seeded.call(
        lambda z: z.memory.add_session_facts("s1", facts=[NewFact(fact="Ada likes green")])
    )
    assert added.message == "OK"
    facts = seeded.call(lambda z: z.memory.get_session_facts("s1")).facts
    assert [f.fact for f in facts] == ["Ada likes green"]
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_session_facts("nope"))
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.add_session_facts("nope", facts=[NewFact(fact="x")]))


def test_memory_get_session_facts_min_rating(seeded: Any, server: EmulatorServer) -> None:
    server.control.zep_add_facts("s1", [{"content": "high", "rating": 0.9}, "unrated"])
    facts = seeded.call(lambda z: z.memory.get_session_facts("s1", min_rating=0.5)).facts
    assert [f.fact for f in facts] == ["high"]


def test_memory_get_fact_and_delete_fact(seeded: Any, server: EmulatorServer) -> None:
    [fact] = server.control.zep_add_facts("s1", ["Ada lives in Oslo"])
    assert seeded.call(lambda z: z.memory.get_fact(fact["uuid"])).fact.content == (
        "Ada lives in Oslo"
    )
    assert seeded.call(lambda z: z.memory.delete_fact(fact["uuid"])).message == "OK"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_fact(fact["uuid"]))
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.delete_fact(fact["uuid"]))


# --- the deterministic stand-ins for model-backed methods ---------------------------------------


def test_memory_search_ranks_by_word_overlap(seeded: Any, server: EmulatorServer) -> None:
    results = seeded.call(lambda z: z.memory.search("s1", text="weather in Oslo", limit=2))
    assert [(r.message.content, r.score) for r in results] == [
        ("What is the weather like in Oslo?", 1.0),
        ("I live in Oslo and my favourite colour is green.", pytest.approx(2 / 3)),
    ]
    server.control.zep_add_facts("s1", ["Ada likes green tea"])
    facts = seeded.call(lambda z: z.memory.search("s1", text="green", search_scope="facts"))
    assert [r.metadata["fact"] for r in facts] == ["Ada likes green tea"]
    server.control.zep_seed_answer(
        "search", [{"score": 0.5, "metadata": {"seeded": True}}], session_id="s1"
    )
    seeded_results = seeded.call(lambda z: z.memory.search("s1", text="anything"))
    assert [r.metadata for r in seeded_results] == [{"seeded": True}]
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.search("nope", text="x"))


def test_memory_search_sessions(seeded: Any) -> None:
    seeded.call(lambda z: z.memory.add_session(session_id="s2", user_id="u1"))
    seeded.call(lambda z: z.memory.add("s2", messages=[_msg("Rain in Oslo again")]))
    found = seeded.call(lambda z: z.memory.search_sessions(text="rain Oslo", user_id="u1", limit=2))
    assert [(r.session_id, r.message.content, r.score) for r in found.results] == [
        ("s2", "Rain in Oslo again", 1.0),
        ("s1", "I live in Oslo and my favourite colour is green.", 0.5),
    ]
    only = seeded.call(lambda z: z.memory.search_sessions(text="rain", session_ids=["s1"]))
    assert only.results == []
    with pytest.raises(ApiError) as excinfo:  # text is required
        seeded.call(lambda z: z.memory.search_sessions(text=""))
    assert excinfo.value.status_code == 400


def test_memory_get_summaries(seeded: Any, server: EmulatorServer) -> None:
    assert seeded.call(lambda z: z.memory.get_summaries("s1")).summaries == []
    server.control.zep_set_summary("s1", "Ada talks about Oslo.")
    listed = seeded.call(lambda z: z.memory.get_summaries("s1"))
    assert [s.content for s in listed.summaries] == ["Ada talks about Oslo."]
    assert (listed.row_count, listed.total_count) == (1, 1)
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.get_summaries("nope"))


def test_memory_synthesize_question(seeded: Any, server: EmulatorServer) -> None:
    question = seeded.call(lambda z: z.memory.synthesize_question("s1", last_n_messages=2))
    assert question.question == "What is the weather like in Oslo?"
    server.control.zep_seed_answer("synthesize_question", {"question": "Seeded?"}, session_id="s1")
    assert seeded.call(lambda z: z.memory.synthesize_question("s1")).question == "Seeded?"
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.synthesize_question("nope"))


def test_memory_classify_session(seeded: Any) -> None:
    result = seeded.call(
        lambda z: z.memory.classify_session(
            "s1", name="topic", classes=["sport", "colour green", "weather"]
        )
    )
    assert (result.class_, result.label) == ("colour green", "topic")
    assert seeded.call(lambda z: z.memory.get_session("s1")).classifications == {
        "topic": "colour green"
    }
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.classify_session("nope", name="t", classes=["a"]))
    with pytest.raises(ApiError) as excinfo:
        seeded.call(lambda z: z.memory.classify_session("s1", name="t", classes=[]))
    assert excinfo.value.status_code == 400


def test_memory_extract_data(seeded: Any) -> None:
    schema = json.dumps(
        {
            "type": "object",
            "properties": {"favourite_colour": {"type": "string"}, "pet": {"type": "string"}},
        }
    )
    data = seeded.call(lambda z: z.memory.extract_data("s1", last_n=3, model_schema=schema))
    assert data == {"favourite_colour": "green"}
    with pytest.raises(BadRequestError):
        seeded.call(lambda z: z.memory.extract_data("s1", last_n=3, model_schema="{not json"))
    with pytest.raises(NotFoundError):
        seeded.call(lambda z: z.memory.extract_data("nope", last_n=1, model_schema=schema))

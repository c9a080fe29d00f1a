"""``sessionmem show``: a cassette read back as its conversation, through the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_sessionmem.cassette.conversation import conversation_from_cassette, detect_provider
from pytest_sessionmem.cassette.schema import cassette_from_data

ROOT = Path(__file__).resolve().parents[2]
ZEP_FACTS = (
    ROOT
    / "examples/zep/cassettes/test_support_memory/test_zep_extracts_facts_after_processing.json"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_sessionmem.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


def interaction(method: str, path: str, status: int, body: Any, query: Any = None) -> Any:
    request: dict[str, Any] = {"method": method, "path": path, "headers": {}}
    if query:
        request["query"] = query
    return {
        "request": request,
        "response": {
            "status": status,
            "headers": {"content-type": "application/json"},
            "json": body,
        },
    }


def eliza_message(n: int) -> dict[str, Any]:
    return {
        "id": f"m{n}",
        "content": f"message {n}",
        "authorId": "u1",
        "isAgent": n % 2 == 0,
        "createdAt": 1735689600000 + n,
        "metadata": {},
    }


def eliza_page(numbers: list[int], has_more: bool) -> dict[str, Any]:
    messages = [eliza_message(n) for n in numbers]
    return {
        "messages": messages,
        "hasMore": has_more,
        "cursors": {"before": messages[-1]["createdAt"], "after": messages[0]["createdAt"]},
    }


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def test_show_prints_turns_facts_and_one_line_per_exchange() -> None:
    result = run_cli("show", str(ZEP_FACTS))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[1] == (
        "  zep, recorded against http://127.0.0.1/zep/api/v2, 6 HTTP exchange(s)"
    )
    assert "  session support-4711 (user alice-4711, created 2025-01-01T00:00:00.002Z)" in out
    turns = [
        line.strip() for line in out.splitlines() if line.strip()[:2] in ("1.", "2.", "3.", "4.")
    ]
    assert turns[:4] == [
        "1. user (Alice)  2025-01-01T00:00:00.003Z",
        "2. assistant (Ava)  2025-01-01T00:00:00.004Z",
        "3. user (Alice)  2025-01-01T00:00:00.005Z",
        "4. assistant (Ava)  2025-01-01T00:00:00.006Z",
    ]
    assert "         My order #5521 never arrived.\n         It was a blue kettle." in out
    assert "      [0.90] Alice lives in Lisbon\n      [0.70] Order #5521 was a blue kettle" in out
    exchanges = out.split("  HTTP exchanges:\n", 1)[1].splitlines()
    assert len(exchanges) == 6
    assert exchanges[0].split() == ["1", "POST", "/users", "200", "application/json"]
    assert exchanges[5].endswith("memory: 3 fact(s)")


def test_show_json_gives_the_same_as_data() -> None:
    result = run_cli("show", "--json", str(ZEP_FACTS))

    assert result.returncode == 0, result.stderr
    [data] = json.loads(result.stdout)
    [session] = data["sessions"]
    assert data["provider"] == "zep"
    assert [(t["role"], t["name"]) for t in session["turns"]] == [
        ("user", "Alice"),
        ("assistant", "Ava"),
        ("user", "Alice"),
        ("assistant", "Ava"),
    ]
    assert [(f["content"], f["rating"]) for f in session["facts"]] == [
        ("Alice lives in Lisbon", 0.9),
        ("Order #5521 was a blue kettle", 0.7),
        ("Alice likes tea", 0.2),
    ]
    assert [e["status"] for e in data["exchanges"]] == [200, 201, 200, 200, 200, 200]


def test_paged_and_repeated_reads_give_each_turn_once_oldest_first(tmp_path: Path) -> None:
    sid = "s-1"
    base = f"/api/messaging/sessions/{sid}/messages"
    data = {
        "version": 1,
        "recorded_with": "pytest-sessionmem",
        "base_url": "http://127.0.0.1/eliza",
        "interactions": [
            interaction("GET", base, 200, eliza_page([5, 4, 3], True), {"limit": "3"}),
            interaction("GET", base, 200, eliza_page([3, 2, 1], False), {"limit": "3"}),
            # A later read of the newest page again: nothing new.
            interaction("GET", base, 200, eliza_page([5, 4, 3], True), {"limit": "3"}),
        ],
    }
    cassette = cassette_from_data(data, path="c.json")

    conversation = conversation_from_cassette(cassette, path="c.json")

    [session] = conversation.sessions
    assert [t.content for t in session.turns] == [f"message {n}" for n in (1, 2, 3, 4, 5)]
    assert [t.role.value for t in session.turns][:2] == ["user", "assistant"]
    assert [e.what for e in conversation.exchanges] == [
        "3 message(s), 3 new",
        "3 message(s), 2 new",
        "3 message(s), 0 new",
    ]


def test_the_provider_comes_from_the_base_url_or_the_paths() -> None:
    def cassette(base_url: str, path: str) -> Any:
        return cassette_from_data(
            {
                "version": 1,
                "base_url": base_url,
                "interactions": [interaction("POST", path, 200, {})],
            },
            path="c.json",
        )

    assert detect_provider(cassette("http://127.0.0.1/meibel/v2", "/x")) == "meibel"
    assert detect_provider(cassette("https://api.getzep.com/api/v2", "/x")) == "zep"
    assert detect_provider(cassette("http://10.0.0.5:3000", "/api/messaging/sessions")) == "eliza"
    assert detect_provider(cassette("http://10.0.0.5:3000", "/unknown")) is None


def test_a_folder_shows_every_cassette_and_skips_other_json(tmp_path: Path) -> None:
    write(tmp_path / "package.json", {"name": "not a cassette"})
    for name in ("test_a", "test_b"):
        write(
            tmp_path / "cassettes" / "test_mod" / f"{name}.json",
            {
                "version": 1,
                "recorded_with": "pytest-sessionmem",
                "base_url": "",
                "interactions": [],
            },
        )

    result = run_cli("show", str(tmp_path))

    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stdout.splitlines() if line.endswith(".json")]
    assert shown == [
        str(tmp_path / "cassettes" / "test_mod" / "test_a.json"),
        str(tmp_path / "cassettes" / "test_mod" / "test_b.json"),
    ]


def test_a_corrupt_cassette_found_in_a_folder_is_reported_not_skipped(tmp_path: Path) -> None:
    good = write(
        tmp_path / "cassettes" / "test_mod" / "test_a.json",
        {"version": 1, "recorded_with": "pytest-sessionmem", "base_url": "", "interactions": []},
    )
    broken = tmp_path / "cassettes" / "test_mod" / "test_b.json"  # cut short while written
    broken.write_text('{"version": 1, "recorded_with": "pytest-sessionmem", "interactions": [')

    result = run_cli("show", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith(f"sessionmem: error: Cassette {broken} is not valid JSON")
    assert str(good) in result.stdout


def test_a_corrupt_named_cassette_says_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "interactions": [')

    result = run_cli("show", str(broken))

    assert result.returncode == 2
    assert result.stderr.startswith(f"sessionmem: error: Cassette {broken} is not valid JSON")


def test_show_without_cassettes_explains_where_they_live(tmp_path: Path) -> None:
    result = run_cli("show", str(tmp_path))

    assert result.returncode == 2
    assert "cassettes are the .json files in the cassettes/ folder" in result.stderr


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "objects and lists nest deeper than 254 levels"),
        ("[" * 2_000 + "]" * 2_000, "objects and lists nest deeper than 254 levels"),
        ("1" * 5_000, "an integer of 5000 digits (this Python reads at most 4300)"),
        ('{"a": 1, "a": 2}', "key 'a' appears twice in one object"),
    ],
)
def test_a_folder_walk_reports_a_hostile_cassette_and_goes_on(
    tmp_path: Path, body: str, problem: str
) -> None:
    folder = tmp_path / "cassettes" / "test_mod"
    folder.mkdir(parents=True)
    hostile = folder / "test_a.json"
    hostile.write_text(
        '{"version": 1, "recorded_with": "pytest-sessionmem", "interactions": [\n'
        '{"request": {"method": "GET", "path": "/x"}, "response": {"status": 200, "json": '
        f"{body}}}}}]}}\n",
        encoding="utf-8",
    )
    good = write(
        folder / "test_b.json",
        {"version": 1, "recorded_with": "pytest-sessionmem", "base_url": "", "interactions": []},
    )

    result = run_cli("show", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith(
        f"sessionmem: error: Cassette {hostile} cannot be read: {problem} at line 2 column "
    )
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert str(good) in result.stdout


# -- Zep threads: context, summary and graph edges ---------------------------------------------

ZEP_V4_MEMORY = (
    ROOT
    / "examples/zep_v4/cassettes/test_support_agent/test_context_and_facts_after_processing.json"
)


def test_a_zep_v4_thread_shows_the_memory_the_client_reads() -> None:
    from pytest_sessionmem.cassette import CassetteSession, RecordMode
    from pytest_sessionmem.cassette.store import load_cassette
    from pytest_sessionmem.client import SessionClient

    cassette = load_cassette(ZEP_V4_MEMORY)
    conversation = conversation_from_cassette(cassette, path=str(ZEP_V4_MEMORY))
    [session] = conversation.sessions

    # The same cassette replayed through the client: its last memory read is what show gives.
    replay = CassetteSession(ZEP_V4_MEMORY, mode=RecordMode.NONE, base_url=cassette.base_url)
    with SessionClient(
        "zep-v4", base_url=cassette.base_url, api_key="k", transport=replay.transport()
    ) as client:
        client.get_memory(session.id)  # read before Zep processed the conversation
        memory = client.get_memory(session.id)
    assert memory.facts and memory.context  # the example reads them after processing
    assert session.facts == memory.facts
    assert session.context == memory.context
    assert [f.content for f in session.facts] == [
        "Alice lives in Lisbon",
        "Order #5521 was a blue kettle",
        "Alice likes tea",
    ]

    result = run_cli("show", "--json", str(ZEP_V4_MEMORY))
    assert result.returncode == 0, result.stderr
    [data] = json.loads(result.stdout)
    [shown] = data["sessions"]
    assert [(f["content"], f["rating"]) for f in shown["facts"]] == [
        ("Alice lives in Lisbon", 0.9),
        ("Order #5521 was a blue kettle", 0.7),
        ("Alice likes tea", 0.2),
    ]
    assert shown["context"] == memory.context
    whats = [e["what"] for e in data["exchanges"]]
    assert "context: none yet" in whats and "no summary yet" in whats
    assert "graph: 3 fact(s)" in whats

    text = run_cli("show", str(ZEP_V4_MEMORY)).stdout
    assert "    facts:\n      [0.90] Alice lives in Lisbon\n" in text
    assert "    context:\n      FACTS and ENTITIES" in text


def edge(uuid: str, fact: str, score: float | None = None) -> dict[str, Any]:
    return {"uuid": uuid, "fact": fact, "name": "RELATES_TO", "score": score}


def thread_cassette(base_url: str, interactions: list[Any]) -> Any:
    data = {"version": 1, "base_url": base_url, "interactions": interactions}
    return cassette_from_data(data, path="c.json")


def test_a_zep_v3_thread_shows_its_context_summary_and_user_graph() -> None:
    listing = {
        "messages": [{"uuid": "m1", "role": "user", "content": "I like tea"}],
        "user_id": "u1",
        "thread_created_at": "2025-01-01T00:00:00.002Z",
    }
    cassette = thread_cassette(
        "http://127.0.0.1/zep/api/v2",
        [
            interaction("GET", "/threads/t1/messages", 200, listing, {"lastn": "6"}),
            interaction("GET", "/threads/t1/context", 200, {"context": "Likes tea."}),
            interaction("GET", "/threads/t1/summary", 200, {"summary": "Tea talk."}),
            interaction("POST", "/graph/edge/user/u1", 200, [edge("e1", "u1 likes tea", 0.8)]),
            # Another user's graph: no thread of this cassette is theirs.
            interaction("POST", "/graph/edge/user/u2", 200, [edge("e2", "u2 likes coffee")]),
        ],
    )

    conversation = conversation_from_cassette(cassette, path="c.json", provider="zep-v3")

    [session] = conversation.sessions
    assert (session.id, session.user_id) == ("t1", "u1")
    assert [(f.content, f.rating) for f in session.facts] == [("u1 likes tea", 0.8)]
    assert (session.context, session.summary) == ("Likes tea.", "Tea talk.")
    assert [e.what for e in conversation.exchanges] == [
        "1 message(s), 1 new",
        "context",
        "summary",
        "graph: 1 fact(s)",
        "graph: 1 fact(s) (no thread read names this graph)",
    ]


def test_zep_v4_graph_pages_add_up_and_a_new_listing_replaces_them() -> None:
    thread = {"uuid": "t1", "user_uuid": "u1", "graph_uuid": "g1"}
    listing = "/graphs/g1/edges/list"
    page_one = {"items": [edge("e1", "first")], "next_cursor": "c2"}
    page_two = {"items": [edge("e2", "second")], "next_cursor": None}
    later = {"items": [edge("e3", "only this")]}
    cassette = thread_cassette(
        "http://127.0.0.1/zep/api/v4",
        [
            interaction("GET", "/threads/t1", 200, thread),
            interaction("POST", listing, 200, page_one, {"page_size": "100"}),
            interaction("POST", listing, 200, page_two, {"page_size": "100", "cursor": "c2"}),
        ],
    )

    [session] = conversation_from_cassette(cassette, path="c.json").sessions
    assert [f.content for f in session.facts] == ["first", "second"]

    again = thread_cassette(
        "http://127.0.0.1/zep/api/v4",
        [
            interaction("GET", "/threads/t1", 200, thread),
            interaction("POST", listing, 200, page_one, {"page_size": "100"}),
            interaction("POST", listing, 200, page_two, {"page_size": "100", "cursor": "c2"}),
            interaction("POST", listing, 200, later, {"page_size": "100"}),
        ],
    )
    [session] = conversation_from_cassette(again, path="c.json").sessions
    assert [f.content for f in session.facts] == ["only this"]


def test_a_corrupt_cassette_gets_the_plugins_fix_in_the_same_words(tmp_path: Path) -> None:
    from pytest_sessionmem.cassette import CassetteSession, RecordMode
    from pytest_sessionmem.errors import CassetteCorrupt

    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "interactions": [')

    shown = run_cli("show", str(broken)).stderr
    try:
        CassetteSession(broken, mode=RecordMode.NONE, base_url="http://127.0.0.1")
    except CassetteCorrupt as exc:
        plugin = str(exc)
    else:
        raise AssertionError("a corrupt cassette loaded")

    fix = "record it again (the old file is replaced)"
    assert shown.strip().endswith(f"or {fix} with --sessionmem-record-mode=all.")
    assert f"or {fix}; " in plugin and "--sessionmem-record-mode=all" in plugin
    assert "delete" not in shown + plugin

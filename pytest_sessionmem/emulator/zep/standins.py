"""Deterministic stand-ins for what Zep does with a model, free of HTTP.

Search ranks what shares words with the query (lower-cased ``\\w+`` tokens); a thread's
context is the seeded context, else a facts block built from the user's visible edges, else
``""``; classifying picks the class sharing the most words with the conversation; extracting
reads ``<field> is <value>`` statements. ``POST /_emulator/zep/answers`` replaces the v2 ones
with a seeded answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from .._http import BadRequest, NotJSON, UnservableBody, standard_json
from ..core import isoformat_z
from .rules import required_str, strict_int, visible_edges, visible_facts, visible_summary
from .store import Graph, Zep, ZepSession, note_read, thread_graph

__all__ = [
    "MODEL_METHODS",
    "SearchQuery",
    "classify",
    "extract",
    "facts_block",
    "ranked_edges",
    "read_context",
    "schema_fields",
    "search_one",
    "search_words",
    "thread_context",
]

HitT = TypeVar("HitT", bound=tuple[Any, ...])

DEFAULT_SEARCH_LIMIT = 10
SEARCH_SCOPES = ("messages", "summary", "facts")
# Methods whose real answer comes from a model; POST /_emulator/zep/answers seeds them.
MODEL_METHODS = (
    "search",
    "search_sessions",
    "get_summaries",
    "synthesize_question",
    "classify_session",
    "extract_data",
    "get_node",
)
_WORD = re.compile(r"\w+")


def search_words(text: str) -> set[str]:
    """The distinct lower-cased words of ``text``: what every Zep search stand-in compares."""
    return set(_WORD.findall(text.lower()))


def _overlap(query: set[str], text: str) -> float:
    """The share of the query's distinct words that ``text`` contains (0..1)."""
    if not query:
        return 0.0
    return len(query & search_words(text)) / len(query)


# ---------------------------------------------------------------- v2 search


def _search_scope(body: dict[str, Any]) -> str:
    scope = body.get("search_scope") or "messages"
    if scope not in SEARCH_SCOPES:
        raise BadRequest(f"search_scope must be one of {', '.join(SEARCH_SCOPES)}, got {scope!r}")
    return str(scope)


def _optional_number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any double
        raise BadRequest(f"{key} must be a number a double can hold") from None


@dataclass(frozen=True)
class SearchQuery:
    """What a search call asks, as both v2 search endpoints read it."""

    text: str
    limit: int
    scope: str
    min_score: float | None
    min_rating: float | None

    @classmethod
    def of(cls, query: Mapping[str, str], body: dict[str, Any]) -> SearchQuery:
        return cls(
            text=required_str(body, "text"),
            limit=strict_int(query.get("limit"), "limit") or DEFAULT_SEARCH_LIMIT,
            scope=_search_scope(body),
            min_score=_optional_number(body, "min_score"),
            min_rating=_optional_number(body, "min_fact_rating"),
        )

    def ranked(self, hits: list[HitT]) -> list[HitT]:
        """The best ``limit`` hits reaching ``min_score``, best first."""
        # sorted() is stable: equal scores keep the order the items were written in.
        kept = [h for h in hits if self.min_score is None or h[0] >= self.min_score]
        return sorted(kept, key=lambda h: -h[0])[: self.limit]


def search_one(
    session: ZepSession, search: SearchQuery, now: datetime
) -> list[tuple[float, str, dict[str, Any]]]:
    """``(score, kind, payload)`` for every item in scope sharing a word with the query."""
    query, scope, min_rating = search_words(search.text), search.scope, search.min_rating
    hits: list[tuple[float, str, dict[str, Any]]] = []
    if scope == "messages":
        for message in session.messages:
            hits.append(
                (
                    _overlap(query, message.payload["content"]),
                    "message",
                    {**message.payload, "processed": message.readiness.reached(now, session.reads)},
                )
            )
    elif scope == "facts":
        for fact in visible_facts(session, now, min_rating):
            hits.append((_overlap(query, fact["content"]), "fact", fact))
    else:
        summary = visible_summary(session, now)
        if summary is not None:
            hits.append((_overlap(query, summary["content"]), "summary", summary))
    return [hit for hit in hits if hit[0] > 0]


# ---------------------------------------------------------------- v2 classify and extract


def classify(zep: Zep, session: ZepSession, body: dict[str, Any]) -> dict[str, Any]:
    classes = body.get("classes")
    name = body.get("name")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise BadRequest("classes must be a non-empty list of strings")
    if not isinstance(name, str) or not name:
        raise BadRequest("name is required")
    last_n = body.get("last_n")
    if last_n is not None and (not isinstance(last_n, int) or last_n < 1):
        raise BadRequest("last_n must be a positive integer")
    window = session.messages[-last_n:] if last_n else session.messages
    words = search_words(" ".join(m.payload["content"] for m in window))
    # The class sharing the most words with the conversation; ties go to the first listed.
    best = max(classes, key=lambda c: len(search_words(c) & words))
    if body.get("persist", True) is not False:
        session.record.setdefault("classifications", {})[name] = best
        session.record["updated_at"] = isoformat_z(zep.clock.now())
    return {"class": best, "label": name}


def schema_fields(raw: Any) -> list[str]:
    if not isinstance(raw, str):
        raise BadRequest("model_schema must be a JSON schema, as a string")
    try:
        schema = standard_json(raw)
    except NotJSON as exc:
        raise BadRequest(f"model_schema is not valid JSON: {exc.detail}") from None
    except UnservableBody as exc:
        raise BadRequest(f"model_schema: the schema's {exc}") from None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        raise BadRequest('model_schema must be a JSON schema object with "properties"')
    return [str(name) for name in properties]


def extract(fields: list[str], texts: list[str]) -> dict[str, str]:
    """``{field: value}`` for every field a message states as ``<field> is|:|= <value>``."""
    found: dict[str, str] = {}
    for field_name in fields:
        words = r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", field_name) if w)
        pattern = re.compile(rf"\b{words}\s*(?:is|are|was|:|=)\s*([^.,;!?\n]+)", re.I)
        for text in reversed(texts):  # the newest statement wins
            match = pattern.search(text)
            if match:
                found[field_name] = match.group(1).strip()
                break
    return found


# ---------------------------------------------------------------- threads: edges and context


def ranked_edges(zep: Zep, graph: Graph, query: str) -> list[dict[str, Any]]:
    """The graph's visible edges sharing words with ``query``, with their ``relevance``."""
    wanted = search_words(query)
    scored: list[tuple[float, int, dict[str, Any]]] = []
    for index, edge in enumerate(visible_edges(zep, graph)):
        shared = len(wanted & search_words(str(edge.get("fact", ""))))
        if shared:
            scored.append((shared / len(wanted), index, edge))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [{**edge, "relevance": round(score, 6)} for score, _, edge in scored]


def facts_block(edges: list[dict[str, Any]]) -> str:
    if not edges:
        return ""
    lines = [
        "FACTS and ENTITIES represent relevant context to the current conversation.",
        "# These are the most relevant facts and their valid date ranges",
        "# format: FACT (Date range: from - to)",
        "<FACTS>",
    ]
    for edge in edges:
        since = edge.get("valid_at") or edge.get("created_at") or "unknown"
        until = edge.get("invalid_at") or "present"
        lines.append(f"  - {edge['fact']} ({since} - {until})")
    lines.append("</FACTS>")
    return "\n".join(lines) + "\n"


def thread_context(zep: Zep, session: ZepSession) -> str:
    """The seeded context, else a facts block from the user's visible edges, else ``""``."""
    seeded = session.context
    if seeded is not None and seeded.readiness.reached(zep.clock.peek(), session.reads):
        text = seeded.payload.get("context")
        return text if isinstance(text, str) else ""
    graph = thread_graph(zep, session)
    edges = visible_edges(zep, graph) if graph is not None else []
    return facts_block(edges)


def read_context(zep: Zep, session: ZepSession) -> dict[str, str]:
    """The answer to a thread's context call, which counts as a read of the thread."""
    note_read(zep, session)
    return {"context": thread_context(zep, session)}

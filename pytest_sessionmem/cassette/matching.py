"""Deciding whether a request matches a recorded one, and explaining why not.

Two (scrubbed) requests match when their method, base-relative path, canonical query
(decoded pairs, sorted) and canonical body (JSON compared structurally, text as text,
bytes as bytes, empty as empty) are equal. For the provider's own traffic host, scheme,
port and headers do not take part: a cassette replays against any base URL. A request to
any other host (an LLM API) keeps its origin (scheme, host, port), which takes part.

:func:`explain_miss` turns a miss into the message of :class:`UnmatchedRequest`: the
request, up to three closest recorded candidates with what differs per field, and the
flag that records the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pytest_sessionmem.cassette.schema import Body, Interaction, RecordedRequest
from pytest_sessionmem.support.terminal_text import escape_controls

__all__ = [
    "MatchKey",
    "differences",
    "explain_miss",
    "ignoring",
    "match_key",
    "pii_blind_key",
]

MatchKey = tuple[str, str, tuple[tuple[str, str], ...], tuple[str, str]]

MAX_CANDIDATES = 3
MAX_DIFFERENCES = 4


def match_key(request: RecordedRequest) -> MatchKey:
    """The identity of a request for replay purposes."""
    return (
        request.method.upper(),
        request.origin + request.path,
        tuple(sorted(request.query)),
        request.body.canonical(),
    )


_PII_NUMBER = re.compile(r"<(EMAIL|PHONE)_\d+>")


def pii_blind_key(request: RecordedRequest) -> MatchKey:
    """:func:`match_key` with ``<EMAIL_3>`` read as ``<EMAIL>`` (and phones alike).

    Personal-data placeholders are numbered by first appearance in a test's traffic, and a
    replay scrubs only requests (the recording also numbered values first seen in
    responses), so the numbers may differ while the request is the same.
    """
    method, path, query, (kind, body) = match_key(request)
    blind = _PII_NUMBER.sub(r"<\1>", body)
    return (
        method,
        _PII_NUMBER.sub(r"<\1>", path),
        tuple((_PII_NUMBER.sub(r"<\1>", k), _PII_NUMBER.sub(r"<\1>", v)) for k, v in query),
        (kind, blind),
    )


def ignoring(request: RecordedRequest, names: Sequence[str]) -> RecordedRequest:
    """``request`` without what ``match_ignore`` names: query parameters of those names and
    JSON body values at those dotted paths (``*`` for any key or list item).

    Header names are accepted too; headers never take part in matching.
    """
    if not names:
        return request
    wanted = frozenset(names)
    query = tuple((key, value) for key, value in request.query if key not in wanted)
    body = request.body
    if body.kind == "json":
        value = body.value
        for name in names:
            value = _drop_path(value, tuple(name.split(".")))
        body = Body("json", value)
    return replace(request, query=query, body=body)


def _drop_path(value: Any, path: tuple[str, ...]) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if head in ("*", key):
                if rest:
                    out[key] = _drop_path(item, rest)
            else:
                out[key] = item
        return out
    if isinstance(value, list) and rest:
        return [
            _drop_path(item, rest) if head in ("*", str(index)) else item
            for index, item in enumerate(value)
        ]
    return value


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _json_differences(actual: Any, recorded: Any, where: str, out: list[str]) -> None:
    if isinstance(actual, dict) and isinstance(recorded, dict):
        for key in actual.keys() | recorded.keys():
            child = f"{where}.{key}" if where else str(key)
            if key not in recorded:
                out.append(f"body at `{child}`: {_short(actual[key])} != (absent)")
            elif key not in actual:
                out.append(f"body at `{child}`: (absent) != {_short(recorded[key])}")
            else:
                _json_differences(actual[key], recorded[key], child, out)
        return
    if isinstance(actual, list) and isinstance(recorded, list):
        for index in range(max(len(actual), len(recorded))):
            child = f"{where}[{index}]"
            if index >= len(recorded):
                out.append(f"body at `{child}`: {_short(actual[index])} != (absent)")
            elif index >= len(actual):
                out.append(f"body at `{child}`: (absent) != {_short(recorded[index])}")
            else:
                _json_differences(actual[index], recorded[index], child, out)
        return
    if json.dumps(actual, sort_keys=True) != json.dumps(recorded, sort_keys=True):
        out.append(f"body at `{where or '(root)'}`: {_short(actual)} != {_short(recorded)}")


def _query_differences(actual: RecordedRequest, recorded: RecordedRequest) -> list[str]:
    def grouped(request: RecordedRequest) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for key, value in sorted(request.query):
            result.setdefault(key, []).append(value)
        return result

    mine, theirs = grouped(actual), grouped(recorded)
    found: list[str] = []
    for key in sorted(mine.keys() | theirs.keys()):
        left, right = mine.get(key), theirs.get(key)
        if left == right:
            continue
        shown_left = "(absent)" if left is None else repr(left[0] if len(left) == 1 else left)
        shown_right = "(absent)" if right is None else repr(right[0] if len(right) == 1 else right)
        found.append(f"query param {key}: {shown_left} != {shown_right}")
    return found


def differences(actual: RecordedRequest, recorded: RecordedRequest) -> list[str]:
    """What differs, field by field, written as ``this request != recorded``."""
    found: list[str] = []
    if actual.method.upper() != recorded.method.upper():
        found.append(f"method: {actual.method!r} != {recorded.method!r}")
    if actual.origin != recorded.origin:
        found.append(
            f"host: {actual.origin or '(the provider)'!r} != {recorded.origin or '(the provider)'!r}"
        )
    if actual.path != recorded.path:
        found.append(f"path: {actual.path!r} != {recorded.path!r}")
    found.extend(_query_differences(actual, recorded))
    mine, theirs = actual.body, recorded.body
    if mine.canonical() != theirs.canonical():
        if mine.kind == theirs.kind == "json":
            _json_differences(mine.value, theirs.value, "", found)
        else:
            shown_mine = _describe_body(mine.kind, mine.value)
            shown_theirs = _describe_body(theirs.kind, theirs.value)
            found.append(f"body: {shown_mine} != {shown_theirs}")
    return found


def _describe_body(kind: str, value: Any) -> str:
    if kind == "empty":
        return "(empty)"
    if kind == "base64":
        return f"({len(bytes(value))} bytes of binary)"
    return f"{kind} {_short(value)}"


def _path_distance(left: str, right: str) -> int:
    a, b = left.strip("/").split("/"), right.strip("/").split("/")
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


def explain_miss(
    request: RecordedRequest,
    interactions: Sequence[Interaction],
    play_counts: Sequence[int],
    *,
    cassette: str,
    mode: str,
    how_to_record: str | None = None,
) -> str:
    """The full text of an :class:`UnmatchedRequest` error; ``how_to_record`` ends it."""
    lines = [
        f"No recorded interaction matches {request.describe()} in cassette {cassette} "
        f"(record mode {mode!r})."
    ]
    ranked = []
    for index, interaction in enumerate(interactions):
        recorded = interaction.request
        diffs = differences(request, recorded)
        if not diffs:
            diffs = [
                f"already played {play_counts[index]} times (it matches, but each recorded "
                "response replays once)"
            ]
        rank = (
            request.method.upper() != recorded.method.upper(),
            _path_distance(request.target, recorded.target),
            len(diffs),
            index,
        )
        ranked.append((rank, recorded, diffs))
    ranked.sort(key=lambda item: item[0])
    if not ranked:
        lines.append("The cassette holds no interactions.")
    else:
        lines.append("Closest recorded requests (this request != recorded):")
        for number, (_, recorded, diffs) in enumerate(ranked[:MAX_CANDIDATES], start=1):
            lines.append(f"  {number}. {recorded.describe()}")
            lines.extend(f"       - {diff}" for diff in diffs[:MAX_DIFFERENCES])
            if len(diffs) > MAX_DIFFERENCES:
                lines.append(f"       - and {len(diffs) - MAX_DIFFERENCES} more difference(s)")
    # What the cassette holds shows with its control characters escaped, so recorded text
    # cannot rewrite the terminal of the person reading the error.
    lines = [escape_controls(line) for line in lines]
    lines.append(
        how_to_record
        or "To record it, run again with --sessionmem-record-mode=new_episodes (keeps the "
        "recorded interactions and adds the missing ones) or --sessionmem-record-mode=all "
        "(records the whole test afresh)."
    )
    return "\n".join(lines)

"""The live drift check behind ``--sessionmem-verify``: is a live answer still shaped like the
recorded one?

Values are expected to differ (a live service has other ids, times and wording); the
*shape* is not. :func:`response_drift` reports

* a different status code or media type;
* for JSON bodies, the shape: fields added or removed, values whose JSON type changed
  (a string became a number, an object became null), and lists whose length changed.

Volatile fields are left out: ids, uuids, every ``*_id``/``*Id`` key, timestamps (``*_at``,
``*At``, ``timestamp``), token counts and cursors, whose presence and nullness change from
one answer to the next on the real services. The comparison uses DeepDiff, imported only
when a check runs.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_sessionmem.cassette.schema import RecordedResponse
from pytest_sessionmem.support.json_types import json_type

__all__ = ["VOLATILE_KEY", "response_drift", "shape_drift"]

#: Keys whose value (and whether it is null) changes on every answer.
VOLATILE_KEY = re.compile(
    r"^(?:id|uuid|ids|[A-Za-z0-9]+(?:_id|Id|_ids|Ids|_uuid)|[A-Za-z0-9_]+(?:_at|At)|timestamp|"
    r"token_count|tokens|cursor|cursors|signal_id|expiresAt)$"
)
# DeepDiff paths: root['messages'][0]['uuid'] -> a volatile key anywhere in the path.
_VOLATILE_PATH = re.compile(
    r"\['(?:id|uuid|ids|[A-Za-z0-9]+(?:_id|Id|_ids|Ids|_uuid)|[A-Za-z0-9_]+(?:_at|At)|timestamp|"
    r"token_count|tokens|cursor|cursors|signal_id|expiresAt)'\]"
)
_MAX_REPORTED = 12


def _media_type(response: RecordedResponse) -> str:
    return dict(response.headers).get("content-type", "").split(";", 1)[0].strip().lower()


def _list_path(path: str) -> str:
    return path[: path.rindex("[")]


def _at(root: Any, path: str) -> Any:
    value = root
    for part in re.findall(r"\[('(?:[^'\\]|\\.)*'|\d+)\]", path):
        value = value[part[1:-1]] if part.startswith("'") else value[int(part)]
    return value


def _dotted(path: str) -> str:
    """``root['messages'][0]['uuid']`` -> ``messages[0].uuid``; the whole body is ``(body)``."""
    out = ""
    for part in re.findall(r"\[('(?:[^'\\]|\\.)*'|\d+)\]", path):
        if part.startswith("'"):
            out += ("." if out else "") + part[1:-1]
        else:
            out += f"[{part}]"
    return out or "(body)"


def shape_drift(recorded: Any, live: Any) -> list[str]:
    """How the shape of ``live`` differs from ``recorded`` (JSON values), as readable lines."""
    from deepdiff import DeepDiff

    diff = DeepDiff(
        recorded,
        live,
        exclude_regex_paths=[_VOLATILE_PATH],
        ignore_numeric_type_changes=True,
        verbose_level=1,
        threshold_to_diff_deeper=0,
    )
    found: list[str] = []
    for path in sorted(diff.get("dictionary_item_added", [])):
        found.append(f"{_dotted(path)} added")
    for path in sorted(diff.get("dictionary_item_removed", [])):
        found.append(f"{_dotted(path)} removed")
    for path, change in sorted(diff.get("type_changes", {}).items()):
        old, new = json_type(change["old_value"]), json_type(change["new_value"])
        if old != new:
            found.append(f"{_dotted(path)} changed type from {old} to {new}")
    lists = {
        _list_path(path)
        for key in ("iterable_item_added", "iterable_item_removed")
        for path in diff.get(key, {})
    }
    for path in sorted(lists):
        found.append(
            f"{_dotted(path)} length changed from {len(_at(recorded, path))} to "
            f"{len(_at(live, path))}"
        )
    return found


def response_drift(recorded: RecordedResponse, live: RecordedResponse) -> list[str]:
    """Every way ``live`` drifted from ``recorded``: status, media type, JSON shape."""
    found: list[str] = []
    if recorded.status != live.status:
        found.append(f"status changed from {recorded.status} to {live.status}")
    if _media_type(recorded) != _media_type(live):
        found.append(
            f"content type changed from {_media_type(recorded) or '(none)'} to "
            f"{_media_type(live) or '(none)'}"
        )
    if recorded.body.kind == "json" and live.body.kind == "json":
        found.extend(shape_drift(recorded.body.value, live.body.value))
    elif recorded.body.kind != live.body.kind:
        found.append(f"body changed from {recorded.body.kind} to {live.body.kind}")
    if len(found) > _MAX_REPORTED:
        found = [*found[:_MAX_REPORTED], f"... and {len(found) - _MAX_REPORTED} more"]
    return found

"""``--sessionmem-html PATH``: one self-contained HTML file that reads like a review.

* a summary on top: tests by outcome, assertions reviewed and failed, the run's
  ``sessionmem`` section (cassettes, drift, prune);
* each failing test open, each passing or skipped test collapsed (``<details>``);
* each transcript assertion as a table, expected beside actual, aligned turn by turn:
  differing turns highlighted, with the failing matcher's name and the inline character
  diff; missing and extra turns marked;
* each memory assertion with its facts and their ratings, the context and the summary.

No script, no external style sheet, font or image: the file reads the same offline.
Under pytest-xdist the workers send their tests' reviews to the controller, which alone
writes the file (:class:`HtmlCollector` is the data that travels).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_sessionmem.support.redaction import Redactor

__all__ = ["HtmlCollector", "TestRecord", "render_html", "without_secrets", "write_html"]

_LONGREPR_LIMIT = 6000


@dataclass
class TestRecord:
    """One test as the report shows it; JSON-able through :meth:`to_data`."""

    nodeid: str
    outcome: str = "passed"  # passed, failed, error, skipped
    reviews: list[dict[str, Any]] = field(default_factory=list)
    longrepr: str | None = None

    def note_phase(self, when: str, outcome: str, longrepr: str | None) -> None:
        if outcome == "failed":
            self.outcome = (
                "failed"
                if when == "call"
                else ("error" if self.outcome != "failed" else self.outcome)
            )
            if longrepr:
                text = longrepr if len(longrepr) <= _LONGREPR_LIMIT else longrepr[-_LONGREPR_LIMIT:]
                self.longrepr = text if self.longrepr is None else self.longrepr + "\n\n" + text
        elif outcome == "skipped" and self.outcome == "passed":
            self.outcome = "skipped"

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HtmlCollector:
    """Every test the process ran, in run order."""

    tests: list[TestRecord] = field(default_factory=list)

    def export(self) -> list[dict[str, Any]]:
        return [t.to_data() for t in self.tests]

    def merge(self, data: Iterable[Mapping[str, Any]]) -> None:
        self.tests.extend(TestRecord(**dict(item)) for item in data)


def without_secrets(data: Any, redactor: Redactor) -> Any:
    """Exported report data with every secret ``redactor`` knows replaced.

    An inline character diff may split a secret between its segments, where no segment
    holds it whole: such a diff is computed again from its two sides, each redacted whole.
    """
    if isinstance(data, str):
        return redactor.text(data)
    if isinstance(data, list):
        return [without_secrets(item, redactor) for item in data]
    if not isinstance(data, dict):
        return data
    out = {
        without_secrets(key, redactor): without_secrets(item, redactor)
        for key, item in data.items()
    }
    segments = data.get("inline")
    if segments:
        from pytest_sessionmem.assertions.review import inline_segments

        expected = "".join(text for tag, text in segments if tag != "added")
        actual = "".join(text for tag, text in segments if tag != "removed")
        out["inline"] = inline_segments(redactor.text(expected), redactor.text(actual))
    return out


# -- rendering -------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2430;
       background: #f6f7f9; }
header { background: #1d2430; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 6px; font-size: 20px; }
header .counts span { margin-right: 14px; }
header pre { color: #cfd6e0; margin: 8px 0 0; font-size: 12px; white-space: pre-wrap; }
main { padding: 16px 24px; }
details.test { background: #fff; border: 1px solid #d8dde5; border-radius: 6px; margin: 10px 0; }
details.test > summary { cursor: pointer; padding: 8px 12px; font-weight: 600; }
details.test.failed > summary, details.test.error > summary { background: #fdecec; color: #9b1c1c; }
details.test.passed > summary { color: #1f6f3f; }
details.test.skipped > summary { color: #6b7280; }
.outcome { display: inline-block; min-width: 56px; text-transform: uppercase; font-size: 11px; }
.review { margin: 10px 12px 14px; }
.review h3 { font-size: 14px; margin: 8px 0; }
.review.failed h3 { color: #9b1c1c; }
table.turns { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.turns th, table.turns td { border: 1px solid #e1e5eb; padding: 5px 8px; vertical-align: top;
                                 text-align: left; }
table.turns th { background: #eef1f5; font-size: 12px; }
table.turns col.num { width: 64px; }
tr.turn.differs td { background: #fff4d6; }
tr.turn.missing td.expected, tr.turn.extra td.actual { background: #fde2e2; }
tr.turn.outside td, tr.turn.listed td { color: #6b7280; }
.role { font-weight: 600; font-size: 12px; color: #374151; }
.name { font-size: 12px; color: #6b7280; }
.content { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace;
           font-size: 12.5px; }
.matcher { display: inline-block; background: #1d2430; color: #fff; border-radius: 3px; padding: 0 5px;
           font-size: 11px; margin-right: 4px; }
.field { margin: 2px 0 6px; }
.inline { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace;
          font-size: 12.5px; }
del.removed { background: #f9c0c0; text-decoration: line-through; }
ins.added { background: #b9ecc4; text-decoration: none; }
.tag { font-size: 11px; font-weight: 600; color: #9b1c1c; text-transform: uppercase; }
table.facts { border-collapse: collapse; }
table.facts td, table.facts th { border: 1px solid #e1e5eb; padding: 4px 8px; text-align: left; }
tr.fact.filtered td { color: #9ca3af; }
td.rating { font-family: ui-monospace, monospace; text-align: right; }
pre.message, pre.longrepr { background: #f3f4f6; padding: 8px; overflow-x: auto; font-size: 12px;
                            white-space: pre-wrap; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _turn_cell(side: Mapping[str, Any] | None, *, expected: bool) -> str:
    if side is None:
        return '<span class="tag">(none)</span>'
    parts = [f'<span class="role">{_e(side.get("role"))}</span>']
    if side.get("name"):
        parts.append(f' <span class="name">{_e(side["name"])}</span>')
    if expected and side.get("content_matcher"):
        parts.append(f' <span class="matcher">{_e(side["content_matcher"])}</span>')
    content = side.get("content")
    if content is not None:
        parts.append(f'<div class="content">{_e(content)}</div>')
    extra = side.get("fields") or {}
    for key, value in extra.items():
        parts.append(f'<div class="name">{_e(key)} = {_e(value)}</div>')
    return "".join(parts)


def _inline(segments: Sequence[Sequence[str]]) -> str:
    out = []
    for tag, text in segments:
        if tag == "removed":
            out.append(f'<del class="removed">{_e(text)}</del>')
        elif tag == "added":
            out.append(f'<ins class="added">{_e(text)}</ins>')
        else:
            out.append(_e(text))
    return "".join(out)


def _fields(fields: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for item in fields:
        head = (
            f'<span class="matcher" data-matcher="{_e(item["matcher"])}">{_e(item["matcher"])}</span>'
            f"<code>{_e(item['path'])}</code>"
        )
        if item.get("inline"):
            body = f'<div class="inline">{_inline(item["inline"])}</div>'
        else:
            body = (
                f'<div class="inline">expected {_e(item["expected"])}<br>'
                f"actual {_e(item['actual'])}</div>"
            )
        out.append(f'<div class="field">{head}{body}</div>')
    return "".join(out)


_STATUS_LABEL = {
    "same": "",
    "differs": "differs",
    "missing": "missing",
    "extra": "extra",
    "outside": "not compared",
    "listed": "",
}


def _transcript(review: Mapping[str, Any]) -> str:
    state = "passed" if review["ok"] else "failed"
    head = (
        f"<h3>assert_transcript: {'matches' if review['ok'] else 'mismatch'} "
        f"(mode={_e(review['mode'])}, {review['expected_count']} expected turn(s), "
        f"{review['actual_count']} actual turn(s))</h3>"
    )
    rows = []
    for row in review["rows"]:
        numbers = "/".join(
            str(row[key]) for key in ("expected_number", "actual_number") if row.get(key)
        )
        status = row["status"]
        label = _STATUS_LABEL.get(status, status)
        rows.append(
            f'<tr class="turn {_e(status)}" data-status="{_e(status)}">'
            f'<td class="num">{_e(numbers)}'
            + (f'<div class="tag">{_e(label)}</div>' if label else "")
            + "</td>"
            f'<td class="expected">{_turn_cell(row["expected"], expected=True)}</td>'
            f'<td class="actual">{_turn_cell(row["actual"], expected=False)}</td>'
            f'<td class="diff">{_fields(row["fields"])}</td>'
            "</tr>"
        )
    table = (
        '<table class="turns"><colgroup><col class="num"><col><col><col></colgroup>'
        "<thead><tr><th>turn</th><th>expected</th><th>actual</th><th>difference</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    notes = "".join(f"<p>{_e(note)}</p>" for note in review.get("notes") or [])
    message = (
        f'<pre class="message">{_e(chr(10).join(review["message"]))}</pre>'
        if review.get("message") and not review["ok"]
        else ""
    )
    return f'<div class="review transcript {state}">{head}{notes}{table}{message}</div>'


def _memory(review: Mapping[str, Any]) -> str:
    state = "passed" if review["ok"] else "failed"
    threshold = review.get("min_rating")
    head = f"<h3>assert_memory: {'holds' if review['ok'] else 'mismatch'}" + (
        f" (min_rating={threshold})</h3>" if threshold is not None else "</h3>"
    )
    rows = []
    for fact in review["facts"]:
        rating = "-" if fact["rating"] is None else f"{fact['rating']:.2f}"
        kind = "counted" if fact["counted"] else "filtered"
        rows.append(
            f'<tr class="fact {kind}"><td class="rating">{_e(rating)}</td>'
            f"<td>{_e(fact['content'])}</td></tr>"
        )
    facts = (
        '<table class="facts"><thead><tr><th>rating</th><th>fact</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>no facts</p>"
    )
    extra = ""
    for key in ("context", "summary"):
        if review.get(key):
            extra += f'<p><b>{key}</b></p><div class="content">{_e(review[key])}</div>'
    expected = "".join(
        f"<li><code>{_e(k)}</code> = {_e(v)}</li>"
        for k, v in (review.get("expected") or {}).items()
    )
    message = (
        f'<pre class="message">{_e(chr(10).join(review["message"]))}</pre>'
        if review.get("message")
        else ""
    )
    asked = f"<ul>{expected}</ul>" if expected else ""
    return f'<div class="review memory {state}">{head}{asked}{facts}{extra}{message}</div>'


def _test(record: Mapping[str, Any]) -> str:
    outcome = record["outcome"]
    is_open = " open" if outcome in ("failed", "error") else ""
    reviews = "".join(
        _transcript(r) if r.get("kind") == "transcript" else _memory(r)
        for r in record.get("reviews") or []
    )
    longrepr = ""
    reviewed_failure = any(not r["ok"] for r in record.get("reviews") or [])
    if record.get("longrepr") and outcome in ("failed", "error") and not reviewed_failure:
        longrepr = f'<pre class="longrepr">{_e(record["longrepr"])}</pre>'
    return (
        f'<details class="test {_e(outcome)}" data-nodeid="{_e(record["nodeid"])}"{is_open}>'
        f'<summary><span class="outcome">{_e(outcome)}</span> {_e(record["nodeid"])}</summary>'
        f"{reviews}{longrepr}</details>"
    )


def render_html(tests: Sequence[Mapping[str, Any]], *, summary: Sequence[str] = ()) -> str:
    """The whole document: failing tests first (open), then the rest (collapsed)."""
    counts: dict[str, int] = {}
    for record in tests:
        counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
    reviews = [r for t in tests for r in t.get("reviews") or []]
    failed_reviews = sum(1 for r in reviews if not r["ok"])
    shown_counts = "".join(
        f'<span class="count" data-outcome="{k}">{counts.get(k, 0)} {k}</span>'
        for k in ("failed", "error", "passed", "skipped")
    )
    order = {"failed": 0, "error": 1, "passed": 2, "skipped": 3}
    ordered = sorted(tests, key=lambda t: order.get(t["outcome"], 4))
    summary_text = _e("\n".join(summary)) if summary else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>sessionmem report</title>"
        f"<style>{_CSS}</style></head><body>"
        '<header id="summary"><h1>sessionmem report</h1>'
        f'<div class="counts">{len(tests)} test(s): {shown_counts}</div>'
        f'<div class="assertions">{len(reviews)} assertion(s) reviewed, '
        f"{failed_reviews} failed</div>"
        + (f"<pre>{summary_text}</pre>" if summary_text else "")
        + "</header><main>"
        + "".join(_test(t) for t in ordered)
        + "</main></body></html>\n"
    )


def write_html(path: Path, tests: Sequence[Mapping[str, Any]], *, summary: Sequence[str]) -> None:
    """Write the report atomically (a reader never sees half a file)."""
    from pytest_sessionmem.cassette.store import write_atomic

    # A folder of the user's: its look-alike temporary files may be another program's.
    write_atomic(path, render_html(tests, summary=summary).encode("utf-8"), sweep=False)

r"""Expected-transcript files: a plain-text format people review in a pull request.

Example (``transcripts/test_booking/test_flight_time.txt``)::

    # sessionmem transcript 1
    # Comments may follow the version line, before the first turn.

    --- user
    When does my flight leave?

    --- assistant name=Support
    Your flight leaves at 9:45.
    Gate B12.

    --- assistant match=regex
    ^Anything else\?

    --- tool tool_id=t1 tool_name=search arguments={"q": "flights"}
    3 results

    --- user encoding=json
    "thanks \t"

Rules (what makes any content round-trip):

* Line 1 is the version line ``# sessionmem transcript 1``.
* A turn starts with a header ``--- <role> [key=value ...]``. Values are a bare word or
  any JSON value (``name="Dr Who"``, ``arguments={"q": "x"}``). Keys: ``name``,
  ``tool_id``, ``tool_name``, ``arguments``, ``result``, ``match`` and ``encoding``.
* The content is every line after the header up to the next header, minus the one empty
  line that separates turns. Multi-line content is written as it is.
* A content line that starts with ``---`` or ``\`` gets one ``\`` in front, removed on read.
* Content a reader could misread (trailing whitespace, carriage returns, zero-width or
  other non-printing characters) is written as one JSON string, with ``encoding=json``.
* ``match=regex`` makes the content a :class:`~pytest_sessionmem.matchers.Regex`
  (``re.search``; anchor with ``^``/``$``), ``match=contains`` a
  :class:`~pytest_sessionmem.matchers.Contains`, ``match=any`` accepts any content (no
  body). ``ignorecase=true`` makes either case-insensitive. When the file is rewritten
  with ``--sessionmem-update``, a matcher that still matches the new turn is kept.

Ids, timestamps and metadata are never written: they change on every recording.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from pytest_sessionmem.assertions.transcript_compare import DEFAULT_IGNORE, ExpectedTurn
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.matchers import ANY, Contains, Regex
from pytest_sessionmem.models import Message, Role, Transcript
from pytest_sessionmem.support.atomic_file import folder_problem, write_atomic

__all__ = [
    "SUFFIX",
    "VERSION_LINE",
    "FileState",
    "TranscriptFileError",
    "parse_transcript",
    "read_expected",
    "read_transcript_file",
    "render_transcript_file",
    "sync_transcript_file",
    "write_transcript_file",
]

VERSION_LINE: Final = "# sessionmem transcript 1"
#: File name suffix of expected transcripts: ``transcripts/<module>/<test>.txt``.
SUFFIX: Final = ".txt"

_HEADER: Final = "---"
_OPTION_KEYS: Final = ("name", "tool_id", "tool_name", "arguments", "result")
# Options whose bare value is always a string (``tool_id=123`` means "123").
_TEXT_KEYS: Final = frozenset({"name", "tool_id", "tool_name", "match", "encoding"})
_BARE_WORD: Final = re.compile(r'[^\s"{\[][^\s]*')
_CONTROL_KEYS: Final = ("match", "ignorecase", "encoding")
_MATCH_KINDS: Final = ("regex", "contains", "any")
_KEY: Final = re.compile(r"([a-z_]+)=")


class TranscriptFileError(ConfigError):
    """An expected-transcript file that cannot be read; names the file, the line and the fix."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------- reading


INLINE: Final = "<inline transcript>"
_ROLE_LINE: Final = re.compile(r"([A-Za-z_]+)[ \t]*:(?:[ \t]+(.*))?")


def read_expected(expected: str | os.PathLike[str]) -> list[ExpectedTurn]:
    """The turns of an expected-transcript file, or of transcript text given inline.

    A string that names no file is text when it has a line break or starts with a turn
    header (``--- user``); it is read as a file would be, and may leave out the version
    line. A string of ``role: text`` lines is refused with both ways to write it.
    """
    if not isinstance(expected, str) or _is_file(expected):
        return read_transcript_file(expected)
    pairs = _role_lines(expected)
    if pairs is not None:
        messages = [Message(role=role, content=content) for role, content in pairs]
        as_text = render_transcript_file(messages).removeprefix(f"{VERSION_LINE}\n\n").rstrip()
        raise ConfigError(
            f"expected={expected!r} names no expected-transcript file, and 'role: text' lines "
            f"are not transcript text. Write the turns inline as a transcript file's text, "
            f"{as_text!r}, or as (role, content) pairs, {[(r.value, c) for r, c in pairs]!r}."
        )
    if "\n" in expected or expected.startswith(_HEADER):
        return parse_transcript(expected, path=INLINE, inline=True)
    return read_transcript_file(expected)


def _is_file(name: str) -> bool:
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # a name too long, or one with a NUL: text, not a file
        return False


def _role_lines(text: str) -> list[tuple[Role, str]] | None:
    """``[(Role.USER, "hi")]`` for ``"user: hi"``; ``None`` unless every line is like it."""
    pairs: list[tuple[Role, str]] = []
    for line in text.strip().split("\n"):
        if not line.strip():
            continue
        found = _ROLE_LINE.fullmatch(line.strip())
        role = Role.parse(found.group(1)) if found else Role.NOROLE
        if found is None or (role is Role.NOROLE and found.group(1).lower() != role.value):
            return None
        pairs.append((role, found.group(2) or ""))
    return pairs


def read_transcript_file(path: str | os.PathLike[str]) -> list[ExpectedTurn]:
    """The turns of an expected-transcript file, usable as ``expected`` in assertions."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TranscriptFileError(
            "expected-transcript file not found; run the test with --sessionmem-update to write it",
            path=name,
        ) from None
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(f"not UTF-8 text ({exc.reason})", path=name) from None
    return parse_transcript(text, path=name)


def parse_transcript(
    text: str, *, path: str = "<transcript>", inline: bool = False
) -> list[ExpectedTurn]:
    """Parse the text of an expected-transcript file (see the module docstring).

    ``inline``: the text was written in a test, where the version line is optional.
    """
    # Split on "\n" only: str.splitlines() would also split on characters such as U+2028
    # that belong to the content.
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the file
    versioned = bool(lines) and lines[0].strip() == VERSION_LINE
    if not versioned and not inline:
        found = repr(lines[0][:60]) if lines else "an empty file"
        raise TranscriptFileError(
            f"the first line must be {VERSION_LINE!r}, found {found}", path=path, line=1
        )
    turns: list[ExpectedTurn] = []
    header: tuple[int, str] | None = None
    body: list[str] = []
    first = 1 if versioned else 0
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.startswith(_HEADER):
            if header is not None:
                turns.append(_turn(header, body, path))
            header, body = (number, line), []
        elif header is not None:
            body.append(line)
        elif line.strip() and not line.startswith("#"):
            raise TranscriptFileError(
                f"text before the first turn header; start a turn with '--- user' "
                f"(or make the line a comment with '#'): {line[:60]!r}",
                path=path,
                line=number,
            )
    if header is not None:
        turns.append(_turn(header, body, path))
    return turns


def _turn(header: tuple[int, str], body: list[str], path: str) -> ExpectedTurn:
    number, line = header
    role_word, options = _parse_header(line, path, number)
    if body and body[-1] == "":
        body = body[:-1]  # the blank line that separates turns is not content
    fields: dict[str, Any] = {"role": _role(role_word, path, number)}
    for key in _OPTION_KEYS:
        if key in options:
            fields[key] = options[key]
    content = _content(body, options, path, number)
    fields["content"] = _matcher(content, options, path, number)
    return ExpectedTurn(fields, source=f"{path}:{number}")


def _parse_header(line: str, path: str, number: int) -> tuple[str, dict[str, Any]]:
    rest = line[len(_HEADER) :].strip()
    if not rest:
        raise TranscriptFileError(
            "turn header without a role; write e.g. '--- user'", path=path, line=number
        )
    role_word, _, rest = rest.partition(" ")
    options: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    position = 0
    rest = rest.strip()
    while position < len(rest):
        key_match = _KEY.match(rest, position)
        if key_match is None:
            raise TranscriptFileError(
                f"cannot read header option at {rest[position:][:40]!r}; options are key=value",
                path=path,
                line=number,
            )
        key = key_match.group(1)
        if key not in _OPTION_KEYS and key not in _CONTROL_KEYS:
            known = ", ".join((*_OPTION_KEYS, *_CONTROL_KEYS))
            raise TranscriptFileError(
                f"unknown header option {key!r}; known: {known}", path=path, line=number
            )
        position = key_match.end()
        value: Any
        if rest[position : position + 1] in ('"', "{", "["):
            try:
                value, position = decoder.raw_decode(rest, position)
            except json.JSONDecodeError as exc:
                raise TranscriptFileError(
                    f"bad JSON value for {key!r}: {exc.msg}", path=path, line=number
                ) from None
        else:
            end = rest.find(" ", position)
            end = len(rest) if end < 0 else end
            word = rest[position:end]
            value, position = (word if key in _TEXT_KEYS else _bare(word)), end
        options[key] = value
        while position < len(rest) and rest[position] == " ":
            position += 1
    return role_word, options


def _bare(word: str) -> Any:
    """A bare header value: JSON literals (numbers, true/false/null) or else the word itself."""
    try:
        return json.loads(word)
    except json.JSONDecodeError:
        return word


def _role(word: str, path: str, number: int) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise TranscriptFileError(
            f"unknown role {word!r}; roles are {known}", path=path, line=number
        ) from None


def _content(body: list[str], options: dict[str, Any], path: str, number: int) -> str:
    encoding = options.get("encoding")
    if encoding is None:
        return "\n".join(line[1:] if line.startswith("\\") else line for line in body)
    if encoding != "json":
        raise TranscriptFileError(
            f"unknown encoding {encoding!r}; the only one is 'json'", path=path, line=number
        )
    payload = "\n".join(body).strip()
    try:
        value = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise TranscriptFileError(
            f"encoding=json content is not a JSON string: {exc.msg}",
            path=path,
            line=number + 1 + exc.lineno - 1,
        ) from None
    if not isinstance(value, str):
        raise TranscriptFileError(
            "encoding=json content must be one JSON string", path=path, line=number + 1
        )
    return value


def _matcher(content: str, options: dict[str, Any], path: str, number: int) -> Any:
    kind = options.get("match")
    ignorecase = options.get("ignorecase", False) is True
    if kind is None:
        return content
    if kind == "any":
        return ANY
    if kind == "contains":
        return Contains(content, case_sensitive=not ignorecase)
    if kind == "regex":
        try:
            return Regex(content, re.IGNORECASE if ignorecase else 0)
        except re.error as exc:
            raise TranscriptFileError(
                f"bad regular expression: {exc}", path=path, line=number + 1
            ) from None
    raise TranscriptFileError(
        f"unknown match={kind!r}; use one of {', '.join(_MATCH_KINDS)}", path=path, line=number
    )


# --------------------------------------------------------------------------- writing


def render_transcript_file(
    transcript: Transcript | Sequence[Message], previous: Sequence[ExpectedTurn] | None = None
) -> str:
    """The file text for ``transcript``; matchers of ``previous`` that still match are kept.

    ``previous`` is the old file's turns, paired by position with the new turns: a turn
    that kept its role and whose old matcher accepts its new content keeps the matcher.
    """
    messages = transcript.messages if isinstance(transcript, Transcript) else tuple(transcript)
    provider = transcript.provider if isinstance(transcript, Transcript) else None
    skip = set(DEFAULT_IGNORE.get("*", ())) | set(DEFAULT_IGNORE.get(provider or "", ()))
    out = [VERSION_LINE, ""]
    for index, message in enumerate(messages):
        old = previous[index] if previous is not None and index < len(previous) else None
        out.extend(_render_turn(message, _kept_matcher(old, message), skip))
    return "\n".join(out) + "\n"


def _kept_matcher(old: ExpectedTurn | None, message: Message) -> Regex | Contains | None:
    if old is None:
        return None
    matcher = old.content
    if not isinstance(matcher, (Regex, Contains)) and matcher is not ANY:
        return None
    if old.role is not None and old.role != message.role:
        return None
    return matcher if matcher == message.content else None  # type: ignore[return-value]


def _render_turn(message: Message, matcher: Any, skip: set[str]) -> list[str]:
    header = [_HEADER, message.role.value]
    for key in _OPTION_KEYS:
        value = getattr(message, key)
        if value is not None and key not in skip:
            header.append(f"{key}={_option_value(key, value)}")
    content = message.content
    if matcher is ANY:
        return [" ".join([*header, "match=any"]), ""]
    if isinstance(matcher, Regex):
        header.append("match=regex")
        if matcher.flags & re.IGNORECASE:
            header.append("ignorecase=true")
        content = matcher.pattern
    elif isinstance(matcher, Contains):
        header.append("match=contains")
        if not matcher.case_sensitive:
            header.append("ignorecase=true")
        content = matcher.substring
    if _needs_json(content):
        header.append("encoding=json")
        body = [_json_string(content)]
    else:
        body = [
            f"\\{line}" if line.startswith((_HEADER, "\\")) else line
            for line in content.split("\n")
        ]
    return [" ".join(header), *body, ""]


def _option_value(key: str, value: Any) -> str:
    """A bare word when it reads back as the same value, JSON otherwise."""
    bare = isinstance(value, str) and _BARE_WORD.fullmatch(value) and value.isprintable()
    if bare and (key in _TEXT_KEYS or _bare(value) == value):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _needs_json(content: str) -> bool:
    for line in content.split("\n"):
        if line != line.rstrip() or not line.replace("\t", " ").isprintable():
            return True
    return False


def _json_string(content: str) -> str:
    # ensure_ascii=False keeps accents, CJK and emoji readable; invisible characters are
    # escaped by hand so a reviewer sees them.
    text = json.dumps(content, ensure_ascii=False)
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def write_transcript_file(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (see :mod:`pytest_sessionmem.support.atomic_file`).

    A folder that cannot be written raises :class:`TranscriptFileError` naming the file and
    the folder; the old file, if any, is left as it was.
    """
    __tracebackhide__ = True
    target = Path(path)
    try:
        write_atomic(target, text.encode("utf-8"))
    except OSError as exc:
        raise _unwritable(target, exc) from None


def _unwritable(target: Path, exc: OSError) -> TranscriptFileError:
    return TranscriptFileError(
        f"cannot write this expected-transcript file: {folder_problem(target, exc)} and run "
        "again, or run without --sessionmem-update to compare with the file as it is.",
        path=str(target),
    )


#: What :func:`sync_transcript_file` found: the file was (re)written, is as it was, or does
#: not exist yet (so there is nothing to compare with).
FileState = Literal["written", "unchanged", "missing"]


def sync_transcript_file(transcript: Transcript, path: Path, *, update: bool) -> FileState:
    """A test's expected-transcript file before the comparison: the one policy for it.

    With ``update`` the file is written from ``transcript`` (a new file, or changed turns;
    matchers that still hold are kept), else it is only looked for. ``transcript`` must
    already be scrubbed as the cassette stores it, so recording (real keys) and replaying
    (placeholders) agree with one file.
    """
    if not update:
        return "unchanged" if path.exists() else "missing"
    previous = read_transcript_file(path) if path.exists() else None
    text = render_transcript_file(transcript, previous=previous)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return "unchanged"
    write_transcript_file(path, text)
    return "written"

"""``sessionmem lint``: find secrets and (opt-in) personal data in cassettes and transcript files.

Every finding is one ``file:line: what`` line, the format compilers use, so CI logs and
editors can jump to it. The matched value is shown masked (its first four characters),
so the lint output never republishes the secret it found.

What is looked for, line by line:

* values shaped like a credential (:data:`~pytest_sessionmem.support.patterns.SECRET_SHAPES`):
  Zep keys (``z_...``, ``Api-Key ...``), Meibel keys next to their name, the LLM APIs' keys
  (OpenAI, Anthropic, Google, Groq, xAI, ...), bearer tokens, JWTs, other ``sk-``/``pk-``
  keys, and JSON fields named like a credential;
* the value of every built-in key variable
  (:func:`~pytest_sessionmem.providers.registry.secret_env_names`) and of those named with
  ``--secret-env`` when set where lint runs, in every form the scrubber removes (raw,
  percent-encoded, ``+`` for a space, JSON-escaped, base64);
* unscrubbed credential headers (``Authorization``, ``Cookie``, ``Set-Cookie``,
  ``X-API-KEY``, ``Api-Key``, ``X-Goog-Api-Key``, ``Meibel-API-Key``): any value that is not
  a placeholder (``Api-Key <ZEP_API_KEY>`` is one);
* with ``pii=True``: e-mail addresses and phone numbers.

Files: a named file is always read; a folder is walked for cassettes (``*.json`` holding a
``"recorded_with": "pytest-sessionmem"`` document) and transcript files (``*.txt`` starting
with ``# sessionmem transcript``), skipping hidden folders, ``node_modules`` and virtual
environments.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.providers.registry import secret_env_names
from pytest_sessionmem.support.patterns import (
    CREDENTIAL_HEADERS,
    EMAIL,
    PHONE,
    SECRET_SHAPES,
    is_placeholder,
)
from pytest_sessionmem.support.redaction import Redactor

__all__ = ["Finding", "find_files", "lint_paths", "lint_text"]

#: Environment variables whose values must never appear in a file.
KEY_VARIABLES = secret_env_names()
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A shorter value (an unset-looking "1" or "dev") would be found everywhere.
_MIN_SECRET_LENGTH = 6

_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
_TRANSCRIPT_MARK = "# sessionmem transcript"
_CASSETTE_MARK = '"recorded_with": "pytest-sessionmem"'

_HEADER_NAMES = "|".join(re.escape(name) for name in CREDENTIAL_HEADERS)
# "Authorization": "Api-Key abc" in a JSON file; Authorization: abc in a text file.
_JSON_HEADER = re.compile(rf'(?i)"({_HEADER_NAMES})"\s*:\s*"((?:[^"\\]|\\.)*)"')
_TEXT_HEADER = re.compile(rf"(?i)^\s*({_HEADER_NAMES})\s*:\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class Finding:
    """One problem at one line."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _mask(value: str) -> str:
    value = value.strip()
    return value[:4] + "..." if len(value) > 4 else "..."


def lint_text(
    text: str, *, path: str, pii: bool = False, secrets: Sequence[tuple[str, str]] = ()
) -> list[Finding]:
    """The findings in one file's text; ``secrets`` are ``(variable name, value)`` pairs."""
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        findings.extend(_line_findings(line, number, path=path, pii=pii, secrets=secrets))
    return findings


def _line_findings(
    line: str, number: int, *, path: str, pii: bool, secrets: Sequence[tuple[str, str]]
) -> Iterator[Finding]:
    reported: list[tuple[int, int]] = []

    def fresh(start: int, end: int) -> bool:
        # One finding per stretch of the line: a bearer JWT is one problem, not two.
        if any(start < other_end and other_start < end for other_start, other_end in reported):
            return False
        reported.append((start, end))
        return True

    if secrets:
        values = dict(secrets)
        for found in _redactor(tuple(secrets)).matches(line):
            if not fresh(found.start, found.end):
                continue
            variable = found.placeholder[1:-1]
            value = values[variable]
            form = (
                ", base64-encoded"
                if found.base64
                else ""
                if line[found.start : found.end] == value
                else ", encoded"
            )
            yield Finding(path, number, f"the value of ${variable}{form} ({_mask(value)})")
    for match in (*_JSON_HEADER.finditer(line), *_TEXT_HEADER.finditer(line)):
        name, value = match.group(1), match.group(2)
        if not is_placeholder(value) and fresh(*match.span(2)):
            yield Finding(
                path,
                number,
                f"unscrubbed {name} header ({_mask(value)}); credentials must not be recorded",
            )
    for label, pattern in SECRET_SHAPES:
        for match in pattern.finditer(line):
            if fresh(*match.span()):
                yield Finding(path, number, f"{label} ({_mask(match.group())})")
    if not pii:
        return
    for label, pattern in (("e-mail address", EMAIL), ("phone number", PHONE)):
        for match in pattern.finditer(line):
            if fresh(*match.span()):
                yield Finding(path, number, f"{label} ({_mask(match.group())})")


@functools.lru_cache(maxsize=8)
def _redactor(secrets: tuple[tuple[str, str], ...]) -> Redactor:
    """One matcher for every form of every secret (built once per set of secrets)."""
    return Redactor(dict(secrets))


def _is_ours(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if path.suffix == ".txt":
        return head.startswith(_TRANSCRIPT_MARK)
    return path.suffix == ".json" and _CASSETTE_MARK in head


def find_files(
    paths: Iterable[str | Path], *, suffixes: tuple[str, ...] = (".json", ".txt")
) -> list[Path]:
    """Named files as given, plus the cassettes and transcript files under named folders.

    A path that does not exist is a :class:`ConfigError` naming it.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".")
                    and d not in _SKIPPED_DIRS
                    and not _is_venv(Path(root, d))
                )
                for name in sorted(files):
                    candidate = Path(root, name)
                    if candidate.suffix in suffixes and _is_ours(candidate):
                        found.append(candidate)
        else:
            raise ConfigError(
                f"{raw}: no such file or folder. Pass cassettes, transcript files or folders."
            )
    return found


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").exists()


def lint_paths(
    paths: Iterable[str | Path],
    *,
    pii: bool = False,
    environ: Mapping[str, str] | None = None,
    secret_env: Sequence[str] = (),
) -> tuple[list[Finding], int]:
    """``(findings, files checked)`` for every file :func:`find_files` yields.

    ``secret_env`` names variables to look for on top of :data:`KEY_VARIABLES`.
    """
    for name in secret_env:
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(
                f"--secret-env {name[:4]!r}... is not an environment variable name; name the "
                "variable, not its value, such as --secret-env MY_SERVICE_TOKEN."
            )
    env = os.environ if environ is None else environ
    secrets = [
        (name, value)
        for name in dict.fromkeys((*KEY_VARIABLES, *secret_env))
        if len(value := env.get(name, "")) >= _MIN_SECRET_LENGTH
    ]
    findings: list[Finding] = []
    files = find_files(paths)
    for file in files:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            findings.append(Finding(str(file), 0, f"cannot be read: {exc.strerror}"))
            continue
        findings.extend(lint_text(text, path=str(file), pii=pii, secrets=secrets))
    return findings, len(files)

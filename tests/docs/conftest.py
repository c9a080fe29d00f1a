"""Reads the fenced ``python`` blocks of README.md and docs/*.md for the docs-example tests.

The convention is documented in ``docs/contributing.md``; in short, each block is one of:

* a **test block** (it defines a top-level ``test_`` function): written as a test module into a
  fresh project, recorded against the embedded emulator (``--sessionmem-update`` on, so
  expected transcripts are written), then replayed with the network and the emulator
  forbidden. Every test in it must pass both times. A ``<!-- conftest: ... -->`` comment
  before it gives that project's conftest.py.
* a **conftest block** (its first line is ``# conftest.py``): written as the conftest.py of a
  fresh project whose one test requests ``recorded_session``, recorded and replayed likewise.
* a **test-body block** (preceded by ``<!-- in-test: MARKER ARGUMENTS -->``): the body of a test
  marked ``@pytest.mark.sessionmem(MARKER ARGUMENTS)`` with the ``recorded_session``,
  ``session_client`` and ``request`` fixtures, recorded and replayed likewise.
* a **snippet** (anything else): run with ``exec`` (top-level ``await`` allowed) after the
  snippets above it in the same file, in one namespace, with an emulator running, every
  provider's public base URL routed to it and every provider's key variable set.

``<!-- setup: CODE -->`` before a snippet or a test-body block runs CODE first (for names the
fragment assumes); ``<!-- not-run: REASON -->`` leaves a block out, and the reason is listed.
``<!-- excerpt: PATH -->`` says the block is a verbatim part of the file at PATH (an example
that ``make examples`` runs, and whose own tests record and replay it): the block must
appear in that file exactly as printed.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_sessionmem.assertions.transcript_compare import DEFAULT_IGNORE
from pytest_sessionmem.client import SessionClient
from pytest_sessionmem.emulator.runner import EmulatorServer
from pytest_sessionmem.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_COMMENT = re.compile(r"<!--\s*([a-z-]+)\s*:(.*?)-->\s*\Z", re.DOTALL)
DIRECTIVES = ("not-run", "setup", "conftest", "in-test", "excerpt")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence
    code: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        if "not-run" in self.directives:
            return "not-run"
        if "excerpt" in self.directives:
            return "excerpt"
        if "in-test" in self.directives:
            return "test-body"
        if self.code.startswith("# conftest.py\n"):
            return "conftest"
        if self.defines_tests():
            return "test"
        return "snippet"

    def defines_tests(self) -> bool:
        try:
            tree = ast.parse(self.code)
        except SyntaxError:
            return False
        return any(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")
            for node in tree.body
        )

    def test_count(self) -> int:
        return sum(
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test_")
            for node in ast.parse(self.code).body
        )

    def project_files(self) -> tuple[str, str, int]:
        """(conftest source, test module source, number of tests) for a project block."""
        conftest = self.directives.get("conftest", "")
        if self.kind == "conftest":
            return conftest + "\n" + self.code, _CONFTEST_CHECK, 1
        if self.kind == "test-body":
            body = self.directives.get("setup", "") + "\n" + self.code
            module = _TEST_BODY.format(marker=self.directives["in-test"], body=_indent(body))
            return conftest, module, 1
        return conftest, self.code, self.test_count()


def _line(text: str, offset: int) -> int:
    return text[:offset].count("\n") + 1


def _directives_before(text: str, start: int) -> dict[str, str]:
    """The HTML-comment directives directly above a fence (blank lines between them allowed)."""
    found: dict[str, str] = {}
    before = text[:start].rstrip()
    while before.endswith("-->"):
        opening = before.rfind("<!--")
        match = _COMMENT.search(before[opening:])
        if opening < 0 or match is None:
            break
        name, value = match.group(1), match.group(2)
        if name in found:
            raise ValueError(f"two <!-- {name}: --> comments above line {_line(text, start)}")
        if name not in DIRECTIVES:
            raise ValueError(
                f"unknown docs directive <!-- {name}: --> above line {_line(text, start)}; "
                f"known: {', '.join(DIRECTIVES)}"
            )
        found[name] = value.strip("\n") if name in ("setup", "conftest") else value.strip()
        before = before[:opening].rstrip()
    return found


def read_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(
            path=path,
            line=text[: match.start()].count("\n") + 1,
            code=match.group(1),
            directives=_directives_before(text, match.start()),
        )
        for match in _FENCE.finditer(text)
    ]


ALL_BLOCKS = [block for path in DOC_FILES for block in read_blocks(path)]


# -- collection -------------------------------------------------------------------------------

_KINDS = {
    "snippet_block": ("snippet",),
    "project_block": ("test", "conftest", "test-body"),
    "excluded_block": ("not-run",),
    "excerpt_block": ("excerpt",),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argument, kinds in _KINDS.items():
        if argument in metafunc.fixturenames:
            chosen = [block for block in ALL_BLOCKS if block.kind in kinds]
            metafunc.parametrize(argument, chosen, ids=[block.id for block in chosen])


# -- snippets ---------------------------------------------------------------------------------

# One key per credential variable: zep, zep-v3 and zep-v4 share ZEP_API_KEY.
KEYS = {name: f"{spec.api_key_env.lower()}-docs-key" for name, spec in PROVIDERS.items()}


@pytest.fixture(scope="module")
def _docs_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_keys=dict(KEYS)) as server:
        yield server


def _route_public_urls(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to a provider's public base URL go to the emulator, as if DNS pointed there."""
    routes = [
        (spec.default_base_url.rstrip("/"), server.base_url(name))
        for name, spec in PROVIDERS.items()
    ]
    # The command-line emulator's default address (``sessionmem emulator``).
    routes += [(f"http://{host}:8765", server.url) for host in ("127.0.0.1", "localhost")]

    def reroute(request: httpx.Request) -> None:
        url = str(request.url)
        for public, local in routes:
            if url == public or url.startswith((public + "/", public + "?")):
                request.url = httpx.URL(local + url[len(public) :])
                request.headers["host"] = request.url.netloc.decode("ascii")
                return

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        reroute(request)
        return sync_send(self, request)

    async def handle_async(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        reroute(request)
        return await async_send(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async)


def _run(code: str, namespace: dict[str, Any], filename: str, first_line: int = 1) -> None:
    """exec with top-level ``await`` allowed; tracebacks point at the line in the docs file."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = ast.parse(code, filename, "exec")
    ast.increment_lineno(tree, first_line - 1)
    result = eval(compile(tree, filename, "exec", flags=flags), namespace)
    if inspect.iscoroutine(result):  # the code had a top-level await
        asyncio.run(result)


@pytest.fixture
def run_snippet(
    _docs_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[[Block], None]]:
    """Runs a snippet after the snippets above it in its file, in one fresh namespace."""
    server = _docs_emulator
    server.control.reset()
    server.control.set_keys(**KEYS)
    for name, spec in PROVIDERS.items():
        monkeypatch.setenv(spec.api_key_env, KEYS[name])
    monkeypatch.delenv("ZEP_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    _route_public_urls(server, monkeypatch)

    namespace: dict[str, Any] = {"__name__": "docs_example", "docs_emulator": server}

    def run(block: Block) -> None:
        earlier = [b for b in ALL_BLOCKS if b.path == block.path and b.kind == "snippet"]
        for each in earlier[: earlier.index(block) + 1]:
            if "setup" in each.directives:
                _run(each.directives["setup"], namespace, f"{each.id} (setup)")
            _run(each.code, namespace, str(each.path), first_line=each.line + 1)

    # Module state a snippet may change on purpose (docs/assertions.md extends DEFAULT_IGNORE).
    saved_ignore = dict(DEFAULT_IGNORE)
    yield run
    DEFAULT_IGNORE.clear()
    DEFAULT_IGNORE.update(saved_ignore)
    # Clients a snippet opened without ``with`` (the reader's own would live longer).
    for value in namespace.values():
        if isinstance(value, (SessionClient, httpx.Client)):
            value.close()
    namespace.clear()
    gc.collect()  # a connection the snippet left open is reported here, for this block


# -- blocks that run as a project -------------------------------------------------------------

_TEST_BODY = """
import pytest


@pytest.mark.sessionmem({marker})
def test_doc_fragment(recorded_session, session_client, request):
{body}
"""

_CONFTEST_CHECK = """
def test_the_conftest_is_accepted(recorded_session):
    assert recorded_session is not None
"""


def _indent(code: str) -> str:
    return "".join(f"    {line}" if line.strip() else line for line in code.splitlines(True))


@pytest.fixture
def doc_blocks() -> list[Block]:
    """Every python block of the docs, in file order."""
    return list(ALL_BLOCKS)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, int] = {}
    for block in ALL_BLOCKS:
        counts[block.kind] = counts.get(block.kind, 0) + 1
    shown = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    terminalreporter.write_line(f"docs python blocks: {len(ALL_BLOCKS)} ({shown})")
    for block in ALL_BLOCKS:
        if block.kind == "not-run":
            terminalreporter.write_line(f"  not run: {block.id}: {block.directives['not-run']}")

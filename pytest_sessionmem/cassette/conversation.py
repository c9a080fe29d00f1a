"""A cassette read back as the conversation it holds (behind ``sessionmem show``).

Each recorded read is handed to the provider's own adapter, exactly as a live answer
would be, so a turn shown here is the turn a test reads:

* session reads and creations give each session's user, agent, creation time and status;
* message reads (every page, every repeated read) give the turns, each turn once, oldest
  first;
* Zep memory reads give the facts with their ratings, the context and the summary (the
  last read wins: memory tests poll until the service has processed the conversation);
* LLM exchanges (OpenAI chat completions and Responses, Anthropic messages) give the model,
  the prompt's turns, the reply and its tool calls, as ``recorded_session.llm_calls()`` reads
  them.

The text shows every control character a cassette holds as a visible escape
(:mod:`pytest_sessionmem.support.terminal_text`), so a cassette cannot move the cursor, retitle the
window or overwrite a line on the terminal of the person reading it.

Below the conversation every HTTP exchange is listed, one line each. Nothing here
touches the network; the provider is taken from the base URL the cassette was recorded
against, or from the shape of its paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from pytest_sessionmem.cassette.llm_calls import llm_api_of, llm_call
from pytest_sessionmem.cassette.schema import Cassette, Interaction
from pytest_sessionmem.errors import SessionmemError
from pytest_sessionmem.models import Fact, LLMCall, Memory, Message, Session, ToolCall
from pytest_sessionmem.providers import make_provider
from pytest_sessionmem.providers.base import MessagePage, NewSession, Provider
from pytest_sessionmem.providers.registry import PROVIDERS
from pytest_sessionmem.providers.zep_threads import ThreadAdapter
from pytest_sessionmem.support.terminal_text import escape_controls

__all__ = [
    "Conversation",
    "Exchange",
    "LLMView",
    "SessionView",
    "conversation_from_cassette",
    "detect_provider",
    "render_conversation",
]

_SEGMENT = r"(?P<sid>[^/]+)"
Route = tuple[str, re.Pattern[str], str]  # method, base-relative path pattern, what it is


def _routes(
    sessions: str,
    *,
    create: str | None = None,
    write: str = "messages",
    session: str | None = "",
    memory: bool = False,
) -> tuple[Route, ...]:
    """The routes of an API whose sessions live under the collection ``sessions``.

    Every API lists a session's messages at ``{sessions}/{id}/messages`` and creates a
    session with a POST; the keywords say where one differs: ``create`` (the creating
    path, when it is not the collection), ``write`` (what a write posts to below the
    session), ``session`` (what comes before the id of a session read; ``None``: no
    such read), ``memory`` (a memory read at ``{sessions}/{id}/memory``).
    """
    one = f"{sessions}/{_SEGMENT}"
    routes = [("GET", f"{one}/messages", "messages")]
    if memory:
        routes.append(("GET", f"{one}/memory", "memory"))
    if session is not None:
        routes.append(("GET", f"{sessions}/{session}{_SEGMENT}", "session"))
    routes.append(("POST", create or sessions, "create"))
    routes.append(("POST", f"{one}/{write}", "write"))
    return tuple((method, re.compile(f"^{path}$"), kind) for method, path, kind in routes)


def _thread_memory_routes(edges: str) -> tuple[Route, ...]:
    """What a Zep thread memory read asks besides messages: context, summary, graph edges.

    ``edges`` is the path that lists a graph's edges; ``graph`` names the graph in it.
    """
    one = f"/threads/{_SEGMENT}"
    routes = [
        ("GET", f"{one}/context", "context"),
        ("GET", f"{one}/summary", "summary"),
        ("POST", edges, "edges"),
    ]
    return tuple((method, re.compile(f"^{path}$"), kind) for method, path, kind in routes)


_ROUTES: dict[str, tuple[Route, ...]] = {
    "zep": _routes("/sessions", write="memory", memory=True),
    "meibel": _routes("/sessions", create="/agents/(?P<agent>[^/]+)/sessions", write="chat"),
    "zep-v3": _routes("/threads", write="messages(-batch)?", session=None)
    + _thread_memory_routes("/graph/edge/user/(?P<graph>[^/]+)"),
    "zep-v4": _routes("/threads", session="(?!lookup$)")
    + _thread_memory_routes("/graphs/(?P<graph>[^/]+)/edges/list"),
    "eliza": _routes("/api/messaging/sessions"),
}
_THREAD_MEMORY_KINDS = ("context", "summary", "edges")
PROVIDER_NAMES = tuple(_ROUTES)


@dataclass
class SessionView:
    """What the cassette shows of one session."""

    id: str
    user_id: str | None = None
    agent_id: str | None = None
    created_at: str | None = None
    status: str | None = None
    turns: list[Message] = field(default_factory=list)
    facts: tuple[Fact, ...] = ()
    context: str | None = None
    summary: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        # Turns and facts are pydantic models, which asdict() would copy as they are.
        data = asdict(replace(self, turns=[], facts=()))
        data["turns"] = [_turn_data(m) for m in self.turns]
        data["facts"] = [
            {"content": f.content, "rating": f.rating, "name": f.name} for f in self.facts
        ]
        return data


@dataclass(frozen=True)
class Exchange:
    """One line of the HTTP listing."""

    index: int
    method: str
    target: str
    status: int
    content_type: str
    what: str

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LLMView:
    """One LLM exchange of the cassette and the call it holds."""

    exchange: int
    call: LLMCall

    def to_data(self) -> dict[str, Any]:
        call = self.call
        return {
            "exchange": self.exchange,
            "provider": call.provider,
            "api": call.api,
            "model": call.model,
            "streamed": call.streamed,
            "messages": [_turn_data(m) for m in call.messages],
            "reply": {**_turn_data(call.reply), "metadata": call.reply.metadata},
            "tool_calls": [
                {"id": t.id, "name": t.name, "arguments": t.arguments, "kind": t.kind}
                for t in call.tool_calls
            ],
        }


@dataclass
class Conversation:
    """A whole cassette as sessions and LLM calls, plus the exchange listing."""

    path: str
    provider: str | None
    base_url: str
    sessions: list[SessionView]
    exchanges: list[Exchange]
    llm_calls: list[LLMView] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "provider": self.provider,
            "base_url": self.base_url,
            "sessions": [s.to_data() for s in self.sessions],
            "llm_calls": [c.to_data() for c in self.llm_calls],
            "exchanges": [e.to_data() for e in self.exchanges],
        }


def _turn_data(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": message.role.value,
        "name": message.name,
        "content": message.content,
        "created_at": _when(message.created_at),
        "kind": message.kind,
    }
    for key in ("tool_id", "tool_name", "arguments", "result"):
        value = getattr(message, key)
        if value is not None:
            data[key] = value
    return data


def _when(value: datetime | None) -> str | None:
    """``2025-01-01T00:00:00.003Z``: UTC, milliseconds, as the services write it."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- provider detection ------------------------------------------------------------------------


def detect_provider(cassette: Cassette) -> str | None:
    """The provider key from the base URL (emulator mount or service host), else from the paths.

    ``None`` when the cassette does not say.
    """
    parts = urlsplit(cassette.base_url)
    path = parts.path.rstrip("/")
    host = (parts.hostname or "").lower()
    # Several keys may share a base URL (Zep v2 sessions and v3 threads): the paths decide.
    by_url: list[str] = []
    for name, spec in PROVIDERS.items():
        if name not in _ROUTES:
            continue
        default = urlsplit(spec.default_base_url)
        if (path and path.endswith(spec.emulator_prefix.rstrip("/"))) or (
            host
            and host == (default.hostname or "").lower()
            and host != "localhost"
            and path == default.path.rstrip("/")
        ):
            by_url.append(name)
    if len(by_url) == 1:
        return by_url[0]
    scores = {name: 0 for name in by_url or _ROUTES}
    for interaction in cassette.interactions:
        for name, kind in _classify_all(interaction):
            if name in scores:
                scores[name] += 1 if kind != "session" else 0
    best = max(scores.values(), default=0)
    winners = [name for name, score in scores.items() if score == best]
    if by_url:  # the URL narrowed it down: without other evidence, the first key of that URL
        return winners[0]
    return winners[0] if best and len(winners) == 1 else None


def _classify_all(interaction: Interaction) -> Iterable[tuple[str, str]]:
    for name in _ROUTES:
        kind, _ = _classify(name, interaction)
        if kind:
            yield name, kind


def _classify(provider: str, interaction: Interaction) -> tuple[str, dict[str, str]]:
    request = interaction.request
    for method, pattern, kind in _ROUTES.get(provider, ()):
        if request.method.upper() != method:
            continue
        found = pattern.match(request.path)
        if found:
            return kind, {k: unquote(v) for k, v in found.groupdict().items()}
    return "", {}


# -- reading ---------------------------------------------------------------------------------


def conversation_from_cassette(
    cassette: Cassette, *, path: str, provider: str | None = None
) -> Conversation:
    """Read ``cassette`` through the provider's adapter (``provider`` overrides detection)."""
    name = provider or detect_provider(cassette)
    adapter = make_provider(name, "http://cassette.invalid") if name else None
    sessions: dict[str, SessionView] = {}
    seen: dict[str, set[tuple[Any, ...]]] = {}
    exchanges: list[Exchange] = []
    calls: list[LLMView] = []

    def view(session_id: str) -> SessionView:
        if session_id not in sessions:
            sessions[session_id] = SessionView(id=session_id)
            seen[session_id] = set()
        return sessions[session_id]

    threads = _ThreadMemory(adapter, adapter) if isinstance(adapter, ThreadAdapter) else None
    for index, interaction in enumerate(cassette.interactions, start=1):
        call = llm_call(interaction)
        if call is not None:
            calls.append(LLMView(index, call))
            exchanges.append(_exchange(index, interaction, _llm_what(len(calls), call)))
            continue
        api = llm_api_of(interaction)
        if api is not None:  # an LLM request whose answer holds no reply: an error, or unreadable
            status = interaction.response.status
            problem = f"error {status}" if not 200 <= status < 300 else "answer not readable"
            exchanges.append(_exchange(index, interaction, f"{' '.join(api)}: {problem}"))
            continue
        kind, ids = _classify(name, interaction) if name else ("", {})
        what = ""
        if threads is not None and kind in _THREAD_MEMORY_KINDS:
            what = threads.read(kind, ids, interaction, view)
        elif adapter is not None and kind:
            what = _read_one(adapter, kind, ids, interaction, view, seen)
            if threads is not None:
                threads.note_thread(kind, ids, interaction, view)
        exchanges.append(_exchange(index, interaction, what))
    for session in sessions.values():
        if session.turns and all(m.created_at is not None for m in session.turns):
            session.turns.sort(key=lambda m: m.created_at)  # type: ignore[arg-type, return-value]
    return Conversation(
        path=path,
        provider=name,
        base_url=cassette.base_url,
        sessions=list(sessions.values()),
        exchanges=exchanges,
        llm_calls=calls,
    )


def _llm_what(number: int, call: LLMCall) -> str:
    what = (
        f"LLM call {number}: {_visible(call.model or '(no model)')}, {len(call.messages)} turn(s)"
    )
    if call.tool_calls:
        what += f", {len(call.tool_calls)} tool call(s)"
    return what


def _exchange(index: int, interaction: Interaction, what: str) -> Exchange:
    response = interaction.response
    content_type = dict(response.headers).get("content-type", "").split(";", 1)[0]
    return Exchange(
        index=index,
        method=interaction.request.method,
        target=interaction.request.describe().split(" ", 1)[1],
        status=response.status,
        content_type=content_type,
        what=what,
    )


def _run(operation: Generator[httpx.Request, httpx.Response, Any], interaction: Interaction) -> Any:
    """Drive a sans-IO operation with the recorded response instead of the network."""
    request = next(operation)
    recorded = interaction.response
    response = httpx.Response(
        recorded.status,
        headers=list(recorded.headers),
        content=recorded.body.to_bytes(),
        request=request,
    )
    try:
        operation.send(response)
    except StopIteration as stop:
        return stop.value
    operation.close()
    return None  # the operation wanted a second request: not one a single exchange answers


def _read_one(
    adapter: Provider,
    kind: str,
    ids: dict[str, str],
    interaction: Interaction,
    view: Any,
    seen: dict[str, set[tuple[Any, ...]]],
) -> str:
    status = interaction.response.status
    session_id = ids.get("sid")
    if not 200 <= status < 300:
        if session_id:
            response = httpx.Response(status, content=interaction.response.body.to_bytes())
            message = adapter.describe_error(response).message or ""
            view(session_id).notes.append(
                f"{interaction.request.method} {kind} answered {status}"
                + (f": {message}" if message else "")
            )
        return f"error {status}"
    try:
        if kind == "messages" and session_id:
            page = _run(adapter.messages_page(session_id, page_size=100, cursor=None), interaction)
            if isinstance(page, MessagePage):
                session = view(session_id)
                added = _add_turns(session, seen[session_id], page.messages)
                return f"{len(page.messages)} message(s), {added} new"
        elif kind == "memory" and session_id:
            memory = _run(adapter.get_memory(session_id, last_n=None, min_rating=None), interaction)
            if isinstance(memory, Memory):
                session = view(session_id)
                session.facts = memory.facts
                session.context = memory.context or session.context
                session.summary = memory.summary or session.summary
                _add_turns(session, seen[session_id], memory.messages.messages)
                return f"memory: {len(memory.facts)} fact(s)"
        elif kind == "session" and session_id:
            found = _run(adapter.get_session(session_id), interaction)
            if isinstance(found, Session):
                _note_session(view(found.id), found)
                return "session"
        elif kind == "create":
            created = _run(_create(adapter, ids, interaction), interaction)
            if isinstance(created, Session):
                _note_session(view(created.id), created)
                return f"created session {created.id}"
        elif kind == "write":
            body = interaction.request.body
            written = body.value.get("messages") if isinstance(body.value, dict) else None
            if isinstance(written, list):
                return f"wrote {len(written)} message(s)"
            return "wrote a message"
    except SessionmemError as exc:
        return f"unreadable: {str(exc).splitlines()[0][:80]}"
    return ""


def _create(
    adapter: Provider, ids: dict[str, str], interaction: Interaction
) -> Generator[httpx.Request, httpx.Response, Session]:
    body = interaction.request.body.value if interaction.request.body.kind == "json" else {}
    body = body if isinstance(body, dict) else {}
    if adapter.name == "zep":
        return adapter.create_session(
            NewSession(
                session_id=str(body.get("session_id") or "session"),
                user_id=str(body.get("user_id") or "user"),
            )
        )
    if adapter.name == "zep-v3":
        return adapter.create_session(
            NewSession(
                session_id=str(body.get("thread_id") or "thread"),
                user_id=str(body.get("user_id") or "user"),
            )
        )
    if adapter.name == "zep-v4":
        return adapter.create_session(NewSession(user_id=str(body.get("user_uuid") or "user")))
    if adapter.name == "meibel":
        return adapter.create_session(NewSession(agent_id=ids.get("agent")))
    return adapter.create_session(
        NewSession(
            user_id=str(body.get("userId") or "user"),
            agent_id=str(body.get("agentId") or "agent"),
        )
    )


class _ThreadMemory:
    """Zep thread memory (zep-v3, zep-v4) read back one recorded exchange at a time.

    A thread's memory read is several requests: its context, its summary and the edges of
    its user's graph, which are the facts. Each is read by the adapter operation the client's
    memory read runs (:meth:`ThreadAdapter.read_context`, ``read_summary``, ``graph_facts``),
    so ``show`` gives what ``recorded_session.memory()`` gave. The thread reads before them say
    which graph belongs to which thread, as the memory read learns it. The last read wins
    (memory tests poll until the service has processed the conversation), except that an
    empty context does not replace one read before it.
    """

    def __init__(self, provider: Provider, adapter: ThreadAdapter) -> None:
        self.provider = provider  # the same adapter, as the shared readers take it
        self.adapter = adapter
        self.graphs: dict[str, list[str]] = {}  # graph -> the threads it holds the facts of

    def note_thread(
        self, kind: str, ids: dict[str, str], interaction: Interaction, view: Any
    ) -> None:
        """Remember whose graph a thread read names (and, for zep-v3, the thread's user)."""
        if not 200 <= interaction.response.status < 300:
            return
        session_id = ids.get("sid")
        found: Any = None
        try:
            if kind == "create":
                found = _run(_create(self.provider, ids, interaction), interaction)
            elif kind == "session" and session_id:
                found = _run(self.adapter.get_session(session_id), interaction)
            elif kind == "messages" and session_id and self.adapter.name == "zep-v3":
                # zep-v3 has no thread read: a message listing names the thread's user, and
                # the client's get_session reads it so.
                found = _run(self.adapter.get_session(session_id), interaction)
                if isinstance(found, Session):
                    _note_session(view(found.id), found)
        except SessionmemError:
            return
        if not isinstance(found, Session):
            return
        graph = self.adapter.graph_of(found)
        if graph:
            threads = self.graphs.setdefault(graph, [])
            if found.id not in threads:
                threads.append(found.id)

    def read(self, kind: str, ids: dict[str, str], interaction: Interaction, view: Any) -> str:
        status = interaction.response.status
        session_id = ids.get("sid")
        try:
            if kind == "summary" and session_id:
                summary = _run(self.adapter.read_summary(session_id), interaction)
                if summary:
                    view(session_id).summary = summary
                    return "summary"
                if status == 404:
                    return "no summary yet"
            if not 200 <= status < 300:  # noted on the thread as any failed read is
                return _read_one(self.provider, kind, ids, interaction, view, {})
            if kind == "context" and session_id:
                context = _run(self.adapter.read_context(session_id), interaction)
                session = view(session_id)
                session.context = context or session.context
                return "context" if context else "context: none yet"
            graph = ids.get("graph")
            if kind == "edges" and graph:
                return self._read_edges(graph, interaction, view)
        except SessionmemError as exc:
            return f"unreadable: {str(exc).splitlines()[0][:80]}"
        return ""

    def _read_edges(self, graph: str, interaction: Interaction, view: Any) -> str:
        cursor = dict(interaction.request.query).get("cursor") or None
        page = _run(self.adapter.graph_facts(graph, cursor=cursor), interaction)
        if page is None:
            return ""
        facts, _ = page
        threads = self.graphs.get(graph, [])
        for session_id in threads:
            session = view(session_id)
            # A listing starts on its first page; later pages (a cursor) add to it.
            session.facts = (*session.facts, *facts) if cursor else tuple(facts)
        owner = "" if threads else " (no thread read names this graph)"
        return f"graph: {len(facts)} fact(s){owner}"


def _note_session(target: SessionView, found: Session) -> None:
    target.user_id = found.user_id or target.user_id
    target.agent_id = found.agent_id or target.agent_id
    if found.created_at is not None:
        target.created_at = _when(found.created_at)
    target.status = found.status or target.status


def _add_turns(
    session: SessionView, seen: set[tuple[Any, ...]], messages: Iterable[Message]
) -> int:
    added = 0
    for message in messages:
        key: tuple[Any, ...] = (
            ("id", message.id)
            if message.id
            else (message.role, message.kind, message.content, message.created_at)
        )
        if key in seen:
            continue
        seen.add(key)
        session.turns.append(message)
        added += 1
    return added


# -- text ------------------------------------------------------------------------------------

_CONTENT_WIDTH = 100


def render_conversation(conversation: Conversation) -> str:
    """The text ``sessionmem show`` prints for one cassette."""
    provider = conversation.provider or "unknown provider (use --provider)"
    lines = [
        conversation.path,
        f"  {provider}, recorded against {conversation.base_url or '(no base URL)'}, "
        f"{len(conversation.exchanges)} HTTP exchange(s)",
    ]
    if not conversation.sessions:
        lines.append("  no session read in this cassette")
    for session in conversation.sessions:
        lines.append("")
        details = [
            f"{label} {value}"
            for label, value in (
                ("user", session.user_id),
                ("agent", session.agent_id),
                ("created", session.created_at),
                ("status", session.status),
            )
            if value
        ]
        lines.append(f"  session {session.id}" + (f" ({', '.join(details)})" if details else ""))
        if not session.turns:
            lines.append("    no turns read")
        for number, turn in enumerate(session.turns, start=1):
            lines.extend(_turn_lines(number, turn))
        if session.facts:
            lines.append("    facts:")
            for fact in session.facts:
                rating = f"{fact.rating:.2f}" if fact.rating is not None else "  - "
                lines.append(f"      [{rating}] {fact.content}")
        if session.context:
            lines.append("    context:")
            lines.extend(f"      {line}" for line in _text_lines(session.context))
        if session.summary:
            lines.append(f"    summary: {session.summary}")
        for note in session.notes:
            lines.append(f"    note: {note}")
    for number, view in enumerate(conversation.llm_calls, start=1):
        lines.append("")
        lines.extend(_llm_lines(number, view))
    lines.append("")
    lines.append("  HTTP exchanges:")
    requests = [escape_controls(f"{e.method} {e.target}") for e in conversation.exchanges]
    width = min(max((len(request) for request in requests), default=0), 72)
    for exchange, request in zip(conversation.exchanges, requests, strict=True):
        tail = f"  {exchange.what}" if exchange.what else ""
        shown_type = f" {exchange.content_type}" if exchange.content_type else ""
        lines.append(
            f"    {exchange.index:>3}  {request:<{width}}  {exchange.status}{shown_type}{tail}"
        )
    # Each line is one line: a newline or control character inside a value shows escaped.
    return "\n".join(escape_controls(line, keep="\t") for line in lines)


_LINE_BREAK = re.compile(r"\r?\n")


def _text_lines(text: str) -> list[str]:
    """``text`` split at its newlines (``\\r\\n`` too), as ``str.splitlines`` would, except
    that no other character (a lone CR) breaks a line: it stays, to be shown escaped."""
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _turn_lines(number: int, turn: Message) -> list[str]:
    who = turn.role.value + (f" ({turn.name})" if turn.name else "")
    if turn.kind and turn.kind not in (turn.role.value, "user", "agent"):
        who += f" [{turn.kind}]"
    when = _when(turn.created_at) or ""
    extra = []
    if turn.tool_name:
        extra.append(f"tool {turn.tool_name}")
    if turn.arguments:
        extra.append(f"arguments {turn.arguments}")
    if turn.result is not None:
        extra.append(f"result {turn.result!r}")
    content_lines = _text_lines(turn.content)
    first = content_lines[0]
    if len(first) > _CONTENT_WIDTH:
        first = first[: _CONTENT_WIDTH - 3] + "..."
    head = f"    {number:>3}. {who}" + (f"  {when}" if when else "")
    out = [head, f"         {first}" if first else "         (no content)"]
    out.extend(f"         {line}" for line in content_lines[1:])
    if extra:
        out.append(f"         {'; '.join(extra)}")
    return out


# -- LLM calls -------------------------------------------------------------------------------


def _visible(text: str) -> str:
    """``text`` with every non-printing character escaped (``\\x1b``, ``\\r``, ``\\n``).

    Text from a cassette never reaches the terminal as control characters.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _one_line(text: str) -> str:
    shown = _visible(text)
    return shown if len(shown) <= _CONTENT_WIDTH else shown[: _CONTENT_WIDTH - 3] + "..."


def _arguments(arguments: dict[str, Any] | None) -> str:
    return "(arguments not a JSON object)" if arguments is None else json.dumps(arguments)


def _tool_call_line(call: ToolCall) -> str:
    tail = f"  (id {call.id})" if call.id else ""
    return _one_line(f"{call.name or '(no name)'} {_arguments(call.arguments)}") + _visible(tail)


def _prompt_turn_line(number: int, turn: Message) -> str:
    who = turn.role.value + (f" ({turn.name})" if turn.name else "")
    if turn.kind and turn.kind != turn.role.value:
        who += f" [{turn.kind}]"
    said = turn.content
    tags = [f"id {turn.tool_id}"] if turn.tool_id else []
    if turn.arguments is not None:
        said = f"{turn.tool_name or '(no name)'} {_arguments(turn.arguments)}" + (
            f" {said}" if said else ""
        )
    elif turn.tool_name:
        tags.insert(0, turn.tool_name)
    tail = f"  ({', '.join(tags)})" if tags else ""
    return f"    {number:>5}. {_visible(who)}: {_one_line(said)}{_visible(tail)}"


def _llm_lines(number: int, view: LLMView) -> list[str]:
    call = view.call
    head = f"{call.provider} {call.api}, model {call.model or '(none)'}"
    if call.streamed:
        head += ", streamed"
    lines = [f"  LLM call {number} (exchange {view.exchange}): {_visible(head)}"]
    lines.append(f"    prompt, {len(call.messages)} turn(s):")
    lines.extend(_prompt_turn_line(n, turn) for n, turn in enumerate(call.messages, start=1))
    reply = call.reply
    details = [
        f"{key} {value}"
        for key in ("finish_reason", "stop_reason", "status")
        if isinstance(value := reply.metadata.get(key), str)
    ]
    lines.append("    reply" + (f" ({_visible(', '.join(details))})" if details else "") + ":")
    content_lines = reply.content.split("\n") if reply.content else []
    lines.extend(f"         {_visible(line)}" for line in content_lines)
    if not content_lines:
        lines.append("         (no content)")
    refusal = reply.metadata.get("refusal")
    if isinstance(refusal, str):
        lines.append(f"         refusal: {_visible(refusal)}")
    error = reply.metadata.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        lines.append(f"         error: {_visible(str(message if message else error))}")
    for tool_call in call.tool_calls:
        lines.append(f"    tool call: {_tool_call_line(tool_call)}")
    return lines

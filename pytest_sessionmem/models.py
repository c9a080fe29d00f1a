"""Provider-neutral, frozen models that tests assert on.

Every provider adapter maps its wire payloads onto these at the boundary, so a test
written against a Zep session reads the same as one written against ElizaOS or Meibel.

Two rules hold for every provider:

* a :class:`Transcript` is oldest first (ElizaOS pages arrive newest first and are
  reversed by its adapter);
* nothing the provider said is lost: a kind that maps to no :class:`Role` keeps its
  original string in :attr:`Message.kind`, and the untouched payload is in ``raw``.
  ``raw`` never takes part in equality.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from operator import attrgetter
from typing import Any, ClassVar, overload

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["Fact", "LLMCall", "Memory", "Message", "Role", "Session", "ToolCall", "Transcript"]


class Role(str, Enum):
    """Who spoke a turn. Zep's ``role_type`` values, which cover the other providers too."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"
    FUNCTION = "function"
    NOROLE = "norole"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | Role | None) -> Role:
        """Map a provider's kind onto a role; anything unknown becomes ``NOROLE``."""
        if isinstance(value, Role):
            return value
        if not value:
            return cls.NOROLE
        key = value.strip().lower()
        try:
            return cls(key)
        except ValueError:
            return _ROLE_ALIASES.get(key, cls.NOROLE)


# Kinds seen in the wild that mean one of our roles. Anything else keeps its own string in
# ``Message.kind`` and maps to NOROLE, so it is never dropped.
_ROLE_ALIASES: dict[str, Role] = {
    "human": Role.USER,
    "agent": Role.ASSISTANT,
    "ai": Role.ASSISTANT,
    "bot": Role.ASSISTANT,
    "agent_response": Role.ASSISTANT,
    "tool_call": Role.TOOL,
    "tool_result": Role.TOOL,
    "tool_use": Role.TOOL,
    "function_call": Role.FUNCTION,
}


class _Frozen(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import, so a run
    # that only reads transcripts never builds the validators of Session, Memory or Fact.
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )


class _Compared(_Frozen):
    """A model that ``==`` compares by the fields ``_eq_key`` reads (never ``raw``).

    ``_hash_key`` reads fewer fields: values that compare equal still hash alike, and a
    matcher in a dict field does not make the model unhashable.
    """

    _eq_key: ClassVar[attrgetter[Any]]
    _hash_key: ClassVar[attrgetter[Any]]

    def __eq__(self, other: object) -> bool:
        # The same model, or a subclass that keeps its comparison.
        if not isinstance(other, _Compared) or other._eq_key is not self._eq_key:
            return NotImplemented
        return bool(self._eq_key(self) == self._eq_key(other))

    def __hash__(self) -> int:
        return hash(self._hash_key(self))


class Message(_Compared):
    """One turn of a conversation.

    ``raw`` holds the provider's payload exactly as received and is left out of ``==``
    and ``repr``; every other field takes part in comparisons.
    """

    id: str | None = None
    role: Role = Role.NOROLE
    content: str = ""
    name: str | None = None
    """Speaker name: Zep's free-form ``role``, ElizaOS ``authorId``."""
    kind: str | None = None
    """The provider's own kind string (Zep ``role_type``, Meibel ``type``, ``agent``/``user`` for ElizaOS)."""
    created_at: AwareDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tool_id: str | None = None
    tool_name: str | None = None
    arguments: dict[str, Any] | None = None
    result: Any = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _eq_key = attrgetter(
        "id",
        "role",
        "content",
        "name",
        "kind",
        "created_at",
        "metadata",
        "tool_id",
        "tool_name",
        "arguments",
        "result",
    )
    _hash_key = attrgetter("id", "role", "content", "name", "kind")


# Every field in declaration order with its default; fields with a default factory separately.
_MESSAGE_DEFAULTS: dict[str, Any] = {
    name: None if info.default_factory is not None else info.default
    for name, info in Message.model_fields.items()
}
_MESSAGE_FACTORIES: dict[str, Any] = {
    name: info.default_factory
    for name, info in Message.model_fields.items()
    if info.default_factory is not None
}


def trusted_message_builder(*fields: str) -> Callable[..., Message]:
    """A maker of :class:`Message` from values already valid; internal to the adapters.

    Provider adapters validate a whole page of wire payloads in one pydantic call and then
    assemble each message with a builder made once for the fields their call site always
    passes, without validating the same values a second time. The result is
    indistinguishable from ``Message(**values)``: the same field values, the same
    ``model_fields_set``, frozen. Values must already have the field's type (an aware
    datetime, a ``Role``, plain dicts); nothing is converted. The builder takes exactly
    ``fields`` as keywords (a ``TypeError`` otherwise); per message it only fills the
    defaults, whose places and factories were found once.
    """
    unknown = sorted(set(fields) - _MESSAGE_DEFAULTS.keys())
    if unknown:
        raise TypeError(f"trusted_message_builder got unknown fields {unknown}")
    expected = frozenset(fields)
    factories = tuple(
        (name, factory) for name, factory in _MESSAGE_FACTORIES.items() if name not in expected
    )

    def build(**values: Any) -> Message:
        if values.keys() != expected:
            raise TypeError(f"this builder takes exactly {sorted(expected)}, got {sorted(values)}")
        state = {**_MESSAGE_DEFAULTS, **values}
        for name, factory in factories:
            state[name] = factory()
        return _assembled(state, set(expected))

    return build


_new_message = Message.__new__
_set = object.__setattr__  # Message is frozen: its own __setattr__ refuses


def _assembled(state: dict[str, Any], fields_set: set[str]) -> Message:
    # What pydantic's validation leaves on an instance: the field values in declaration
    # order, the names given, and no extra or private values.
    message = _new_message(Message)
    _set(message, "__dict__", state)
    _set(message, "__pydantic_fields_set__", fields_set)
    _set(message, "__pydantic_extra__", None)
    _set(message, "__pydantic_private__", None)
    return message


class Transcript(_Frozen):
    """The messages of one session, oldest first, whatever order the provider used."""

    messages: tuple[Message, ...] = ()
    session_id: str | None = None
    provider: str | None = None

    def __iter__(self) -> Iterator[Message]:  # type: ignore[override]
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Message, ...]: ...
    def __getitem__(self, index: int | slice) -> Message | tuple[Message, ...]:
        return self.messages[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Transcript):
            return self.messages == other.messages
        if isinstance(other, (list, tuple)):
            return list(self.messages) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.messages)

    @property
    def contents(self) -> list[str]:
        """The content of every turn, oldest first; handy in quick assertions."""
        return [m.content for m in self.messages]


class Session(_Frozen):
    """A conversation session as the provider describes it."""

    id: str
    provider: str
    user_id: str | None = None
    agent_id: str | None = None
    created_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    status: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class Fact(_Compared):
    """One fact Zep extracted from a conversation (``relevant_facts``)."""

    id: str
    content: str
    created_at: AwareDatetime | None = None
    name: str | None = None
    rating: float | None = None
    valid_at: AwareDatetime | None = None
    invalid_at: AwareDatetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _eq_key = attrgetter("id", "content", "created_at", "name", "rating")
    _hash_key = attrgetter("id", "content")


class Memory(_Compared):
    """What a memory layer holds for a session: context, extracted facts, summary, last messages."""

    context: str | None = None
    facts: tuple[Fact, ...] = ()
    summary: str | None = None
    messages: Transcript = Field(default_factory=Transcript)
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _eq_key = attrgetter("context", "facts", "summary", "messages")
    _hash_key = attrgetter("context", "facts", "summary")


class ToolCall(_Compared):
    """One tool the model asked for in its reply (an :class:`LLMCall`'s ``tool_calls``).

    ``arguments`` is the arguments the model wrote, parsed: ``None`` when they are not a JSON
    object (a cut-off stream, a model that wrote invalid JSON); the text itself is in ``raw``.
    ``raw`` is the wire form of the call (for a streamed reply, as assembled from its events)
    and never takes part in equality.
    """

    id: str | None = None
    """The call's id (OpenAI ``tool_calls[].id`` / Responses ``call_id``, Anthropic ``id``)."""
    name: str = ""
    arguments: dict[str, Any] | None = None
    kind: str | None = None
    """The wire's own type: ``function``, ``function_call``, ``tool_use``, ..."""
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _eq_key = attrgetter("id", "name", "arguments", "kind")
    _hash_key = attrgetter("id", "name")


class LLMCall(_Compared):
    """One exchange with an LLM API, read back from its request and response.

    ``messages`` is the prompt as the model received it, the system prompt included as a
    ``system`` message; ``reply`` is the assistant's answer (a streamed reply assembled into one
    message) and ``tool_calls`` the tools it asked for. ``raw`` holds the request and response
    payloads (``{"request": ..., "response": ...}``; a streamed response as its event-stream
    text) and never takes part in equality.
    """

    provider: str
    """The wire format's family: ``openai`` (OpenAI and OpenAI-compatible servers), ``anthropic``."""
    api: str
    """Which API of the provider: ``chat.completions``, ``responses`` or ``messages``."""
    model: str | None = None
    """The model the request asked for (the response's own model name is in ``reply.metadata``)."""
    messages: Transcript = Field(default_factory=Transcript)
    reply: Message = Field(default_factory=Message)
    tool_calls: tuple[ToolCall, ...] = ()
    streamed: bool = False
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    _eq_key = attrgetter("provider", "api", "model", "messages", "reply", "tool_calls", "streamed")
    _hash_key = attrgetter("provider", "api", "model")

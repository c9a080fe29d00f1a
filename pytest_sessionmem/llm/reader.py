"""One recorded HTTP exchange read as an :class:`~pytest_sessionmem.models.LLMCall`, or ``None``.

The format follows from the request alone: a POST whose path ends ``/chat/completions`` with
``messages`` (OpenAI chat completions), ends ``/responses`` with ``input`` (OpenAI Responses)
or ends ``/messages`` with ``messages`` and ``max_tokens`` or an ``anthropic-*`` request header
(Anthropic messages). A JSON response is read as it is; an event-stream response (the body's
text) is put together into the one reply it streamed. An error status, a body of another
shape or a stream with no event of the format gives ``None``: nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_sessionmem.llm import anthropic_messages, openai_chat, openai_responses
from pytest_sessionmem.llm.common import JSON, Reply
from pytest_sessionmem.llm.sse import SSEEvent, parse_sse
from pytest_sessionmem.models import LLMCall, Message, Transcript

__all__ = ["llm_api", "read_llm_call"]


@dataclass(frozen=True)
class _Format:
    provider: str
    api: str
    read_prompt: Callable[[JSON], tuple[Message, ...] | None]
    read_reply: Callable[[JSON], Reply | None]
    assemble_stream: Callable[[list[SSEEvent]], JSON | None]


_CHAT = _Format(
    "openai",
    openai_chat.API,
    openai_chat.read_prompt,
    openai_chat.read_reply,
    openai_chat.assemble_stream,
)
_RESPONSES = _Format(
    "openai",
    openai_responses.API,
    openai_responses.read_prompt,
    openai_responses.read_reply,
    openai_responses.assemble_stream,
)
_ANTHROPIC = _Format(
    "anthropic",
    anthropic_messages.API,
    anthropic_messages.read_prompt,
    anthropic_messages.read_reply,
    anthropic_messages.assemble_stream,
)


def _detect(path: str, body: JSON, headers: Mapping[str, str]) -> _Format | None:
    route = "/" + path.split("?", 1)[0].strip("/")
    if route.endswith("/chat/completions") and "messages" in body:
        return _CHAT
    if route.endswith("/responses") and "input" in body:
        return _RESPONSES
    if route.endswith("/messages") and "messages" in body:
        hinted = any(name.lower().startswith("anthropic-") for name in headers)
        if "max_tokens" in body or hinted:
            return _ANTHROPIC
    return None


def _is_event_stream(content_type: str, request: JSON) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "text/event-stream" or (not media_type and request.get("stream") is True)


def llm_api(
    *, method: str, path: str, request_body: Any, request_headers: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """``(provider, api)`` when the request is one to an LLM API, whatever its answer was."""
    if method.upper() != "POST" or not isinstance(request_body, dict):
        return None
    found = _detect(path, request_body, request_headers or {})
    return None if found is None else (found.provider, found.api)


def read_llm_call(
    *,
    method: str,
    path: str,
    request_body: Any,
    response_status: int,
    response_content_type: str = "",
    response_body: Any,
    request_headers: Mapping[str, str] | None = None,
) -> LLMCall | None:
    """The LLM exchange a request and its response hold, or ``None`` when it is not one.

    ``path`` is the request's path (a query is ignored); ``request_body`` and
    ``response_body`` are parsed JSON values, the text of an event stream, or ``None``.
    """
    if method.upper() != "POST" or not isinstance(request_body, dict):
        return None
    found = _detect(path, request_body, request_headers or {})
    if found is None or not 200 <= response_status < 300:
        return None
    prompt = found.read_prompt(request_body)
    if prompt is None:
        return None
    streamed = isinstance(response_body, str)
    payload: JSON | None = None
    if streamed:
        if _is_event_stream(response_content_type, request_body):
            payload = found.assemble_stream(parse_sse(response_body))
    elif isinstance(response_body, dict):
        payload = response_body
    reply = found.read_reply(payload) if payload is not None else None
    if reply is None:
        return None
    model = request_body.get("model")
    return LLMCall(
        provider=found.provider,
        api=found.api,
        model=model if isinstance(model, str) else reply.model,
        messages=Transcript(messages=prompt, provider=found.provider),
        reply=reply.message,
        tool_calls=reply.tool_calls,
        streamed=streamed,
        raw={"request": request_body, "response": response_body},
    )

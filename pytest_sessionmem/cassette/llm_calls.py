"""The LLM exchanges a cassette holds, read back as ``LLMCall`` objects, in recorded order.

Each interaction is handed to :func:`pytest_sessionmem.llm.read_llm_call` as it is stored: the
request's path, headers and body value, the response's status, content type and body value (a
JSON value, the text of an event stream, or ``None``). Interactions that are not LLM
exchanges, or that it cannot read, are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_sessionmem.cassette.schema import Body, Interaction
from pytest_sessionmem.llm import llm_api, read_llm_call
from pytest_sessionmem.models import LLMCall

__all__ = ["llm_api_of", "llm_call", "llm_calls"]


def _value(body: Body) -> Any:
    # Binary bodies hold no text to read.
    return body.value if body.kind in ("json", "text") else None


def llm_call(interaction: Interaction) -> LLMCall | None:
    """The LLM exchange one interaction holds, or ``None``."""
    request, response = interaction.request, interaction.response
    headers = dict(request.headers)
    content_type = next(
        (value for name, value in response.headers if name.lower() == "content-type"), ""
    )
    return read_llm_call(
        method=request.method,
        path=request.path,
        request_body=_value(request.body),
        response_status=response.status,
        response_content_type=content_type,
        response_body=_value(response.body),
        request_headers=headers,
    )


def llm_api_of(interaction: Interaction) -> tuple[str, str] | None:
    """``(provider, api)`` when the interaction's request went to an LLM API, whatever the answer."""
    request = interaction.request
    return llm_api(
        method=request.method,
        path=request.path,
        request_body=_value(request.body),
        request_headers=dict(request.headers),
    )


def llm_calls(interactions: Iterable[Interaction]) -> list[LLMCall]:
    """One ``LLMCall`` per LLM exchange among ``interactions``, in their order."""
    return [call for call in map(llm_call, interactions) if call is not None]

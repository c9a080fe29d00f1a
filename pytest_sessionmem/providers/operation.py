"""The sans-IO contract between provider adapters and the client's drivers.

An :data:`Operation` is a generator: it yields ``httpx.Request`` objects, is sent the
matching (2xx) ``httpx.Response`` and returns a neutral model. :class:`ErrorInfo` is what
an adapter reads out of a provider's error body.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

__all__ = ["ACCEPT_STATUS_EXTENSION", "DECODED_JSON_EXTENSION", "ErrorInfo", "Operation"]

T = TypeVar("T")

Operation = Generator[httpx.Request, httpx.Response, T]
"""A sans-IO provider call: yields requests, is sent their (2xx) responses, returns a model."""

# A replayed JSON response also carries its already-decoded body under this extension, so
# our own clients skip parsing the bytes again (a third of replay time on large sessions).
# Other clients just read the bytes. Consumers must treat the structure as read-only.
DECODED_JSON_EXTENSION = "sessionmem.decoded_json"

# A request may carry a frozenset of error statuses under this extension: the driver then
# hands such a response to the operation instead of raising (a thread summary's "none yet"
# 404). Nothing is retried because of it.
ACCEPT_STATUS_EXTENSION = "sessionmem.accept_status"


@dataclass(frozen=True)
class ErrorInfo:
    """What a provider's error body says, in neutral form (from ``Provider.describe_error``)."""

    message: str | None = None
    detail: Any = None
    code: str | None = None

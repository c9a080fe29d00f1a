"""``SessionClient`` and ``AsyncSessionClient``: one API over Zep, Meibel and ElizaOS.

Both clients hold a provider adapter (:mod:`pytest_sessionmem.providers`) and an httpx
client, and run every call through :mod:`pytest_sessionmem.client.exchange`, so retries, error
mapping and secret redaction are the same for both. Record/replay plugs in through
``transport=``: any ``httpx.BaseTransport`` (async: ``AsyncBaseTransport``) is used as is.

::

    with SessionClient("zep") as client:            # key from ZEP_API_KEY
        transcript = client.get_messages("session-1")
        assert transcript.contents[:2] == ["Hi", "Hello! How can I help?"]
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from pytest_sessionmem.client.exchange import Exchange, RetryPolicy, run_async, run_sync
from pytest_sessionmem.errors import ConfigError
from pytest_sessionmem.models import Memory, Message, Session, Transcript
from pytest_sessionmem.providers import make_provider, provider_spec
from pytest_sessionmem.providers.base import MessageInput, Provider, coerce_messages
from pytest_sessionmem.providers.operation import Operation
from pytest_sessionmem.redaction import Redactor

__all__ = ["AsyncSessionClient", "SessionClient"]

T = TypeVar("T")
_Self = TypeVar("_Self", bound="_ClientBase")

DEFAULT_PAGE_SIZE = 100


def _user_agent() -> str:
    from pytest_sessionmem.version import __version__

    return f"pytest-sessionmem/{__version__}"


class _ClientBase:
    """Configuration shared by the sync and async clients: provider, URL, key, retries."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float | None,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        headers: Mapping[str, str] | None,
    ) -> None:
        _check_retry_settings(timeout, max_retries, backoff, max_backoff)
        self._adapter: Provider = make_provider(provider, base_url)
        spec = provider_spec(provider)
        key = api_key if api_key is not None else os.environ.get(spec.api_key_env)
        all_headers = {"User-Agent": _user_agent(), **dict(headers or {})}
        all_headers.update(spec.auth_headers(key or None))
        self._timeout = timeout
        self._exchange = Exchange(
            provider=self._adapter.name,
            base_url=self._adapter.base_url,
            headers=all_headers,
            policy=RetryPolicy(max_retries=max_retries, backoff=backoff, max_backoff=max_backoff),
            redactor=Redactor([key]),
            describe_error=self._adapter.describe_error,
        )

    @property
    def provider(self) -> str:
        """The provider key: ``"zep"``, ``"meibel"`` or ``"eliza"``."""
        return self._adapter.name

    @property
    def base_url(self) -> str:
        """The API root every path is joined to."""
        return self._adapter.base_url

    def __repr__(self) -> str:
        # Never shows the key: only provider and (redacted) URL.
        url = self._exchange.redactor.url(self.base_url)
        return f"{type(self).__name__}(provider={self.provider!r}, base_url={url!r})"

    def _transcript(self, messages: Iterable[Message], session_id: str) -> Transcript:
        return Transcript(messages=tuple(messages), session_id=session_id, provider=self.provider)

    def _create_session_op(
        self,
        session_id: str | None,
        user_id: str | None,
        agent_id: str | None,
        metadata: Mapping[str, Any] | None,
        fields: Mapping[str, Any],
    ) -> Operation[Session]:
        return self._adapter.create_session(
            session_id=session_id,
            user_id=user_id,
            agent_id=agent_id,
            metadata=metadata,
            fields=fields,
        )


class SessionClient(_ClientBase):
    """Reads (and seeds) conversation sessions of one provider over HTTP.

    ``provider`` is ``"zep"``, ``"meibel"`` or ``"eliza"``. The API key comes from
    ``api_key`` or the provider's environment variable (``ZEP_API_KEY``,
    ``MEIBEL_API_KEY``, ``ELIZA_SERVER_AUTH_TOKEN``; ElizaOS sends no key when unset).
    ``transport`` is handed to ``httpx.Client`` (a cassette transport, a MockTransport).
    Retries: up to ``max_retries`` after the first attempt, waiting ``backoff * 2**n``
    capped at ``max_backoff`` seconds, or the server's ``Retry-After``; ``sleep`` does
    the waiting (inject a no-op to replay instantly).
    """

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            provider,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            headers=headers,
        )
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(transport=transport, timeout=timeout)

    def _run(self, operation: Operation[T]) -> T:
        return run_sync(operation, exchange=self._exchange, client=self._http, sleep=self._sleep)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the underlying HTTP client (and its transport)."""
        self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reads ----------------------------------------------------------------------------

    def get_session(self, session_id: str) -> Session:
        """The session as the provider describes it."""
        return self._run(self._adapter.get_session(session_id))

    def get_messages(self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE) -> Transcript:
        """Every message of the session, all pages, oldest first."""
        return self._transcript(self.iter_messages(session_id, page_size=page_size), session_id)

    def iter_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[Message]:
        """Yield the session's messages oldest first.

        Zep and Meibel are streamed page by page. ElizaOS pages newest first, so every
        page is read before the first message is yielded.
        """
        _check_page_size(page_size)
        cursor: object | None = None
        buffered: list[Message] = []
        while True:
            page = self._run(
                self._adapter.messages_page(session_id, page_size=page_size, cursor=cursor)
            )
            if self._adapter.newest_first:
                buffered.extend(page.messages)
            else:
                yield from page.messages
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        yield from reversed(buffered)

    def get_memory(
        self, session_id: str, *, last_n: int | None = None, min_rating: float | None = None
    ) -> Memory:
        """Context, facts, summary and last messages (Zep; others raise UnsupportedOperation)."""
        _check_memory_args(last_n, min_rating)
        return self._run(self._adapter.get_memory(session_id, last_n=last_n, min_rating=min_rating))

    # -- writes ---------------------------------------------------------------------------

    def create_session(
        self,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Session:
        """Create a session.

        Zep: ``session_id``, ``user_id`` (the user must exist, see :meth:`add_user`),
        ``metadata``. Meibel: ``agent_id`` plus optional body fields (``prompt=``,
        ``initial_context=``, ...). ElizaOS: ``agent_id``, ``user_id`` (UUIDs),
        ``metadata``, ``timeout_config``.
        """
        return self._run(self._create_session_op(session_id, user_id, agent_id, metadata, fields))

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Create a Zep user (``email=``, ``first_name=``, ...); returns the provider's answer."""
        return self._run(self._adapter.add_user(user_id, fields))

    def add_messages(
        self, session_id: str, messages: Iterable[MessageInput]
    ) -> list[dict[str, Any]]:
        """Write messages; returns the provider's answer to each write call, in order.

        ``messages`` holds :class:`Message` objects, dicts of Message fields or
        ``(role, content)`` tuples; all are checked before anything is sent. Zep writes
        batches of 30; ElizaOS posts each (user) message; Meibel sends each (user)
        message as a chat turn, so the agent answers it.
        """
        checked = coerce_messages(messages)
        return self._run(self._adapter.add_messages(session_id, checked))

    def send_message(self, session_id: str, content: str, **fields: Any) -> Message:
        """Send one user turn (ElizaOS: the stored message; Meibel: the agent's reply)."""
        return self._run(self._adapter.send_message(session_id, content, fields))

    def delete_session(self, session_id: str) -> None:
        """Delete the session (Zep, ElizaOS; Meibel has no such endpoint)."""
        self._run(self._adapter.delete_session(session_id))


class AsyncSessionClient(_ClientBase):
    """The async twin of :class:`SessionClient`: the same arguments and methods, awaited.

    ``transport`` is an ``httpx.AsyncBaseTransport``; ``sleep`` an async callable
    (default ``anyio.sleep``, so it runs under asyncio and trio).
    """

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            provider,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            headers=headers,
        )
        if sleep is None:
            import anyio  # httpx depends on anyio, so this adds nothing

            sleep = anyio.sleep
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def _run(self, operation: Operation[T]) -> T:
        return await run_async(
            operation, exchange=self._exchange, client=self._http, sleep=self._sleep
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the underlying HTTP client (and its transport)."""
        await self._http.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- reads ----------------------------------------------------------------------------

    async def get_session(self, session_id: str) -> Session:
        """The session as the provider describes it."""
        return await self._run(self._adapter.get_session(session_id))

    async def get_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Transcript:
        """Every message of the session, all pages, oldest first."""
        messages = [m async for m in self.iter_messages(session_id, page_size=page_size)]
        return self._transcript(messages, session_id)

    async def iter_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[Message]:
        """Yield the session's messages oldest first (ElizaOS: after reading every page)."""
        _check_page_size(page_size)
        cursor: object | None = None
        buffered: list[Message] = []
        while True:
            page = await self._run(
                self._adapter.messages_page(session_id, page_size=page_size, cursor=cursor)
            )
            if self._adapter.newest_first:
                buffered.extend(page.messages)
            else:
                for message in page.messages:
                    yield message
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        for message in reversed(buffered):
            yield message

    async def get_memory(
        self, session_id: str, *, last_n: int | None = None, min_rating: float | None = None
    ) -> Memory:
        """Context, facts, summary and last messages (Zep; others raise UnsupportedOperation)."""
        _check_memory_args(last_n, min_rating)
        return await self._run(
            self._adapter.get_memory(session_id, last_n=last_n, min_rating=min_rating)
        )

    # -- writes ---------------------------------------------------------------------------

    async def create_session(
        self,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Session:
        """Create a session; arguments as in :meth:`SessionClient.create_session`."""
        return await self._run(
            self._create_session_op(session_id, user_id, agent_id, metadata, fields)
        )

    async def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Create a Zep user; returns the provider's answer."""
        return await self._run(self._adapter.add_user(user_id, fields))

    async def add_messages(
        self, session_id: str, messages: Iterable[MessageInput]
    ) -> list[dict[str, Any]]:
        """Write messages; see :meth:`SessionClient.add_messages`."""
        checked = coerce_messages(messages)
        return await self._run(self._adapter.add_messages(session_id, checked))

    async def send_message(self, session_id: str, content: str, **fields: Any) -> Message:
        """Send one user turn (ElizaOS: the stored message; Meibel: the agent's reply)."""
        return await self._run(self._adapter.send_message(session_id, content, fields))

    async def delete_session(self, session_id: str) -> None:
        """Delete the session (Zep, ElizaOS; Meibel has no such endpoint)."""
        await self._run(self._adapter.delete_session(session_id))


# -- argument checks ------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_retry_settings(
    timeout: float | None, max_retries: int, backoff: float, max_backoff: float
) -> None:
    if timeout is not None and (not _is_number(timeout) or timeout <= 0):
        raise ConfigError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    if not _is_int(max_retries) or max_retries < 0:
        raise ConfigError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if not _is_number(backoff) or backoff < 0:
        raise ConfigError(f"backoff must be a number of seconds >= 0, got {backoff!r}")
    if not _is_number(max_backoff) or max_backoff < backoff:
        raise ConfigError(
            f"max_backoff must be a number >= backoff ({backoff}), got {max_backoff!r}"
        )


def _check_page_size(page_size: int) -> None:
    if not _is_int(page_size) or page_size < 1:
        raise ConfigError(f"page_size must be an integer >= 1, got {page_size!r}")


def _check_memory_args(last_n: int | None, min_rating: float | None) -> None:
    if last_n is not None and (not _is_int(last_n) or last_n < 1):
        raise ConfigError(f"last_n must be an integer >= 1 or None, got {last_n!r}")
    if min_rating is not None and (not _is_number(min_rating) or not 0 <= min_rating <= 1):
        raise ConfigError(f"min_rating must be a number from 0 to 1 or None, got {min_rating!r}")

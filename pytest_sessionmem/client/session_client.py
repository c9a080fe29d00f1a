"""``SessionClient`` and ``AsyncSessionClient``: one API over every provider.

Everything the two clients do is written once, in :class:`_ClientBase`: each public
method asks it for the provider operation (arguments checked first), wraps it with
retries and error mapping (:func:`~.steps.with_retries`), and hands the resulting
program to its driver (:mod:`.drivers`). So each method is one line in each client.
Record/replay plugs in through ``transport=``: any ``httpx.BaseTransport`` (async:
``AsyncBaseTransport``) is used as is.

::

    with SessionClient("zep") as client:            # key from ZEP_API_KEY
        transcript = client.get_messages("session-1")
        assert transcript.contents[:2] == ["Hi", "Hello! How can I help?"]
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import httpx

from pytest_sessionmem.client.arguments import (
    check_memory_args,
    check_page_size,
    check_retry_settings,
)
from pytest_sessionmem.client.drivers import drive_async, drive_sync
from pytest_sessionmem.client.error_mapping import ErrorMapper
from pytest_sessionmem.client.retry import RetryPolicy
from pytest_sessionmem.client.steps import Program, with_retries
from pytest_sessionmem.models import Memory, Message, Session, Transcript
from pytest_sessionmem.providers import make_provider, provider_spec
from pytest_sessionmem.providers.base import (
    MessageInput,
    MessagePage,
    NewSession,
    Provider,
    coerce_messages,
)
from pytest_sessionmem.providers.operation import Operation
from pytest_sessionmem.support.gc_freeze import old_objects_frozen
from pytest_sessionmem.support.redaction import Redactor

__all__ = ["DEFAULT_PAGE_SIZE", "AsyncSessionClient", "SessionClient"]

T = TypeVar("T")
_Self = TypeVar("_Self", bound="_ClientBase[Any, Any]")
TransportT = TypeVar("TransportT")
SleepT = TypeVar("SleepT")

DEFAULT_PAGE_SIZE = 100


def _user_agent() -> str:
    from pytest_sessionmem.version import __version__

    return f"pytest-sessionmem/{__version__}"


class _Pager:
    """Walks a session's pages for ``iter_messages``: which page next, what to yield now.

    Pages that come oldest first are yielded as they arrive. ElizaOS pages come newest
    first, so they are kept until the last one and then yielded reversed.
    """

    def __init__(self, adapter: Provider, session_id: str, page_size: int) -> None:
        check_page_size(page_size)
        self._adapter = adapter
        self._session_id = session_id
        self._page_size = page_size
        self._cursor: object | None = None
        self._newest_first: list[Message] = []
        self.done = False

    def next_page(self) -> Operation[MessagePage]:
        return self._adapter.messages_page(
            self._session_id, page_size=self._page_size, cursor=self._cursor
        )

    def take(self, page: MessagePage) -> Iterable[Message]:
        self._cursor = page.next_cursor
        self.done = page.next_cursor is None
        if not self._adapter.newest_first:
            return page.messages
        self._newest_first.extend(page.messages)
        return reversed(self._newest_first) if self.done else ()

    def all_pages(self) -> Operation[list[Message]]:
        """Every page as one operation (``get_messages``), composed with ``yield from``."""
        messages: list[Message] = []
        while not self.done:
            messages.extend(self.take((yield from self.next_page())))
        return messages


class _ClientBase(Generic[TransportT, SleepT]):
    """Everything the sync and async clients share: configuration and every call."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: TransportT | None = None,
        timeout: float | None = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: SleepT | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        check_retry_settings(timeout, max_retries, backoff, max_backoff)
        spec = provider_spec(provider)
        self._adapter: Provider = make_provider(provider, base_url)
        key = api_key if api_key is not None else os.environ.get(spec.api_key_env)
        self._headers = {"User-Agent": _user_agent(), **dict(headers or {})}
        self._headers.update(spec.auth_headers(key or None))
        self._timeout = timeout
        self._policy = RetryPolicy(
            max_retries=max_retries, backoff=backoff, max_backoff=max_backoff
        )
        self._redactor = Redactor({spec.api_key_env: key})
        self._errors = ErrorMapper(
            provider=self._adapter.name,
            base_url=self._adapter.base_url,
            redactor=self._redactor,
            describe_error=self._adapter.describe_error,
            max_backoff=max_backoff,
        )
        self._open(transport, timeout, sleep)

    def _open(
        self, transport: TransportT | None, timeout: float | None, sleep: SleepT | None
    ) -> None:
        """Build the httpx client and pick the sleep function (sync or async)."""
        raise NotImplementedError

    @property
    def provider(self) -> str:
        """The provider key, e.g. ``"zep"``, ``"meibel"`` or ``"eliza"``."""
        return self._adapter.name

    @property
    def base_url(self) -> str:
        """The API root every path is joined to."""
        return self._adapter.base_url

    def __repr__(self) -> str:
        # Never shows the key: only provider and (redacted) URL.
        url = self._redactor.url(self.base_url)
        return f"{type(self).__name__}(provider={self.provider!r}, base_url={url!r})"

    # -- every call, as a program for a driver ----------------------------------------------

    def _program(self, operation: Operation[T]) -> Program[T]:
        return with_retries(
            operation, headers=self._headers, policy=self._policy, errors=self._errors
        )

    def _pager(self, session_id: str, page_size: int) -> _Pager:
        return _Pager(self._adapter, session_id, page_size)

    def _get_session(self, session_id: str) -> Program[Session]:
        return self._program(self._adapter.get_session(session_id))

    def _get_messages(self, session_id: str, page_size: int) -> Program[list[Message]]:
        return self._program(self._pager(session_id, page_size).all_pages())

    def _get_memory(
        self, session_id: str, last_n: int | None, min_rating: float | None
    ) -> Program[Memory]:
        check_memory_args(last_n, min_rating)
        operation = self._adapter.get_memory(session_id, last_n=last_n, min_rating=min_rating)
        return self._program(operation)

    def _create_session(
        self,
        session_id: str | None,
        user_id: str | None,
        agent_id: str | None,
        metadata: Mapping[str, Any] | None,
        fields: Mapping[str, Any],
    ) -> Program[Session]:
        new = NewSession(session_id, user_id, agent_id, metadata, fields)
        return self._program(self._adapter.create_session(new))

    def _add_user(self, user_id: str, fields: Mapping[str, Any]) -> Program[dict[str, Any]]:
        return self._program(self._adapter.add_user(user_id, fields))

    def _add_messages(
        self, session_id: str, messages: Iterable[MessageInput]
    ) -> Program[list[dict[str, Any]]]:
        checked = coerce_messages(messages)  # all checked before anything is sent
        return self._program(self._adapter.add_messages(session_id, checked))

    def _send_message(
        self, session_id: str, content: str, fields: Mapping[str, Any]
    ) -> Program[Message]:
        return self._program(self._adapter.send_message(session_id, content, fields))

    def _delete_session(self, session_id: str) -> Program[None]:
        return self._program(self._adapter.delete_session(session_id))

    def _transcript(self, messages: Iterable[Message], session_id: str) -> Transcript:
        return Transcript(messages=tuple(messages), session_id=session_id, provider=self.provider)


class SessionClient(_ClientBase[httpx.BaseTransport, Callable[[float], None]]):
    """Reads (and seeds) conversation sessions of one provider over HTTP.

    ``provider`` is a key of the provider registry (``"zep"``, ``"meibel"``,
    ``"eliza"``, ...). The API key comes from ``api_key`` or the provider's environment
    variable (``ZEP_API_KEY``, ``MEIBEL_API_KEY``, ``ELIZA_SERVER_AUTH_TOKEN``; ElizaOS
    sends no key when unset). ``transport`` is handed to ``httpx.Client`` (a cassette
    transport, a MockTransport). Retries: up to ``max_retries`` after the first attempt,
    waiting ``backoff * 2**n`` capped at ``max_backoff`` seconds, or the server's
    ``Retry-After``; ``sleep`` does the waiting (inject a no-op to replay instantly).
    """

    def _open(
        self,
        transport: httpx.BaseTransport | None,
        timeout: float | None,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(transport=transport, timeout=timeout)

    def _run(self, program: Program[T]) -> T:
        __tracebackhide__ = True
        with old_objects_frozen():
            return drive_sync(program, self._http, self._sleep)

    def close(self) -> None:
        """Close the underlying HTTP client (and its transport)."""
        self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_session(self, session_id: str) -> Session:
        """The session as the provider describes it."""
        return self._run(self._get_session(session_id))

    def get_messages(self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE) -> Transcript:
        """Every message of the session, all pages, oldest first."""
        return self._transcript(self._run(self._get_messages(session_id, page_size)), session_id)

    def iter_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[Message]:
        """Yield the session's messages oldest first, page by page.

        ElizaOS pages newest first, so there every page is read before the first message
        is yielded.
        """
        pager = self._pager(session_id, page_size)
        while not pager.done:
            yield from pager.take(self._run(self._program(pager.next_page())))

    def get_memory(
        self, session_id: str, *, last_n: int | None = None, min_rating: float | None = None
    ) -> Memory:
        """Context, facts, summary and last messages (Zep; others raise UnsupportedOperation)."""
        return self._run(self._get_memory(session_id, last_n, min_rating))

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
        return self._run(self._create_session(session_id, user_id, agent_id, metadata, fields))

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Create a Zep user (``email=``, ``first_name=``, ...); returns the provider's answer."""
        return self._run(self._add_user(user_id, fields))

    def add_messages(
        self, session_id: str, messages: Iterable[MessageInput]
    ) -> list[dict[str, Any]]:
        """Write messages; returns the provider's answer to each write call, in order.

        ``messages`` holds :class:`Message` objects, dicts of Message fields or
        ``(role, content)`` tuples; all are checked before anything is sent. Zep writes
        batches of 30; ElizaOS posts each (user) message; Meibel sends each (user)
        message as a chat turn, so the agent answers it.
        """
        return self._run(self._add_messages(session_id, messages))

    def send_message(self, session_id: str, content: str, **fields: Any) -> Message:
        """Send one user turn (ElizaOS: the stored message; Meibel: the agent's reply)."""
        return self._run(self._send_message(session_id, content, fields))

    def delete_session(self, session_id: str) -> None:
        """Delete the session (Zep, ElizaOS; Meibel has no such endpoint)."""
        self._run(self._delete_session(session_id))


class AsyncSessionClient(_ClientBase[httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]):
    """The async twin of :class:`SessionClient`: the same arguments and methods, awaited.

    ``transport`` is an ``httpx.AsyncBaseTransport``; ``sleep`` an async callable
    (default ``anyio.sleep``, so it runs under asyncio and trio).
    """

    def _open(
        self,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float | None,
        sleep: Callable[[float], Awaitable[None]] | None,
    ) -> None:
        if sleep is None:
            import anyio  # httpx depends on anyio, so this adds nothing

            sleep = anyio.sleep
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def _run(self, program: Program[T]) -> T:
        __tracebackhide__ = True
        with old_objects_frozen():
            return await drive_async(program, self._http, self._sleep)

    async def aclose(self) -> None:
        """Close the underlying HTTP client (and its transport)."""
        await self._http.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get_session(self, session_id: str) -> Session:
        """See :meth:`SessionClient.get_session`."""
        return await self._run(self._get_session(session_id))

    async def get_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Transcript:
        """See :meth:`SessionClient.get_messages`."""
        messages = await self._run(self._get_messages(session_id, page_size))
        return self._transcript(messages, session_id)

    async def iter_messages(
        self, session_id: str, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[Message]:
        """See :meth:`SessionClient.iter_messages`."""
        pager = self._pager(session_id, page_size)
        while not pager.done:
            for message in pager.take(await self._run(self._program(pager.next_page()))):
                yield message

    async def get_memory(
        self, session_id: str, *, last_n: int | None = None, min_rating: float | None = None
    ) -> Memory:
        """See :meth:`SessionClient.get_memory`."""
        return await self._run(self._get_memory(session_id, last_n, min_rating))

    async def create_session(
        self,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Session:
        """See :meth:`SessionClient.create_session`."""
        return await self._run(
            self._create_session(session_id, user_id, agent_id, metadata, fields)
        )

    async def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """See :meth:`SessionClient.add_user`."""
        return await self._run(self._add_user(user_id, fields))

    async def add_messages(
        self, session_id: str, messages: Iterable[MessageInput]
    ) -> list[dict[str, Any]]:
        """See :meth:`SessionClient.add_messages`."""
        return await self._run(self._add_messages(session_id, messages))

    async def send_message(self, session_id: str, content: str, **fields: Any) -> Message:
        """See :meth:`SessionClient.send_message`."""
        return await self._run(self._send_message(session_id, content, fields))

    async def delete_session(self, session_id: str) -> None:
        """See :meth:`SessionClient.delete_session`."""
        await self._run(self._delete_session(session_id))

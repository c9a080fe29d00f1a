"""Every HTTP request a test makes, routed through its cassette: the one module that patches
HTTP libraries (:mod:`~pytest_sessionmem.cassette.network_guard` patches sockets).

While :func:`intercept` is active it replaces, process-wide:

==========  ====================================================================================
httpx       ``HTTPTransport.handle_request`` and ``AsyncHTTPTransport.handle_async_request``
httpx2      the same two methods of its own classes (openai and anthropic send through them)
urllib3     ``HTTPConnectionPool.urlopen`` (``HTTPSConnectionPool`` inherits it); ``requests``
            sends through it
==========  ====================================================================================

Those are the methods every client instance ends in, an SDK's own pool included, so no
client has to be handed anything. httpx2 and urllib3 are optional: each is patched when it
is imported, before the block or inside it, and never imported by us.

For each request a :class:`Routing` decides: through the cassette (recorded, or answered
from it), or live (sent as if nothing were patched, never recorded). The emulator's
control API and the allowed hosts are always live. With ``capture="provider"`` only
requests under the provider's base URL go through the cassette.

While recording, the cassette's network side is the method that was in place before,
called on the client's own transport (or pool), so its connection pool, proxies and
timeouts still apply and the patched method never calls itself. Requests and responses of
httpx2 and urllib3 are carried over as httpx objects, so one recorder serves them all.

Blocks nest (``recorded_session.intercept_httpx()`` inside a capturing test lays one more
layer over whatever is there, a mock library's patch say); each restores on exit what it
found. One test at a time: another session's interception raises :class:`ConfigError`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from pytest_sessionmem.cassette import direct, interop
from pytest_sessionmem.cassette.capture import origin_of
from pytest_sessionmem.cassette.direct import (
    AsyncHandler,
    DirectAsyncHTTPTransport,
    DirectHTTPTransport,
    SyncHandler,
)
from pytest_sessionmem.cassette.network_guard import is_loopback, normalise_host
from pytest_sessionmem.errors import ConfigError

if TYPE_CHECKING:
    from pytest_sessionmem.cassette.recorder import CassetteSession

__all__ = [
    "DirectAsyncHTTPTransport",
    "DirectHTTPTransport",
    "Routing",
    "intercept",
    "intercept_httpx",
]

# Extensions that describe the exchange rather than a live connection object.
_KEPT_EXTENSIONS = ("http_version", "reason_phrase")


# -- which requests go through the cassette -------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """Which requests go through the cassette and which go live."""

    base_url: str
    """The provider's base URL: its requests are matched relative to it."""
    capture_all: bool = True
    """False (``capture="provider"``): only requests under ``base_url`` are captured."""
    allowed_hosts: frozenset[str] = frozenset()
    """Host names that always go live, never recorded (``allowed_hosts``, normalised)."""

    def captures(self, url: httpx.URL) -> bool:
        """True when a request to ``url`` goes through the cassette."""
        host = normalise_host(url.host)
        if host in self.allowed_hosts:
            return False
        if _is_control_api(host, url.path):
            return False
        return self.capture_all or _under(httpx.URL(self.base_url), url)


#: The emulator's control API (``sessionmem serve`` or the embedded one) on loopback: it
#: seeds and resets, so it is never part of a recording.
_CONTROL_PATH = "/_emulator"


def _is_control_api(host: str, path: str) -> bool:
    if not (path == _CONTROL_PATH or path.startswith(_CONTROL_PATH + "/")):
        return False
    return is_loopback(host)


def _under(base: httpx.URL, url: httpx.URL) -> bool:
    if origin_of(url) != origin_of(base):
        return False
    prefix = base.path.rstrip("/")
    return not prefix or url.path == prefix or url.path.startswith(prefix + "/")


def _captured_already(method: Any) -> bool:
    """True when ``method`` is a capture of ours with nothing laid over it since: a second
    layer would only record every request twice."""
    return bool(getattr(method, "__sessionmem_capture__", False))


def _wrong_sync() -> httpx.AsyncBaseTransport:
    raise ConfigError("A synchronous HTTP transport cannot make an asynchronous request.")


def _wrong_async() -> httpx.BaseTransport:
    raise ConfigError("An asynchronous HTTP transport cannot make a synchronous request.")


# -- httpx -----------------------------------------------------------------------------------------


# While recording, a request sent on the client's own pool asks the server to close the
# connection after its answer: the test never ends with a pooled socket left open (a
# ResourceWarning under ``filterwarnings = error``) by a client it never closes. Recorded
# request headers are allow-listed, so the cassette does not change.
_CLOSE = "Connection"


class _PreviousSync(httpx.BaseTransport):
    """The pre-interception method, bound to the client's own transport instance."""

    def __init__(self, instance: httpx.HTTPTransport, handler: SyncHandler) -> None:
        self._instance = instance
        self._handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[_CLOSE] = "close"
        return self._handler(self._instance, request)


class _PreviousAsync(httpx.AsyncBaseTransport):
    def __init__(self, instance: httpx.AsyncHTTPTransport, handler: AsyncHandler) -> None:
        self._instance = instance
        self._handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[_CLOSE] = "close"
        return await self._handler(self._instance, request)


class _Layer:
    """One interception: what it replaced, and how it routes."""

    def __init__(self, session: CassetteSession, routing: Routing) -> None:
        self.session = session
        self.routing = routing
        self.restore: list[Callable[[], None]] = []
        self.replaced: tuple[SyncHandler, AsyncHandler] | None = None

    def patch(self, owner: Any, name: str, replacement: Any) -> None:
        """Set ``owner.name`` and remember how to undo it."""
        previous = owner.__dict__.get(name)
        replacement.__sessionmem_capture__ = True

        def undo() -> None:
            if previous is None:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)

        setattr(owner, name, replacement)
        self.restore.append(undo)

    # httpx ------------------------------------------------------------------------------------

    def patch_httpx(self) -> None:
        if _captured_already(httpx.HTTPTransport.handle_request):
            return
        session, routing = self.session, self.routing
        previous_sync: SyncHandler = httpx.HTTPTransport.handle_request
        previous_async: AsyncHandler = httpx.AsyncHTTPTransport.handle_async_request

        def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            if not routing.captures(request.url):
                return previous_sync(self, request)
            transport = session.make_transport(
                real=lambda: _PreviousSync(self, previous_sync), real_async=_wrong_sync
            )
            return transport.handle_request(request)

        async def handle_async_request(
            self: httpx.AsyncHTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            if not routing.captures(request.url):
                return await previous_async(self, request)
            transport = session.make_transport(
                real=_wrong_async, real_async=lambda: _PreviousAsync(self, previous_async)
            )
            return await transport.handle_async_request(request)

        self.patch(httpx.HTTPTransport, "handle_request", handle_request)
        self.patch(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
        self.replaced = (previous_sync, previous_async)

    # httpx2 -----------------------------------------------------------------------------------

    def patch_httpx2(self, module: ModuleType) -> None:
        if _captured_already(module.HTTPTransport.handle_request):
            return
        session, routing = self.session, self.routing
        sync_class, async_class = module.HTTPTransport, module.AsyncHTTPTransport
        previous_sync = sync_class.handle_request
        previous_async = async_class.handle_async_request

        def handle_request(self: Any, request: Any) -> Any:
            url = httpx.URL(str(request.url))
            if not routing.captures(url):
                return previous_sync(self, request)
            request.read()

            def real() -> httpx.BaseTransport:
                request.headers[_CLOSE] = "close"
                return _FromHttpx2Sync(lambda: previous_sync(self, request))

            transport = session.make_transport(real=real, real_async=_wrong_sync)
            response = transport.handle_request(_httpx_request(request, url))
            return _httpx2_response(module, response, request)

        async def handle_async_request(self: Any, request: Any) -> Any:
            url = httpx.URL(str(request.url))
            if not routing.captures(url):
                return await previous_async(self, request)
            await request.aread()

            def real_async() -> httpx.AsyncBaseTransport:
                request.headers[_CLOSE] = "close"
                return _FromHttpx2Async(lambda: previous_async(self, request))

            transport = session.make_transport(real=_wrong_async, real_async=real_async)
            response = await transport.handle_async_request(_httpx_request(request, url))
            return _httpx2_response(module, response, request)

        self.patch(sync_class, "handle_request", handle_request)
        self.patch(async_class, "handle_async_request", handle_async_request)

    # urllib3 ----------------------------------------------------------------------------------

    def patch_urllib3(self, module: ModuleType) -> None:
        if _captured_already(module.connectionpool.HTTPConnectionPool.urlopen):
            return
        session, routing = self.session, self.routing
        pool_class = module.connectionpool.HTTPConnectionPool
        previous = pool_class.urlopen

        def urlopen(
            self: Any,
            method: str,
            url: str,
            body: Any = None,
            headers: Any = None,
            **options: Any,
        ) -> Any:
            full = httpx.URL(_pool_url(self, url))
            if not routing.captures(full):
                return previous(self, method, url, body, headers, **options)
            content = _body_bytes(body)
            request = httpx.Request(method, full, headers=dict(headers or {}), content=content)

            # The pool answers one hop: redirects are the caller's (requests and PoolManager
            # follow them themselves), so each hop is one interaction.
            sent = {**options, "redirect": False, "preload_content": False, "decode_content": False}
            closing = {**dict(headers or {}), _CLOSE: "close"}
            network = _FromUrllib3(lambda: previous(self, method, url, content, closing, **sent))
            transport = session.make_transport(real=lambda: network, real_async=_wrong_sync)
            response = transport.handle_request(request)
            return _urllib3_response(
                module, response, method, str(full), options, network.original_response
            )

        self.patch(pool_class, "urlopen", urlopen)


# -- carrying httpx2 and urllib3 traffic over as httpx objects --------------------------------------


def _httpx_request(request: Any, url: httpx.URL) -> httpx.Request:
    """An httpx2 request (body already read) as an httpx one."""
    return httpx.Request(
        request.method, url, headers=list(request.headers.raw), content=request.content
    )


def _raw_body(response: httpx.Response) -> bytes:
    """The bytes as they came over the wire (still content-encoded) of a cassette response."""
    stream = response.stream
    if isinstance(stream, httpx.ByteStream):
        return b"".join(stream)
    return response.content


def _httpx2_response(module: ModuleType, response: httpx.Response, request: Any) -> Any:
    return module.Response(
        response.status_code,
        headers=list(response.headers.raw),
        stream=module.ByteStream(_raw_body(response)),
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k in _KEPT_EXTENSIONS},
    )


def _from_foreign(
    status: int, headers: Iterable[tuple[Any, Any]], raw: bytes, extensions: Any
) -> httpx.Response:
    """Another library's live response, read in full, as the httpx response the recorder keeps."""
    return httpx.Response(
        status,
        headers=list(headers),
        stream=httpx.ByteStream(raw),
        extensions={k: v for k, v in extensions.items() if k in _KEPT_EXTENSIONS},
    )


class _FromHttpx2Sync(httpx.BaseTransport):
    """The recording's network side for an httpx2 request: sends it as httpx2 would."""

    def __init__(self, send: Callable[[], Any]) -> None:
        self._send = send

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._send()
        try:
            raw = b"".join(response.stream)
        finally:
            response.close()
        return _from_foreign(response.status_code, response.headers.raw, raw, response.extensions)


class _FromHttpx2Async(httpx.AsyncBaseTransport):
    def __init__(self, send: Callable[[], Any]) -> None:
        self._send = send

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send()
        try:
            raw = b"".join([chunk async for chunk in response.stream])
        finally:
            await response.aclose()
        return _from_foreign(response.status_code, response.headers.raw, raw, response.extensions)


class _FromUrllib3(httpx.BaseTransport):
    """The recording's network side for a urllib3 request: the pool sends it."""

    def __init__(self, send: Callable[[], Any]) -> None:
        self._send = send
        self.original_response: Any = None
        """The ``http.client`` response of the live answer, once there is one: requests reads
        its ``Set-Cookie`` headers from it, into the session's cookie jar."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._send()
        self.original_response = getattr(response, "_original_response", None)
        try:
            raw = response.read(decode_content=False)
        finally:
            response.release_conn()
        reason = (response.reason or "").encode("latin-1", "replace")
        return _from_foreign(
            response.status,
            response.headers.items(),
            raw,
            {"reason_phrase": reason} if reason else {},
        )


def _pool_url(pool: Any, url: str) -> str:
    if url.startswith(("http://", "https://")):  # a proxied request names the whole URL
        return url
    host = pool.host
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    port = f":{pool.port}" if pool.port else ""
    return f"{pool.scheme}://{host}{port}{url if url.startswith('/') else '/' + url}"


def _body_bytes(body: Any) -> bytes:
    """A urllib3 body (bytes, text, a file or an iterable of chunks) as bytes."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(
        chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body
    )


def _urllib3_response(
    module: ModuleType,
    response: httpx.Response,
    method: str,
    url: str,
    options: dict[str, Any],
    original_response: Any = None,
) -> Any:
    reason = response.extensions.get("reason_phrase", b"")
    headers = module.HTTPHeaderDict()
    for name, value in response.headers.multi_items():
        headers.add(name, value)
    return module.HTTPResponse(
        body=io.BytesIO(_raw_body(response)),
        headers=headers,
        status=response.status_code,
        reason=reason.decode("latin-1") if isinstance(reason, bytes) else str(reason),
        preload_content=options.get("preload_content", True),
        decode_content=options.get("decode_content", True),
        request_method=method,
        request_url=url,
        retries=options.get("retries"),
        original_response=original_response,
    )


# -- patching optional libraries when they are imported -------------------------------------------


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches ``httpx2`` / ``urllib3`` right after their first import inside the block."""

    def __init__(self, hooks: dict[str, Callable[[ModuleType], None]]) -> None:
        self._hooks = hooks

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        hook = self._hooks.get(fullname)
        if hook is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            hook(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


# -- the block ------------------------------------------------------------------------------------

_lock = threading.Lock()
_layers: list[_Layer] = []


@contextmanager
def intercept(session: CassetteSession, routing: Routing) -> Iterator[None]:
    """Route the requests ``routing`` captures through ``session`` for the block's duration."""
    layer = _Layer(session, routing)
    with _lock:
        if any(other.session is not session for other in _layers):
            raise ConfigError(
                "Another test's cassette is already capturing HTTP traffic in this process; "
                "the capture patches HTTP libraries process-wide, so only one test at a time "
                "can use it. Run such tests one after the other (pytest-xdist runs each "
                "worker in its own process)."
            )
        layer.patch_httpx()
        optional = {"httpx2": layer.patch_httpx2, "urllib3": layer.patch_urllib3}
        for name, hook in optional.items():
            if name in sys.modules:
                hook(sys.modules[name])
        finder = _PatchOnImport(
            {name: hook for name, hook in optional.items() if name not in sys.modules}
        )
        sys.meta_path.insert(0, finder)
        _layers.append(layer)
        # What this interception sends through (an active mock, say) stays visible to the
        # check that keeps mocked answers out of cassettes.
        if layer.replaced is not None:
            interop.note_wrapped(*layer.replaced)
            direct.bypass(layer.replaced)
    try:
        yield
    finally:
        with _lock:
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            for undo in reversed(layer.restore):
                undo()
            _layers.remove(layer)
            if layer.replaced is not None:  # the layer below (if any) is in charge again
                below = next((x.replaced for x in reversed(_layers) if x.replaced), None)
                interop.note_wrapped(*(below or ()))
                direct.bypass(below)


@contextmanager
def intercept_httpx(session: CassetteSession, *, base_url: str) -> Iterator[None]:
    """``capture="provider"``: route the requests under ``base_url`` through ``session``."""
    with intercept(session, Routing(base_url=base_url, capture_all=False)):
        yield

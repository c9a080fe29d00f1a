"""SessionClient / AsyncSessionClient: error mapping, retries, secrets, configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pytest_sessionmem import (
    AuthenticationError,
    CassetteNotFound,
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SessionExpired,
    SessionNotFound,
    UnsupportedOperation,
)
from pytest_sessionmem.client import AsyncSessionClient, SessionClient

Handler = Callable[[httpx.Request], httpx.Response]
SECRET = "sk-live-0123456789abcdef"


def always(status: int, body: Any = None, **headers: str) -> Handler:
    return lambda request: httpx.Response(status, json=body or {"message": "nope"}, headers=headers)


def then_ok(*statuses: int, **headers: str) -> Handler:
    """Answers the given error statuses in turn, then 200 with a session."""
    remaining = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        if remaining:
            return httpx.Response(remaining.pop(0), json={"message": "busy"}, headers=headers)
        return httpx.Response(200, json={"session_id": "s1"})

    return handler


# -- error mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, ProviderError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, SessionNotFound),
        (410, SessionExpired),
        (422, ProviderError),
        (429, RateLimited),
        (500, ProviderError),
        (503, ProviderError),
    ],
)
def test_each_status_maps_to_its_error(
    driver, status: int, error_type: type[ProviderError]
) -> None:
    server = always(status, {"message": f"said {status}"})

    with pytest.raises(error_type) as info:
        driver.call("zep", server, "get_session", "s1", client={"max_retries": 1})

    error = info.value
    assert type(error) is error_type
    assert (error.status, error.provider, error.method) == (status, "zep", "GET")
    assert error.url == "https://api.getzep.com/api/v2/sessions/s1"
    assert f"zep answered {status}" in str(error)
    assert f"said {status}" in str(error)
    assert f"(GET {error.url})" in str(error)
    assert error.body == f'{{"message":"said {status}"}}'


@pytest.mark.parametrize(
    ("provider", "variable", "service"),
    [
        ("zep", "ZEP_API_KEY", "https://api.getzep.com/api/v2"),
        ("zep-v4", "ZEP_API_KEY", "https://api.getzep.com/api/v4"),
        ("meibel", "MEIBEL_API_KEY", "https://api.meibel.ai/v2"),
        ("eliza", "ELIZA_SERVER_AUTH_TOKEN", "http://localhost:3000"),
    ],
)
def test_a_refused_key_names_its_variable_and_the_service(
    driver, provider: str, variable: str, service: str
) -> None:
    with pytest.raises(AuthenticationError) as info:
        driver.call(provider, always(401, {"message": "unauthorized"}), "get_messages", "s1")

    assert (
        f"the key sent to {service} (from {variable}, or the client's api_key=) was refused: "
        f"check that {variable} holds a valid key for that service"
    ) in str(info.value)


def test_a_missing_key_names_the_variable_to_set(driver, monkeypatch) -> None:
    monkeypatch.delenv("ZEP_API_KEY", raising=False)
    server = always(403, {"message": "forbidden"})

    with pytest.raises(AuthenticationError) as info:
        driver.call("zep", server, "get_session", "s1", client={"api_key": None})

    assert "authorization" not in driver.last.headers  # nothing was sent
    assert str(info.value) == (
        "zep answered 403 Forbidden: forbidden; no key was sent to "
        "https://api.getzep.com/api/v2: set ZEP_API_KEY to your key (or pass api_key= to the "
        "client) (GET https://api.getzep.com/api/v2/sessions/s1)"
    )


# -- retries -------------------------------------------------------------------------------


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(driver) -> None:
    server = then_ok(503, 500)

    session = driver.call("zep", server, "get_session", "s1")

    assert session.id == "s1"
    assert len(driver.requests) == 3
    assert driver.sleeps == [0.5, 1.0]


def test_retries_stop_after_max_retries_and_backoff_is_capped(driver) -> None:
    server = always(500)

    with pytest.raises(ProviderError) as info:
        driver.call(
            "zep", server, "get_session", "s1", client={"max_retries": 5, "max_backoff": 2.0}
        )

    assert info.value.status == 500
    assert len(driver.requests) == 6
    assert driver.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_max_retries_zero_means_one_attempt(driver) -> None:
    server = always(503)

    with pytest.raises(ProviderError):
        driver.call("zep", server, "get_session", "s1", client={"max_retries": 0})
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_retry_after_seconds_replaces_the_backoff(driver) -> None:
    server = then_ok(429, 429, **{"Retry-After": "3"})

    driver.call("zep", server, "get_session", "s1")

    assert len(driver.requests) == 3
    assert driver.sleeps == [3.0, 3.0]


def test_retry_after_http_date(driver) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=5)
    server = then_ok(503, **{"Retry-After": format_datetime(when, usegmt=True)})

    driver.call("zep", server, "get_session", "s1")

    assert len(driver.sleeps) == 1
    assert 0 < driver.sleeps[0] <= 5


def test_retry_after_longer_than_max_backoff_fails_fast(driver) -> None:
    server = always(429, **{"Retry-After": "60"})

    with pytest.raises(RateLimited) as info:
        driver.call("zep", server, "get_session", "s1")

    assert info.value.retry_after == 60.0
    assert "asks to wait 60s, more than max_backoff=8s" in str(info.value)
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_rate_limited_after_retries_carries_retry_after(driver) -> None:
    server = always(429, **{"Retry-After": "1"})

    with pytest.raises(RateLimited, match="retries exhausted") as info:
        driver.call("zep", server, "get_session", "s1", client={"max_retries": 2})

    assert info.value.retry_after == 1.0
    assert len(driver.requests) == 3
    assert driver.sleeps == [1.0, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_are_never_retried(driver, status: int) -> None:
    server = always(status)

    with pytest.raises(ProviderError):
        driver.call("zep", server, "get_session", "s1")
    assert len(driver.requests) == 1
    assert driver.sleeps == []


def test_post_is_not_retried_on_5xx(driver) -> None:
    server = always(500)

    with pytest.raises(ProviderError) as info:
        driver.call("zep", server, "add_messages", "s1", [("user", "hi")])
    assert info.value.method == "POST"
    assert len(driver.requests) == 1


def test_post_is_retried_on_429(driver) -> None:
    server = then_ok(429)

    driver.call("zep", server, "add_messages", "s1", [("user", "hi")])

    assert len(driver.requests) == 2
    assert driver.bodies()[0] == driver.bodies()[1]


def test_delete_is_retried_on_5xx(driver) -> None:
    server = then_ok(502)

    driver.call("zep", server, "delete_session", "s1")

    assert [r.method for r in driver.requests] == ["DELETE", "DELETE"]


def failing(exc_type: type[httpx.TransportError], times: int) -> Handler:
    remaining = [times]

    def handler(request: httpx.Request) -> httpx.Response:
        if remaining[0] > 0:
            remaining[0] -= 1
            raise exc_type("connection refused", request=request)
        return httpx.Response(201, json={"message": "OK"})

    return handler


def test_connect_errors_are_retried_then_reported(driver) -> None:
    server = failing(httpx.ConnectError, times=10)

    with pytest.raises(ProviderUnavailable) as info:
        driver.call(
            "eliza", server, "get_messages", "s1", client={"base_url": "http://127.0.0.1:9"}
        )

    assert len(driver.requests) == 4
    message = str(info.value)
    assert message == (
        "could not reach eliza at http://127.0.0.1:9 (connection refused): start the server "
        "there, or point base_url at one that runs "
        "(GET http://127.0.0.1:9/api/messaging/sessions/s1/messages?limit=100)"
    )
    # The library's error is kept as an attribute, not chained: pytest prints one error.
    assert isinstance(info.value.original, httpx.ConnectError)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_a_transport_error_text_ending_in_a_full_stop_reads_as_one_sentence(driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    with pytest.raises(ProviderUnavailable) as info:
        driver.call("zep", handler, "get_session", "s1")

    assert "(Server disconnected without sending a response): start the server" in str(info.value)


def test_post_is_retried_when_the_connection_was_never_made(driver) -> None:
    server = failing(httpx.ConnectError, times=1)

    driver.call("zep", server, "add_messages", "s1", [("user", "hi")])

    assert len(driver.requests) == 2


def test_post_is_not_retried_after_a_read_timeout(driver) -> None:
    server = failing(httpx.ReadTimeout, times=1)

    with pytest.raises(ProviderUnavailable):
        driver.call("zep", server, "add_messages", "s1", [("user", "hi")])
    assert len(driver.requests) == 1


def test_get_is_retried_after_a_read_timeout(driver) -> None:
    server = failing(httpx.ReadTimeout, times=2)

    driver.call("zep", server, "delete_session", "s1")

    assert len(driver.requests) == 3


def test_sessionmem_errors_from_the_transport_propagate_unchanged(driver) -> None:
    missing = CassetteNotFound("no cassette at x.json", path="x.json")

    def handler(request: httpx.Request) -> httpx.Response:
        raise missing

    with pytest.raises(CassetteNotFound) as info:
        driver.call("zep", handler, "get_session", "s1")
    assert info.value is missing
    assert driver.sleeps == []


# -- secrets -------------------------------------------------------------------------------


def echo_key(status: int) -> Handler:
    """A careless server that echoes the key it was sent in the error body."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("authorization", "")
        return httpx.Response(status, json={"message": f"bad key {key}"})

    return handler


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 429, 500, 503])
def test_no_secret_in_any_error(driver, status: int) -> None:
    server = echo_key(status)

    with pytest.raises(ProviderError) as info:
        driver.call(
            "zep",
            server,
            "get_session",
            "s1",
            client={"api_key": SECRET, "max_retries": 0},
        )

    assert driver.last.headers["authorization"] == f"Api-Key {SECRET}"  # it was sent
    error = info.value
    seen = " ".join(str(v) for v in (error, error.url, error.body, error.detail, repr(error)))
    assert SECRET not in seen
    assert "<ZEP_API_KEY>" in seen


def test_no_secret_in_a_payload_error(driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["meibel-api-key"]
        return httpx.Response(200, json={"messages": [{"message": f"echo {key}"}]})

    with pytest.raises(ProviderError, match=r"messages\[0\]\.type: Field required") as info:
        driver.call("meibel", handler, "get_messages", "s1", client={"api_key": SECRET})
    assert SECRET not in f"{info.value} {info.value.body} {info.value.url}"
    assert "echo <MEIBEL_API_KEY>" in str(info.value.body)


def test_no_secret_when_unreachable(driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused for {SECRET}", request=request)

    with pytest.raises(ProviderUnavailable) as info:
        driver.call("meibel", handler, "get_session", "s1", client={"api_key": SECRET})
    assert SECRET not in str(info.value)


def test_repr_shows_no_key() -> None:
    sync_client = SessionClient("zep", api_key=SECRET)
    async_client = AsyncSessionClient("meibel", api_key=SECRET)
    try:
        assert repr(sync_client) == (
            "SessionClient(provider='zep', base_url='https://api.getzep.com/api/v2')"
        )
        assert repr(async_client) == (
            "AsyncSessionClient(provider='meibel', base_url='https://api.meibel.ai/v2')"
        )
    finally:
        sync_client.close()
        asyncio.run(async_client.aclose())


# -- configuration -------------------------------------------------------------------------


def test_unknown_provider_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown provider 'mem0'; choose one of 'zep', 'meibel', 'eliza'"
    ):
        SessionClient("mem0")
    with pytest.raises(ConfigError, match="unknown provider"):
        AsyncSessionClient("mem0")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"max_retries": -1}, "max_retries must be an integer >= 0"),
        ({"max_retries": 1.5}, "max_retries must be an integer >= 0"),
        ({"backoff": -0.1}, "backoff must be a number of seconds >= 0"),
        ({"backoff": 2.0, "max_backoff": 1.0}, r"max_backoff must be a number >= backoff \(2.0\)"),
        ({"timeout": 0}, "timeout must be a positive number"),
    ],
)
def test_bad_client_arguments(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SessionClient("zep", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"last_n": 0}, "last_n must be an integer >= 1"),
        ({"min_rating": 1.5}, "min_rating must be a number from 0 to 1"),
    ],
)
def test_bad_memory_arguments_send_nothing(driver, kwargs: dict[str, Any], problem: str) -> None:
    server = always(200, {})

    with pytest.raises(ConfigError, match=problem):
        driver.call("zep", server, "get_memory", "s1", **kwargs)
    assert driver.requests == []


def test_empty_session_id_is_a_config_error(driver) -> None:
    server = always(200, {})

    with pytest.raises(ConfigError, match="session_id must be a non-empty string, got ''"):
        driver.call("zep", server, "get_session", "")
    assert driver.requests == []


@pytest.mark.parametrize("provider", ["zep", "zep-v3", "zep-v4", "meibel", "eliza"])
@pytest.mark.parametrize("session_id", [".", ".."])
def test_a_dot_segment_id_is_refused_before_it_reaches_another_endpoint(
    driver, provider: str, session_id: str
) -> None:
    # "POST .../sessions/../memory" would be resolved to "POST .../memory": another endpoint.
    server = always(200, {})

    for method, args in [("get_session", ()), ("add_messages", ([("user", "hi")],))]:
        with pytest.raises(ConfigError, match=r"as a URL path segment it would name another"):
            driver.call(provider, server, method, session_id, *args)
    assert driver.requests == []


UNSENDABLE = [
    (
        {"metadata": {"k": float("nan")}},
        r"messages\[1\]\.metadata\.k is nan, which JSON cannot hold",
    ),
    ({"metadata": {"k": [1, float("inf")]}}, r"messages\[1\]\.metadata\.k\[1\] is inf"),
    (
        {"metadata": {"k": object()}},
        r"messages\[1\]\.metadata\.k is a value of type object, which JSON",
    ),
    (
        {"content": "a \ud800 b"},
        r"messages\[1\]\.content holds a lone surrogate '\\ud800' at index 2",
    ),
]


@pytest.mark.parametrize("provider", ["zep", "zep-v3", "zep-v4", "eliza"])
@pytest.mark.parametrize(("bad", "problem"), UNSENDABLE)
def test_a_message_json_cannot_hold_is_refused_before_any_is_sent(
    driver, provider: str, bad: dict[str, Any], problem: str
) -> None:
    server = always(200, {})
    messages = [{"role": "user", "content": "fine"}, {"role": "user", "content": "x", **bad}]

    with pytest.raises(ConfigError, match=problem) as raised:
        driver.call(provider, server, "add_messages", "s1", messages)
    assert "nothing was sent" in str(raised.value)
    assert driver.requests == []


def test_a_session_body_json_cannot_hold_is_refused(driver) -> None:
    server = always(200, {})

    with pytest.raises(ConfigError, match=r"body\.metadata\.score is nan, which JSON cannot hold"):
        driver.call(
            "zep",
            server,
            "create_session",
            session_id="s1",
            user_id="u1",
            metadata={"score": float("nan")},
        )
    assert driver.requests == []


def test_an_id_utf8_cannot_encode_is_refused(driver) -> None:
    with pytest.raises(ConfigError, match=r"session_id holds a lone surrogate"):
        driver.call("zep", always(200, {}), "get_messages", "s\udc80")
    assert driver.requests == []


@pytest.mark.parametrize("provider", ["meibel", "eliza"])
def test_memory_outside_zep_is_unsupported(driver, provider: str) -> None:
    with pytest.raises(UnsupportedOperation, match=f"{provider} has no memory endpoint"):
        driver.call(provider, always(200, {}), "get_memory", "s1")


@pytest.mark.parametrize(
    ("provider", "env", "header", "value"),
    [
        ("zep", "ZEP_API_KEY", "authorization", "Api-Key from-env"),
        ("meibel", "MEIBEL_API_KEY", "meibel-api-key", "from-env"),
        ("eliza", "ELIZA_SERVER_AUTH_TOKEN", "x-api-key", "from-env"),
    ],
)
def test_key_from_environment_and_argument(
    driver,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    env: str,
    header: str,
    value: str,
) -> None:
    monkeypatch.setenv(env, "from-env")
    server = always(200, {"session_id": "s", "sessionId": "s"})

    driver.call(provider, server, "get_session", "s", client={"api_key": None})
    driver.call(provider, server, "get_session", "s", client={"api_key": "from-arg"})

    assert driver.requests[0].headers[header] == value
    assert driver.requests[1].headers[header] == value.replace("from-env", "from-arg")


def test_base_url_and_headers(driver) -> None:
    server = always(200, {"session_id": "s"})

    driver.call(
        "zep",
        server,
        "get_session",
        "s",
        client={"base_url": "http://127.0.0.1:8000/zep/api/v2/", "headers": {"X-Trace": "t1"}},
    )

    assert driver.last.url == "http://127.0.0.1:8000/zep/api/v2/sessions/s"
    assert driver.last.headers["x-trace"] == "t1"


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("localhost:8000", "base_url must be an http"),
        ("ftp://example.test", "base_url must be an http"),
        ("https://api.example.test/v2?api_key=x", "must not carry a query"),
    ],
)
def test_bad_base_url(base_url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SessionClient("zep", base_url=base_url)


def test_properties() -> None:
    with SessionClient("eliza", base_url="http://127.0.0.1:3999", api_key=None) as client:
        assert (client.provider, client.base_url) == ("eliza", "http://127.0.0.1:3999")


class ClosingTransport(httpx.MockTransport):
    def __init__(self) -> None:
        super().__init__(lambda request: httpx.Response(200, json={}))
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def test_context_managers_close_the_transport() -> None:
    transport = ClosingTransport()
    with SessionClient("zep", api_key="k", transport=transport):
        assert not transport.closed
    assert transport.closed

    async_transport = ClosingTransport()

    async def use() -> None:
        async with AsyncSessionClient("zep", api_key="k", transport=async_transport):
            assert not async_transport.closed

    asyncio.run(use())
    assert async_transport.closed


# -- write input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([("robot", "hi")], r"messages\[0\]\.role: Input should be .*\(roles: user, assistant"),
        ([{"role": "user", "content": "x", "colour": "red"}], r"messages\[0\]\.colour: Extra"),
        ([("user", "ok"), 42], r"messages\[1\] must be a Message, a dict or a \(role, content\)"),
        (("user", "hi"), r"messages\[0\] must be a Message"),
        ({"role": "user", "content": "x"}, "must be a sequence of messages, not a single message"),
    ],
)
def test_bad_write_input_is_a_config_error_and_sends_nothing(
    driver, messages: Any, problem: str
) -> None:
    server = always(201, {})

    with pytest.raises(ConfigError, match=problem):
        driver.call("zep", server, "add_messages", "s1", messages)
    assert driver.requests == []

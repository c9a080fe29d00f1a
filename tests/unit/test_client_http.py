"""The pure pieces of the HTTP driver: Retry-After parsing, backoff, redaction."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pytest_sessionmem.client.retry import RetryPolicy, parse_retry_after
from pytest_sessionmem.providers.base import field_path
from pytest_sessionmem.support.redaction import Redactor

NOW = datetime(2025, 1, 15, 10, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 15 Jan 2025 10:00:30 GMT", 30.0),
        ("Wed, 15 Jan 2025 09:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retries=6, backoff=0.25, max_backoff=1.5)

    assert [policy.backoff_delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]


def test_redactor_scrubs_values_userinfo_and_secret_query_parameters() -> None:
    redactor = Redactor(["sk-1", None, ""])

    url = redactor.url("https://bob:hunter2@api.test/v2/s/sk-1?token=abc&page=2")

    assert url == "https://api.test/v2/s/<REDACTED>?token=<REDACTED>&page=2"
    assert redactor.text("key sk-1 twice sk-1") == "key <REDACTED> twice <REDACTED>"
    assert redactor.value({"sk-1": ["x sk-1", 3, None]}) == {
        "<REDACTED>": ["x <REDACTED>", 3, None]
    }


def test_named_secrets_become_their_name_in_every_form() -> None:
    redactor = Redactor({"ZEP_API_KEY": 'k/"1', "UNSET": None, "EMPTY": ""})

    assert redactor.text('raw k/"1, quoted k%2F%221, json k/\\"1') == (
        "raw <ZEP_API_KEY>, quoted <ZEP_API_KEY>, json <ZEP_API_KEY>"
    )
    assert redactor.data(b'bin k/"1') == b"bin <ZEP_API_KEY>"
    assert redactor.text("nothing to hide") == "nothing to hide"


def test_longer_secrets_are_replaced_first() -> None:
    redactor = Redactor(["abc", "abcdef"])

    assert redactor.text("abcdef") == "<REDACTED>"


def test_field_path() -> None:
    assert field_path(("messages", 3, "role_type")) == "messages[3].role_type"
    assert field_path(()) == ""

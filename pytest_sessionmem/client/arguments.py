"""Checks of the clients' arguments, made before anything is sent."""

from __future__ import annotations

from pytest_sessionmem.errors import ConfigError

__all__ = ["check_memory_args", "check_page_size", "check_retry_settings"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_retry_settings(
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


def check_page_size(page_size: int) -> None:
    if not _is_int(page_size) or page_size < 1:
        raise ConfigError(f"page_size must be an integer >= 1, got {page_size!r}")


def check_memory_args(last_n: int | None, min_rating: float | None) -> None:
    if last_n is not None and (not _is_int(last_n) or last_n < 1):
        raise ConfigError(f"last_n must be an integer >= 1 or None, got {last_n!r}")
    if min_rating is not None and (not _is_number(min_rating) or not 0 <= min_rating <= 1):
        raise ConfigError(f"min_rating must be a number from 0 to 1 or None, got {min_rating!r}")

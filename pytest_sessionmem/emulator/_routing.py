"""Route matching for the provider mounts, with the provider's own answer for a miss.

Starlette's router answers an unknown path or method with a plain-text ``404 Not Found`` or
``405 Method Not Allowed``; no real provider does that, and SDKs then raise a generic error
instead of their typed "not found". :class:`ProviderRouter` matches the same
``starlette.routing.Route`` objects the provider modules declare, but:

* it matches the *raw* (still percent-encoded) path, and percent-decodes each path parameter
  afterwards, so an id containing ``%2F`` or ``%0A`` reaches the handler (as on Express and Go
  servers) instead of failing to route;
* optionally ignores the case of the path and accepts one trailing slash (Express defaults);
* hands misses to the provider's ``not_found`` / ``method_not_allowed`` callables.

Provider modules keep declaring ``list[BaseRoute]``; anything that is not a plain ``Route`` is
rejected at start-up, so nothing silently falls back to Starlette's plain-text answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

__all__ = ["MalformedPath", "ProviderRouter", "RouteMatch", "decode_uri_component"]

Endpoint = Callable[[Request], Awaitable[Response]]
Miss = Callable[[Request], Response]


class MalformedPath(ValueError):
    """A path parameter whose percent-escapes are not valid UTF-8 (``decodeURIComponent`` throws)."""

    def __init__(self, raw: str) -> None:
        super().__init__(f"Failed to decode param '{raw}'")
        self.raw = raw


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def decode_uri_component(raw: str) -> str:
    """JavaScript's ``decodeURIComponent``: strict UTF-8; a lone ``%`` or bad bytes raise."""

    def one(match: re.Match[str]) -> str:
        data = bytes.fromhex(match.group().replace("%", ""))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPath(raw) from None

    decoded = _ESCAPES.sub(one, raw)
    if "%" in _ESCAPES.sub("", raw):
        raise MalformedPath(raw)
    return decoded


@dataclass(frozen=True)
class _Compiled:
    regex: re.Pattern[str]
    methods: frozenset[str]
    endpoint: Endpoint


@dataclass(frozen=True)
class RouteMatch:
    endpoint: Endpoint
    params: dict[str, str]


class ProviderRouter:
    """Match ``routes`` against a raw sub-path; see the module docstring."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        not_found: Miss,
        method_not_allowed: Miss | None = None,
        malformed: Callable[[Request, MalformedPath], Response] | None = None,
        ignore_case: bool = False,
        optional_trailing_slash: bool = False,
    ) -> None:
        self.not_found = not_found
        self.method_not_allowed = method_not_allowed or not_found
        self.malformed = malformed or (lambda request, _exc: not_found(request))
        flags = re.IGNORECASE if ignore_case else 0
        self._routes: list[_Compiled] = []
        for route in routes:
            if not isinstance(route, Route) or route.methods is None:
                raise TypeError(f"provider routes must be starlette Routes with methods: {route!r}")
            pattern = route.path_regex.pattern
            if optional_trailing_slash and pattern.endswith("$"):
                pattern = pattern[:-1] + "/?$"
            self._routes.append(
                _Compiled(re.compile(pattern, flags), frozenset(route.methods), route.endpoint)
            )

    def match(self, method: str, raw_path: str) -> RouteMatch | bool | None:
        """The matching route; ``False`` when the path matches but not the method; None if not."""
        path_matched = False
        for route in self._routes:
            found = route.regex.match(raw_path)
            if found is None:
                continue
            if method not in route.methods:
                path_matched = True
                continue
            params = {k: decode_uri_component(v) for k, v in found.groupdict().items()}
            return RouteMatch(route.endpoint, params)
        return False if path_matched else None

    def match_or_malformed(self, method: str, raw_path: str) -> bool:
        """True when :meth:`respond` would run an endpoint or report a malformed parameter."""
        try:
            return isinstance(self.match(method, raw_path), RouteMatch)
        except MalformedPath:
            return True

    async def respond(self, request: Request, raw_path: str) -> Response:
        """Run the matching endpoint, or the provider's answer for a miss."""
        try:
            found = self.match(request.method, raw_path)
        except MalformedPath as exc:
            return self.malformed(request, exc)
        if found is None:
            return self.not_found(request)
        if found is False:
            return self.method_not_allowed(request)
        assert isinstance(found, RouteMatch)
        request.scope["path_params"] = found.params
        return await found.endpoint(request)


def sub_path(scope: Mapping[str, Any], prefix: str) -> str:
    """The raw (percent-encoded) path below ``prefix``; ``/`` when nothing is left."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else scope["path"]
    path = path.split("?", 1)[0]
    return path[len(prefix) :] or "/"

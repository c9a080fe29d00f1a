"""The HTTP layer: ``SessionClient`` and ``AsyncSessionClient`` over every provider.

``exchange`` holds the retry policy, the error mapping and the two small drivers that run
a provider's sans-IO operations over ``httpx.Client`` or ``httpx.AsyncClient``.
"""

from pytest_sessionmem.client.session_client import AsyncSessionClient, SessionClient

__all__ = ["AsyncSessionClient", "SessionClient"]

"""The HTTP layer: ``SessionClient`` and ``AsyncSessionClient`` over every provider.

``retry`` decides when to ask again, ``error_mapping`` turns a failure into one typed
error, ``steps`` wraps a provider's sans-IO operation into a program of send and sleep
steps, ``drivers`` runs such a program over ``httpx.Client`` or ``httpx.AsyncClient``,
and ``arguments`` checks what callers pass.
"""

from pytest_sessionmem.client.session_client import AsyncSessionClient, SessionClient

__all__ = ["AsyncSessionClient", "SessionClient"]

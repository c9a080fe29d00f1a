"""One adapter per provider API; see :mod:`pytest_sessionmem.providers.base`."""

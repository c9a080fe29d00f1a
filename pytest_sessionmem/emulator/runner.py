"""Run the emulator over real HTTP on loopback, in a background thread of the current process.

::

    with EmulatorServer(seed=1, api_keys={"zep": "secret"}) as server:
        zep = Zep(base_url=server.base_url("zep"), api_key="secret")
        server.control.reset(seed=2)
        server.state.zep.sessions  # in-process inspection

The socket is bound before the thread starts, so ``port=0`` picks a free port without races
and a port in use is reported at once, as a :class:`~pytest_sessionmem.errors.ConfigError`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .control_client import ClosesOnExit
from .core import PROVIDERS

if TYPE_CHECKING:
    from .control_client import EmulatorControl
    from .state import EmulatorState

__all__ = ["EmulatorServer"]

INSTALL_HINT = 'pip install "pytest-sessionmem[emulator]"'
STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


def _provider_prefixes() -> dict[str, str]:
    from .app import PROVIDER_PREFIXES

    return PROVIDER_PREFIXES


class EmulatorServer(ClosesOnExit):
    """The emulator on ``http://host:port``: ``start()``/``stop()``, or a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        api_keys: dict[str, str | None] | None = None,
    ) -> None:
        unknown = set(api_keys or {}) - set(PROVIDERS)
        if unknown:
            raise ConfigError(
                f"EmulatorServer(api_keys=...) has unknown provider(s) {sorted(unknown)}; "
                f"use {list(PROVIDERS)}"
            )
        if not 0 <= port <= 65535:
            raise ConfigError(
                f"EmulatorServer(port={port}) is not a TCP port (0-65535; 0 = any free)"
            )
        self.host = host
        self._requested_port = port
        from .state import EmulatorState  # the provider stores need the emulator extra

        self.state: EmulatorState = EmulatorState.create(seed=seed, api_keys=api_keys)
        self._socket: socket.socket | None = None
        self._server: Any = None  # uvicorn.Server
        self._thread: threading.Thread | None = None
        self._control: EmulatorControl | None = None
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> EmulatorServer:
        if self._thread is not None or self._stopped:
            raise ConfigError(
                "this EmulatorServer was already started; create a new EmulatorServer to run again"
            )
        try:
            import uvicorn

            from .app import create_app
        except ImportError as exc:
            raise ConfigError(
                f"the emulator needs starlette and uvicorn ({exc.name} is missing): {INSTALL_HINT}"
            ) from exc

        self._socket = self._bind()
        config = uvicorn.Config(
            create_app(self.state, listen_host=self.host),
            http="h11",  # the "drop" fault reaches into h11's transport (see app._drop_connection)
            ws="none",
            lifespan="off",
            log_config=None,  # leave the user's logging setup alone
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sessionmem-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"the emulator did not start on {self.url}; see the log above")
            time.sleep(0.005)
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto must be IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets
        # whose proto says TCP, and without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"the emulator cannot listen on {self.host}:{self._requested_port}: "
                f"{exc.strerror or exc}; choose another port, or port=0 for any free one"
            ) from exc
        sock.set_inheritable(True)
        return sock

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        self._stopped = True
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def close(self) -> None:
        """The same as :meth:`stop` (what leaving a ``with`` block calls)."""
        self.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._socket is None:
            raise ConfigError("the emulator is not running: call start() first")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The base URL to give the provider's SDK or client, e.g. ``.../zep/api/v2``."""
        prefixes = _provider_prefixes()
        if provider not in prefixes:
            raise ConfigError(f"unknown provider {provider!r}; use one of {list(PROVIDERS)}")
        return self.url + prefixes[provider]

    @property
    def control(self) -> EmulatorControl:
        """A control-API client for this server (closed by ``stop()``)."""
        if self._control is None:
            from .control_client import EmulatorControl

            self._control = EmulatorControl(self.url)
        return self._control

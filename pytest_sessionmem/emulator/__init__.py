"""An in-memory emulator of the Zep v2, Meibel v2 and ElizaOS session APIs, served over loopback.

Needs the ``emulator`` extra (starlette + uvicorn): ``pip install "pytest-sessionmem[emulator]"``.

* :mod:`.core` -- shared state (clock, ids, keys, faults) and the provider-module contract
* :mod:`.state` -- :class:`~.state.EmulatorState`, the shared state with every provider's store
* :mod:`.app` -- the ASGI app: provider mounts, fault injection, control API
* :mod:`.zep`, :mod:`.meibel`, :mod:`.eliza` -- one module per provider
* :mod:`.control` -- the ``/_emulator`` control API; :mod:`.control_client` -- its Python client
* :mod:`.runner` -- :class:`EmulatorServer`, uvicorn in a background thread
"""

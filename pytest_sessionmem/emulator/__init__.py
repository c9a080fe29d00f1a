"""An in-memory emulator of the Zep (v2, v3, v4), Meibel v2 and ElizaOS APIs, served over loopback.

Needs the ``emulator`` extra (starlette + uvicorn): ``pip install "pytest-sessionmem[emulator]"``.

* :mod:`.core` -- shared state (clock, ids, keys, faults) and the provider-module contract
* :mod:`.state` -- :class:`~.state.EmulatorState`, the shared state with every provider's store
* :mod:`.app` -- the ASGI app: provider mounts, fault injection, control API
* :mod:`.zep` (a package: store, rules, views, one routes module per generation), :mod:`.meibel`,
  :mod:`.eliza` (with :mod:`.eliza_http`, :mod:`.eliza_rules`, :mod:`.eliza_js`) -- the providers
* :mod:`.control` -- the ``/_emulator`` control API; :mod:`.control_client` -- its Python client
* :mod:`.runner` -- :class:`EmulatorServer`, uvicorn in a background thread
"""

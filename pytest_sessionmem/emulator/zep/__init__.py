"""The Zep emulator: one store served as three API generations.

* v2 sessions (zep-cloud 2.x) and v3 threads (zep-cloud 3.x) on ``/zep/api/v2``; v4 (zep-cloud
  4.x) on ``/zep/api/v4``. A v2 session and a v3 thread are one object.

Split the way the ElizaOS emulator is:

* :mod:`.store` -- the store, its records (users, sessions = threads, graphs, tasks), lookups;
* :mod:`.rules` -- what a request may say, paging, what is visible when (free of HTTP);
* :mod:`.standins` -- deterministic stand-ins for what Zep does with a model (free of HTTP);
* :mod:`.views` -- how stored objects are shown as each generation's JSON;
* :mod:`.routes_v2`, :mod:`.routes_v3`, :mod:`.routes_v4` -- one routes module per generation;
* :mod:`.seeding` -- the ``/_emulator/zep`` control routes.
"""

from __future__ import annotations

from .routes_v3 import service_router as v2_service_router
from .routes_v4 import router as v4_router
from .seeding import control_routes
from .store import ZepStore
from .views import v4_error_body

__all__ = ["ZepStore", "control_routes", "v2_service_router", "v4_error_body", "v4_router"]

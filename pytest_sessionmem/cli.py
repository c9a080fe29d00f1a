"""The ``sessionmem`` command.

``sessionmem serve`` runs the embedded emulator in the foreground until Ctrl-C::

    sessionmem serve [--host 127.0.0.1] [--port 8765] [--seed N]
                     [--zep-key K] [--meibel-key K] [--eliza-key K]

Each subcommand is a ``_cmd_<name>(args) -> int`` registered in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from .errors import ConfigError
from .providers.registry import PROVIDERS

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sessionmem", description="Tools for pytest-sessionmem.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the Zep / Meibel / ElizaOS emulator on loopback",
        description="Serve the in-memory emulator of the Zep v2, Meibel v2 and ElizaOS session "
        "APIs until Ctrl-C. Without a key for a provider, that provider does not check auth.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    serve.add_argument(
        "--seed", type=int, default=None, help="deterministic ids and timestamps from this seed"
    )
    for provider in PROVIDERS:
        serve.add_argument(
            f"--{provider}-key",
            metavar="KEY",
            dest=_key_dest(provider),
            default=None,
            help=f"API key {provider} requires",
        )
    serve.set_defaults(handler=_cmd_serve)
    return parser


def _cmd_serve(args: argparse.Namespace) -> int:
    from .emulator.runner import EmulatorServer

    server = EmulatorServer(
        host=args.host,
        port=args.port,
        seed=args.seed,
        api_keys={provider: getattr(args, _key_dest(provider)) for provider in PROVIDERS},
    )
    server.start()
    try:
        print(f"sessionmem emulator on {server.url} (Ctrl-C stops)")
        for provider in PROVIDERS:
            print(f"  {provider:<7} {server.base_url(provider)}")
        print(f"  control {server.url}/_emulator")
        sys.stdout.flush()
        threading.Event().wait()  # until KeyboardInterrupt
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


def _key_dest(provider: str) -> str:
    return f"{provider.replace('-', '_')}_key"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"sessionmem: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())

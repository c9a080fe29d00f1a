"""The ``sessionmem`` command.

``sessionmem serve`` runs the embedded emulator in the foreground until Ctrl-C or SIGTERM
(also when started as a background job, which ignores Ctrl-C by default)::

    sessionmem serve [--host 127.0.0.1] [--port 8765] [--seed N]
                     [--zep-key K] [--meibel-key K] [--eliza-key K]

``sessionmem show PATH...`` prints each cassette (or every cassette under a folder) as the
conversation it holds, then one line per HTTP exchange; ``--json`` prints the same as data::

    sessionmem show tests/cassettes/test_chat/ [--json] [--provider zep|meibel|eliza]

``sessionmem lint PATH...`` reports secrets (and, with ``--pii``, e-mail addresses and phone
numbers) in cassettes and transcript files as ``file:line: what`` and exits 1 on findings::

    sessionmem lint tests/ [--pii] [--secret-env NAME]

``sessionmem --version`` prints the version. Each subcommand is a
``_cmd_<name>(args) -> int`` registered in :func:`build_parser`.
Exit codes: 0 success, 1 findings (lint), 2 bad input.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from .errors import ConfigError
from .providers.registry import PROVIDERS
from .version import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sessionmem", description="Tools for pytest-sessionmem.")
    parser.add_argument(
        "--version", action="version", version=f"sessionmem (pytest-sessionmem) {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = _command(
        commands,
        _cmd_serve,
        help="run the Zep / Meibel / ElizaOS emulator on loopback",
        description="Serve the in-memory emulator of the Zep (v2 sessions, v3 and v4 threads), "
        "Meibel v2 and ElizaOS session APIs until Ctrl-C (SIGINT) or SIGTERM. Without a key for a "
        "provider, that provider does not check auth.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    serve.add_argument(
        "--seed", type=int, default=None, help="deterministic ids and timestamps from this seed"
    )
    for provider in _key_providers():
        sharing = [p for p in PROVIDERS if p != provider and _same_key(p, provider)]
        serve.add_argument(
            f"--{provider}-key",
            metavar="KEY",
            dest=_key_dest(provider),
            default=None,
            help=f"API key {provider} requires"
            + (f" (and {', '.join(sharing)}, which share it)" if sharing else ""),
        )

    show = _command(
        commands,
        _cmd_show,
        help="print a cassette as the conversation it holds",
        description="Print each cassette, or every cassette under a folder, as the conversation "
        "it holds: the sessions, their turns (role, speaker, content, time), the facts, context "
        "and summary where the provider has them, then one line per HTTP exchange.",
        paths="cassette file or folder",
    )
    show.add_argument("--json", action="store_true", help="print the same as JSON")
    show.add_argument(
        "--provider",
        choices=tuple(PROVIDERS),
        default=None,
        help="read the cassettes as this provider's (default: from the base URL and paths)",
    )

    lint = _command(
        commands,
        _cmd_lint,
        help="find secrets and personal data in cassettes and transcript files",
        description="Report API keys, tokens and unscrubbed credential headers (and, with --pii, "
        "e-mail addresses and phone numbers) in cassettes and transcript files, one "
        "'file:line: what' per finding. Exits 1 when anything is found.",
        paths="file or folder to check",
    )
    lint.add_argument(
        "--pii", action="store_true", help="also report e-mail addresses and phone numbers"
    )
    lint.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="NAME",
        help="also report the value of this environment variable, as the built-in key "
        "variables are (repeatable)",
    )
    return parser


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    handler: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    paths: str | None = None,
) -> argparse.ArgumentParser:
    """The subcommand ``handler`` carries out, named after it (``_cmd_show``: ``show``).

    ``paths`` is the help of the PATH... arguments of a command that reads files.
    """
    name = handler.__name__.removeprefix("_cmd_")
    command = commands.add_parser(name, help=help, description=description)
    if paths is not None:
        command.add_argument("paths", nargs="+", metavar="PATH", help=paths)
    command.set_defaults(handler=handler)
    return command


def _cmd_serve(args: argparse.Namespace) -> int:
    from .emulator.runner import EmulatorServer

    server = EmulatorServer(
        host=args.host,
        port=args.port,
        seed=args.seed,
        api_keys={provider: getattr(args, _key_dest(provider)) for provider in _key_providers()},
    )
    server.start()
    # Ctrl-C and SIGTERM both stop it cleanly. A shell starts a background job (`... &`)
    # with SIGINT ignored; installing the handlers explicitly makes SIGINT work there too.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"sessionmem emulator on {server.url} (Ctrl-C or SIGTERM stops)")
        for provider in PROVIDERS:
            print(f"  {provider:<7} {server.base_url(provider)}")
        print(f"  control {server.url}/_emulator")
        sys.stdout.flush()
        threading.Event().wait()  # until a signal interrupts it
    except KeyboardInterrupt:
        print("stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _same_key(a: str, b: str) -> bool:
    return PROVIDERS[a].api_key_env == PROVIDERS[b].api_key_env


def _key_providers() -> list[str]:
    """One provider per credential: zep-v3 and zep-v4 take zep's key."""
    owners: list[str] = []
    for provider in PROVIDERS:
        if not any(_same_key(provider, owner) for owner in owners):
            owners.append(provider)
    return owners


def _key_dest(provider: str) -> str:
    return f"{provider.replace('-', '_')}_key"


def _cmd_show(args: argparse.Namespace) -> int:
    import json

    from .cassette.conversation import conversation_from_cassette, render_conversation
    from .cassette.store import load_cassette
    from .errors import CassetteCorrupt
    from .lint import find_files
    from .support.terminal_text import escape_controls, escape_json_output

    files = find_files(args.paths, suffixes=(".json",))
    if not files:
        raise ConfigError(
            f"no cassette under {', '.join(args.paths)}; cassettes are the .json files in the "
            "cassettes/ folder beside each test file."
        )
    conversations = []
    failed = False
    for file in files:
        try:
            cassette = load_cassette(file)
        except CassetteCorrupt as exc:
            # A folder's walk keeps only files marked as written by pytest-sessionmem, so
            # one that does not load is a damaged cassette, never some other JSON file.
            shown = escape_controls(str(exc), keep="\n")  # its path may hold anything
            print(f"sessionmem: error: {shown}", file=sys.stderr)
            failed = True
            continue
        conversations.append(
            conversation_from_cassette(cassette, path=str(file), provider=args.provider)
        )
    if args.json:
        data = [c.to_data() for c in conversations]
        print(escape_json_output(json.dumps(data, indent=2, ensure_ascii=False)))
    else:
        print("\n\n".join(render_conversation(c) for c in conversations))
    return 2 if failed else 0


def _cmd_lint(args: argparse.Namespace) -> int:
    from .lint import lint_paths

    findings, checked = lint_paths(args.paths, pii=args.pii, secret_env=args.secret_env)
    for finding in findings:
        print(finding)
    files = len({f.path for f in findings})
    if findings:
        print(
            f"sessionmem lint: {len(findings)} finding(s) in {files} of {checked} file(s)",
            file=sys.stderr,
        )
        return 1
    what = "secrets or personal data" if args.pii else "secrets"
    print(f"sessionmem lint: {checked} file(s) checked, no {what} found", file=sys.stderr)
    return 0


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

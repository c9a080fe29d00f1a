"""Fixtures that run the real zep-cloud 3.x and 4.x SDKs, each in its own environment.

The environments are ``pip install --target`` folders built by ``envs.py`` (beside this file)
under the git-ignored ``.sessionmem-cache/zep-sdks/``; the first run builds them, later runs
reuse them. SDK code runs in a subprocess whose ``PYTHONPATH`` puts that folder first, so it
never meets the zep-cloud 2.x of the main environment. A failed build is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_sessionmem.emulator.runner import EmulatorServer

HERE = Path(__file__).parent
REPO = HERE.parents[2]
SETUP_COMMAND = "python tests/integration/zep_sdks/envs.py"
_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def zep_sdk_paths() -> dict[str, Path]:
    """``{"3.30.0": folder, "4.0.1": folder}``, built on first use."""
    done = subprocess.run(
        [sys.executable, str(HERE / "envs.py")],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            "Could not build the zep-cloud 3.x/4.x environments. From the repository root "
            f"run:\n    {SETUP_COMMAND}\n{done.stdout}{done.stderr}"
        )
    paths: dict[str, Path] = {}
    for line in done.stdout.splitlines():
        name, _, where = line.partition(": ")
        paths[name.removeprefix("zep-cloud ")] = Path(where)
    return paths


def sdk_env(folder: Path) -> dict[str, str]:
    """The environment of a subprocess that imports zep-cloud from ``folder``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZEP_")}
    inherited = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), str(REPO), inherited) if p)
    return env


@pytest.fixture(scope="session")
def sdk_environment() -> Callable[[Path], dict[str, str]]:
    """``sdk_environment(folder)``: environment variables for a subprocess using that SDK."""
    return sdk_env


@pytest.fixture(scope="session")
def run_sdk(zep_sdk_paths: dict[str, Path]) -> Callable[..., Any]:
    """``run_sdk("4.0.1", script, *args)``: run ``script`` with that SDK, return its JSON output."""

    def run(version: str, script: Path, *args: str) -> Any:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            env=sdk_env(zep_sdk_paths[version]),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"{script.name} {' '.join(args)} failed:\n{done.stderr[-6000:]}")
        return json.loads(done.stdout)

    return run


@pytest.fixture(scope="module")
def zep_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server

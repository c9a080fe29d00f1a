"""Runs the zep-cloud 3.x and 4.x examples, each in an environment with that SDK.

The folders hold ordinary test modules: in a project on zep-cloud 4.x, ``pytest
examples/zep_v4`` is all it takes. This repository's own environment has zep-cloud 2.x (for
``examples/zep``), so each folder is run here in a subprocess whose ``PYTHONPATH`` puts a
``pip install --target`` folder with the right SDK first (built by
``tests/integration/zep_sdks/envs.py``, a no-op once built). The runs replay the committed
cassettes offline, exactly like the rest of the examples.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "tests" / "integration" / "zep_sdks" / "envs.py"


@pytest.mark.parametrize(
    ("folder", "version", "tests"), [("zep_v3", "3.30.0", 1), ("zep_v4", "4.0.1", 2)]
)
def test_example_replays_with_its_sdk(folder: str, version: str, tests: int) -> None:
    built = subprocess.run(
        [sys.executable, str(ENVS)], capture_output=True, text=True, timeout=600, check=False
    )
    assert built.returncode == 0, f"python {ENVS.relative_to(ROOT)} failed:\n{built.stderr}"
    sdk = next(line.split(": ", 1)[1] for line in built.stdout.splitlines() if version in line)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEP_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (sdk, str(ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"examples/{folder}",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--sessionmem-record-mode=none",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{tests} passed" in done.stdout
    assert re.search(rf"\b{tests} cassettes? replayed, 0 recorded", done.stdout), done.stdout

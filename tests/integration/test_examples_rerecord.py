"""Re-recording the examples gives the committed cassettes, byte for byte.

The README promises that ``python -m pytest examples --sessionmem-emulator
--sessionmem-record-mode=all`` leaves an empty ``git diff``. This re-records a copy of
``examples/`` (the zep-cloud 3.x and 4.x folders with their own SDKs, as
``examples/test_zep_generations.py`` runs them) and compares every cassette.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "tests" / "integration" / "zep_sdks" / "envs.py"
RECORD = ("--sessionmem-emulator", "--sessionmem-record-mode=all")


def _pytest(cwd: Path, target: str, *, sdk: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEP_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (sdk, str(ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", target, "-p", "no:cacheprovider", "-p", "no:randomly",
         "--ignore", f"{target}/test_zep_generations.py", *RECORD],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert " recorded (" in done.stdout


def test_rerecording_the_examples_changes_no_byte(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT / "examples", copy / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    for cassette in (copy / "examples").glob("**/cassettes/**/*.json"):
        cassette.write_text("{}")  # nothing of the committed file can survive by accident
    built = subprocess.run(
        [sys.executable, str(ENVS)], capture_output=True, text=True, timeout=600, check=False
    )
    assert built.returncode == 0, built.stderr
    sdks = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in built.stdout.splitlines()
            if ": " in line}  # fmt: skip
    sdk3 = next(path for name, path in sdks.items() if "3.30" in name)
    sdk4 = next(path for name, path in sdks.items() if "4.0" in name)

    _pytest(copy, "examples")
    _pytest(copy, "examples/zep_v3", sdk=sdk3)
    _pytest(copy, "examples/zep_v4", sdk=sdk4)

    committed = sorted(p.relative_to(ROOT) for p in ROOT.glob("examples/**/cassettes/**/*.json"))
    assert committed, "the examples hold cassettes"
    changed = [
        str(path) for path in committed if (copy / path).read_bytes() != (ROOT / path).read_bytes()
    ]
    assert changed == []

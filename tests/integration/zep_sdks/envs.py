"""Build the environments the zep-cloud 3.x and 4.x tests run the real SDKs in.

Neither SDK can share an environment with zep-cloud 2.22 (the dev extra) or with the other,
so each is installed with ``pip install --target`` into its own folder under
``.sessionmem-cache/zep-sdks/`` (git-ignored). A test runs SDK code in a subprocess whose
``PYTHONPATH`` puts that folder first; httpx and pydantic come from the main environment.

    python tests/integration/zep_sdks/envs.py          # build what is missing, print the folders

The test suite runs this itself before the SDK tests (a no-op once built), and ``.ci/run`` runs
it as a set-up step. Building needs the package index; nothing else is downloaded.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".sessionmem-cache" / "zep-sdks"

# Each environment: the SDK pinned, plus what it needs that the main environment lacks.
ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "3.30.0": ("zep-cloud==3.30.0", "python-dateutil>=2.9,<3", "six>=1.5"),
    "4.0.1": ("zep-cloud==4.0.1",),
}


def folder(version: str) -> Path:
    """Where the environment for zep-cloud ``version`` lives."""
    return CACHE / f"zep-cloud-{version}"


def _stamp(version: str) -> str:
    return json.dumps({"requirements": ENVIRONMENTS[version], "python": sys.version[:4]})


def _installed_version(target: Path) -> str | None:
    probe = (
        "import importlib.metadata as m, zep_cloud, sys;"
        "sys.stdout.write(m.version('zep-cloud') + ' ' + zep_cloud.__file__)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return None
    version, _, where = done.stdout.partition(" ")
    return version if Path(where).resolve().is_relative_to(target.resolve()) else None


def ensure(version: str) -> Path:
    """Build the environment for ``version`` unless it is already there; return its folder."""
    target = folder(version)
    stamp_file = target / ".sessionmem-env.json"
    if stamp_file.is_file() and stamp_file.read_text() == _stamp(version):
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers build it once
        if stamp_file.is_file() and stamp_file.read_text() == _stamp(version):
            return target
        staging = Path(tempfile.mkdtemp(prefix=f"zep-cloud-{version}-", dir=CACHE))
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(staging),
            *ENVIRONMENTS[version],
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise SystemExit(
                f"Could not install zep-cloud {version} into {target}:\n{done.stderr.strip()}\n"
                f"Command: {' '.join(command)}"
            )
        found = _installed_version(staging)
        if found != version:
            shutil.rmtree(staging, ignore_errors=True)
            raise SystemExit(f"{staging} holds zep-cloud {found}, expected {version}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        stamp_file.write_text(_stamp(version))
    return target


def main() -> int:
    for version in ENVIRONMENTS:
        print(f"zep-cloud {version}: {ensure(version)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

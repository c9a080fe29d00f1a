"""The project's own set-up: the README's two commands, CI, and the declared dependencies."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0].lower() for req in requirements}


def _quick_start_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, flags=re.DOTALL)


def test_readme_quick_start_is_one_bash_block_of_two_make_commands() -> None:
    blocks = _quick_start_blocks()
    assert [lang for lang, _ in blocks] == ["bash"]
    commands = [line for line in blocks[0][1].splitlines() if line.strip()]
    assert commands == ["make examples", "make test"]


def test_ci_runs_the_readme_test_command_after_lint_and_type_check() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "echo"))
    ]
    steps = [line for line in lines if line.startswith("make ")]
    assert steps.index("make lint") < steps.index("make test")
    assert steps.index("make typecheck") < steps.index("make test")
    assert steps[-1] == "make test"
    assert "make examples" in steps


def _dry_run(workdir: Path, target: str) -> list[str]:
    # Run as from a shell, also when this suite itself runs under `make test`.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return [line.strip() for line in done.stdout.splitlines()]


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_each_readme_command_sets_itself_up_once(tmp_path: Path) -> None:
    # A fresh clone: no .venv, no node_modules. Only the files make looks at are copied.
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lock = Path("tests/integration/eliza_server/package-lock.json")
    (tmp_path / lock).parent.mkdir(parents=True)
    shutil.copy(ROOT / lock, tmp_path / lock)
    envs = Path("tests/integration/zep_sdks/envs.py")
    (tmp_path / envs).parent.mkdir(parents=True)
    shutil.copy(ROOT / envs, tmp_path / envs)

    fresh_test = "\n".join(_dry_run(tmp_path, "test"))
    assert "-m venv .venv" in fresh_test
    assert 'pip install --quiet -e ".[dev]"' in fresh_test
    assert "npm ci --prefix tests/integration/eliza_server" in fresh_test
    assert ".venv/bin/python tests/integration/zep_sdks/envs.py" in fresh_test
    assert "apt-get install -y -qq --no-install-recommends chromium" in fresh_test
    assert fresh_test.rstrip().endswith(".venv/bin/python -m pytest")

    fresh_examples = "\n".join(_dry_run(tmp_path, "examples"))
    assert "-m venv .venv" in fresh_examples
    assert "pip install" in fresh_examples
    assert "npm ci" not in fresh_examples  # the examples need no ElizaOS server
    assert ".venv/bin/python tests/integration/zep_sdks/envs.py" in fresh_examples
    assert fresh_examples.rstrip().endswith(".venv/bin/python -m pytest examples")

    # What the set-up leaves behind, newer than what it was made from.
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    (tmp_path / ".venv" / ".sessionmem-installed").touch()
    node_modules = tmp_path / lock.parent / "node_modules"
    node_modules.mkdir()
    (node_modules / ".package-lock.json").touch()
    (tmp_path / ".sessionmem-cache" / "zep-sdks").mkdir(parents=True)
    (tmp_path / ".sessionmem-cache" / "zep-sdks" / ".built").touch()

    # Only the cheap check for chromium (a `command -v`) stands before the tests.
    ready_test = _dry_run(tmp_path, "test")
    assert ready_test[-1] == ".venv/bin/python -m pytest"
    assert ready_test[0].startswith("command -v chromium")
    assert not any(step in "\n".join(ready_test) for step in ("-m venv", "pip ", "npm ", "envs.py"))
    assert _dry_run(tmp_path, "examples") == [".venv/bin/python -m pytest examples"]


def test_make_test_installs_chromium_only_when_it_is_missing(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")

    def chromium(browser: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
        done = subprocess.run(
            ["make", "--no-print-directory", "chromium", f"CHROMIUM={browser}", "APT_GET=echo apt"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return done.stdout

    missing = chromium("no-such-browser-here")
    assert "apt update -qq" in missing
    assert "apt install -y -qq --no-install-recommends chromium" in missing
    assert chromium("sh") == ""  # present: nothing to do


def test_benchmark_only_tools_live_in_the_bench_extra() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"vcrpy", "pytest-recording"} <= _names(extras["bench"])
    assert not {"vcrpy", "pytest-recording"} & _names(extras["dev"])
    assert not {"vcrpy", "pytest-recording"} & _names(_pyproject()["project"]["dependencies"])


def test_the_suite_runs_without_pytest_recording(pytestconfig: pytest.Config) -> None:
    # Its autouse fixtures would wrap every test and every inner pytester run.
    assert not pytestconfig.pluginmanager.has_plugin("recording")


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution name -> our modules that import it (lazy imports included)."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for file in (ROOT / "pytest_sessionmem").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "pytest_sessionmem":
                    continue
                for dist in owners.get(top, [top]):
                    found.setdefault(dist.lower(), set()).add(file.name)
    return found


def test_every_runtime_import_is_declared() -> None:
    project = _pyproject()["project"]
    declared = _names(project["dependencies"]) | _names(
        project["optional-dependencies"]["emulator"]
    )
    undeclared = {
        dist: sorted(files)
        for dist, files in _imported_distributions().items()
        if dist not in declared
    }
    assert undeclared == {}


def test_every_runtime_dependency_is_imported() -> None:
    runtime = _names(_pyproject()["project"]["dependencies"])
    assert runtime - set(_imported_distributions()) == set()

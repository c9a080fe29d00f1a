"""ARCHITECTURE.md stays true: its module table names every module of the package, and only
modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_sessionmem"


def _named_in_table() -> set[str]:
    """Module paths (``cassette/intercept.py``) named in the first cell of the table rows.

    A cell may name several, comma-separated; one without a folder is in the folder of the
    one before it (``emulator/app.py``, ``_routing.py``); braces list siblings
    (``providers/{zep,meibel}.py``).
    """
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Who owns which job", 1)[1].split("\n## ", 1)[0]
    named: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        folder = ""
        for entry in re.findall(r"`([^`]+)`", cell):
            if "/" in entry:
                folder = entry.rsplit("/", 1)[0] + "/"
                name = entry.rsplit("/", 1)[1]
            else:
                name = entry
            braces = re.fullmatch(r"\{([^}]*)\}(.*)", name)
            names = (
                [part + braces.group(2) for part in braces.group(1).split(",")]
                if braces
                else [name]
            )
            named.update(folder + each for each in names)
    return named


def _modules() -> set[str]:
    return {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" or path.parent == PACKAGE
    }


def test_the_module_table_names_every_module() -> None:
    named = _named_in_table()
    missing = sorted(_modules() - named - {"__init__.py"})
    assert missing == [], f"ARCHITECTURE.md's module table does not name: {missing}"


def test_the_module_table_names_no_module_that_is_gone() -> None:
    named = {name for name in _named_in_table() if name.endswith(".py")}
    gone = sorted(name for name in named if not (PACKAGE / name).exists())
    assert gone == [], f"ARCHITECTURE.md's module table names modules that do not exist: {gone}"

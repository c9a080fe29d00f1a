"""The package's shape: no import cycles, and pytest only where the plugin lives.

Counted with every import the code makes, lazy ones inside functions and
``TYPE_CHECKING`` ones included, because each of those is a real dependency too.
The layer order itself is a contract in pyproject.toml, checked by ``lint-imports``.
"""

from __future__ import annotations

import grimp

PACKAGE = "pytest_sessionmem"


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, include_external_packages=True)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    modules = sorted(m for m in graph.modules if m.startswith(PACKAGE))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if not other.startswith(PACKAGE):
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in (f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.c"):
        graph.add_module(name)
    graph.add_import(importer=f"{PACKAGE}.a", imported=f"{PACKAGE}.b")
    graph.add_import(importer=f"{PACKAGE}.b", imported=f"{PACKAGE}.a")
    graph.add_import(importer=f"{PACKAGE}.c", imported=f"{PACKAGE}.a")

    assert _cycles(graph) == [[f"{PACKAGE}.a", f"{PACKAGE}.b"]]


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_only_the_plugin_and_the_assertion_entry_points_import_pytest() -> None:
    graph = _graph()
    allowed = (f"{PACKAGE}.plugin", f"{PACKAGE}.assertions.asserts")
    importers = {
        m for m in graph.find_modules_that_directly_import("pytest") if m.startswith(PACKAGE)
    }

    assert sorted(m for m in importers if not m.startswith(allowed)) == []

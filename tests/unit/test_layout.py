"""The architecture holds: the ground floor stands alone, product code has no import cycle, and
each command of the CLI reaches only the worker code of the images it runs in.

Read from the source (the import statements), so a late import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from devkit.services import PROJECT_ROOT

PRODUCT = ("common", "workers", "ui", "cli", "replay")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Project modules ``path`` imports (``from a.b import c`` counts ``a.b`` and ``a.b.c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PRODUCT}


def _graph() -> dict[str, set[str]]:
    paths = [p for top in PRODUCT for p in sorted((PROJECT_ROOT / top).rglob("*.py"))]
    modules = {_module_name(p): p for p in paths}
    return {name: _imports(path) & modules.keys() for name, path in modules.items()}


def test_common_imports_no_floor_above_it() -> None:
    above = ("workers", "ui", "cli")
    offending = {
        module: sorted(i for i in imports if i.split(".")[0] in above)
        for module, imports in _graph().items()
        if module.startswith("common")
    }
    assert {m: i for m, i in offending.items() if i} == {}


# The CLI's command groups and the worker code each may reach: the fetch image carries
# workers/fetch, the train image workers/train, the app's none (docker/Dockerfile, stage code).
CLI_GROUPS = {
    "cli.data": "workers.fetch",  # rebuild: worker-fetch
    "cli.inline": "workers.train",  # train --inline: worker-train
    "cli.seeding": "workers",  # seed --inline: both, a checkout after `uv sync`
    **dict.fromkeys(
        ("cli.answers", "cli.league", "cli.reports", "cli.status", "cli.work", "cli.follow",
         "cli.backups", "cli.output", "cli.main"),
        None,
    ),
}  # fmt: skip


def _reached(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every project module ``start`` imports, directly or not (late imports too), except the
    command groups ``cli.main`` imports to dispatch: each is checked on its own."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        for target in graph.get(module, set()) - seen:
            if not (module == "cli.main" and target in CLI_GROUPS):
                seen.add(target)
                todo.append(target)
    return seen


def test_each_command_reaches_only_the_worker_code_of_its_image() -> None:
    graph = _graph()
    assert {m for m in graph if m.startswith("cli.") and m != "cli.__main__"} == set(CLI_GROUPS)
    beyond = {}
    for group, allowed in CLI_GROUPS.items():
        workers = {m for m in _reached(graph, group) if m.startswith("workers.")}
        beyond[group] = sorted(m for m in workers if not allowed or not m.startswith(allowed))
    assert {group: modules for group, modules in beyond.items() if modules} == {}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_product_code_has_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ importing its submodules is not a cycle between modules.
    edges = {m: {i for i in imports if not m.startswith(f"{i}.")} for m, imports in graph.items()}
    assert _cycles(edges) == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    cycle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(cycle) == [["a", "b", "c", "a"]]
    late = tmp_path / "late.py"
    late.write_text("def f():\n    from workers.train import training\n")
    assert _imports(late) == {"workers.train", "workers.train.training"}

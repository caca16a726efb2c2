"""The runner's packages are layers: a module imports only from its own layer or the ones below.

Read from the source with ``ast`` (nothing is imported), so a function-level import counts too:
an upward import or an import cycle fails here, naming the modules, before it confuses a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

from runner.paths import PROJECT_ROOT

RUNNER = PROJECT_ROOT / "runner"

# Lowest first. The top-level modules (paths, errors, processes) and the Moodle schema facts
# are the base every layer may use.
LAYERS = (
    ("runner", "runner.paths", "runner.user_errors", "runner.processes", "runner.moodle_facts"),
    ("runner.postgres",),
    ("runner.moodle",),
    ("runner.dbt",),
    ("runner.publishing",),
    ("runner.generator",),
    ("runner.cli",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, best_length = None, -1
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_length:
                best, best_length = rank, len(prefix)
    assert best is not None, f"{module} belongs to no layer: add its package to LAYERS"
    return best


def imported_modules(path: Path, module: str) -> set[str]:
    """The runner and bench modules ``path`` imports, resolved to the module (not the name)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from runner.x import y`: y may be a module or a name in x; keep y when a module.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {name for name in found if name.split(".")[0] in ("runner", "bench")}


MODULES = {module_name(path): path for path in RUNNER.rglob("*.py")}
IMPORTS = {name: imported_modules(path, name) for name, path in MODULES.items()}


def test_every_runner_module_sits_in_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_module_imports_from_a_higher_layer():
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in sorted(IMPORTS.items())
        for target in sorted(targets)
        if target.startswith("bench") or layer_of(target) > layer_of(name)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    # Package __init__ modules are left out of the walk: importing runner.x.y imports runner.x
    # first by Python's rules, which is not a dependency the code chose.
    graph = {
        name: {t for t in targets if t in MODULES and t != name}
        for name, targets in IMPORTS.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_check_sees_imports_inside_functions():
    # The CLI imports most layers inside its commands (to start fast): those must be counted.
    assert "runner.publishing.tableau" in IMPORTS["runner.cli.commands"]
    assert "runner.postgres.admin" in IMPORTS["runner.postgres.embedded"]

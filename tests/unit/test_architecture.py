"""The package's shape, checked: no import cycle among its modules (imports inside functions and
``importlib.import_module`` by name included, ``TYPE_CHECKING`` blocks excluded), the engine importable
without pytest, and no module over 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "pytest_iotops"
#: modules over 400 lines (none since issue 13 split plugin.py and model.py)
OVERSIZED: set[str] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    tree = ast.parse(path.read_text())
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}

    def add(target: str, prefix: bool = False) -> None:
        # f"pkg.evidence.{name}": the modules it can name are the prefix plus a string constant of this file
        matches = [target + c for c in constants if target + c in modules] if prefix else [target]
        found.update(m for m in matches if m in modules)

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                add(alias.name)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            for alias in node.names:
                add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)

        def visit_Call(self, node: ast.Call) -> None:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "import_module" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    add(arg.value)
                elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                    add(str(arg.values[0].value), prefix=True)
            self.generic_visit(node)

    Visitor().visit(tree)
    found.discard(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # import_module by name is seen, with a constant or an f-string over the file's constants
    assert "pytest_iotops.deploy.targets" in graph["pytest_iotops.registry"]
    assert "pytest_iotops.gates.pyramid" in graph["pytest_iotops.registry"]
    assert "pytest_iotops.evidence.lcov" in graph["pytest_iotops.evidence.kinds"]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_new_module_over_400_lines() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name for name, lines in sizes.items() if lines > 400} <= OVERSIZED, sizes


def test_the_engine_imports_without_pytest() -> None:
    """Everything but the pytest wiring (plugin, fixtures, the xdist scheduler) imports without pytest."""
    wiring = {"pytest_iotops.fixtures", "pytest_iotops.fleet_fixtures", "pytest_iotops.xdist_scheduler"}
    engine = sorted(m for m in _modules() if m not in wiring and not m.startswith("pytest_iotops.plugin"))
    code = (
        "import sys, importlib\n"
        "sys.modules['pytest'] = None; sys.modules['_pytest'] = None\n"
        f"for name in {engine!r}:\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def _pipeline_writes(source: str) -> list[str]:
    """Assignments to an attribute of something named ``pipeline`` (``pipeline.x = ...``,
    ``self.pipeline.x += ...``): the state of a run changes through the Pipeline's own methods."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if not isinstance(target, ast.Attribute):
                continue
            owner = target.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "pipeline":
                found.append(f"line {node.lineno}: {ast.unparse(target)}")
    return found


def test_no_module_writes_the_pipelines_attributes() -> None:
    writes = {
        str(path.relative_to(ROOT)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "pipeline.py" and (hits := _pipeline_writes(path.read_text(encoding="utf-8")))
    }
    assert writes == {}


def test_the_write_finder_finds_them() -> None:
    source = "pipeline.shard = 1\nself.pipeline.progress += f\nx.pipeline = 2\nself.pipeline.report_progress(f)\n"
    assert _pipeline_writes(source) == ["line 1: pipeline.shard", "line 2: self.pipeline.progress"]


def test_no_function_of_complexity_grade_d_or_worse() -> None:
    """radon's grades: D starts at a cyclomatic complexity of 21. Such a function is split before it lands."""
    from radon.complexity import cc_rank, cc_visit

    def blocks(path: Path) -> list[str]:
        found = []
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if cc_rank(item.complexity) >= "D":
                    found.append(f"{path.relative_to(ROOT)}:{item.lineno} {item.name} ({item.complexity})")
        return found

    assert [b for path in sorted(PACKAGE.rglob("*.py")) for b in blocks(path)] == []

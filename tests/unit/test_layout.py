"""The package keeps the layout docs/architecture.md declares: no import cycle, and no
import that runs upward against its layers. Imports under `if TYPE_CHECKING:` count too,
since a type-only cycle is still two modules that cannot be read apart."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def declared_layers(doc: Path) -> list[list[str]]:
    """The ```layers block of docs/architecture.md: highest first, peers split by '|'."""
    block = re.search(r"```layers\n(.*?)```", doc.read_text(), re.S)
    assert block, f"{doc} declares no ```layers block"
    return [
        [part.strip() for part in line.split("|")]
        for line in block.group(1).splitlines()
        if line.strip()
    ]


def module_files(package_dir: Path) -> dict[str, Path]:
    found = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `name` imports, wherever in the file (absolute and
    relative imports alike)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != name}


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    files = module_files(package_dir)
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward_imports(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    """Imports from a module to one of a higher layer, or to a peer of the same layer."""
    top = next(iter(graph)).split(".")[0]
    rank = {f"{top}.{unit}": depth for depth, peers in enumerate(layers) for unit in peers}

    def unit_of(module: str) -> str | None:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else None

    wrong = []
    for source, targets in sorted(graph.items()):
        source_unit = unit_of(source)
        for target in sorted(targets):
            target_unit = unit_of(target)
            if source_unit is None or target_unit is None or source_unit == target_unit:
                continue
            for unit in (source_unit, target_unit):
                assert unit in rank, f"{unit} is in no layer of docs/architecture.md"
            if rank[target_unit] <= rank[source_unit]:
                wrong.append(f"{source} imports {target}")
    return wrong


def test_the_package_has_no_import_cycle():
    graph = import_graph(ROOT / "tap_leads")
    assert len(graph) > 30, "the package's modules were not found"
    assert cycles(graph) == []


def test_the_emulator_has_no_import_cycle():
    graph = import_graph(ROOT / "emulator")
    assert len(graph) > 15
    assert cycles(graph) == []


def test_no_module_imports_upward_against_the_declared_layers():
    layers = declared_layers(ROOT / "docs" / "architecture.md")
    graph = import_graph(ROOT / "tap_leads")
    assert upward_imports(graph, layers) == []


#: No module of the package, the emulator, the scripts or the benchmarks grows past this
#: many lines.
LINE_LIMIT = 330
CHECKED_FOLDERS = ("tap_leads", "emulator", "scripts", "benchmarks")


def long_files(root: Path, folders: tuple[str, ...], limit: int = LINE_LIMIT) -> list[str]:
    """Each Python file under the folders longer than `limit`, with its line count."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            lines = len(path.read_text().splitlines())
            if lines > limit:
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_file_is_over_the_line_limit():
    assert sum(1 for folder in CHECKED_FOLDERS for _ in (ROOT / folder).rglob("*.py")) > 60
    assert long_files(ROOT, CHECKED_FOLDERS) == []


def test_the_line_limit_reads_the_benchmarks_module_by_module():
    # The harness is split into a module per scenario; each is held to the same limit.
    scenarios = sorted(path.name for path in (ROOT / "benchmarks").glob("scenario_*.py"))
    assert len(scenarios) >= 6
    assert "benchmarks" in CHECKED_FOLDERS
    assert [name for name in long_files(ROOT, ("benchmarks",)) if "scenario_" in name] == []


#: Test modules may run longer, since each case spells out its data and expectations; past
#: this, split a module by what its tests exercise.
TEST_LINE_LIMIT = 500


def test_no_test_module_is_over_the_test_line_limit():
    assert sum(1 for _ in (ROOT / "tests").rglob("test_*.py")) > 60
    assert long_files(ROOT, ("tests",), TEST_LINE_LIMIT) == []


def test_every_subpackage_says_what_it_owns_and_may_import():
    for init in sorted((ROOT / "tap_leads").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in doc, f"{init.parent.name}/__init__.py does not say what it may import"


# ----- the checks themselves fail on planted faults --------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_a_planted_cycle_is_found(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/fetch.py": "from pkg.engine.pagination import Paginator\n",
            "engine/pagination.py": (
                "import typing as t\nif t.TYPE_CHECKING:\n    from pkg.engine import fetch\n"
            ),
            "output.py": "",
        },
    )
    assert cycles(import_graph(package)) == [["pkg.engine.fetch", "pkg.engine.pagination"]]


def test_a_planted_relative_cycle_is_found(tmp_path):
    package = _package(
        tmp_path,
        {"__init__.py": "", "server.py": "from . import control\n", "control.py": ""},
    )
    assert cycles(import_graph(package)) == []
    (package / "control.py").write_text("from .server import Emulator\n")
    assert cycles(import_graph(package)) == [["pkg.control", "pkg.server"]]


@pytest.mark.parametrize(
    ("importer", "line", "expected"),
    [
        (
            "output.py",
            "from pkg.engine import fetch\n",
            ["pkg.output imports pkg.engine", "pkg.output imports pkg.engine.fetch"],
        ),
        ("records.py", "from pkg.output import write\n", ["pkg.records imports pkg.output"]),
        ("engine/fetch.py", "from pkg import output\n", []),
    ],
)
def test_an_upward_import_is_found(tmp_path, importer, line, expected):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/fetch.py": "",
            "output.py": "",
            "records.py": "",
        },
    )
    (package / importer).write_text(line)
    layers = [["engine"], ["output", "records"]]
    assert upward_imports(import_graph(package), layers) == expected


def test_a_planted_long_file_is_found(tmp_path):
    package = _package(tmp_path, {"__init__.py": "", "short.py": "x = 1\n" * LINE_LIMIT})
    assert long_files(tmp_path, ("pkg",)) == []
    (package / "engine" / "long.py").parent.mkdir()
    (package / "engine" / "long.py").write_text("x = 1\n" * (LINE_LIMIT + 1))
    assert long_files(tmp_path, ("pkg",)) == [f"pkg/engine/long.py: {LINE_LIMIT + 1} lines"]


def test_a_planted_long_test_module_is_found(tmp_path):
    package = _package(tmp_path, {"test_long.py": "x = 1\n" * (LINE_LIMIT + 1)})
    assert long_files(tmp_path, ("pkg",), TEST_LINE_LIMIT) == []
    (package / "test_long.py").write_text("x = 1\n" * (TEST_LINE_LIMIT + 1))
    assert long_files(tmp_path, ("pkg",), TEST_LINE_LIMIT) == [
        f"pkg/test_long.py: {TEST_LINE_LIMIT + 1} lines"
    ]


def test_a_planted_emulator_cycle_is_found(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "from .server import Emulator\n",
            "server.py": "from .registry import Registry\n",
            "registry.py": "",
        },
    )
    assert cycles(import_graph(package)) == []
    # A submodule importing the package's own __init__ runs through everything it imports.
    (package / "registry.py").write_text("from . import store\n")
    (package / "store.py").write_text("")
    assert cycles(import_graph(package)) == [["pkg", "pkg.registry", "pkg.server"]]


#: What only a provider's own module may write: its headers, paths and key comparisons.
PROVIDER_FACTS = ("X-API-Key", "X-Tenant", "/v1/organizations", 'get("success")', 'key == "')


def provider_facts_outside_providers(package_dir: Path) -> list[str]:
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        if path.parent.name == "providers":
            continue
        text = path.read_text()
        found += [
            f"{path.relative_to(package_dir)}: {fact}" for fact in PROVIDER_FACTS if fact in text
        ]
    return found


def test_generic_modules_name_no_provider_header_path_or_key():
    assert provider_facts_outside_providers(ROOT / "tap_leads") == []


def test_a_planted_provider_header_is_found(tmp_path):
    package = _package(tmp_path, {"__init__.py": "", "providers/teli.py": "H = 'X-API-Key'\n"})
    assert provider_facts_outside_providers(package) == []
    (package / "transport.py").write_text("H = 'X-API-Key'\n")
    assert provider_facts_outside_providers(package) == ["transport.py: X-API-Key"]

"""The house plan holds: imports point one way (base modules <- models <- inference / training <-
media <- evaluation <- app <- cli), and no module imports itself back through others."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chromatize"
BASE = {"version", "fileio", "color", "metadata", "rowfiles", "images", "runtime", "degrade", "grids"}
RANKS = {"models": 1, "inference": 2, "training": 2, "media": 3, "evaluation": 4, "app": 5, "cli": 6,
         "chromatize": 6, "__main__": 7}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """{module: the chromatize modules it imports}, lazy imports inside functions included."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] +
                                ([node.module] if node.module else []))
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chromatize"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("chromatize")}
        edges[name] = {m for m in found if m in modules and m != name}
    return edges


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "chromatize"


def rank(module: str) -> int:
    return 0 if area(module) in BASE else RANKS[area(module)]


def test_every_area_has_a_place_in_the_plan():
    assert {area(m) for m in imports()} <= BASE | set(RANKS)


@pytest.mark.parametrize("importer", sorted(imports()))
def test_imports_point_down_the_layers(importer):
    for imported in imports()[importer]:
        lower = rank(imported) < rank(importer)
        same_room = area(imported) == area(importer) or rank(imported) == 0 == rank(importer)
        assert lower or same_room or (area(importer), area(imported)) == ("cli", "app"), \
            f"{importer} imports {imported} against the layers"


def test_no_import_cycles():
    edges = imports()
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(edges[module]):
            if state.get(imported) == 1:
                cycle = path[path.index(imported):] + [imported]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if imported not in state:
                visit(imported, path + [imported])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])

"""The architecture as a test: each layer imports only the layers below it (README, STYLE.md).

`cli` > `api` > `web` > `services` > `schemas` > `models` > `domain` > `core`. Inside `services`
the domain packages may use each other; `domain` imports nothing of ours at all.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["cli", "api", "web", "services", "schemas", "models", "domain", "core"]
RANK = {name: rank for rank, name in enumerate(LAYERS)}
OURS = {*LAYERS, "migrations", "tests", "bench"}


def imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports, wherever the import stands (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add("<relative>")  # we import absolutely, so a layer is always named
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found & (OURS | {"<relative>"})


def modules_of(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_layers_below_it(layer: str) -> None:
    upward = {
        f"{path.relative_to(ROOT)} imports {package}"
        for path in modules_of(layer)
        for package in imported_packages(path)
        if package not in RANK or RANK[package] < RANK[layer]
    }
    assert not upward, sorted(upward)


def test_domain_layer_needs_nothing_of_ours() -> None:
    reaching = {
        f"{path.relative_to(ROOT)} imports {package}"
        for path in modules_of("domain")
        for package in imported_packages(path) - {"domain"}
    }
    assert not reaching, sorted(reaching)


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "hidden.py"
    module.write_text("def late():\n    from api import main\n    import services.filings\n")
    assert imported_packages(module) == {"api", "services"}


def test_no_module_imports_relatively() -> None:
    relative = [
        str(path.relative_to(ROOT))
        for layer in [*LAYERS, "migrations", "bench", "tests"]
        for path in modules_of(layer)
        if "<relative>" in imported_packages(path)
    ]
    assert not relative


def test_migrations_need_only_the_tables_and_below() -> None:
    allowed = {"migrations", "models", "domain", "core"}
    reaching = {
        f"{path.relative_to(ROOT)} imports {package}"
        for path in modules_of("migrations")
        for package in imported_packages(path) - allowed
    }
    assert not reaching, sorted(reaching)


def test_benchmarks_do_not_lean_on_the_tests() -> None:
    leaning = [
        str(p.relative_to(ROOT)) for p in modules_of("bench") if "tests" in imported_packages(p)
    ]
    assert not leaning

"""The architecture as a test: which package may import which, no cycles, no module over 500 lines.

Data flows one way: catalogue → fetcher → normaliser → store → evaluate → web, exports and alerts. `fetchers/` (the
source clients and normalisers) reads only monitor's core; `monitor.sources` is the one package that uses fetchers.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from support.paths import REPO

# Each package and the packages it may import (besides itself). Everything imports monitor.core.
ALLOWED: dict[str, set[str]] = {
    "monitor": set(),
    "monitor.core": set(),
    "fetchers": {"monitor.core"},
    "monitor.catalogue": {"monitor.core"},
    "monitor.store": {"monitor.core"},
    "monitor.seed": {"monitor.core", "monitor.catalogue", "monitor.store"},
    "monitor.sources": {"monitor.core", "monitor.catalogue", "monitor.store", "fetchers"},
    # fetchers: Miljødirektoratet's workbook has one layout reader (fetchers.miljodir), used by the scheduled download
    # and by `monitor import` of the same file; fetchers import only monitor.core, so this adds no cycle.
    "monitor.imports": {"monitor.core", "monitor.catalogue", "monitor.store", "fetchers"},
    "monitor.evaluate": {"monitor.core", "monitor.catalogue", "monitor.store", "monitor.sources"},
    "monitor.report": {"monitor.core", "monitor.catalogue", "monitor.store", "monitor.sources", "monitor.evaluate",
                       "monitor.seed"},
    "monitor.alerts": {"monitor.core", "monitor.catalogue", "monitor.store", "monitor.sources", "monitor.evaluate"},
    "monitor.service": {"monitor.core", "monitor.store", "monitor.sources"},
    "web": {"monitor.core", "monitor.catalogue", "monitor.store", "monitor.sources", "monitor.evaluate",
            "monitor.imports", "monitor.report"},
    "monitor.cli": {"monitor", "monitor.core", "monitor.catalogue", "monitor.store", "monitor.seed", "monitor.sources",
                    "monitor.imports", "monitor.evaluate", "monitor.report", "monitor.alerts", "monitor.service", "web"},
}
# Within monitor.sources and web, only these modules may name fetchers or the scheduler's internals; and
# monitor.imports.miljodir, which reads a person's copy of Miljødirektoratet's workbook with the fetch's layout reader.
FETCHER_USERS = {"monitor.sources.pipeline", "monitor.sources.registry", "monitor.sources.online",
                 "monitor.sources.kostra", "monitor.imports.miljodir"}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> list[tuple[str, Path]]:
    paths = [p for package in ("monitor", "fetchers", "web") for p in sorted((REPO / package).rglob("*.py"))]
    return [(module_name(p), p) for p in paths]


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "monitor" and len(parts) > 1 else parts[0]


def project_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] in {"monitor", "fetchers", "web"}}


MODULES = all_modules()


@pytest.mark.parametrize("name,path", MODULES, ids=lambda v: str(v))
def test_each_module_imports_only_what_its_package_may(name: str, path: Path) -> None:
    package = package_of(name)
    assert package in ALLOWED, f"{name}: the package {package} has no entry in ALLOWED"
    outside = {package_of(i) for i in project_imports(path)} - {package}
    assert outside <= ALLOWED[package], f"{name} imports {sorted(outside - ALLOWED[package])}"


@pytest.mark.parametrize("name,path", MODULES, ids=lambda v: str(v))
def test_only_the_fetch_pipeline_names_fetchers(name: str, path: Path) -> None:
    if name.startswith("fetchers") or name in FETCHER_USERS:
        return
    assert not {i for i in project_imports(path) if i.startswith("fetchers")}, name


@pytest.mark.parametrize("name,path", MODULES, ids=lambda v: str(v))
def test_every_module_imports_and_stays_small(name: str, path: Path) -> None:
    importlib.import_module(name)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_the_allowed_imports_have_no_cycle() -> None:
    seen: dict[str, int] = {}

    def visit(package: str, trail: tuple[str, ...]) -> None:
        assert package not in trail, f"cycle: {' → '.join(trail + (package,))}"
        if seen.get(package) == 2:
            return
        for other in ALLOWED.get(package, set()) - {"monitor"}:
            visit(other, trail + (package,))
        seen[package] = 2

    for package in ALLOWED:
        visit(package, ())


def test_monitor_is_sub_packages_with_few_loose_modules() -> None:
    packages = [p for p in (REPO / "monitor").iterdir() if (p / "__init__.py").exists()]
    loose = list((REPO / "monitor").glob("*.py"))
    assert len(packages) >= 5 and len(loose) <= 6
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{package.name}/__init__.py says in one sentence what the package is for"


def test_no_bare_except_anywhere() -> None:
    for _, path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.ExceptHandler) and node.type is None), f"bare except in {path}"

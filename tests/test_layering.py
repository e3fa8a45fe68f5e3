"""Data flows one way: catalogue → fetcher → normaliser → store → evaluate → web, exports and alerts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

# Modules of `monitor` allowed to import `fetchers` (the composition roots).
COMPOSITION_ROOTS = {"monitor.sources.registry.pipeline", "monitor.cli.main", "monitor.sources.online", "monitor.sources.registry", "monitor.sources.kostra"}
FETCHERS_MAY_IMPORT = {"monitor.core.model", "monitor.core.errors", "monitor.catalogue.indicators"}


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] in {"monitor", "fetchers", "web"}}


def modules(package: str) -> list[tuple[str, Path]]:
    return [(f"{package}.{path.stem}", path) for path in sorted((REPO / package).glob("*.py"))]


@pytest.mark.parametrize("name,path", modules("fetchers"), ids=lambda v: str(v))
def test_fetchers_import_only_model_errors_and_catalogue(name: str, path: Path) -> None:
    outside = {i for i in project_imports(path) if not i.startswith("fetchers")}
    assert outside <= FETCHERS_MAY_IMPORT, f"{name} imports {sorted(outside - FETCHERS_MAY_IMPORT)}"


@pytest.mark.parametrize("name,path", modules("monitor"), ids=lambda v: str(v))
def test_only_composition_roots_import_fetchers(name: str, path: Path) -> None:
    if name in COMPOSITION_ROOTS:
        return
    assert not {i for i in project_imports(path) if i.startswith("fetchers")}, name


@pytest.mark.parametrize("name,path", modules("monitor"), ids=lambda v: str(v))
def test_model_and_errors_import_nothing_local(name: str, path: Path) -> None:
    if name in ("monitor.core.model", "monitor.core.errors"):
        assert project_imports(path) == set()


@pytest.mark.parametrize("name,path", modules("web"), ids=lambda v: str(v))
def test_web_never_imports_fetchers_or_the_scheduler(name: str, path: Path) -> None:
    imported = project_imports(path)
    assert not {i for i in imported if i.startswith("fetchers") or i == "monitor.service.scheduler"}, name


def test_no_bare_except_anywhere() -> None:
    for package in ("monitor", "fetchers", "web"):
        for _, path in modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                assert not (isinstance(node, ast.ExceptHandler) and node.type is None), f"bare except in {path}"

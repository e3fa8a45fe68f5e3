"""Helpers shared by the import, template and Miljødirektoratet tests: the import catalogue and file writers."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from .paths import FIXTURES
from monitor.catalogue.indicators import Catalogue, load_catalogue

IMPORT_CATALOGUE = FIXTURES / "catalogue" / "imports.yaml"


def import_catalogue() -> Catalogue:
    return load_catalogue(IMPORT_CATALOGUE)


def write_csv(tmp_path: Path, text: str, name: str = "import.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_bytes(
    rows: list[list[Any]], sheet: str = "Import", edit: Callable[[Any], None] | None = None, extra_sheets: tuple[str, ...] = ()
) -> bytes:
    workbook = Workbook()
    active = workbook.active
    assert active is not None
    active.title = sheet
    for row in rows:
        active.append(row)
    for name in extra_sheets:
        workbook.create_sheet(name)
    if edit is not None:
        edit(active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "import.xlsx", **options: Any) -> Path:
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(rows, **options))
    return path


def relative(problems: list[str], tmp_path: Path) -> list[str]:
    """Problems with the tmp directory cut off, so they read `import.csv:3: …`."""
    return [problem.replace(str(tmp_path) + "/", "") for problem in problems]

"""Issue 17 §16: the catalogue error outside the repository names MONITOR_CATALOGUE; the KOSTRA CSV's header
row names its first column."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.catalogue.indicators import load_catalogue
from monitor.core.errors import CatalogueError
from monitor.report.kostra_export import table_rows


def test_a_missing_catalogue_hints_at_monitor_catalogue(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(tmp_path / "indicators.yaml")
    assert "kan ikke lese katalogen" in str(raised.value) and "MONITOR_CATALOGUE" in str(raised.value)


def test_the_kostra_csv_header_names_its_first_column() -> None:
    class Table:
        title, headings, lines, footnotes = "Oppvekst", ["Asker 2024", "Bærum"], [], []

    assert table_rows(Table())[1] == ["Nøkkeltall", "Asker 2024", "Bærum"]  # type: ignore[arg-type]

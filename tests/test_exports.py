"""Årsrapport exports: the seed's printed cells reproduced as printed, --as-of from vintages, XLSX, CSV and HTML."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner

from support.paths import REPO, SEED_PATH
from support.catalogues import baseline_cell_count
from monitor.cli.main import cli
from monitor.seed.handlingsprogram import DelmalRow, IndicatorRow, PlaceholderRow, parse_area_tables

OSLO = ZoneInfo("Europe/Oslo")


class TableReader(HTMLParser):
    """Collects each <table>: its caption and rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = "".join(self._caption)
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)  # type: ignore[union-attr]
            self._row = None

    def handle_data(self, data: str) -> None:
        for target in (self._cell, self._caption):
            if target is not None:
                target.append(data)


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"MONITOR_DB": str(tmp_path / "x.db"), "MONITOR_CATALOGUE": str(REPO / "indicators.yaml")}
    assert CliRunner().invoke(cli, ["init"], env=values).exit_code == 0
    return values


def export(env: dict[str, str], tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"arsrapport.{fmt}"
    result = CliRunner().invoke(cli, ["export", "arsrapport", "--from", "2019", "--to", "2022", "--format", fmt,
                                      "--out", str(out), *extra], env=env)
    assert result.exit_code == 0, result.output
    return out


def test_html_reproduces_every_seed_table_as_printed(env: dict[str, str], tmp_path: Path) -> None:
    reader = TableReader()
    reader.feed(export(env, tmp_path, "html").read_text(encoding="utf-8"))
    seed_tables = parse_area_tables(SEED_PATH.read_text(encoding="utf-8"))
    assert [t["caption"] for t in reader.tables] == [t.title for t in seed_tables]
    compared = 0
    for html_table, seed_table in zip(reader.tables, seed_tables):
        rows = html_table["rows"]
        assert rows[0] == [seed_table.hovedmal]
        assert rows[1] == ["Indikator", "2019", "2020", "2021", "2022"]
        expected: list[list[str]] = []
        for row in seed_table.rows:
            if isinstance(row, DelmalRow):
                expected.append([row.text])
            elif isinstance(row, PlaceholderRow):
                expected.append([row.text])
            else:
                assert isinstance(row, IndicatorRow)
                expected.append([row.name, *row.cells])
        got = rows[2:]
        assert [r[0] for r in got] == [r[0] for r in expected], seed_table.title
        for got_row, want_row in zip(got, expected):
            if len(want_row) == 5:
                assert [squash(c) for c in got_row[1:]] == [squash(c) for c in want_row[1:]], want_row[0]
                compared += 4
    assert compared == baseline_cell_count()  # every printed cell of the baseline


def test_as_of_gives_the_old_value_before_a_revision_and_the_new_after(env: dict[str, str], tmp_path: Path) -> None:
    revision = tmp_path / "rettet.csv"
    revision.write_text("indicator_id;period;value\nsykefravaer;2022;9,4\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", str(revision), "--by", "kari"], env=env).exit_code == 0
    today = datetime.now(OSLO).date()

    def cell(out: Path) -> list[str]:
        reader = TableReader()
        reader.feed(out.read_text(encoding="utf-8"))
        return next(r for t in reader.tables for r in t["rows"] if r[0] == "Sykefraværsprosent")  # type: ignore[union-attr]

    before = export(env, tmp_path, "html", "--as-of", (today - timedelta(days=1)).isoformat())
    assert cell(before)[-1] == "9,3\u00a0%"
    after = export(env, tmp_path, "html", "--as-of", today.isoformat())
    assert cell(after)[-1] == "9,4\u00a0%¹"
    text = after.read_text(encoding="utf-8")
    assert "¹ Revidert etter at Handlingsprogram 2024–2027 ble vedtatt." in text
    assert f"Data per {today.strftime('%d.%m.%Y')}" in text
    # Before the handlingsprogram was adopted (12 December 2023) nothing was known yet: every year was past its
    # release date and grace period, so each empty cell says «mangler».
    early = export(env, tmp_path, "html", "--as-of", "2023-12-01")
    assert cell(early)[1:] == ["mangler", "mangler", "mangler", "mangler"]


def test_xlsx_has_real_numbers_formats_bold_delmal_and_a_frozen_header(env: dict[str, str], tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(export(env, tmp_path, "xlsx"))
    assert len(workbook.sheetnames) == 8 and workbook.sheetnames[0] == "Økonomi"
    sheet = workbook["Økonomi"]
    assert sheet["A1"].value == "ØKONOMI" and sheet.freeze_panes == "B4"
    assert [c.value for c in sheet[3]] == ["Indikator", 2019, 2020, 2021, 2022]
    assert sheet["A4"].font.bold and sheet["A4"].value == "Asker kommune har en god økonomisk bærekraft"
    netto = next(row for row in sheet.iter_rows(min_row=5) if str(row[0].value).startswith("Netto driftsresultat"))
    assert netto[4].value == -0.7 and isinstance(netto[4].value, float)
    assert netto[4].number_format == '#,##0.0" %"'
    maintenance = next(row for row in sheet.iter_rows(min_row=5) if str(row[0].value).startswith("Vedlikehold"))
    assert maintenance[1].value == "Ikke målt" and maintenance[2].value == 115
    assert maintenance[2].number_format == '#,##0" kr/m²"'
    assert sheet.column_dimensions["A"].width == 80
    numbers = [c.value for s in workbook for row in s.iter_rows(min_row=4) for c in row[1:5]
               if isinstance(c.value, (int, float))]
    with (REPO / "monitor" / "data" / "baseline.csv").open(encoding="utf-8") as handle:
        printed = list(csv.DictReader(handle))
    assert len(numbers) == sum(1 for row in printed if row["value"])  # every printed number is a number


def test_csv_is_utf8_bom_semicolons(env: dict[str, str], tmp_path: Path) -> None:
    raw = export(env, tmp_path, "csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["ØKONOMI"] and rows[2] == ["Indikator", "2019", "2020", "2021", "2022"]
    assert ["Sykefraværsprosent", "Ikke målt", "7,7\u00a0%", "8,4\u00a0%", "9,3\u00a0%"] in rows


@pytest.mark.skipif(
    shutil.which("soffice") is None and os.environ.get("CI") != "true",
    reason="LibreOffice is installed by `make test` (install-test); in CI a missing soffice fails this test",
)
def test_csv_opens_in_libreoffice_with_the_right_columns(env: dict[str, str], tmp_path: Path) -> None:
    source = export(env, tmp_path, "csv")
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--infilter=CSV:59,34,76,1",
         "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo-out"), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    sheet = openpyxl.load_workbook(tmp_path / "lo-out" / "arsrapport.xlsx").active
    rows = [[c.value for c in row] for row in sheet.iter_rows(max_row=8)]
    assert rows[0][0] == "ØKONOMI" and rows[2][:5] == ["Indikator", 2019, 2020, 2021, 2022]
    assert rows[4][0].startswith("Disposisjonsfond")


def test_evaluation_export(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "evaluering.csv"
    result = CliRunner().invoke(cli, ["export", "evaluering", "--format", "csv", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    header = ["Indikator", "Periode", "Siste verdi", "Mål", "Tilstand", "Måloppnåelse", "Forklaring", "Fremgang",
              "Forklaring av fremgangen"]
    # Grouped as the årsrapport tables: a block per satsingsområde (title, hovedmål, header, delmål rows).
    assert rows[0] == ["ØKONOMI"] and rows[1] == ["Asker er en økonomisk robust og bærekraftig kommune"]
    assert rows[2] == header and rows[3] == ["Asker kommune har en god økonomisk bærekraft"]
    netto = next(r for r in rows if r[0].startswith("Netto driftsresultat"))
    assert netto[1:4] == ["2022", "-0,7\u00a0%", "Ønsket > 3 %, laveste akseptable 1,75–3 %, ikke godkjent < 1,75 %"]
    assert netto[5] == "ikke nådd" and netto[4].startswith("forsinket")
    assert rows.count(header) == 8
    assert len([r for r in rows if len(r) == len(header) and r != header]) == 88


def test_bad_year_span_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "arsrapport", "--from", "2022", "--to", "2019", "--format", "csv",
                                      "--out", str(tmp_path / "x.csv")], env=env)
    assert result.exit_code == 1 and "ikke et gyldig spenn" in result.stderr
    assert not (tmp_path / "x.csv").exists()

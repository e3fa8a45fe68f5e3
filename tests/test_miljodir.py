from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.checks import file_digest
from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue, load_fixture_baseline
from support.import_helpers import import_catalogue, relative, write_xlsx
from support.miljodir_workbook import ASKER_TOTALS, FIXTURE, HEADER, build, detail_rows
from monitor.catalogue.indicators import Catalogue
from monitor.cli.main import cli
from monitor.core.errors import ImportFileError
from monitor.imports.indicators import import_file
from monitor.store.database import Store

PRINTED = [("2019", 232966.0), ("2020", 219333.0), ("2021", 214899.0), ("2022", 212196.0)]
SHEET = "'Oversikt - detaljert'"


@pytest.fixture
def catalogue() -> Catalogue:
    return import_catalogue()


def workbook(tmp_path: Path, data: bytes, name: str = "utslipp.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_committed_fixture_sums_to_the_printed_totals(store: Store, catalogue: Catalogue, now: datetime) -> None:
    result = import_file(store, catalogue, FIXTURE, now=now, actor="kari")
    assert (result.rows, result.new_vintages, result.source, result.periods) == (4, 4, "import:miljodir", ("2019", "2020", "2021", "2022"))
    latest = store.latest("direkte_klimagassutslipp")
    assert [(v.period, v.value) for v in latest] == PRINTED
    assert {(v.region, v.source) for v in latest} == {("3203", "import:miljodir")}
    [run] = store.runs()
    assert (run["source"], run["target"], run["actor"], run["file_name"]) == (
        "import:miljodir", FIXTURE.name, "kari", FIXTURE.name
    )
    assert run["file_sha256"] == result.sha256


def test_matching_the_baseline_adds_nothing(now: datetime, tmp_path: Path) -> None:
    real = load_behaviour_catalogue()  # real-shaped: direkte_klimagassutslipp as in indicators.yaml
    with Store(tmp_path / "m.db") as store:
        store.migrate()
        load_fixture_baseline(store, real, now, tmp_path)
        before = file_digest(store.path)
        result = import_file(store, real, FIXTURE, now=now, actor="kari", fmt="miljodir")
        assert (result.rows, result.new_vintages, result.run_id) == (4, 0, None)
        assert file_digest(store.path) == before


def test_a_newer_file_adds_a_year_and_revises_one(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    import_file(store, catalogue, FIXTURE, now=now, actor="kari")
    totals = {**ASKER_TOTALS, 2022: Decimal("212500.5"), 2023: Decimal("205000")}
    path = workbook(tmp_path, build(rows=detail_rows(asker_totals=totals)))
    assert import_file(store, catalogue, path, now=now, actor="ola").new_vintages == 2
    assert [v.value for v in store.vintages("direkte_klimagassutslipp") if v.period == "2022"] == [212196.0, 212500.5]
    assert store.latest("direkte_klimagassutslipp")[-1].period == "2023"


def _renumber(number: Any) -> list[list[Any]]:
    return [[row[0], number, *row[2:]] if row[2] == "Asker" else row for row in detail_rows()]


@pytest.mark.parametrize(
    "label,options",
    [
        ("number as a number cell", {"rows": _renumber(3203)}),
        ("the 2020–2023 code", {"rows": _renumber("3025")}),
        ("code with name", {"rows": _renumber("3203 Asker")}),
        ("no number column, name only", {
            "header": [h for h in HEADER if h != "Kommunenummer"],
            "rows": [[r[0], *r[2:]] for r in detail_rows()],
        }),
        ("CO₂ with subscript", {"header": HEADER[:-1] + ["Utslipp (tonn CO₂-ekvivalenter)"]}),
        ("title rows above the header", {"title_rows": 2}),
    ],
)
def test_layout_variants(label: str, options: dict[str, Any], store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    import_file(store, catalogue, workbook(tmp_path, build(**options)), now=now, actor=None)
    assert [(v.period, v.value) for v in store.latest("direkte_klimagassutslipp")] == PRINTED


def _formula(sheet: Any) -> None:
    for row in sheet.iter_rows(min_row=2):
        if row[2].value == "Asker":
            row[7].value = "=1000*2"
            return


def _text_in_amount(sheet: Any) -> None:
    for row in sheet.iter_rows(min_row=2):
        if row[2].value == "Asker" and row[3].value == 2021:
            row[7].value = "ca. 500"
            return


def _sum_row(sheet: Any) -> None:
    sheet.append(["Akershus", "3203", "Asker", 2022, "Totalt", "Totalt", "Alle", 212196.0])


def _other_code_same_year(sheet: Any) -> None:
    sheet.append(["Viken", "3025", "Asker", 2022, "Veitrafikk", "Personbiler", "CO2", 10.0])


def _bad_year(sheet: Any) -> None:
    sheet.append(["Akershus", "3203", "Asker", "2022/23", "Veitrafikk", "Personbiler", "CO2", 10.0])


def _negative(sheet: Any) -> None:
    sheet.append(["Akershus", "3203", "Asker", 2022, "Veitrafikk", "Personbiler", "CO2", -300000.0])


def _asker_rows_removed() -> list[list[Any]]:
    return [row for row in detail_rows() if row[2] != "Asker"]


BAD: list[tuple[str, bytes, str]] = [
    ("wrong sheet", build(sheet="Ark1"),
     "utslipp.xlsx: fant ikke arket «Oversikt - detaljert» (arkene heter «Oversikt - sektorfordelt», «Ark1»); er dette "
     "Miljødirektoratets utslippsstatistikk_alle_kommuner.xlsx?"),
    ("missing columns", build(header=["Fylke", "Kommunenummer", "Kommune", "År", "Sektor", "Utslipp"]),
     f"utslipp.xlsx:{SHEET}!A1: mangler kolonne(r) Utslipp (tonn CO₂-ekvivalenter) (fant 'Fylke', 'Kommunenummer', "
     "'Kommune', 'År', 'Sektor', 'Utslipp')"),
    ("no header", build(header=["Fylke", "Kommunenummer", "Kommune", "Year"]),
     f"utslipp.xlsx:{SHEET}!A1: fant ikke overskriftsraden (med «År» og «Utslipp (tonn CO₂-ekvivalenter)») i de første 10 radene"),
    ("no Asker row", build(rows=_asker_rows_removed()),
     f"utslipp.xlsx:{SHEET}!A2: fant ingen rader for Asker (kommunenummer 0220, 3025, 3203 eller navnet «Asker»)"),
    ("formula in an Asker row", build(edit=_formula),
     f"utslipp.xlsx:{SHEET}!H154: cellen inneholder en formel (=1000*2); skriv inn selve verdien (lim inn som «Verdier»)"),
    ("text in an amount", build(edit=_text_in_amount), f"utslipp.xlsx:{SHEET}!H192: utslippet 'ca. 500' er ikke et tall"),
    ("a sum row", build(edit=_sum_row),
     f"utslipp.xlsx:{SHEET}!E230: «Totalt» ser ut som en sumrad; arket skal ha én rad per sektor, utslippskilde og gass"),
    ("two codes in one year", build(edit=_other_code_same_year),
     f"utslipp.xlsx:{SHEET}!B211: Asker står med flere kommunenumre for 2022 (3025, 3203); summen ville telle utslippene to ganger"),
    ("a year that is not a year", build(edit=_bad_year), f"utslipp.xlsx:{SHEET}!D230: året '2022/23' er ikke et årstall (ÅÅÅÅ)"),
    ("a negative total", build(edit=_negative),
     f"utslipp.xlsx:{SHEET}!H211: direkte_klimagassutslipp: verdien -87804.00 er utenfor tillatt område 0– for enheten 'amount'"),
]


@pytest.mark.parametrize("label,data,message", BAD, ids=[case[0] for case in BAD])
def test_bad_workbook_is_refused_with_a_located_message(
    label: str, data: bytes, message: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    import_file(store, catalogue, FIXTURE, now=now, actor="kari")
    before = file_digest(store.path)
    with pytest.raises(ImportFileError) as caught:
        import_file(store, catalogue, workbook(tmp_path, data), now=now, actor="kari", fmt="miljodir")
    assert relative(caught.value.problems, tmp_path)[0] == message
    assert file_digest(store.path) == before


def test_a_csv_is_not_a_miljodir_file(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = tmp_path / "utslipp.csv"
    path.write_text("Kommune;År\nAsker;2022\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="Miljødirektoratets fil er en Excel-fil"):
        import_file(store, catalogue, path, now=now, actor=None, fmt="miljodir")


def test_auto_detection_needs_the_sheet_and_no_import_sheet(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="fant ikke arket «Import»"):
        import_file(store, catalogue, FIXTURE, now=now, actor=None, fmt="standard")
    plain = write_xlsx(tmp_path, [["indicator_id", "period", "value"], ["sykefravaer", 2023, 9.1]], extra_sheets=("Oversikt - detaljert",))
    assert import_file(store, catalogue, plain, now=now, actor=None).source == "import"


def test_miljodir_through_the_cli(tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
           "MONITOR_BASELINE": str(baseline_for(load_behaviour_catalogue(), tmp_path)), "MONITOR_TIMEZONE": "Europe/Oslo"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    newer = workbook(tmp_path, build(rows=detail_rows(asker_totals={**ASKER_TOTALS, 2023: Decimal("205000.25")})))
    result = runner.invoke(cli, ["import", str(newer), "--by", "kari"], env=env)
    assert result.exit_code == 0, result.output
    assert "Miljødirektoratet, 5 år (2019–2023), 1 ny verdi lagret" in result.stdout and "av kari" in result.stdout
    rows = {row["id"]: row for row in json.loads(runner.invoke(cli, ["status", "--format", "json"], env=env).stdout)}
    assert (rows["direkte_klimagassutslipp"]["latest_period"], rows["direkte_klimagassutslipp"]["value"]) == ("2023", 205000.25)
    bad = workbook(tmp_path, build(sheet="Ark1"), name="feil.xlsx")
    before = file_digest(Path(env["MONITOR_DB"]))
    result = runner.invoke(cli, ["import", str(bad), "--format", "miljodir"], env=env)
    assert result.exit_code == 2 and "fant ikke arket «Oversikt - detaljert»" in result.stderr
    assert file_digest(Path(env["MONITOR_DB"])) == before

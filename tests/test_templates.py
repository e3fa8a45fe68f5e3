from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner

from support.checks import file_digest
from support.catalogues import BEHAVIOUR_CATALOGUE, baseline_for, load_behaviour_catalogue
from support.import_helpers import import_catalogue
from monitor.catalogue.indicators import Catalogue, Indicator, Unit
from monitor.cli.main import cli
from monitor.core.errors import ImportFileError, MonitorError
from monitor.imports.indicators import import_file
from monitor.core.model import Vintage
from monitor.store.database import Store
from monitor.imports.templates import (
    COLUMNS,
    expected_periods,
    find_source,
    held_values,
    import_sources,
    render_csv,
    render_xlsx,
    slugify,
    template_rows,
)

TODAY = date(2026, 11, 27)


@pytest.fixture
def catalogue() -> Catalogue:
    return import_catalogue()


def held(*cells: tuple[str, float | None, str | None]) -> dict[str, Vintage]:
    return {
        period: Vintage(0, "x", "3203", period, value, status, "baseline", None, "2023-12-12", None, None)
        for period, value, status in cells
    }


VALUES_2019_2022 = held(("2019", 15.1, None), ("2020", 18.1, None), ("2021", 18.0, None), ("2022", 14.8, None))
NOT_MEASURED = "not_measured"


@pytest.mark.parametrize(
    "name,slug",
    [("Asker kommune", "asker-kommune"), ("Medarbeiderundersøkelsen, KS", "medarbeiderundersokelsen-ks"),
     ("NHO Kommune-NM", "nho-kommune-nm"), ("Innovasjon Norge og Forskningsrådet", "innovasjon-norge-og-forskningsradet"),
     ("Miljødirektoratet", "miljodirektoratet"), ("Bærum", "baerum")],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_sources_are_those_with_import_indicators(catalogue: Catalogue) -> None:
    sources = {source.name: [i.id for i in source.indicators] for source in import_sources(catalogue)}
    assert "SSB 12143" not in sources  # fetched from SSB
    assert sources["Kommunehelse statistikkbank"] == ["drikkevann_prover"]  # the FHI-fetched one is left out
    assert sources["Elevundersøkelsen"] == ["trivsel_skolen"]  # Udir stays importable as a fallback
    assert sources["Asker kommune"] == ["sykefravaer", "matsvinn_per_innbygger"]


def test_find_source_by_name_or_slug(catalogue: Catalogue) -> None:
    assert find_source(catalogue, "asker KOMMUNE").name == "Asker kommune"
    assert find_source(catalogue, "medarbeiderundersokelsen-ks").name == "Medarbeiderundersøkelsen, KS"
    assert find_source(catalogue, "NHO Kommune-NM").slug == "nho-kommune-nm"
    with pytest.raises(MonitorError, match="hentes automatisk"):
        find_source(catalogue, "SSB 12143")
    with pytest.raises(MonitorError, match="ukjent kilde «Statens vegvesen»; `monitor template --list`"):
        find_source(catalogue, "Statens vegvesen")


@pytest.mark.parametrize(
    "ident,cells,periods",
    [
        ("sykefravaer", VALUES_2019_2022, ["2019", "2020", "2021", "2022", "2023", "2024", "2025", "2026"]),
        ("sykefravaer", {}, ["2023", "2024", "2025", "2026"]),
        ("medarbeiderskap", held(("2019", None, NOT_MEASURED), ("2020", None, NOT_MEASURED), ("2021", 4.2, None),
                                 ("2022", None, NOT_MEASURED)), ["2019", "2021", "2023", "2025"]),
        ("fornoyd_lokalmiljo_ungdom", held(("2019", 70.0, None), ("2020", None, NOT_MEASURED), ("2022", 70.0, None)),
         ["2019", "2022", "2025"]),
        ("pavirke_beslutninger", held(("2019", None, NOT_MEASURED), ("2021", 2.5, None)), ["2021", "2025"]),
        ("medarbeiderskap", held(("2019", None, NOT_MEASURED)), [""]),  # waves with nothing to anchor them
        ("matsvinn_per_innbygger", held(("2019", None, NOT_MEASURED), ("2021", 41.0, None)), ["2021", ""]),
        ("reiser_sykkel", held(("2019", None, NOT_MEASURED), ("2022", None, NOT_MEASURED)), [""]),
        ("drikkevann_prover", held(("2022", 99.9, None), ("2018-2020", 99.5, None)),
         ["2022", "2023", "2024", "2025", "2026", "2018-2020"]),
    ],
)
def test_expected_periods_per_frequency(catalogue: Catalogue, ident: str, cells: dict[str, Vintage], periods: list[str]) -> None:
    assert expected_periods(catalogue.get(ident), cells, 2026) == periods


def template_for(catalogue: Catalogue, name: str, cells: dict[str, dict[str, Vintage]] | None = None) -> tuple[Any, list[Any]]:
    source = find_source(catalogue, name)
    return source, template_rows(source, cells or {}, TODAY.year)


def test_csv_template_is_norwegian_excel_friendly(catalogue: Catalogue) -> None:
    _, rows = template_for(catalogue, "Asker kommune", {"sykefravaer": VALUES_2019_2022,
                                                        "matsvinn_per_innbygger": held(("2021", 41.0, None))})
    data = render_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == ";".join(COLUMNS)
    assert lines[1].startswith("sykefravaer;Sykefraværsprosent;2019;15,1;;;;andel i prosent (%);0–100;årlig")
    assert "matsvinn_per_innbygger;Matsvinn per innbygger, kg;;;;;;mengde;≥ 0;sporadisk – skriv årstallet selv i period" in lines
    assert len(lines) == 1 + 8 + 2 + 1  # header, 2019–2026, 2021 and a free row, trailing CRLF


def test_xlsx_template_has_import_and_guide_sheets(catalogue: Catalogue) -> None:
    source, rows = template_for(catalogue, "Medarbeiderundersøkelsen, KS", {"medarbeiderskap": held(("2021", 4.2, None),
                                                                                                 ("2022", None, NOT_MEASURED))})
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(source, rows, TODAY, "3203")))
    assert workbook.sheetnames == ["Import", "Veiledning"]
    sheet = workbook["Import"]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == list(COLUMNS)
    assert [(row[2], row[3]) for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("2021", 4.2), ("2023", None), ("2025", None)
    ]
    assert sheet.data_validations.dataValidation[0].formula1 == '"Ikke målt,Tall kommer"'
    guide = "\n".join(str(row[0] or "") for row in workbook["Veiledning"].iter_rows(values_only=True))
    assert guide.startswith("Importmal for Medarbeiderundersøkelsen, KS")
    for phrase in ("Ikke målt", "Tall kommer", "Formler godtas ikke", "sha256", "Import!E12", "hoppes over"):
        assert phrase in guide


SAMPLE = {Unit.SHARE: "42,5", Unit.PERCENT: "12,5", Unit.PERCENTAGE_POINTS: "-1,5", Unit.COUNT: "3", Unit.RATE: "5,5",
          Unit.AMOUNT: "1234,5", Unit.RANK: "7", Unit.INDEX: "0,5"}


def sample_value(indicator: Indicator) -> str:
    if indicator.unit is Unit.SCALE:
        assert indicator.scale is not None
        return f"{indicator.scale[0] + 1},5"
    return SAMPLE[indicator.unit]


def fill_csv(data: bytes, year: int) -> tuple[bytes, dict[str, tuple[str, float]]]:
    """Fill the last row of each indicator (writing the year into a free period); return what was filled."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    last: dict[str, int] = {}
    for index, row in enumerate(body):
        last[row[0]] = index
    filled: dict[str, tuple[str, float]] = {}
    catalogue = {i.id: i for i in import_catalogue().indicators} | {i.id: i for i in load_behaviour_catalogue().indicators}
    for ident, index in last.items():
        row = body[index]
        if not row[header.index("period")]:
            row[header.index("period")] = str(year)
        row[header.index("value")] = sample_value(catalogue[ident])
        filled[ident] = (row[header.index("period")], float(row[header.index("value")].replace(",", ".")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, *body])
    return out.getvalue().encode("utf-8-sig"), filled


def fill_xlsx(path: Path, year: int) -> dict[str, tuple[str, float]]:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Import"]
    header = [cell.value for cell in sheet[1]]
    last: dict[str, int] = {}
    for line in range(2, sheet.max_row + 1):
        last[str(sheet.cell(line, 1).value)] = line
    catalogue = {i.id: i for i in import_catalogue().indicators} | {i.id: i for i in load_behaviour_catalogue().indicators}
    filled: dict[str, tuple[str, float]] = {}
    for ident, line in last.items():
        period = sheet.cell(line, header.index("period") + 1)
        if not period.value:
            period.value = str(year)
        value = float(sample_value(catalogue[ident]).replace(",", "."))
        sheet.cell(line, header.index("value") + 1).value = value  # a number cell, as Excel stores it
        filled[ident] = (str(period.value), value)
    workbook.save(path)
    return filled


def test_a_filled_template_imports_and_an_empty_one_is_refused(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    source, rows = template_for(catalogue, "Asker kommune")
    path = tmp_path / "mal.csv"
    path.write_bytes(render_csv(rows))
    before = file_digest(store.path)
    with pytest.raises(ImportFileError, match="ingen rad har verdi eller status"):
        import_file(store, catalogue, path, now=now, actor="kari")
    assert file_digest(store.path) == before
    data, filled = fill_csv(render_csv(rows), TODAY.year)
    path.write_bytes(data)
    result = import_file(store, catalogue, path, now=now, actor="kari")
    assert result.rows == len(filled) == 2 and len(result.skipped) == len(rows) - 2
    assert {(v.indicator_id, v.period, v.value) for v in store.latest()} == {(i, p, v) for i, (p, v) in filled.items()}
    assert held_values(store, catalogue)["sykefravaer"]["2026"].value == 42.5


# -- the command line: template → fill in → import → status ---------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_CATALOGUE": str(BEHAVIOUR_CATALOGUE),
            "MONITOR_BASELINE": str(baseline_for(load_behaviour_catalogue(), tmp_path)), "MONITOR_TIMEZONE": "Europe/Oslo"}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def status_by_id(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    code, out, _ = run(env, "status", "--format", "json")
    assert code == 0
    return {row["id"]: row for row in json.loads(out)}


@pytest.mark.parametrize("fmt,source", [("csv", "Asker kommune"), ("xlsx", "ungdata"), ("xlsx", "nho-kommune-nm")])
def test_template_round_trip_through_the_cli(env: dict[str, str], tmp_path: Path, fmt: str, source: str) -> None:
    assert run(env, "init")[0] == 0
    out = tmp_path / f"mal.{fmt}"
    code, text, _ = run(env, "template", source, "--out", str(out))
    assert code == 0 and f"monitor import {out}" in text
    year = datetime.now(ZoneInfo("Europe/Oslo")).year
    if fmt == "csv":
        data, filled = fill_csv(out.read_bytes(), year)
        out.write_bytes(data)
    else:
        filled = fill_xlsx(out, year)
    code, text, _ = run(env, "import", str(out), "--by", "kari")
    assert code == 0 and f"{len(filled)} {'ny verdi' if len(filled) == 1 else 'nye verdier'} lagret" in text and "av kari" in text and "hoppet over" in text
    rows = status_by_id(env)
    for ident, (period, value) in filled.items():
        assert (rows[ident]["latest_period"], rows[ident]["value"]) == (period, value), ident
    code, text, _ = run(env, "import", str(out), "--by", "kari")
    assert code == 0 and "ingen endringer" in text


def test_template_cli_lists_refuses_to_overwrite_and_works_without_a_database(env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(env, "template", "--list")
    assert code == 0 and "asker-kommune" in out and "Miljødirektoratet" in out and "SSB 12143" not in out
    target = tmp_path / "asker.xlsx"
    code, out, err = run(env, "template", "Asker kommune", "--out", str(target))
    assert code == 0 and "ingen database" in err and target.exists()
    code, _, err = run(env, "template", "Asker kommune", "--out", str(target))
    assert code == 1 and "finnes fra før" in err
    assert run(env, "template", "Asker kommune", "--out", str(target), "--force")[0] == 0
    code, out, _ = run(env, "template", "miljodirektoratet", "--out", str(tmp_path / "m.csv"))
    assert code == 0 and "monitor import utslippsstatistikk_alle_kommuner.xlsx" in out
    assert (tmp_path / "m.csv").read_bytes().startswith(b"\xef\xbb\xbfindicator_id;")
    code, _, err = run(env, "template")
    assert code == 2 and "oppgi en kilde" in err
    code, _, err = run(env, "template", "Ukjent kilde")
    assert code == 1 and "ukjent kilde" in err


def test_who_imported_comes_from_by_then_the_setting_then_the_login(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(env, "init")
    monkeypatch.setattr("getpass.getuser", lambda: "innlogget")
    for number, (extra_env, args, who) in enumerate([
        ({}, ["--by", "kari"], "kari"),
        ({"MONITOR_IMPORT_BY": "planavdelingen"}, [], "planavdelingen"),
        ({}, [], "innlogget"),
    ]):
        path = tmp_path / f"fil{number}.csv"
        path.write_text(f"indicator_id;period;value\nsykefravaer;2023;{9 + number}\n", encoding="utf-8")
        code, out, _ = run({**env, **extra_env}, "import", str(path), *args)
        assert code == 0 and f"av {who}" in out
    with Store(env["MONITOR_DB"]) as store:
        runs = [run for run in store.runs() if run["source"] == "import"]
    assert [(r["actor"], r["file_name"]) for r in reversed(runs)] == [
        ("kari", "fil0.csv"), ("planavdelingen", "fil1.csv"), ("innlogget", "fil2.csv")
    ]
    assert all(len(r["file_sha256"]) == 64 and r["started_at"] for r in runs)

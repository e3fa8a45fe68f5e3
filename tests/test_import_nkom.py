"""Nkom's yearly coverage workbook on the import path: Asker's three values by name, all or nothing."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from support.auth_helpers import csrf_token, logged_in, make_app
from support.catalogues import PRODUCTION_CATALOGUE, baseline_for, production_catalogue
from support.checks import file_digest
from support.nkom_workbook import (
    ASKER_VALUES,
    FIXED_GROUPS,
    FIXED_ROWS,
    FIXED_SHEET,
    MOBILE_GROUPS,
    MOBILE_ROWS,
    MOBILE_SHEET,
    NAME,
    Raw,
    asker_line,
    build,
    replaced,
)
from monitor.catalogue.indicators import Catalogue
from monitor.cli.main import cli
from monitor.core.errors import ImportFileError
from monitor.imports.indicators import import_file
from monitor.store.database import Store

IDS = ("bredband_100mbit", "fiber_1gb", "dekning_5g")
ASKER = ("ASKER", "VIKEN")
AT_100, AT_1000 = 9, 10  # «≥ 100» and «≥ 1000» under «Hastighet - alle teknologier …» (L and M), counted from C
LINE = asker_line()


@pytest.fixture
def catalogue() -> Catalogue:
    return production_catalogue()


def workbook(tmp_path: Path, data: bytes, name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(store: Store, catalogue: Catalogue, path: Path, now: datetime, fmt: str = "auto") -> list[str]:
    """The problems of a refused import, with the tmp directory cut off; checks that nothing was stored."""
    with pytest.raises(ImportFileError) as caught:
        import_file(store, catalogue, path, now=now, actor="kari", fmt=fmt)
    assert store.runs() == [] and all(store.vintages(ident) == [] for ident in IDS)
    return [problem.replace(str(path.parent) + "/", "") for problem in caught.value.problems]


def test_the_three_values_for_asker_are_stored_for_the_half_year(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = workbook(tmp_path, build())
    result = import_file(store, catalogue, path, now=now, actor="kari")
    assert (result.rows, result.new_vintages, result.source, result.periods) == (3, 3, "import:nkom", ("2022",))
    latest = {v.indicator_id: v for v in store.latest() if v.indicator_id in IDS}
    # The real 1H2022 Asker cells: L (≥ 100) 95,5 %, M (≥ 1000) 94,7 %, J of the mobile table (old-method 5G) 100,0 %.
    assert {ident: (v.period, v.region, v.value, v.source) for ident, v in latest.items()} == {
        ident: ("2022", "3203", value, "import:nkom") for ident, value in ASKER_VALUES.items()
    }
    [run] = store.runs()
    assert (run["source"], run["file_name"], run["actor"], run["file_sha256"]) == ("import:nkom", NAME, "kari", result.sha256)
    again = import_file(store, catalogue, path, now=now, actor="kari", fmt="nkom")
    assert (again.rows, again.new_vintages, again.run_id) == (3, 0, None)


def test_the_column_choices_against_the_print(catalogue: Catalogue) -> None:
    """Printed 2022 (Handlingsprogram 2024–2027): 100 Mbit 98 %, fiber/1GB 95 %, 5G 60 % (0 decimals).

    «≥ 1000» reproduces the fiber figure (94,7 → 95) where «Fiber» does not (83,0 → 83); «≥ 100» gives 96, not 98, and
    no 5G column gives 60 (82,9 / 44,9 / 100,0): both differences are named in indicators.yaml and docs/sources.md.
    """
    fiber_column, at_1000 = FIXED_ROWS[ASKER][0], FIXED_ROWS[ASKER][AT_1000]
    assert (round(float(at_1000 or 0)), round(float(fiber_column or 0))) == (95, 83)
    assert round(ASKER_VALUES["fiber_1gb"]) == 95 and round(ASKER_VALUES["bredband_100mbit"]) == 96
    assert all(catalogue.by_id[ident].decimals == 0 and catalogue.by_id[ident].fetch is None for ident in IDS)


def _rename_group(groups: list[tuple[str, int, list[str]]], old: str, new: str) -> list[tuple[str, int, list[str]]]:
    return [(new if title == old else title, first, labels) for title, first, labels in groups]


def _relabel(groups: list[tuple[str, int, list[str]]], title: str, old: str, new: str) -> list[tuple[str, int, list[str]]]:
    return [(name, first, [new if name == title and label == old else label for label in labels])
            for name, first, labels in groups]


def _drop_fylke(book: Workbook) -> None:
    book[FIXED_SHEET]["B4"] = "Region"


ALL = "Hastighet - alle teknologier på fast bredbånd"
OLD = "Tidligere års metode (- 110 dBm) (utendørsdekning)"
FIXED_AT = f"{NAME}:{FIXED_SHEET}"


@pytest.mark.parametrize("options,expected", [
    ({"fixed_groups": _rename_group(FIXED_GROUPS, ALL, "Hastighet alle teknologier")},
     f"{FIXED_AT}!A4: tabellen «Dekning for fast bredbånd på kommunenivå» (arket «{FIXED_SHEET}») mangler kolonnen "
     f"«≥ 100» under «{ALL}» (bredband_100mbit); har Nkom endret tabellen?"),
    ({"fixed_groups": _relabel(FIXED_GROUPS, ALL, "≥ 1000", "≥ 1 Gbit/s")},
     f"{FIXED_AT}!A4: tabellen «Dekning for fast bredbånd på kommunenivå» (arket «{FIXED_SHEET}») mangler kolonnen "
     f"«≥ 1000» under «{ALL}» (fiber_1gb); har Nkom endret tabellen?"),
    ({"mobile_groups": _rename_group(MOBILE_GROUPS, OLD, "Ny metode")},
     f"{NAME}:{MOBILE_SHEET}!A4: tabellen «Dekning for 4G og 5G på kommunenivå» (arket «{MOBILE_SHEET}») mangler "
     "kolonnen «5G» under «Tidligere års metode (- 110 dBm)» (dekning_5g); har Nkom endret tabellen?"),
    ({"fixed_groups": [(title, first, labels + ["≥ 100"] if title == ALL else labels) for title, first, labels in FIXED_GROUPS]},
     f"{FIXED_AT}!A4: tabellen «Dekning for fast bredbånd på kommunenivå» (arket «{FIXED_SHEET}») har mer enn én kolonne "
     f"«≥ 100» under «{ALL}» (bredband_100mbit); har Nkom endret tabellen?"),
    ({"edit": _drop_fylke},
     f"{FIXED_AT}!A1: fant ikke overskriftsraden med «Kommune» og «Fylke» i de første 10 radene av tabellen "
     f"«Dekning for fast bredbånd på kommunenivå» (arket «{FIXED_SHEET}»)"),
    ({"mobile_title": "Dekning for mobil"},
     f"{NAME}: fant ikke tabellen «Dekning for 4G og 5G på kommunenivå» i arbeidsboken (arkene heter "
     "«Dekning_fbb_fylker_husstander», «Dekning_mob_fylker_husstander», «Dekning_fbb_kommuner_husstander», "
     "«Dekning_mob_kommuner_husstander», «Abonnement»); er dette Nkoms årlige fil om dekning og abonnement "
     "(vedlegg_dekning_og_abonnement_…xlsx)?"),
])
def test_a_changed_layout_fails_whole_with_one_sentence(
    options: dict[str, Any], expected: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    assert refused(store, catalogue, workbook(tmp_path, build(**options)), now) == [expected]


def test_a_missing_asker_row_stores_nothing_from_the_other_table(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    rows = {key: values for key, values in FIXED_ROWS.items() if key != ASKER}
    assert refused(store, catalogue, workbook(tmp_path, build(fixed_rows=rows)), now) == [
        f"{FIXED_AT}!A5: tabellen «Dekning for fast bredbånd på kommunenivå» (arket «{FIXED_SHEET}») har ingen rad for "
        "Asker («ASKER» i kolonnen «Kommune»)"
    ]


def test_asker_twice_is_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    rows = {**FIXED_ROWS, ("ASKER", "AKERSHUS"): FIXED_ROWS[ASKER]}
    [problem] = refused(store, catalogue, workbook(tmp_path, build(fixed_rows=rows)), now)
    assert problem.endswith(f"Asker står på flere rader i tabellen «Dekning for fast bredbånd på kommunenivå» "
                            f"(arket «{FIXED_SHEET}») (rad {LINE} VIKEN, rad 9 AKERSHUS); bare én rad kan leses")


@pytest.mark.parametrize("cell", ["", Raw("–"), Raw("-")])
def test_a_blank_cell_is_no_value_never_zero(
    cell: Any, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = workbook(tmp_path, build(fixed_rows=replaced(FIXED_ROWS, ASKER, AT_100, cell)))
    result = import_file(store, catalogue, path, now=now, actor="kari")
    assert (result.rows, result.new_vintages, result.skipped) == (2, 2, (LINE,))
    assert store.vintages("bredband_100mbit") == []
    assert [v.value for v in store.vintages("fiber_1gb")] == [94.7]


def test_all_three_blank_is_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    fixed = replaced(replaced(FIXED_ROWS, ASKER, AT_100, ""), ASKER, AT_1000, "")
    mobile = replaced(MOBILE_ROWS, ASKER, 7, "")
    assert refused(store, catalogue, workbook(tmp_path, build(fixed_rows=fixed, mobile_rows=mobile)), now) == [
        f"{NAME}: Nkoms tabeller har ingen verdi for Asker i 2022 i noen av de tre kolonnene; ingenting å importere"
    ]


def test_percent_typed_as_text_with_a_decimal_comma(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = workbook(tmp_path, build(fixed_rows=replaced(FIXED_ROWS, ASKER, AT_100, Raw("95,5 %"))))
    import_file(store, catalogue, path, now=now, actor="kari")
    assert [v.value for v in store.vintages("bredband_100mbit")] == [95.5]


@pytest.mark.parametrize("cell,problem", [
    (Raw(0.955), "cellen har tallet 0.955 uten prosentformat; Nkoms tabell viser prosent (f.eks. 95,5 %) – er kolonnen endret?"),
    (Raw("٩٥,٥ %"), "'٩٥,٥' har tegnet «٩» (U+0669), som ikke er et av sifrene 0–9; skriv det med vanlige sifre"),
    (Raw("95.500 %"), "'95.500' kan leses som 95500 (skilletegnet som tusenskille) eller 95,500 (som desimaltegn); "
                      "skriv 95500 for tusentallet eller 95,5000 for desimaltallet"),
    (Raw("95,5"), "verdien '95,5' er ikke en prosent (Nkom skriver f.eks. «95,5 %»)"),
    (Raw("=L5"), "cellen inneholder en formel (=L5); skriv inn selve verdien (lim inn som «Verdier»)"),
])
def test_a_bad_cell_is_refused_at_its_cell(
    cell: Any, problem: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = workbook(tmp_path, build(fixed_rows=replaced(FIXED_ROWS, ASKER, AT_100, cell)))
    assert refused(store, catalogue, path, now) == [f"{FIXED_AT}!L{LINE}: bredband_100mbit: {problem}"]


def test_a_value_above_100_percent_is_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = workbook(tmp_path, build(mobile_rows=replaced(MOBILE_ROWS, ASKER, 7, "9550")))
    [problem] = refused(store, catalogue, path, now)
    assert problem.startswith(f"{NAME}:{MOBILE_SHEET}!J{LINE}: dekning_5g: verdien 9550 er utenfor tillatt område 0–100")


def _hide_asker(book: Workbook) -> None:
    book[FIXED_SHEET].row_dimensions[LINE].hidden = True


def _hide_sheet(book: Workbook) -> None:
    book[MOBILE_SHEET].sheet_state = "hidden"


def _hide_column(book: Workbook) -> None:
    book[FIXED_SHEET].column_dimensions["L"].hidden = True


@pytest.mark.parametrize("edit,start", [
    (_hide_asker, f"{FIXED_AT}!A{LINE}: rad {LINE} er skjult i Excel"),
    (_hide_column, f"{FIXED_AT}!L4: kolonne L er skjult i Excel"),
    (_hide_sheet, f"{NAME}: fant ikke tabellen «Dekning for 4G og 5G på kommunenivå» i de synlige arkene "
                  "(«Dekning_fbb_fylker_husstander», «Dekning_mob_fylker_husstander», «Dekning_fbb_kommuner_husstander», "
                  f"«Abonnement»); arket «{MOBILE_SHEET}» er skjult og leses ikke – står tabellen der, vis arket og "
                  "kontroller tallene"),
])
def test_hidden_rows_columns_and_sheets_are_refused(
    edit: Any, start: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    problems = refused(store, catalogue, workbook(tmp_path, build(edit=edit)), now, fmt="nkom")
    assert problems[0].startswith(start), problems


def _title_year(book: Workbook) -> None:
    book[MOBILE_SHEET]["A2"] = "Tettbygd og spredtbygd samlet, 1. halvår 2023"


def test_the_year_comes_from_the_title_rows_or_nkoms_file_name(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    nameless = workbook(tmp_path, build(), name="dekning.xlsx")
    assert refused(store, catalogue, nameless, now) == [
        "dekning.xlsx: fant ikke hvilket halvår målingen gjelder (verken tabelltitlene eller filnavnet har f.eks. "
        "«1h2022»); gi filen Nkoms eget navn, som vedlegg_dekning_og_abonnement_1h2022.xlsx, og importer den på nytt"
    ]
    clash = workbook(tmp_path, build(edit=_title_year))
    assert refused(store, catalogue, clash, now) == [f"{NAME}: tabelltitlene gjelder 2023, men filnavnet 2022; gi filen riktig navn"]
    titled = workbook(tmp_path, build(edit=_title_year), name="dekning.xlsx")
    assert import_file(store, catalogue, titled, now=now, actor="kari").periods == ("2023",)


def test_a_workbook_from_before_the_merger_is_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = workbook(tmp_path, build(), name="vedlegg_dekning_og_abonnement_1h2019.xlsx")
    assert refused(store, catalogue, path, now) == [
        "vedlegg_dekning_og_abonnement_1h2019.xlsx: arbeidsboken gjelder 2019, før kommunesammenslåingen i 2020; "
        "raden ASKER er da den gamle kommunen (0220), ikke dagens Asker, og importeres ikke"
    ]


def test_the_import_format_and_miljodir_are_not_taken_for_nkom(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def add_import_sheet(book: Workbook) -> None:
        sheet = book.create_sheet("Import", 0)
        sheet.append(["indicator_id", "period", "value"])
        sheet.append(["bredband_100mbit", 2023, 97])

    csv = tmp_path / "nkom.csv"
    csv.write_text("ASKER;VIKEN;83,0 %\n", encoding="utf-8")
    assert refused(store, catalogue, csv, now, fmt="nkom") == [
        "nkom.csv: Nkoms dekningsstatistikk er en Excel-fil (.xlsx); denne er ikke det"
    ]
    both = workbook(tmp_path, build(edit=add_import_sheet))
    assert import_file(store, catalogue, both, now=now, actor="kari").source == "import"


def test_the_web_form_imports_the_workbook(tmp_path: Path) -> None:
    app = make_app(tmp_path, catalogue=PRODUCTION_CATALOGUE)
    editor = logged_in(app, "erik")
    data = build()

    def post(token: str, fmt: str = "auto") -> Any:
        return editor.post("/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "format": fmt, "fil": (io.BytesIO(data), NAME)})

    db = Path(app.config["MONITOR_SETTINGS"].db)
    before = file_digest(db)
    assert post("feil-token").status_code == 400 and file_digest(db) == before
    page = editor.get("/import").get_data(as_text=True)
    assert '<option value="nkom">Nkoms dekning og abonnement' in page
    response = post(csrf_token(editor, "/import"))
    shown = response.get_data(as_text=True)
    assert response.status_code == 200, shown
    assert "3 rader, 3 nye verdier lagret" in shown and "Nkom: dekningen i 2022" in shown
    with Store(db) as store:
        assert {(v.indicator_id, v.period, v.value) for v in store.latest() if v.indicator_id in IDS} == {
            (ident, "2022", value) for ident, value in ASKER_VALUES.items()
        }
        [run] = store.runs()
        assert (run["actor"], run["source"], run["file_name"]) == ("erik", "import:nkom", NAME)
    broken = build(fixed_rows={key: values for key, values in FIXED_ROWS.items() if key != ASKER})
    again = editor.post("/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(editor, "/import"), "format": "nkom", "fil": (io.BytesIO(broken), NAME)})
    text = again.get_data(as_text=True)
    assert again.status_code == 422 and "1 feil – ingenting ble endret" in text and "har ingen rad for Asker" in text


def test_the_cli_imports_the_workbook(tmp_path: Path) -> None:
    catalogue = production_catalogue()
    env = {"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_CATALOGUE": str(PRODUCTION_CATALOGUE),
           "MONITOR_BASELINE": str(baseline_for(catalogue, tmp_path)), "MONITOR_TIMEZONE": "Europe/Oslo"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    path = workbook(tmp_path, build())
    result = runner.invoke(cli, ["import", str(path), "--by", "kari"], env=env)
    assert result.exit_code == 0, result.output
    assert "Nkom 2022, 3 rader, 3 nye verdier lagret" in result.stdout
    rows = {row["id"]: row for row in json.loads(runner.invoke(cli, ["status", "--format", "json"], env=env).stdout)}
    assert {ident: (rows[ident]["latest_period"], rows[ident]["value"], rows[ident]["path"]) for ident in IDS} == {
        ident: ("2022", value, "import") for ident, value in ASKER_VALUES.items()
    }
    bad = workbook(tmp_path, build(mobile_title="Noe annet"), name="vedlegg_dekning_og_abonnement_1h2023.xlsx")
    before = file_digest(Path(env["MONITOR_DB"]))
    result = runner.invoke(cli, ["import", str(bad), "--format", "nkom"], env=env)
    assert result.exit_code == 2 and "fant ikke tabellen «Dekning for 4G og 5G på kommunenivå»" in result.stderr
    assert file_digest(Path(env["MONITOR_DB"])) == before


def test_a_hidden_sheet_that_is_not_read_is_accepted(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    def hidden_helper(book: Workbook) -> None:
        helper = book.create_sheet("Hjelp")
        helper["A1"] = "Dekning for 4G og 5G på kommunenivå"  # a copy of a title, hidden: never read
        helper.sheet_state = "veryHidden"

    path = workbook(tmp_path, build(edit=hidden_helper))
    assert import_file(store, catalogue, path, now=now, actor="kari").rows == 3


def test_the_template_for_nkom_points_at_the_workbook(tmp_path: Path) -> None:
    env = {"MONITOR_DB": str(tmp_path / "m.db"), "MONITOR_CATALOGUE": str(PRODUCTION_CATALOGUE), "MONITOR_TIMEZONE": "Europe/Oslo"}
    result = CliRunner().invoke(cli, ["template", "NKOM", "--out", str(tmp_path / "nkom.csv")], env=env)
    assert result.exit_code == 0, result.output
    assert "Tips: Nkoms egen årlige fil kan importeres direkte: monitor import vedlegg_dekning_og_abonnement_1hÅÅÅÅ.xlsx" in result.stdout

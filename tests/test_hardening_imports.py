"""Issue 16, imports: nothing imported that the planner cannot see in Excel, and no number read two ways.

1. A hidden (or very hidden) «Import» sheet, and hidden rows or columns with content in it, are refused by
   `monitor import`, the web upload and `monitor kostra import`; Miljødirektoratet's workbook is refused only when
   the sheet actually read is hidden (its hidden rows are its own table, summed whole).
2. A lone separator before exactly three digits ('1.748', '1,748') is refused as ambiguous unless the indicator
   shows three decimals or the workbook cell is a number; digits other than 0–9 are refused in values, periods
   and regions (float() and re's \\d accept them).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook

from support.auth_helpers import csrf_token, logged_in, make_app
from support.checks import file_digest
from support.import_helpers import import_catalogue, relative, write_csv
from support.miljodir_workbook import ASKER_TOTALS, build, detail_rows
from support.paths import REPO
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.catalogue.kostra import load_kostra
from monitor.cli.main import cli
from monitor.core.errors import ImportFileError
from monitor.imports.indicators import import_file, parse_value
from monitor.imports.kostra import import_kostra_file
from monitor.store.database import Store

HEADER = ["indicator_id", "period", "value"]
SHOWN = [HEADER, ["sykefravaer", 2023, 5.1]]  # what a planner sees in Excel
HIDDEN = [HEADER, ["sykefravaer", 2023, 9.9]]  # what used to be imported
HIDDEN_SHEET = ("import.xlsx:Import!A1: arket «Import» er skjult, så den som åpner filen i Excel ser ikke tallene som ville "
                "blitt importert; vis arket (høyreklikk på en arkfane → Vis …), kontroller tallene og lagre filen på nytt")


@pytest.fixture
def catalogue() -> Catalogue:
    return import_catalogue()


def workbook_bytes(
    import_rows: list[list[Any]], *, state: str = "visible", shown: list[list[Any]] | None = None,
    edit: Callable[[Any], None] | None = None, sheet: str = "Import",
) -> bytes:
    """A workbook whose sheet `sheet` holds `import_rows` in `state`; `shown` goes on a visible first sheet «Ark1»."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    if shown is not None:
        first.title = "Ark1"
        for row in shown:
            first.append(row)
        target = workbook.create_sheet(sheet)
    else:
        first.title = sheet
        target = first
    for row in import_rows:
        target.append(row)
    target.sheet_state = state
    if edit is not None:
        edit(target)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_book(tmp_path: Path, data: bytes, name: str = "import.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def db_path(app: Flask) -> Path:
    return Path(app.config["MONITOR_SETTINGS"].db)


def upload(client: FlaskClient, data: bytes, name: str) -> Any:
    """POST a file to the import page as the form does (format «auto»)."""
    return client.post("/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/import"), "format": "auto", "fil": (io.BytesIO(data), name),
    })


def refusal(store: Store, catalogue: Catalogue, path: Path, now: datetime, tmp_path: Path) -> list[str]:
    """The problems of an import that must be refused, after checking that it changed nothing."""
    before = file_digest(store.path)
    with pytest.raises(ImportFileError) as caught:
        import_file(store, catalogue, path, now=now, actor="kari")
    assert file_digest(store.path) == before
    return relative(caught.value.problems, tmp_path)


# -- 1. hidden sheets, rows and columns -------------------------------------------------------------------


@pytest.mark.parametrize("state,words", [
    ("hidden", "arket «Import» er skjult, så den som åpner filen i Excel ser ikke tallene"),
    ("veryHidden", "arket «Import» er helt skjult («very hidden»), så den som åpner filen i Excel ser ikke tallene"),
])
def test_a_hidden_import_sheet_is_refused(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path, state: str, words: str
) -> None:
    import_file(store, catalogue, write_csv(tmp_path, "indicator_id;period;value\nsykefravaer;2022;6,0\n"), now=now, actor="kari")
    path = write_book(tmp_path, workbook_bytes(HIDDEN, state=state, shown=SHOWN))
    [problem] = refusal(store, catalogue, path, now, tmp_path)
    assert problem.startswith(f"import.xlsx:Import!A1: {words}")
    assert [(v.period, v.value) for v in store.latest("sykefravaer")] == [("2022", 6.0)]


def test_the_same_workbook_with_the_sheet_shown_is_imported(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = write_book(tmp_path, workbook_bytes(HIDDEN, shown=SHOWN))
    import_file(store, catalogue, path, now=now, actor="kari")
    assert [(v.period, v.value) for v in store.latest("sykefravaer")] == [("2023", 9.9)]


def test_monitor_import_of_a_hidden_sheet_exits_non_zero_and_changes_no_byte(catalogue: Catalogue, tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    with Store(db) as store:
        store.migrate()
    env = {"MONITOR_DB": str(db), "MONITOR_CATALOGUE": str(REPO / "tests" / "fixtures" / "catalogue" / "imports.yaml"),
           "MONITOR_TIMEZONE": "Europe/Oslo"}
    good = write_csv(tmp_path, "indicator_id;period;value\nsykefravaer;2022;6,0\n")
    assert CliRunner().invoke(cli, ["import", str(good), "--by", "kari"], env=env).exit_code == 0
    before = file_digest(db)
    hidden = write_book(tmp_path, workbook_bytes(HIDDEN, state="hidden", shown=SHOWN))
    result = CliRunner().invoke(cli, ["import", str(hidden), "--by", "kari"], env=env)
    assert result.exit_code == 2, result.output
    assert f"{hidden}:Import!A1: arket «Import» er skjult" in result.stderr
    assert file_digest(db) == before


def test_the_web_upload_refuses_a_hidden_sheet(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    editor = logged_in(app, "erik")
    before = file_digest(db_path(app))
    response = upload(editor, workbook_bytes(HIDDEN, state="hidden", shown=SHOWN), "import.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "arket «Import» er skjult, så den som åpner filen i Excel ser ikke tallene" in page
    assert file_digest(db_path(app)) == before
    with Store(db_path(app)) as store:
        assert store.latest("sykefravaer") == []


def test_a_hidden_row_with_content_is_refused_with_its_row(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    def hide(sheet: Any) -> None:
        sheet.row_dimensions[3].hidden = True

    rows = [HEADER, ["sykefravaer", 2022, 6.0], ["sykefravaer", 2023, 9.9], ["medarbeiderskap", 2023, 4.1]]
    problems = refusal(store, catalogue, write_book(tmp_path, workbook_bytes(rows, edit=hide)), now, tmp_path)
    assert problems == [
        "import.xlsx:Import!A3: rad 3 er skjult i Excel, men har innhold som ville blitt importert; vis raden (merk "
        "radene rundt → høyreklikk → Vis, eller fjern filteret) og kontroller den"
    ]


def with_sheet_xml(data: bytes, old: str, new: str) -> bytes:
    """The workbook with `old` replaced by `new` in its first sheet's XML (what openpyxl cannot write)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            archive.writestr(info, content)
    return target.getvalue()


@pytest.mark.parametrize("old,new,where", [
    ('<row r="2"', '<row r="2" ht="0" customHeight="1"', "A2: rad 2 er skjult i Excel"),
    ("<sheetData>", '<cols><col min="2" max="2" width="0" customWidth="1"/></cols><sheetData>', "B1: kolonne B er skjult i Excel"),
])
def test_a_row_or_column_of_size_zero_counts_as_hidden(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path, old: str, new: str, where: str
) -> None:
    data = with_sheet_xml(workbook_bytes([HEADER, ["sykefravaer", 2023, 9.9]]), old, new)
    [problem] = refusal(store, catalogue, write_book(tmp_path, data), now, tmp_path)
    assert problem.startswith(f"import.xlsx:Import!{where}")


def test_a_hidden_column_with_content_is_refused_with_its_cell(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    def hide(sheet: Any) -> None:
        sheet.column_dimensions["C"].hidden = True

    rows = [HEADER, ["sykefravaer", 2023, 9.9]]
    problems = refusal(store, catalogue, write_book(tmp_path, workbook_bytes(rows, edit=hide)), now, tmp_path)
    assert problems == [
        "import.xlsx:Import!C1: kolonne C er skjult i Excel, men har innhold som ville blitt importert; vis kolonnen "
        "(merk kolonnene rundt → høyreklikk → Vis) og kontroller den"
    ]


def test_hidden_empty_rows_and_columns_change_nothing_and_are_accepted(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def hide(sheet: Any) -> None:
        sheet.column_dimensions.group("E", "H", hidden=True)  # unused columns tidied away
        sheet.row_dimensions[4].hidden = True  # an empty row between the data

    rows = [HEADER, ["sykefravaer", 2022, 6.0], ["sykefravaer", 2023, 9.9], [], ["medarbeiderskap", 2023, 4.1]]
    result = import_file(store, catalogue, write_book(tmp_path, workbook_bytes(rows, edit=hide)), now=now, actor="kari")
    assert result.rows == 3


def test_a_hidden_sheet_elsewhere_in_the_workbook_is_not_read_and_not_refused(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Import"
    for row in [HEADER, ["sykefravaer", 2023, 5.1]]:
        sheet.append(row)
    workbook.create_sheet("Hjelpeark").sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_file(store, catalogue, write_book(tmp_path, buffer.getvalue()), now=now, actor="kari")
    assert [(v.period, v.value) for v in store.latest("sykefravaer")] == [("2023", 5.1)]


def test_kostra_import_refuses_a_hidden_sheet(store: Store, now: datetime, tmp_path: Path) -> None:
    kostra = load_kostra(REPO / "kostra.yaml")
    rows = [["indicator_id", "region", "period", "value"], ["kostra.opp_gruppestorrelse_1_4", "asker", 2022, 15.9]]
    before = file_digest(store.path)
    path = write_book(tmp_path, workbook_bytes(rows, state="hidden", shown=[rows[0], [*rows[1][:3], 14.2]]))
    with pytest.raises(ImportFileError) as caught:
        import_kostra_file(store, kostra, path, now=now, actor="kari")
    assert relative(caught.value.problems, tmp_path)[0].startswith("import.xlsx:Import!A1: arket «Import» er skjult")
    assert file_digest(store.path) == before


def test_miljodir_refuses_its_detail_sheet_hidden(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    def hide(sheet: Any) -> None:
        sheet.sheet_state = "hidden"

    path = write_book(tmp_path, build(edit=hide), name="utslipp.xlsx")
    problems = refusal(store, catalogue, path, now, tmp_path)
    assert problems == [
        "utslipp.xlsx:'Oversikt - detaljert'!A1: arket «Oversikt - detaljert» er skjult, så den som åpner filen i Excel "
        "ser ikke tallene som ville blitt importert; vis arket (høyreklikk på en arkfane → Vis …), kontroller tallene "
        "og lagre filen på nytt"
    ]


def test_miljodir_hidden_helper_sheets_and_filtered_rows_are_its_own_and_accepted(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def filter_and_hide(sheet: Any) -> None:
        sheet.parent["Oversikt - sektorfordelt"].sheet_state = "hidden"  # a sheet not read
        for row in range(2, sheet.max_row + 1):  # a planner's filter: only Asker's Veitrafikk rows shown
            kommune, sector = sheet.cell(row, 3).value, sheet.cell(row, 5).value
            sheet.row_dimensions[row].hidden = not (kommune == "Asker" and sector == "Veitrafikk")
        sheet.column_dimensions["A"].hidden = True

    import_file(store, catalogue, write_book(tmp_path, build(edit=filter_and_hide), name="utslipp.xlsx"), now=now, actor="kari")
    # Every row of a year is summed, shown or not: the totals are the workbook's, not the filter's.
    assert [(v.period, v.value) for v in store.latest("direkte_klimagassutslipp")] == [
        (str(year), float(total)) for year, total in sorted(ASKER_TOTALS.items())
    ]


# -- 2. numbers that read two ways, and digits that are not 0–9 -------------------------------------------

DECIMALS = REPO / "tests" / "fixtures" / "catalogue" / "decimals.yaml"


@pytest.fixture
def decimals_catalogue() -> Catalogue:
    return load_catalogue(DECIMALS)


def csv_rows(tmp_path: Path, *lines: str) -> Path:
    return write_csv(tmp_path, "indicator_id;period;value;region\n" + "".join(line + "\n" for line in lines))


@pytest.mark.parametrize("line,problem", [
    ("matsvinn_per_innbygger;2023;1.748;3203", "import.csv:2: matsvinn_per_innbygger: verdi: '1.748' kan leses som 1748 "
     "(skilletegnet som tusenskille) eller 1,748 (som desimaltegn); skriv 1748 for tusentallet eller 1,7480 for desimaltallet"),
    ("matsvinn_per_innbygger;2023;1,748;3203", "import.csv:2: matsvinn_per_innbygger: verdi: '1,748' kan leses som 1748 "
     "(skilletegnet som tusenskille) eller 1,748 (som desimaltegn); skriv 1748 for tusentallet eller 1,7480 for desimaltallet"),
    ("sykefravaer;2023;9,125 %;3203", "import.csv:2: sykefravaer: verdi: '9,125' kan leses som 9125 "
     "(skilletegnet som tusenskille) eller 9,125 (som desimaltegn); skriv 9125 for tusentallet eller 9,1250 for desimaltallet"),
])
def test_a_lone_separator_before_three_digits_is_refused_as_ambiguous(
    store: Store, decimals_catalogue: Catalogue, now: datetime, tmp_path: Path, line: str, problem: str
) -> None:
    assert refusal(store, decimals_catalogue, csv_rows(tmp_path, line), now, tmp_path) == [problem]


@pytest.mark.parametrize("text", ["1.748", "1,748", "-12,345", "+999.999"])
def test_parse_value_refuses_the_ambiguous_form_below_three_decimals(text: str) -> None:
    for decimals in (0, 1, 2):
        with pytest.raises(ValueError, match="kan leses som"):
            parse_value(text, decimals=decimals)


@pytest.mark.parametrize("text,value", [
    ("1748", 1748.0), ("1 748", 1748.0), ("1\u00a0748", 1748.0), ("1,7480", 1.748), ("1,74", 1.74), ("12,5", 12.5),
    ("0,125", 0.125), (",125", 0.125), ("1234,567", 1234.567), ("1748,", 1748.0), ("-0,7", -0.7), ("\u22121,5", -1.5),
])
def test_unambiguous_numbers_are_still_read(text: str, value: float) -> None:
    # A leading 0 or four leading digits cannot be a thousands group; four or two decimals are decimals.
    assert parse_value(text) == value


def test_three_decimals_are_accepted_where_the_indicator_shows_three(
    store: Store, decimals_catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = csv_rows(tmp_path, "utslipp_per_innbygger;2022;1,748;3203", "utslipp_per_innbygger;2023;1.702;3203")
    import_file(store, decimals_catalogue, path, now=now, actor="kari")
    assert [(v.period, v.value) for v in store.latest("utslipp_per_innbygger")] == [("2022", 1.748), ("2023", 1.702)]


def test_a_number_cell_is_unambiguous_but_the_same_as_text_is_refused(
    store: Store, decimals_catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def percent(sheet: Any) -> None:
        sheet["C3"].number_format = "0.000%"

    rows = [HEADER, ["matsvinn_per_innbygger", 2023, 1.748], ["sykefravaer", 2023, 0.09125]]
    import_file(store, decimals_catalogue, write_book(tmp_path, workbook_bytes(rows, edit=percent)), now=now, actor="kari")
    assert {(v.indicator_id, v.value) for v in store.latest()} == {("matsvinn_per_innbygger", 1.748), ("sykefravaer", 9.125)}
    text = write_book(tmp_path, workbook_bytes([HEADER, ["matsvinn_per_innbygger", 2022, "1,748"]]), name="tekst.xlsx")
    [problem] = refusal(store, decimals_catalogue, text, now, tmp_path)
    assert problem.startswith("tekst.xlsx:Import!C2: matsvinn_per_innbygger: verdi: '1,748' kan leses som 1748")


@pytest.mark.parametrize("value,char", [
    ("\u0663", "\u0663 (U+0663)"), ("\uff11\uff12", "\uff11 (U+FF11)"), ("12\u0660", "\u0660 (U+0660)"),
    ("\u0669,\u0661", "\u0669 (U+0669)"), ("\u00b2", "\u00b2 (U+00B2)"), ("\u0967\u0968", "\u0967 (U+0967)"),
])
def test_digits_other_than_0_to_9_are_refused(
    store: Store, decimals_catalogue: Catalogue, now: datetime, tmp_path: Path, value: str, char: str
) -> None:
    problems = refusal(store, decimals_catalogue, csv_rows(tmp_path, f"sykefravaer;2023;{value};3203"), now, tmp_path)
    left, right = char.split(" ")
    assert problems == [f"import.csv:2: sykefravaer: verdi: {value!r} har tegnet «{left}» {right}, som ikke er et av "
                        "sifrene 0–9; skriv det med vanlige sifre"]


@pytest.mark.parametrize("line,problem", [
    ("sykefravaer;\u0662\u0660\u0662\u0663;9,1;3203", "perioden '\u0662\u0660\u0662\u0663' er ikke et årstall (ÅÅÅÅ) med sifrene 0–9"),
    ("sykefravaer;\uff12\uff10\uff12\uff13;9,1;3203", "perioden '\uff12\uff10\uff12\uff13' er ikke et årstall (ÅÅÅÅ) med sifrene 0–9"),
    ("sykefravaer;2023;9,1;\u0663\u0662\u0660\u0663", "region '\u0663\u0662\u0660\u0663' er ikke et firesifret kommunenummer med sifrene 0–9"),
])
def test_periods_and_regions_in_other_digits_are_refused_not_stored_as_text(
    store: Store, decimals_catalogue: Catalogue, now: datetime, tmp_path: Path, line: str, problem: str
) -> None:
    [found] = refusal(store, decimals_catalogue, csv_rows(tmp_path, line), now, tmp_path)
    assert found == f"import.csv:2: sykefravaer: {problem}"


@pytest.mark.parametrize("text", ["1_000", "nan", "NaN", "inf", "-Infinity", "1e3", "0x10", "١٬٠٠٠", "½"])
def test_other_float_oddities_are_refused(text: str) -> None:
    # float() takes 1_000, nan, inf and 1e3; the import never did (a guard, not a change).
    with pytest.raises(ValueError):
        parse_value(text)


def test_kostra_import_refuses_ambiguous_and_foreign_digits(store: Store, now: datetime, tmp_path: Path) -> None:
    kostra = load_kostra(REPO / "kostra.yaml")
    path = write_csv(tmp_path, "indicator_id;region;period;value\n"
                     "kostra.opp_gruppestorrelse_1_4;asker;2022;15,900\n"
                     "kostra.opp_gruppestorrelse_5_7;asker;\u0662\u0660\u0662\u0662;15,9\n")
    before = file_digest(store.path)
    with pytest.raises(ImportFileError) as caught:
        import_kostra_file(store, kostra, path, now=now, actor="kari")
    assert relative(caught.value.problems, tmp_path) == [
        "import.csv:2: kostra.opp_gruppestorrelse_1_4: verdi: '15,900' kan leses som 15900 (skilletegnet som "
        "tusenskille) eller 15,900 (som desimaltegn); skriv 15900 for tusentallet eller 15,9000 for desimaltallet",
        "import.csv:3: kostra.opp_gruppestorrelse_5_7: perioden '\u0662\u0660\u0662\u0662' er ikke et årstall i 1990–2026",
    ]
    assert file_digest(store.path) == before


def test_the_web_upload_refuses_an_ambiguous_value(tmp_path: Path) -> None:
    app = make_app(tmp_path, catalogue=DECIMALS)
    editor = logged_in(app, "erik")
    before = file_digest(db_path(app))
    response = upload(editor, b"indicator_id;period;value\nmatsvinn_per_innbygger;2023;1.748\n", "matsvinn.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "matsvinn.csv:2: matsvinn_per_innbygger: verdi: &#39;1.748&#39; kan leses som 1748" in page
    assert file_digest(db_path(app)) == before


def miljodir_with_asker_amount(amount: Any) -> tuple[bytes, int]:
    """Miljødirektoratet's workbook with Asker's first amount replaced, and the sheet row it stands on."""
    rows = detail_rows()
    index = next(i for i, row in enumerate(rows) if row[2] == "Asker")
    rows[index] = [*rows[index][:7], amount]
    return build(rows=rows), index + 2


@pytest.mark.parametrize("amount,problem", [
    ("12,345", "utslippet '12,345' kan leses som 12345 (skilletegnet som tusenskille) eller 12,345 (som desimaltegn); "
               "skriv 12345 for tusentallet eller 12,3450 for desimaltallet"),
    ("\u0661\u0662", "utslippet '\u0661\u0662' har tegnet «\u0661» (U+0661), som ikke er et av sifrene 0–9; skriv det med vanlige sifre"),
])
def test_miljodir_text_amounts_are_read_by_the_same_rule(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path, amount: str, problem: str
) -> None:
    data, line = miljodir_with_asker_amount(amount)
    problems = refusal(store, catalogue, write_book(tmp_path, data, name="utslipp.xlsx"), now, tmp_path)
    assert problems == [f"utslipp.xlsx:'Oversikt - detaljert'!H{line}: {problem}"]


def test_miljodir_number_cells_with_three_decimals_are_summed(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    rows = detail_rows()
    first = next(i for i, row in enumerate(rows) if row[2] == "Asker" and row[3] == 2019)
    second = next(i for i, row in enumerate(rows) if row[2] == "Asker" and row[3] == 2019 and i > first)
    rows[first][7], rows[second][7] = rows[first][7] + 1.748, rows[second][7] - 1.748  # the year's total unchanged
    import_file(store, catalogue, write_book(tmp_path, build(rows=rows), name="utslipp.xlsx"), now=now, actor="kari")
    assert store.latest("direkte_klimagassutslipp")[0].value == float(ASKER_TOTALS[2019])


def test_miljodir_years_in_other_digits_are_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    rows = detail_rows()
    index = next(i for i, row in enumerate(rows) if row[2] == "Asker")
    rows[index][3] = "\u0662\u0660\u0661\u0669"
    problems = refusal(store, catalogue, write_book(tmp_path, build(rows=rows), name="utslipp.xlsx"), now, tmp_path)
    assert problems == [f"utslipp.xlsx:'Oversikt - detaljert'!D{index + 2}: året '\u0662\u0660\u0661\u0669' er ikke et årstall (ÅÅÅÅ)"]

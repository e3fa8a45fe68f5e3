from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date as _date
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.checks import file_digest
from support.import_helpers import import_catalogue, relative, write_csv, write_xlsx, xlsx_bytes
from monitor.catalogue.indicators import Catalogue
from monitor.core.errors import ImportFileError
from monitor.imports.indicators import import_file, parse_value
from monitor.store.database import Store


def write(tmp_path: Path, text: str, name: str = "import.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


GOOD = "indicator_id;period;value\nsykefravaer;2023;9,1\nmedarbeiderskap;2023;4,3\nkommune_nm_total;2023;14\n"


def test_good_file_is_stored_with_who_and_sha(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = import_file(store, small_catalogue, path, now=now, actor="kari")
    assert (result.rows, result.new_vintages) == (3, 3)
    assert {(v.indicator_id, v.period, v.value) for v in store.latest()} == {
        ("sykefravaer", "2023", 9.1), ("medarbeiderskap", "2023", 4.3), ("kommune_nm_total", "2023", 14.0)
    }
    [run] = store.runs()
    assert run["actor"] == "kari" and run["file_name"] == "import.csv" and run["outcome"] == "ok"
    assert run["file_sha256"] == result.sha256 and len(result.sha256) == 64
    assert {v.region for v in store.latest()} == {"3203"}


def test_reimport_changes_nothing_byte_for_byte(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    import_file(store, small_catalogue, path, now=now, actor="kari")
    before = file_digest(store.path)
    result = import_file(store, small_catalogue, path, now=now, actor="kari")
    assert (result.new_vintages, result.run_id) == (0, None)
    assert file_digest(store.path) == before


def test_corrected_value_keeps_both_vintages(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    import_file(store, small_catalogue, write(tmp_path, GOOD), now=now, actor="kari")
    corrected = write(tmp_path, "indicator_id;period;value\nsykefravaer;2023;9,2\n", name="rettet.csv")
    assert import_file(store, small_catalogue, corrected, now=now, actor="ola").new_vintages == 1
    assert [v.value for v in store.vintages("sykefravaer")] == [9.1, 9.2]
    assert store.latest("sykefravaer")[0].value == 9.2


BAD_ROWS = [
    ("unknown id", "finnes_ikke;2023;1", "import.csv:2: ukjent indikator-id 'finnes_ikke'"),
    ("non-numeric", "sykefravaer;2023;mye", "import.csv:2: sykefravaer: verdi: 'mye' er ikke et tall"),
    ("period too late", "sykefravaer;2031;9", "import.csv:2: sykefravaer: perioden 2031 er utenfor 1990–2026"),
    ("period too early", "sykefravaer;1989;9", "import.csv:2: sykefravaer: perioden 1989 er utenfor 1990–2026"),
    ("period not a year", "sykefravaer;20222;9", "import.csv:2: sykefravaer: perioden '20222' er ikke et årstall (ÅÅÅÅ)"),
    ("share above 100", "sykefravaer;2023;120", "import.csv:2: sykefravaer: verdien 120 er utenfor tillatt område 0–100 for enheten 'share'"),
    ("scale out of range", "medarbeiderskap;2023;7", "import.csv:2: medarbeiderskap: verdien 7 er utenfor tillatt område 1–5 for enheten 'scale'"),
    ("rank zero", "kommune_nm_total;2023;0", "import.csv:2: kommune_nm_total: verdien 0 er utenfor tillatt område 1– for enheten 'rank'"),
    ("two separators", "sykefravaer;2023;1.234,5", "import.csv:2: sykefravaer: verdi: '1.234,5' er ikke et tall (bruk ett desimaltegn og ikke tusenskilletegn)"),
]


@pytest.mark.parametrize("label,row,message", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_row_rejects_the_whole_file(
    label: str, row: str, message: str, store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    import_file(store, small_catalogue, write(tmp_path, GOOD, name="first.csv"), now=now, actor="kari")
    before = file_digest(store.path)
    path = write(tmp_path, f"indicator_id;period;value\nmedarbeiderskap;2024;4,4\n{row}\n")
    with pytest.raises(ImportFileError) as caught:
        import_file(store, small_catalogue, path, now=now, actor="kari")
    assert [problem.replace(str(tmp_path) + "/", "") for problem in caught.value.problems] == [
        message.replace("import.csv:2", "import.csv:3")
    ]
    assert file_digest(store.path) == before


def test_every_bad_row_is_reported_at_once(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    before = file_digest(store.path)
    text = "indicator_id,period,value\nsykefravaer,2023,9.1\nsykefravaer,2023,9.2\nukjent,2023,1\nsykefravaer,2022,x\n"
    with pytest.raises(ImportFileError) as caught:
        import_file(store, small_catalogue, write(tmp_path, text), now=now, actor=None)
    problems = [p.replace(str(tmp_path) + "/", "") for p in caught.value.problems]
    assert problems == [
        "import.csv:3: sykefravaer: dobbel rad: sykefravaer 3203 2023 står også på linje 2",
        "import.csv:4: ukjent indikator-id 'ukjent'",
        "import.csv:5: sykefravaer: verdi: 'x' er ikke et tall",
    ]
    assert file_digest(store.path) == before
    assert store.count_observations() == 0


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "import.csv:1: filen er tom; forventet overskriftsraden indicator_id;period;value"),
        ("indikator;år;verdi\nsykefravaer;2023;9\n",
         "import.csv:1: feil overskriftsrad: mangler kolonne(r) indicator_id, period, value; ukjent kolonne(r) 'indikator', 'år', 'verdi' (forventet indicator_id;period;value;region;status;note)"),
        ("indicator_id;period;value\n", "import.csv:2: filen har overskriftsrad, men ingen datarader"),
    ],
)
def test_file_level_problems(text: str, message: str, store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as caught:
        import_file(store, small_catalogue, write(tmp_path, text), now=now, actor=None)
    assert [p.replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [message]


def test_statuses_and_norwegian_excel_csv(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    # Norwegian Excel: BOM-less cp1252, semicolons, decimal comma, status words in the value cell.
    text = "indicator_id;period;value;status\r\nsykefravaer;2021;Ikke målt;\r\nsykefravaer;2022;;Tall kommer\r\nsykefravaer;2023;9,3 %;\r\n"
    import_file(store, small_catalogue, write(tmp_path, text, encoding="cp1252"), now=now, actor=None)
    assert [(v.period, v.value, v.status) for v in store.latest("sykefravaer")] == [
        ("2021", None, "not_measured"), ("2022", None, "pending"), ("2023", 9.3, None)
    ]


def test_utf8_bom_is_accepted(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    import_file(store, small_catalogue, write(tmp_path, "\ufeff" + GOOD), now=now, actor=None)
    assert store.count_observations() == 3


def test_oversized_file_is_refused(store: Store, small_catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "#" * (5 * 1024 * 1024))
    with pytest.raises(ImportFileError, match="grensen er 5242880 byte"):
        import_file(store, small_catalogue, path, now=now, actor=None)


@pytest.mark.parametrize("text,value", [("15,1", 15.1), ("1 748", 1748.0), ("-0,7", -0.7), ("\u22120,7", -0.7), ("12.5", 12.5), ("1\u00a0748", 1748.0)])
def test_parse_value(text: str, value: float) -> None:
    assert parse_value(text) == value


# -- the import format at large: XLSX, informative columns, spans, skipped rows, bad files ----------------

HEADER = ["indicator_id", "period", "value"]


@pytest.fixture
def catalogue() -> Catalogue:
    return import_catalogue()


def test_xlsx_import_reads_numbers_text_percent_cells_and_statuses(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def percent(sheet: Any) -> None:
        sheet["C4"].number_format = "0.0%"  # "9,4 %" typed into Norwegian Excel is stored as 0.094

    rows = [
        ["indicator_id", "period", "value", "status", "name", "last_value"],
        ["sykefravaer", 2021, 9.1, None, "Sykefraværsprosent", 8.8],
        ["sykefravaer", "2022", "9,2 %", None, "informasjon ignoreres", "x"],
        ["sykefravaer", 2023, 0.094, None, None, None],
        ["medarbeiderskap", 2023, None, "Ikke målt", None, None],
        ["kommune_nm_total", 2023.0, 14, None, None, None],
    ]
    result = import_file(store, catalogue, write_xlsx(tmp_path, rows, edit=percent), now=now, actor="kari")
    assert (result.rows, result.new_vintages, result.skipped) == (5, 5, ())
    assert [(v.period, v.value, v.status) for v in store.latest("sykefravaer")] == [
        ("2021", 9.1, None), ("2022", 9.2, None), ("2023", 9.4, None)
    ]
    assert [(v.period, v.value, v.status) for v in store.latest("medarbeiderskap")] == [("2023", None, "not_measured")]
    assert store.latest("kommune_nm_total")[0].period == "2023"
    [run] = store.runs()
    assert (run["source"], run["actor"], run["file_name"], run["file_sha256"]) == ("import", "kari", "import.xlsx", result.sha256)


def test_a_quoted_percent_sign_does_not_scale_and_a_date_in_a_note_is_fine(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    def formats(sheet: Any) -> None:
        sheet["C2"].number_format = '0.0" %"'  # shows 9.1 as "9.1 %": only a sign, no scaling

    rows = [HEADER + ["note"], ["sykefravaer", 2023, 9.1, _date(2026, 3, 1)]]
    import_file(store, catalogue, write_xlsx(tmp_path, rows, edit=formats), now=now, actor=None)
    assert store.latest("sykefravaer")[0].value == 9.1


def test_an_xlsx_saved_under_a_csv_name_is_read_as_xlsx(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = tmp_path / "eksport.csv"
    path.write_bytes(xlsx_bytes([HEADER, ["sykefravaer", 2023, 9.1]]))
    assert import_file(store, catalogue, path, now=now, actor=None).new_vintages == 1


def test_informative_columns_are_ignored_and_empty_rows_skipped(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    text = (
        "indicator_id;name;period;last_value;value;status;note;unit;allowed_range;frequency\r\n"
        "sykefravaer;Sykefraværsprosent;2022;8,8;;;;andel i prosent (%);0–100;årlig\r\n"
        "sykefravaer;Sykefraværsprosent;2023;;9,1;;ny;andel i prosent (%);0–100;årlig\r\n"
        "matsvinn_per_innbygger;Matsvinn;;;;;;mengde;≥ 0;sporadisk – skriv årstallet selv i period\r\n"
    )
    result = import_file(store, catalogue, write_csv(tmp_path, "\ufeff" + text), now=now, actor=None)
    assert (result.rows, result.skipped) == (1, (2, 4))
    assert [(v.indicator_id, v.period, v.value) for v in store.latest()] == [("sykefravaer", "2023", 9.1)]


def test_fhi_spans_are_kept_and_normalised(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    text = "indicator_id;period;value\ndrikkevann_prover;2018-2020;99,5\ndrikkevann_prover;2019\u201321;99,6\ndrikkevann_prover;2022;99,9\n"
    import_file(store, catalogue, write_csv(tmp_path, text), now=now, actor=None)
    assert [v.period for v in store.latest("drikkevann_prover")] == ["2018-2020", "2019-2021", "2022"]


def test_udir_indicators_are_importable_as_a_fallback(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    text = "indicator_id;period;value\ntrivsel_skolen;2025;4,2\nskolebidrag;2025;-0,3\n"
    assert import_file(store, catalogue, write_csv(tmp_path, text), now=now, actor=None).new_vintages == 2
    assert store.latest("skolebidrag")[0].value == -0.3


def test_status_words_in_cp1252_and_in_utf8_with_bom(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    cp1252 = "indicator_id;period;value;status\r\nsykefravaer;2021;;Ikke målt\r\nsykefravaer;2022;IKKE MÅLT;\r\n"
    assert "å".encode("cp1252") in cp1252.encode("cp1252")
    import_file(store, catalogue, write_csv(tmp_path, cp1252, name="a.csv", encoding="cp1252"), now=now, actor=None)
    bom = "\ufeffindicator_id;period;value\r\nsykefravaer;2023;Tall kommer\r\nsykefravaer;2024;9,5\r\n"
    import_file(store, catalogue, write_csv(tmp_path, bom, name="b.csv"), now=now, actor=None)
    assert [(v.period, v.value, v.status) for v in store.latest("sykefravaer")] == [
        ("2021", None, "not_measured"), ("2022", None, "not_measured"), ("2023", None, "pending"), ("2024", 9.5, None)
    ]


def test_a_revision_through_xlsx_keeps_the_old_vintage_and_both_runs(
    store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    import_file(store, catalogue, write_xlsx(tmp_path, [HEADER, ["sykefravaer", 2023, 9.1]], name="v1.xlsx"), now=now, actor="kari")
    later = now.replace(day=28)
    import_file(store, catalogue, write_xlsx(tmp_path, [HEADER, ["sykefravaer", 2023, 9.2]], name="v2.xlsx"), now=later, actor="ola")
    first, second = store.vintages("sykefravaer")
    assert (first.value, second.value) == (9.1, 9.2)
    runs = {run["id"]: run for run in store.runs()}
    assert (runs[first.run_id]["actor"], runs[first.run_id]["file_name"]) == ("kari", "v1.xlsx")
    assert (runs[second.run_id]["actor"], runs[second.run_id]["file_name"]) == ("ola", "v2.xlsx")
    assert first.retrieved_at < second.retrieved_at
    assert store.latest("sykefravaer")[0].value == 9.2


# Each bad file: (label, how to make it, the first problem as reported). Every one must be refused whole,
# name the file and line (CSV) or sheet and cell (XLSX), and leave the database byte-for-byte unchanged.
H = "indicator_id;period;value\n"
Maker = Callable[[Path], Path]


def csv_file(text: str, encoding: str = "utf-8", name: str = "import.csv") -> Maker:
    return lambda tmp: write_csv(tmp, text, name=name, encoding=encoding)


def raw_file(data: bytes, name: str) -> Maker:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name
    return make


def xlsx_file(rows: list[list[Any]], **options: Any) -> Maker:
    return lambda tmp: write_xlsx(tmp, rows, **options)


def zip_bomb(size: int = 101 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * size)
    return buffer.getvalue()


def declared_bomb() -> bytes:
    """A small zip whose directory claims a 4 GB member: refused before anything is unpacked."""
    data = bytearray(zip_bomb(1000))
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (0xF0000000).to_bytes(4, "little")
    return bytes(data)


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notat.txt", "ikke en arbeidsbok")
    return buffer.getvalue()


GOOD_XLSX = xlsx_bytes([HEADER, ["sykefravaer", 2023, 9.1]])

BAD_FILES: list[tuple[str, Maker, str]] = [
    ("wrong header", csv_file("indikator;år;verdi\nsykefravaer;2023;9\n"),
     "import.csv:1: feil overskriftsrad: mangler kolonne(r) indicator_id, period, value; ukjent kolonne(r) 'indikator', 'år', 'verdi' (forventet indicator_id;period;value;region;status;note)"),
    ("unknown id", csv_file(H + "finnes_ikke;2023;1\n"), "import.csv:2: ukjent indikator-id 'finnes_ikke'"),
    ("missing id", csv_file(H + ";2023;1\n"), "import.csv:2: indikator-id mangler"),
    ("ssb indicator", csv_file(H + "netto_driftsresultat;2023;3,1\n"), "import.csv:2: netto_driftsresultat: hentes fra SSB, ikke import (kan kilden ikke nås, kan tallet legges inn som manuell bro: monitor import --bridge, eller avkrysningen på importsiden)"),
    ("fhi-fetched indicator", csv_file(H + "vaksinert_meslinger;2023;96\n"), "import.csv:2: vaksinert_meslinger: hentes fra FHI, ikke import (kan kilden ikke nås, kan tallet legges inn som manuell bro: monitor import --bridge, eller avkrysningen på importsiden)"),
    ("text in value", csv_file(H + "sykefravaer;2023;mye\n"), "import.csv:2: sykefravaer: verdi: 'mye' er ikke et tall"),
    ("share of 120 %", csv_file(H + "sykefravaer;2023;120 %\n"),
     "import.csv:2: sykefravaer: verdien 120 % er utenfor tillatt område 0–100 for enheten 'share'"),
    ("7 on a 1-5 scale", csv_file(H + "medarbeiderskap;2023;7\n"),
     "import.csv:2: medarbeiderskap: verdien 7 er utenfor tillatt område 1–5 for enheten 'scale'"),
    ("period 20222", csv_file(H + "sykefravaer;20222;9\n"), "import.csv:2: sykefravaer: perioden '20222' er ikke et årstall (ÅÅÅÅ)"),
    ("empty period", csv_file(H + "sykefravaer;;9\n"), "import.csv:2: sykefravaer: perioden er tom (skriv årstallet, ÅÅÅÅ)"),
    ("future period", csv_file(H + "sykefravaer;2027;9\n"), "import.csv:2: sykefravaer: perioden 2027 er utenfor 1990–2026"),
    ("span outside FHI", csv_file(H + "sykefravaer;2021-2022;9\n"),
     "import.csv:2: sykefravaer: perioden '2021-2022' er et spenn; for Asker kommune skal perioden være ett årstall (ÅÅÅÅ) – spenn (ÅÅÅÅ-ÅÅÅÅ) godtas bare for FHIs glidende gjennomsnitt"),
    ("udir school year", csv_file(H + "trivsel_skolen;2022-23;4,1\n"),
     "import.csv:2: trivsel_skolen: perioden '2022-23' er et skoleår; for Elevundersøkelsen skal perioden være året for høsten undersøkelsen ble gjort (ÅÅÅÅ), her 2022, slik Udir-hentingen lagrer den"),
    ("backwards FHI span", csv_file(H + "drikkevann_prover;2020-2018;99\n"),
     "import.csv:2: drikkevann_prover: spennet '2020-2018' må gå fra et tidligere til et senere år, høyst 10 år"),
    ("duplicate rows", csv_file(H + "sykefravaer;2023;9\nsykefravaer;2023;9,5\n"),
     "import.csv:3: sykefravaer: dobbel rad: sykefravaer 3203 2023 står også på linje 2"),
    ("rank of 0", csv_file(H + "kommune_nm_total;2023;0\n"),
     "import.csv:2: kommune_nm_total: verdien 0 er utenfor tillatt område 1– for enheten 'rank'"),
    ("rank of 2.5", csv_file(H + "kommune_nm_total;2023;2,5\n"),
     "import.csv:2: kommune_nm_total: verdien 2,5 må være et helt tall for enheten 'rank'"),
    ("negative count", csv_file(H + "renseanlegg_rensekrav;2023;-1\n"),
     "import.csv:2: renseanlegg_rensekrav: verdien -1 er utenfor tillatt område 0– for enheten 'count'"),
    ("non-whole count", csv_file(H + "renseanlegg_rensekrav;2023;3,5\n"),
     "import.csv:2: renseanlegg_rensekrav: verdien 3,5 må være et helt tall for enheten 'count'"),
    ("status neither word", csv_file("indicator_id;period;value;status\nsykefravaer;2023;;Kanskje\n"),
     "import.csv:2: sykefravaer: statusen 'Kanskje' er verken 'Ikke målt' eller 'Tall kommer'"),
    ("value and status", csv_file("indicator_id;period;value;status\nsykefravaer;2023;9;Ikke målt\n"),
     "import.csv:2: sykefravaer: en rad har enten verdi eller status, ikke begge (verdi '9', status 'Ikke målt')"),
    ("bad region", csv_file("indicator_id;period;value;region\nsykefravaer;2023;9;Asker\n"),
     "import.csv:2: sykefravaer: region 'Asker' er ikke et firesifret kommunenummer"),
    ("more cells than header", csv_file(H + "sykefravaer;2023;9;ekstra\n"),
     "import.csv:2: sykefravaer: 4 celler, men overskriftsraden har 3"),
    ("empty file", csv_file(""), "import.csv:1: filen er tom; forventet overskriftsraden indicator_id;period;value"),
    ("header only", csv_file(H), "import.csv:2: filen har overskriftsrad, men ingen datarader"),
    ("nothing filled in", csv_file(H + "sykefravaer;2023;\n"),
     "import.csv:2: ingen rad har verdi eller status; fyll inn kolonnen value (eller status) før import"),
    ("oversized file", csv_file(H + "sykefravaer;2023;9\n" + "#" * (5 * 1024 * 1024)),
     "import.csv: filen er på 5242925 byte; grensen er 5242880 byte"),
    ("binary file as CSV", raw_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "import.csv"),
     "import.csv: filen inneholder binære data (NUL-tegn); er det en CSV-fil? Lagre som CSV eller .xlsx"),
    ("control characters", csv_file(H + "syke\x07fravaer;2023;9\n"),
     "import.csv:2: filen inneholder styretegn ('\\x07'); den ser ut som en binærfil, ikke CSV"),
    ("unknown encoding", raw_file(b"indicator_id;period;value\nsykefravaer;2023;9\x81\x8d\n", "import.csv"),
     "import.csv:2: ukjent tegnkoding (verken UTF-8 eller Windows-1252; byte 0x81); lagre filen som «CSV UTF-8»"),
    ("UTF-16 text", csv_file(H + "sykefravaer;2023;9\n", encoding="utf-16"),
     "import.csv: filen er lagret som UTF-16 («Unicode-tekst»); lagre den som «CSV UTF-8» eller «CSV (semikolonseparert)»"),
    ("old .xls", raw_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "import.xls"),
     "import.xls: filen er i det gamle Excel-formatet (.xls); lagre den som .xlsx eller CSV"),
    (".xlsx that is not a zip", raw_file(b"indicator_id;period;value\n", "import.xlsx"),
     "import.xlsx: filen heter .xlsx, men er ikke en gyldig Excel-fil (ikke en zip-fil); er den ødelagt?"),
    ("truncated xlsx", raw_file(GOOD_XLSX[: len(GOOD_XLSX) // 2], "import.xlsx"),
     "import.xlsx: XLSX-filen er ødelagt eller avkortet (ikke en gyldig zip-fil: File is not a zip file)"),
    ("zip that is not a workbook", raw_file(plain_zip(), "import.xlsx"),
     "import.xlsx: kan ikke lese XLSX-filen; den er ødelagt eller ikke laget av Excel (KeyError: \"There is no item named '[Content_Types].xml' in the archive\")"),
    ("zip bomb", raw_file(declared_bomb(), "import.xlsx"),
     "import.xlsx: XLSX-filen pakkes ut til 4026531840 byte; grensen er 1073741824 byte"),
    ("xlsx with a formula", xlsx_file([HEADER, ["sykefravaer", 2023, "=B2/200"]]),
     "import.xlsx:Import!C2: sykefravaer: cellen inneholder en formel (=B2/200); skriv inn selve verdien (lim inn som «Verdier»)"),
    ("formula in an informative column", xlsx_file([HEADER + ["note"], ["sykefravaer", 2023, 9, "=A1"]]),
     "import.xlsx:Import!D2: sykefravaer: cellen inneholder en formel (=A1); skriv inn selve verdien (lim inn som «Verdier»)"),
    ("formula in the header", xlsx_file([["=\"indicator_id\"", "period", "value"], ["sykefravaer", 2023, 9]]),
     "import.xlsx:Import!A1: overskriftsraden: cellen inneholder en formel (=\"indicator_id\"); skriv inn selve verdien (lim inn som «Verdier»)"),
    ("xlsx date in value", xlsx_file([HEADER, ["sykefravaer", 2023, _date(2026, 5, 1)]]),
     "import.xlsx:Import!C2: sykefravaer: cellen er en dato eller et klokkeslett (01.05.2026); Excel gjør f.eks. «1.5» om til 1. mai – formater cellen som tall eller tekst og skriv verdien på nytt"),
    ("xlsx error value", xlsx_file([HEADER, ["sykefravaer", 2023, "#DIV/0!"]]),
     "import.xlsx:Import!C2: sykefravaer: cellen har Excel-feilverdien #DIV/0!"),
    ("xlsx cell right of the header", xlsx_file([HEADER, ["sykefravaer", 2023, 9, None, "løs"]]),
     "import.xlsx:Import!E2: sykefravaer: 5 celler, men overskriftsraden har 3"),
    ("xlsx text in value", xlsx_file([HEADER, ["sykefravaer", 2023, "ni"]]),
     "import.xlsx:Import!C2: sykefravaer: verdi: 'ni' er ikke et tall"),
    ("xlsx unknown id", xlsx_file([HEADER, ["sykefravaer", 2023, 9], ["ukjent", 2023, 9]]),
     "import.xlsx:Import!A3: ukjent indikator-id 'ukjent'"),
    ("xlsx duplicate", xlsx_file([HEADER, ["sykefravaer", 2023, 9], ["sykefravaer", "2023", 9]]),
     "import.xlsx:Import!A3: sykefravaer: dobbel rad: sykefravaer 3203 2023 står også på rad 2"),
    ("xlsx wrong sheet", xlsx_file([HEADER, ["sykefravaer", 2023, 9]], sheet="Ark1", extra_sheets=("Ark2",)),
     "import.xlsx: fant ikke arket «Import» (arkene heter «Ark1», «Ark2»); radene skal stå i arket «Import» med overskriftsraden i rad 1"),
    ("xlsx empty sheet", xlsx_file([]),
     "import.xlsx:Import!A1: filen er tom; forventet overskriftsraden indicator_id;period;value"),
    ("xlsx header below row 1", xlsx_file([[None], HEADER, ["sykefravaer", 2023, 9]]),
     "import.xlsx:Import!A1: rad 1 er tom; overskriftsraden (indicator_id;period;value) skal stå i rad 1"),
]


@pytest.mark.parametrize("label,make,message", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_file_is_refused_whole_with_a_located_message(
    label: str, make: Maker, message: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    import_file(store, catalogue, write_csv(tmp_path, GOOD.replace("medarbeiderskap;2023;4,3\n", ""), name="first.csv"),
                now=now, actor="kari")
    before = file_digest(store.path)
    runs = len(store.runs())
    path = make(tmp_path)
    with pytest.raises(ImportFileError) as caught:
        import_file(store, catalogue, path, now=now, actor="kari")
    problems = relative(caught.value.problems, tmp_path)
    assert problems[0] == message
    assert all(problem.startswith(path.name + ":") for problem in problems)
    assert file_digest(store.path) == before and len(store.runs()) == runs


def test_a_standard_xlsx_unpacking_past_100_mb_is_refused(store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path) -> None:
    path = tmp_path / "stor.xlsx"
    path.write_bytes(zip_bomb())
    with pytest.raises(ImportFileError) as caught:
        import_file(store, catalogue, path, now=now, actor=None, fmt="standard")
    assert relative(caught.value.problems, tmp_path) == ["stor.xlsx: XLSX-filen pakkes ut til 105906176 byte; grensen er 104857600 byte"]


def test_there_are_at_least_twenty_kinds_of_bad_file() -> None:
    assert len({label for label, _, _ in BAD_FILES}) >= 20


# -- property: whatever the file holds, the importer answers with ImportFileError or imports it --------


def _attempt(store: Store, catalogue: Catalogue, path: Path, now: datetime) -> None:
    before = file_digest(store.path)
    try:
        import_file(store, catalogue, path, now=now, actor="hypothesis")
    except ImportFileError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        assert file_digest(store.path) == before


CELL_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("sykefravaer_0123456789;,.\"' \n\r\t-–%åøæÅ")), max_size=40),
    st.sampled_from(["sykefravaer", "medarbeiderskap", "netto_driftsresultat", "2023", "2018-2020", "9,1", "Ikke målt", "Tall kommer"]),
)
CELL = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.dates(), st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(["sykefravaer", "medarbeiderskap", "netto_driftsresultat", "2023", "=1+1", "Ikke målt", "#N/A"]),
)
RELAXED = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@RELAXED
@given(data=st.binary(max_size=2000), name=st.sampled_from(["x.csv", "x.xlsx", "x.txt"]))
def test_random_bytes_never_escape_as_anything_but_import_file_error(
    data: bytes, name: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    _attempt(store, catalogue, path, now)


@RELAXED
@given(lines=st.lists(st.lists(CELL_TEXT, max_size=6), max_size=8), header=st.sampled_from([H, "indicator_id;period;value;status\n", ""]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_random_csv_rows_never_escape(
    lines: list[list[str]], header: str, encoding: str, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    text = header + "\n".join(";".join(cells) for cells in lines)
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _attempt(store, catalogue, path, now)


@RELAXED
@given(rows=st.lists(st.lists(CELL, max_size=5), max_size=6), header=st.sampled_from([HEADER, HEADER + ["status"], ["x"]]))
def test_random_xlsx_cells_never_escape(
    rows: list[list[Any]], header: list[str], store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(xlsx_bytes([header, *rows]))
    _attempt(store, catalogue, path, now)


@RELAXED
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(0, len(GOOD_XLSX)))
def test_damaged_xlsx_never_escapes(
    flips: list[tuple[int, int]], cut: int, store: Store, catalogue: Catalogue, now: datetime, tmp_path: Path
) -> None:
    data = bytearray(GOOD_XLSX)
    for position, byte in flips:
        data[position] = byte
    path = tmp_path / "x.xlsx"
    path.write_bytes(bytes(data[: max(cut, 4)]))
    _attempt(store, catalogue, path, now)

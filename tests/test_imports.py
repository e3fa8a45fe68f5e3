from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from conftest import file_digest
from monitor.catalogue import Catalogue
from monitor.errors import ImportFileError
from monitor.imports import import_file, parse_value
from monitor.store import Store


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
    ("empty value", "sykefravaer;2023;", "import.csv:2: sykefravaer: verdien er tom (skriv et tall, 'Ikke målt' eller 'Tall kommer')"),
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

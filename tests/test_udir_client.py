"""The Udir export-API client, its row format and the extraction of a series, against respx-mocked HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from support.clocks import SleepClock
from support.paths import FIXTURES
from fetchers.udir import UdirClient, filter_text, parse_number, rows_dataset, school_year
from fetchers.udir_source import build_filters, extract, unstable_hint
from monitor.catalogue.indicators import Catalogue, UdirSeries
from monitor.core.errors import FetchError

BASE = "https://api.statistikkbanken.udir.no/api/rest/v2"
UDIR_400 = {"kode": 400, "feiltype": "Feil i forespørselen", "melding": "Filter må oppgis!",
            "tilleggsinfo": "Se dokumentasjonen på https://api.statistikkbanken.udir.no/swagger"}
ROWS: list[dict[str, Any]] = json.loads((FIXTURES / "udir-api" / "150" / "rows.json").read_text(encoding="utf-8"))
FILTERS: dict[str, Any] = json.loads((FIXTURES / "udir-api" / "150" / "filterVerdier.json").read_text(encoding="utf-8"))
PINNED = [row for row in ROWS if row["KjoennKode"] == "A"]  # what KjoennID(-10)_EierformID(-10) returns


@pytest.fixture
def clock() -> SleepClock:
    return SleepClock()


@pytest.fixture
def client(clock: SleepClock) -> Iterator[UdirClient]:
    with UdirClient(BASE, sleep=clock.sleep, monotonic=clock.monotonic, backoff=1.0) as made:
        yield made


def series(grade: str = "7", question: str = "EUIndeks_1398", measure: str = "AndelMobbet", first_year: int = 2021) -> UdirSeries:
    return UdirSeries(table="150", measure=measure, select={"TrinnID": grade, "SpoersmaalID": question}, first_year=first_year)


def body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows, ensure_ascii=False).encode()


# ---- the format -----------------------------------------------------------------------------------


def test_filter_syntax_uses_underscores_inside_and_between() -> None:
    text = filter_text({"TidID": [202112, 202212], "EnhetID": [-1132], "TrinnID": [6, 9]})
    assert text == "TidID(202112_202212)_EnhetID(-1132)_TrinnID(6_9)"


@pytest.mark.parametrize("cell,expected", [
    ("7,8", (7.8, None)), ("5 943", (5943.0, None)), ("\u00a0 116", (116.0, None)), ("1\u202f004", (1004.0, None)),
    ("*", (None, ":")), (" * ", (None, ":")), ("", (None, "..")), (None, (None, "..")), (4, (4.0, None)),
    ("ikke tall", (None, "ikke tall")),
])
def test_norwegian_numbers_and_suppression(cell: Any, expected: tuple[float | None, str | None]) -> None:
    assert parse_number(cell) == expected


def test_school_year_is_the_autumn_of_the_survey() -> None:
    assert school_year("2022-23") == 2022
    assert school_year("1999-00") == 1999
    assert school_year("2022-24") is None and school_year("2022") is None


def test_rows_become_a_dense_dataset_and_a_star_keeps_a_status() -> None:
    dataset = rows_dataset(body(ROWS))
    assert dataset.ids == ("Enhet", "Skoleaar", "Trinn", "Spoersmaal", "Kjoenn", "Eierform", "Maal")
    assert dataset.codes[-1] == ("AndelMobbet", "AntallBesvart")
    assert "3:3203" in dataset.codes[0] and "1:I" in dataset.codes[0] and "4:900000001" in dataset.codes[0]
    assert dataset.codes[1] == ("2021-22", "2022-23", "2023-24", "2024-25", "2025-26")
    cell = dataset.cell(Enhet="3:3203", Skoleaar="2024-25", Trinn="10", Spoersmaal="EUIndeks_1398", Kjoenn="A",
                        Eierform="-10", Maal="AndelMobbet")
    assert cell.value is None and cell.status == ":"
    assert dataset.labels["Spoersmaal"]["EUIndeks_1398"] == "Mobbing på skolen"


def test_two_different_rows_for_one_cell_are_an_error() -> None:
    asker = next(row for row in ROWS if row["Kommunekode"] == "3203" and row["EnhetNivaa"] == 3)
    with pytest.raises(FetchError, match="to rader for samme celle"):
        rows_dataset(body([asker, {**asker, "AndelMobbet": "9,9"}]))


@pytest.mark.parametrize("raw,message", [
    (b"{\"rows\": []}", "ventet en liste med rader"),
    (b"[{\"EnhetNivaa\": 3}]", "mangler kolonnen Skoleaarnavn"),
    (b"[{\"Skoleaarnavn\": \"2022-23\", ", "ikke gyldig JSON"),
])
def test_malformed_pages_are_named(raw: bytes, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        rows_dataset(raw)


# ---- extraction -----------------------------------------------------------------------------------


def test_extract_takes_the_kommune_row_of_the_grade_and_index(small_catalogue: Catalogue) -> None:
    dataset = rows_dataset(body(PINNED))
    municipality = small_catalogue.municipality
    seventh = extract(dataset, series("7"), municipality)
    assert {p: v.value for p, v in seventh.items()} == {"2021": 6.9, "2022": 7.6, "2023": 8.1, "2024": 7.3, "2025": 7.0}
    tenth = extract(dataset, series("10"), municipality)
    assert tenth["2024"].value is None and tenth["2024"].status == ":"
    question = extract(dataset, series("7", "EUSpoersmaal_Q11811"), municipality)
    assert question["2022"].value == 5.1
    assert set(extract(dataset, series("7", first_year=2024), municipality)) == {"2024", "2025"}
    counts = extract(dataset, series("10", measure="AntallBesvart"), municipality)
    assert counts["2021"].value == 987.0


def test_every_kjoenn_in_the_answer_is_an_error_not_a_sum(small_catalogue: Catalogue) -> None:
    # The boys' and girls' rows come back when KjoennID is not pinned to -10: never add them up.
    dataset = rows_dataset(body(ROWS))  # ROWS holds Asker's 2025-26 7th grade for A, G and J
    with pytest.raises(FetchError, match="3 rader for Asker 2025.*kjønn/eierform"):
        extract(dataset, series("7"), small_catalogue.municipality)


def test_an_old_kommune_number_is_used_only_where_it_was_valid(small_catalogue: Catalogue) -> None:
    asker = [row for row in ROWS if row["Kommunekode"] == "3203" and row["EnhetNivaa"] == 3 and row["KjoennKode"] == "A"]
    old = [{**row, "Kommunekode": "3025", "Organisasjonsnummer": "3025", "AndelMobbet": "1,0"} for row in asker]
    dataset = rows_dataset(body(asker + old))
    points = extract(dataset, series("7"), small_catalogue.municipality)
    # 2021-23 (autumns 2021, 2022, 2023): Asker was 3025; from 2024 it is 3203.
    assert [points[p].value for p in ("2021", "2022", "2023")] == [1.0, 1.0, 1.0]
    assert points["2024"].value == 7.3 and points["2025"].value == 7.0


def test_an_unknown_word_in_a_value_cell_fails(small_catalogue: Catalogue) -> None:
    asker = [row for row in ROWS if row["Kommunekode"] == "3203" and row["EnhetNivaa"] == 3 and row["KjoennKode"] == "A"]
    asker[0] = {**asker[0], "AndelMobbet": "n/a"}
    with pytest.raises(FetchError, match="ukjent verdi 'n/a'"):
        extract(rows_dataset(body(asker)), series(asker[0]["TrinnKode"]), small_catalogue.municipality)


def test_filters_are_looked_up_by_code(small_catalogue: Catalogue) -> None:
    filters = build_filters("150", FILTERS, [series("7"), series("10")], small_catalogue.municipality)
    assert filter_text(filters) == (
        "TidID(202112_202212_202312_202412_202512)_EnhetID(-1132)_TrinnID(6_9)_SpoersmaalID(-50)_KjoennID(-10)_EierformID(-10)"
    )


@pytest.mark.parametrize("change,message", [
    (lambda f: f["SpoersmaalID"].pop(1), "SpoersmaalID-koden EUIndeks_1398 finnes ikke lenger"),
    (lambda f: f["TrinnID"].pop(2), "TrinnID-koden 7 finnes ikke lenger"),
    (lambda f: f["EnhetID"].pop(3), r"finner ikke Asker \(3203/3025/0220\) blant EnhetID"),
    (lambda f: f.pop("TidID"), "filterVerdier mangler filteret TidID"),
    (lambda f: f["KjoennID"].pop(0), r"KjoennID har ikke lenger verdien -10"),
])
def test_a_code_udir_dropped_fails_loudly(small_catalogue: Catalogue, change: Any, message: str) -> None:
    changed = json.loads(json.dumps(FILTERS))
    change(changed)
    with pytest.raises(FetchError, match=message):
        build_filters("150", changed, [series("7")], small_catalogue.municipality)


def test_the_hint_names_the_indicators_and_monitor_import() -> None:
    hint = unstable_hint(["mobbing_10_trinn", "mobbing_7_trinn"])
    assert "ustabilt" in hint and "mobbing_10_trinn, mobbing_7_trinn" in hint and "`monitor import`" in hint


# ---- the client -----------------------------------------------------------------------------------


def test_endpoints_and_their_query_parameters(client: UdirClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Eksport").respond(json=[{"EksportID": 150, "Beskrivelse": "EUG - Mobbing"}])
        mock.get("/Eksport/150/filterVerdier").respond(json=FILTERS)
        pages = mock.get("/Eksport/150/sideData").respond(json=[{"JSONSider": 2}])
        data = mock.get("/Eksport/150/data").respond(json=ROWS[:2])
        assert client.tables()[0]["EksportID"] == 150
        assert client.filter_values("150")["TrinnID"][2]["kode"] == "7"
        assert client.page_count("150", "TidID(202212)") == 2
        assert json.loads(client.data_page("150", "TidID(202212)", 2)) == ROWS[:2]
        assert pages.calls.last.request.url.params["filter"] == "TidID(202212)"
        sent = data.calls.last.request.url.params
        assert (sent["filter"], sent["sideNummer"], sent["format"]) == ("TidID(202212)", "2", "0")
    assert client.requests == 4


def test_udirs_error_body_is_in_the_message_and_400_is_not_retried(client: UdirClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/Eksport/150/sideData").respond(400, json=UDIR_400)
        with pytest.raises(FetchError) as caught:
            client.page_count("150", "")
    assert route.call_count == 1
    assert str(caught.value) == "tabell 150 (sideData): HTTP 400: Feil i forespørselen – Filter må oppgis!"


def test_429_honours_retry_after(client: UdirClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Eksport/150/filterVerdier").mock(side_effect=[
            httpx.Response(429, headers={"Retry-After": "5"}, text="Too many requests"),
            httpx.Response(200, json=FILTERS),
        ])
        assert "TidID" in client.filter_values("150")
    assert clock.sleeps == [5.0]


def test_5xx_is_retried_then_gives_up_with_a_clear_message(client: UdirClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/Eksport/150/data").mock(side_effect=[
            httpx.Response(503, text="<html>Service Unavailable</html>"),
            httpx.ReadTimeout("slow"),
            httpx.Response(500, json={"kode": 500, "feiltype": "Intern feil", "melding": "Noe gikk galt"}),
            httpx.Response(502),
        ])
        with pytest.raises(FetchError) as caught:
            client.data_page("150", "TidID(202212)", 1)
    assert route.call_count == 4
    assert "serverfeil hos kilden (HTTP 502)" in str(caught.value) and "ga opp etter 4 forsøk" in str(caught.value)
    assert len(clock.sleeps) == 3 and all(s <= 8 * 1.25 for s in clock.sleeps)


@pytest.mark.parametrize("response,message", [
    (httpx.Response(200, text="<!DOCTYPE html><html>Vedlikehold</html>", headers={"Content-Type": "text/html"}),
     "fikk HTML i stedet for JSON"),
    (httpx.Response(200, text=""), "tomt svar"),
    (httpx.Response(200, json={"JSONSider": 1}), "ventet [{\"JSONSider\": n}]"),
    (httpx.Response(200, json=[{"Sider": 1}]), "ventet [{\"JSONSider\": n}]"),
])
def test_unexpected_shapes_are_explained(client: UdirClient, response: httpx.Response, message: str) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Eksport/150/sideData").mock(return_value=response)
        with pytest.raises(FetchError) as caught:
            client.page_count("150", "TidID(202212)")
    assert message in str(caught.value)


def test_filter_values_must_list_id_and_kode(client: UdirClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Eksport/150/filterVerdier").respond(json={"TidID": [{"verdi": 202212}]})
        with pytest.raises(FetchError, match="TidID er ikke en liste med id og kode"):
            client.filter_values("150")


def test_series_schema_rejects_unknown_filters() -> None:
    with pytest.raises(ValueError, match="TrinnID"):
        UdirSeries.model_validate({"table": "150", "measure": "AndelMobbet", "select": {"KlasseID": "7"}})
    with pytest.raises(ValueError):
        UdirSeries.model_validate({"table": "EUG", "measure": "AndelMobbet", "select": {"TrinnID": "7"}})

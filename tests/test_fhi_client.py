"""The FHI client's endpoints, throttling, retries and error messages, against respx-mocked HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import respx

from support.clocks import SleepClock
from support.paths import FIXTURES
from fetchers.fhi import FhiClient, data_request
from monitor.core.errors import SourceUnreachable
from fetchers.fhi_source import normalise_stamp
from monitor.core.errors import FetchError

BASE = "https://statistikk-data.fhi.no/api/open/v1"
README_DATA = FIXTURES / "fhi" / "readme-example-data-jsonstat2.json"


@pytest.fixture
def clock() -> SleepClock:
    return SleepClock()


@pytest.fixture
def client(clock: SleepClock) -> Iterator[FhiClient]:
    with FhiClient(BASE, sleep=clock.sleep, monotonic=clock.monotonic, backoff=1.0) as made:
        yield made


def test_lists_sources_and_tables_with_modified_after(client: FhiClient) -> None:
    listing = [{"tableId": 369, "title": "KPR_3", "publishedAt": "2026-03-04T10:02:11.031+00:00",
                "modifiedAt": "2026-04-22T13:40:05.88+00:00"}]
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Common/source").respond(json=[{"id": "nokkel", "title": "Folkehelsestatistikk"}])
        route = mock.get("/nokkel/Table").respond(json=listing)
        assert client.sources()[0]["id"] == "nokkel"
        assert client.tables("nokkel", date(2026, 11, 24)) == listing
        assert route.calls.last.request.url.params["modifiedAfter"] == "2026-11-24"
        assert client.tables("nokkel") == listing
        assert "modifiedAfter" not in route.calls.last.request.url.params


def test_data_posts_the_request_body_and_returns_the_raw_bytes(client: FhiClient) -> None:
    body = data_request([("GEO", "item", ["3203"]), ("AAR", "all", ["*"]), ("MEASURE_TYPE", "item", ["RATE"])])
    assert body["response"] == {"format": "json-stat2", "maxRowCount": 50000}
    raw = README_DATA.read_bytes()
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/nokkel/Table/185/data").respond(content=raw, headers={"Content-Type": "application/json"})
        assert client.data("nokkel", "185", body) == raw
        assert json.loads(route.calls.last.request.content) == body


def test_a_list_endpoint_that_answers_an_object_is_a_clear_error(client: FhiClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/nokkel/Table").respond(json={"tables": []})
        with pytest.raises(FetchError, match="tabellisten for nokkel: svaret er ikke en JSON-liste"):
            client.tables("nokkel")


def test_default_limits_keep_below_thirty_calls_a_minute(client: FhiClient, clock: SleepClock) -> None:
    assert (client.limits.calls, client.limits.window) == (30, 60.0)
    assert client.throttle.allowed == 27
    with respx.mock(base_url=BASE) as mock:
        mock.get("/Common/source").respond(json=[])
        for _ in range(27):
            client.sources()
        assert clock.sleeps == []
        client.sources()  # the 28th call waits for the window to slide
    assert len(clock.sleeps) == 1 and 59.9 < clock.sleeps[0] <= 60.1


def test_429_honours_retry_after_then_succeeds(client: FhiClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/nokkel/Table/369/data").mock(side_effect=[
            httpx.Response(429, headers={"Retry-After": "5"}, json={"title": "Too Many Requests", "status": 429}),
            httpx.Response(200, json={"version": "2.0"}),
        ])
        assert client.data("nokkel", "369", {}) == b'{"version":"2.0"}'
        assert route.call_count == 2
    assert clock.sleeps == [5.0]


def test_5xx_and_timeouts_are_retried_then_given_up(client: FhiClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/nokkel/Table/369/data").mock(side_effect=[
            httpx.Response(503, text="<html>Service Unavailable</html>"),
            httpx.ReadTimeout("slow"),
            httpx.Response(500, json={"title": "Internal Server Error", "status": 500}),
            httpx.Response(502),
        ])
        with pytest.raises(FetchError) as caught:
            client.data("nokkel", "369", {})
        assert route.call_count == 4
    assert "HTTP 502" in str(caught.value) and "ga opp etter 4 forsøk" in str(caught.value)
    assert len(clock.sleeps) == 3 and all(s <= 1.25 * 4 for s in clock.sleeps)


@pytest.mark.parametrize("body,expected", [
    ({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Bad Request", "status": 400,
      "detail": "Every dimension must be filtered; missing: ALDER"},
     "HTTP 400: Bad Request – Every dimension must be filtered; missing: ALDER"),
    ({"status": "Dimension KODEGRUPPE mangler filter"}, "HTTP 400: Dimension KODEGRUPPE mangler filter"),
    ({"title": "One or more validation errors occurred.", "status": 400,
      "errors": {"dimensions[2].filter": ["The filter 'range' is not supported"]}},
     "HTTP 400: One or more validation errors occurred.: dimensions[2].filter: The filter 'range' is not supported"),
], ids=["problem-details", "status-text", "aspnet-errors"])
def test_400_is_not_retried_and_names_fhis_words(client: FhiClient, body: dict[str, object], expected: str) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/nokkel/Table/369/data").respond(400, json=body)
        with pytest.raises(FetchError) as caught:
            client.data("nokkel", "369", {})
        assert route.call_count == 1
    assert str(caught.value) == f"tabell nokkel/369: {expected}"
    assert not caught.value.retryable


def test_404_names_the_table(client: FhiClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/nokkel/Table/9999/dimension").respond(404, json={"title": "Not Found", "status": 404,
                                                                  "detail": "Table 9999 does not exist"})
        with pytest.raises(FetchError, match=r"tabell nokkel/9999 \(dimensjoner\): HTTP 404: Not Found – Table 9999"):
            client.dimensions("nokkel", "9999")


def test_html_instead_of_json_is_an_error(client: FhiClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/nokkel/Table/369/data").respond(200, text="<!DOCTYPE html><html>Vedlikehold</html>",
                                                     headers={"Content-Type": "text/html"})
        with pytest.raises(FetchError, match="fikk HTML i stedet for JSON"):
            client.data("nokkel", "369", {})


def test_connection_refused_is_source_unreachable(clock: SleepClock) -> None:
    with FhiClient("http://127.0.0.1:9", sleep=clock.sleep, monotonic=clock.monotonic, timeout=2.0) as client:
        with pytest.raises(SourceUnreachable, match="får ikke kontakt med http://127.0.0.1:9"):
            client.sources()
        assert client.requests == 2  # a refused host is given up on after the second try


@pytest.mark.parametrize("raw,expected", [
    ("2022-12-20T11:44:58.7706326+00:00", "2022-12-20T11:44:58.770632+00:00"),
    ("2026-04-22T13:40:05.88Z", "2026-04-22T13:40:05.880000+00:00"),
    ("2026-04-22T15:40:05+02:00", "2026-04-22T13:40:05+00:00"),
    ("2026-04-22T13:40:05.1234567", "2026-04-22T13:40:05.123456+00:00"),  # no offset: taken as UTC
    ("2023-06-14", "2023-06-14T00:00:00+00:00"),
    ("ikke en dato", "ikke en dato"),
    (None, None),
])
def test_stamps_are_normalised_to_utc(raw: str | None, expected: str | None) -> None:
    assert normalise_stamp(raw) == expected

"""The SSB client's throttling, retries and error messages, against respx-mocked HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from support.clocks import SleepClock
from fetchers.ssb import Limits, SsbClient, Throttle
from monitor.core.errors import SourceUnreachable, TooManyCells
from monitor.core.errors import FetchError

BASE = "https://data.ssb.no/api/pxwebapi/v2"
PROBLEM = {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1", "title": "Bad Request", "status": 400,
           "detail": "Value Folketallet99 is not a valid value code for variable ContentsCode"}


@pytest.fixture
def clock() -> SleepClock:
    return SleepClock()


@pytest.fixture
def client(clock: SleepClock) -> SsbClient:
    with SsbClient(BASE, sleep=clock.sleep, monotonic=clock.monotonic, backoff=1.0) as made:
        yield made


def test_config_sets_the_limits(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/config").respond(json={"maxDataCells": 800000, "maxCallsPerTimeWindow": 30, "timeWindow": 60})
        assert client.load_config() == Limits(30, 60.0, 800000)
    assert client.throttle.allowed == 27


def test_throttle_keeps_below_the_window_limit(clock: SleepClock) -> None:
    throttle = Throttle(Limits(calls=10, window=60), monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(9):
        throttle.acquire()
    assert clock.sleeps == []
    throttle.acquire()  # the 10th call would reach the server's limit: wait for the window to slide
    assert len(clock.sleeps) == 1 and 59.9 < clock.sleeps[0] <= 60.1


def test_429_honours_retry_after_then_succeeds(client: SsbClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").mock(side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"title": "Too Many Requests", "status": 429}),
            httpx.Response(200, json={"version": "2.0"}),
        ])
        assert client.data("01222", {"selection": []}) == b'{"version":"2.0"}'
        assert route.call_count == 2
    assert clock.sleeps == [7.0]


def test_5xx_and_timeouts_are_retried_with_bounded_backoff(client: SsbClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").mock(side_effect=[
            httpx.Response(503, text="<html>Service Unavailable</html>"),
            httpx.ReadTimeout("slow"),
            httpx.Response(500, json={"title": "Internal Server Error", "status": 500}),
            httpx.Response(502),
        ])
        with pytest.raises(FetchError) as caught:
            client.data("01222", {"selection": []})
        assert route.call_count == 4
    assert caught.value.retryable
    assert "HTTP 502" in str(caught.value) and "ga opp etter 4 forsøk" in str(caught.value)
    # 1 s, 2 s, 4 s, each plus up to 25 % jitter
    assert [base <= slept <= base * 1.25 for base, slept in zip([1, 2, 4], clock.sleeps)] == [True] * 3
    assert len(clock.sleeps) == 3


def test_400_problem_is_not_retried_and_keeps_ssbs_detail(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").respond(400, json=PROBLEM, headers={"Content-Type": "application/problem+json"})
        with pytest.raises(FetchError) as caught:
            client.data("01222", {"selection": []})
        assert route.call_count == 1
    assert not caught.value.retryable
    assert str(caught.value) == (
        "tabell 01222: HTTP 400: Bad Request – Value Folketallet99 is not a valid value code for variable ContentsCode"
    )


def test_404_is_a_configuration_error(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/tables/99999/data").respond(404, json={"title": "Not Found", "status": 404, "detail": "Table 99999 not found"})
        with pytest.raises(FetchError, match="tabell 99999: HTTP 404: Not Found – Table 99999 not found"):
            client.data("99999", {"selection": []})


@pytest.mark.parametrize("status,body", [
    (403, {"title": "Forbidden", "status": 403, "detail": "The query resulted in cell that exceeds the number of allowed"}),
    (403, {"error": "Too many values selected"}),
    (400, {"title": "Bad Request", "status": 400, "detail": "Too many cells selected"}),
])
def test_too_many_cells_asks_for_a_split(client: SsbClient, status: int, body: dict[str, object]) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").respond(status, json=body)
        with pytest.raises(TooManyCells, match="spørringen er for stor"):
            client.data("01222", {"selection": []})
        assert route.call_count == 1


def test_html_with_200_is_an_error(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/tables/01222/data").respond(200, text="<!DOCTYPE html><html>Vedlikehold</html>", headers={"Content-Type": "text/html"})
        with pytest.raises(FetchError, match="fikk HTML i stedet for JSON"):
            client.data("01222", {"selection": []})


def test_unreachable_host_fails_fast(client: SsbClient, clock: SleepClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/config").mock(side_effect=httpx.ConnectError("Connection refused"))
        with pytest.raises(SourceUnreachable, match="får ikke kontakt med"):
            client.load_config()
        assert route.call_count == 2
    assert sum(clock.sleeps) < 2


def test_updated_tables_follows_pages(client: SsbClient) -> None:
    pages = [
        {"tables": [{"id": "01222", "updated": "2026-11-20T07:00:00Z"}], "page": {"pageNumber": 1, "totalPages": 2}},
        {"tables": [{"id": "05940", "updated": "2026-11-21T07:00:00Z"}], "page": {"pageNumber": 2, "totalPages": 2}},
    ]
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/tables").mock(side_effect=[httpx.Response(200, json=page) for page in pages])
        tables = client.updated_tables(3)
        assert [t["id"] for t in tables] == ["01222", "05940"]
        assert route.calls[0].request.url.params["pastDays"] == "3"
        assert route.calls[1].request.url.params["pageNumber"] == "2"


def test_bad_json_from_config_is_reported(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/config").respond(200, content=b'{"maxDataCells": 8000', headers={"Content-Type": "application/json"})
        with pytest.raises(FetchError, match=r"konfigurasjonen \(/config\): svaret er ikke gyldig JSON"):
            client.load_config()


def test_request_body_is_sent_as_json(client: SsbClient) -> None:
    body = {"selection": [{"variableCode": "ContentsCode", "valueCodes": ["Folketallet11"]}]}
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").respond(200, json={"version": "2.0"})
        client.data("01222", body)
        request = route.calls[0].request
    assert json.loads(request.content) == body
    assert request.url.params["outputFormat"] == "json-stat2"

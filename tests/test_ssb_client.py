"""The SSB client's throttling, retries and error messages, against respx-mocked HTTP."""

from __future__ import annotations

import json
import re

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


@pytest.mark.parametrize(("status", "content", "kind", "said"), [
    (200, b'{"maxDataCells": 8000', "application/json", r"konfigurasjonen \(/config\): svaret er ikke gyldig JSON"),
    (200, b"<html><body>Vedlikehold</body></html>", "text/html", "fikk HTML i stedet for JSON"),
    (200, b"", "application/json", "tomt svar"),
    (404, b'{"title": "Not found"}', "application/problem+json", "HTTP 404"),
    (200, b'{"maxCallsPerTimeWindow": -5, "timeWindow": 60, "maxDataCells": 800000}', "application/json", "urimelige grenser"),
], ids=["bad-json", "html", "empty", "404", "nonsense"])
def test_a_bad_config_answer_falls_back_to_ssbs_documented_limits_and_says_why(
    client: SsbClient, status: int, content: bytes, kind: str, said: str
) -> None:
    # Issue 15: one bad /config answer used to fail every table of the run.
    with respx.mock(base_url=BASE) as mock:
        mock.get("/config").respond(status, content=content, headers={"Content-Type": kind})
        assert client.load_config() == Limits(30, 60.0, 800_000)
    assert client.throttle.allowed == 27
    assert client.config_fallback is not None and re.search(said, client.config_fallback)


def test_an_unreachable_config_still_fails_the_run(client: SsbClient) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/config").mock(side_effect=httpx.ConnectError("Name or service not known"))
        with pytest.raises(SourceUnreachable):
            client.load_config()


def test_a_retry_after_longer_than_the_time_left_fails_now_instead_of_sleeping(
    client: SsbClient, clock: SleepClock
) -> None:
    client.deadline = clock.monotonic() + 10
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").respond(429, headers={"Retry-After": "60"}, json={"status": 429})
        with pytest.raises(FetchError, match=r"^tabell 01222: SSB ber oss vente 60 s, men fristen går ut om 10 s$"):
            client.data("01222", {"selection": []})
        assert route.call_count == 1
    assert clock.sleeps == []


def test_a_backoff_past_the_deadline_fails_with_the_last_error(client: SsbClient, clock: SleepClock) -> None:
    client.deadline = clock.monotonic() + 0.5  # the first backoff is 1–1.25 s
    with respx.mock(base_url=BASE) as mock:
        mock.post("/tables/01222/data").respond(503, text="Service Unavailable")
        with pytest.raises(FetchError, match=r"serverfeil hos kilden \(HTTP 503\).* – neste forsøk om 1 s, men fristen"):
            client.data("01222", {"selection": []})
    assert clock.sleeps == []


def test_no_request_starts_after_the_deadline(client: SsbClient, clock: SleepClock) -> None:
    client.deadline = clock.monotonic()
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post("/tables/01222/data").respond(200, json={"version": "2.0"})
        with pytest.raises(FetchError, match="fristen gikk ut før forespørselen"):
            client.data("01222", {"selection": []})
        assert route.call_count == 0


def test_the_throttle_does_not_wait_past_the_deadline(client: SsbClient, clock: SleepClock) -> None:
    client.throttle.adopt(Limits(calls=2, window=60))  # one call per window
    client.deadline = clock.monotonic() + 30
    with respx.mock(base_url=BASE) as mock:
        mock.post("/tables/01222/data").respond(200, json={"version": "2.0"})
        client.data("01222", {"selection": []})
        with pytest.raises(FetchError, match=r"grensen for antall forespørsler hos SSB krever 60 s venting, men fristen går ut om 30 s"):
            client.data("01222", {"selection": []})
    assert clock.sleeps == []


def test_request_body_is_sent_as_json(client: SsbClient) -> None:
    body = {"selection": [{"variableCode": "ContentsCode", "valueCodes": ["Folketallet11"]}]}
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/tables/01222/data").respond(200, json={"version": "2.0"})
        client.data("01222", body)
        request = route.calls[0].request
    assert json.loads(request.content) == body
    assert request.url.params["outputFormat"] == "json-stat2"

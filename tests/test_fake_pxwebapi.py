"""The fake PxWebApi 2.0 behaves like the real one where the fetcher depends on it (over real HTTP)."""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from support.paths import FIXTURES, OSLO, REPO
from support.waiting import wait_until
from support.fake_pxwebapi import FAULTS, TOO_MANY_CELLS, FakePxWebApi, Problem, category_codes, expand_expression

FAKE = FIXTURES / "fake-pxweb"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=OSLO)
QUARTERS = [f"{y}K{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(FAKE, calls=10_000, window=60, now=NOW) as running:
        yield running
        assert running.errors == []  # the fake itself never crashed


@pytest.fixture
def client(server: FakePxWebApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as opened:
        yield opened


def full_cube(table: str) -> dict[str, Any]:
    return json.loads((FAKE / table / "data.json").read_text(encoding="utf-8"))


def lookup(dataset: dict[str, Any], coords: dict[str, str]) -> tuple[Any, Any]:
    """(value, status) of one cell of a json-stat2 dataset, found by codes: an independent reading."""
    flat = 0
    for dim, size in zip(dataset["id"], dataset["size"], strict=True):
        flat = flat * size + category_codes(dataset["dimension"][dim]).index(coords[dim])
    values, status = dataset["value"], dataset.get("status")
    value = values.get(str(flat)) if isinstance(values, dict) else values[flat]
    mark = status.get(str(flat)) if isinstance(status, dict) else None
    return value, mark


def cells(dataset: dict[str, Any]) -> Iterator[dict[str, str]]:
    codes = [category_codes(dataset["dimension"][d]) for d in dataset["id"]]
    for combo in itertools.product(*codes):
        yield dict(zip(dataset["id"], combo, strict=True))


def assert_problem(response: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= problem.keys()
    assert problem["status"] == status
    for needle in needles:
        assert needle in problem["detail"], problem
    return problem


def data_get(client: httpx.Client, table: str, **selection: str) -> httpx.Response:
    params = {f"valueCodes[{k}]": v for k, v in selection.items()}
    return client.get(f"/tables/{table}/data", params={**params, "outputFormat": "json-stat2", "lang": "no"})


# ---- /config, /tables/{id}, /metadata ----------------------------------------------------------


def test_config_is_the_fixture_with_the_enforced_limits(client: httpx.Client) -> None:
    config = client.get("/config").json()
    fixture = json.loads((FAKE / "config.json").read_text(encoding="utf-8"))
    assert config["maxCallsPerTimeWindow"] == 10_000 and config["timeWindow"] == 60
    assert config["maxDataCells"] == fixture["maxDataCells"] == 800_000
    assert config["languages"] == fixture["languages"] and config["defaultDataFormat"] == "json-stat2"


def test_table_and_metadata(client: httpx.Client) -> None:
    table = client.get("/tables/01222").json()
    assert table["id"] == "01222" and table["updated"] == "2026-11-20T07:00:00Z" and table["lastPeriod"] == "2024K4"
    metadata = client.get("/tables/01222/metadata", params={"lang": "no"}).json()
    assert metadata["value"] == [] and "status" not in metadata
    assert category_codes(metadata["dimension"]["Region"]) == ["3201", "3203"]  # the default valueset
    assert [c["id"] for c in metadata["dimension"]["Region"]["extension"]["codelists"]][0] == "agg_KommSummer"
    derived = client.get("/tables/03013/metadata").json()  # no metadata.json: derived from the cube
    assert derived["value"] == [] and derived["id"] == full_cube("03013")["id"]
    assert client.get("/codelists/agg_KommSummer").json()["values"][1]["code"] == "K-3203"


# ---- slicing -----------------------------------------------------------------------------------


def test_a_slice_has_exactly_the_cells_of_the_full_cube(client: httpx.Client) -> None:
    cube = full_cube("01222")
    response = data_get(
        client, "01222", Region="3203,3201", ContentsCode="Folketilvekst10", Tid="range(2023K3,2024K2)"
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    sliced = response.json()
    assert sliced["id"] == ["Region", "ContentsCode", "Tid"] and sliced["size"] == [2, 1, 4]
    assert category_codes(sliced["dimension"]["Region"]) == ["3201", "3203"]  # table order, not request order
    assert sliced["dimension"]["Tid"]["category"]["index"] == {"2023K3": 0, "2023K4": 1, "2024K1": 2, "2024K2": 3}
    assert sliced["dimension"]["ContentsCode"]["category"]["unit"] == {
        "Folketilvekst10": {"base": "personer", "decimals": 0}
    }
    assert list(sliced["dimension"]["ContentsCode"]["extension"]["measuringType"]) == ["Folketilvekst10"]
    for coords in cells(sliced):
        assert lookup(sliced, coords) == lookup(cube, coords)
    # the new municipality code has "." for 2023, re-indexed into the slice's sparse status
    assert sliced["status"] == {"4": ".", "5": "."} and sliced["value"][4] is None
    assert sliced["updated"] == "2026-11-20T07:00:00Z" and sliced["role"]["geo"] == ["Region"]


def test_random_selections_by_get_and_post_agree_with_the_cube(client: httpx.Client) -> None:
    rng = random.Random(20261127)
    cube = full_cube("01222")
    for _ in range(15):
        regions = rng.sample(["3201", "3203"], rng.randint(1, 2))
        contents = rng.sample(["Folketallet1", "Folketilvekst10"], rng.randint(1, 2))
        quarters = rng.sample(QUARTERS, rng.randint(1, 8))
        by_get = data_get(
            client, "01222", Region=",".join(regions), ContentsCode=",".join(contents), Tid=",".join(quarters)
        ).json()
        by_post = client.post(
            "/tables/01222/data",
            params={"outputFormat": "json-stat2", "lang": "no"},
            json={
                "selection": [
                    {"variableCode": "Tid", "valueCodes": quarters},
                    {"variableCode": "Region", "valueCodes": regions},
                    {"variableCode": "ContentsCode", "valueCodes": contents},
                ]
            },
        ).json()
        assert by_get == by_post
        assert by_get["size"] == [len(regions), len(contents), len(quarters)]
        assert len(by_get["value"]) == math.prod(by_get["size"])
        for coords in cells(by_get):
            assert lookup(by_get, coords) == lookup(cube, coords)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("top(3)", ["2024K2", "2024K3", "2024K4"]),  # time: the latest, in ascending order
        ("top(2,1)", ["2024K2", "2024K3"]),
        ("bottom(2)", ["2023K1", "2023K2"]),
        ("from(2024K3)", ["2024K3", "2024K4"]),
        ("to(2023K2)", ["2023K1", "2023K2"]),
        ("range(2024K2,2023K4)", ["2023K4", "2024K1", "2024K2"]),
        ("*", QUARTERS),
        ("2024*", QUARTERS[4:]),
        ("*K1", ["2023K1", "2024K1"]),
        ("202?K4", ["2023K4", "2024K4"]),
        ("2023k1,TOP(1)", ["2023K1", "2024K4"]),  # case-insensitive; codes and expressions combine
    ],
)
def test_time_expressions(client: httpx.Client, expression: str, expected: list[str]) -> None:
    response = data_get(client, "01222", Region="3203", ContentsCode="Folketallet1", Tid=expression)
    assert response.status_code == 200, response.text
    assert category_codes(response.json()["dimension"]["Tid"]) == expected


def test_expressions_on_other_variables() -> None:
    codes = ["3201", "3203", "3205"]
    assert expand_expression("top(1)", codes, is_time=False, variable="Region") == ["3201"]
    assert expand_expression("bottom(2)", codes, is_time=False, variable="Region") == ["3203", "3205"]
    assert expand_expression("*0*", codes, is_time=False, variable="Region") == codes
    for bad in ("top(0)", "top(x)", "a*b", "range(3201)", "from(9999)"):
        with pytest.raises(Problem) as caught:
            expand_expression(bad, codes, is_time=False, variable="Region")
        assert (caught.value.status, caught.value.title) == (400, "Illegal selection expression")
    with pytest.raises(Problem) as caught:
        expand_expression("9999", codes, is_time=False, variable="Region")
    assert caught.value.title == "Non-existent value" and caught.value.detail == (
        "Value 9999 is not a valid value code for variable Region"
    )


def test_codelist_codes_need_their_codelist(client: httpx.Client) -> None:
    cube = full_cube("01222")
    params = {
        "codelist[Region]": "agg_KommSummer",
        "outputValues[Region]": "aggregated",
        "valueCodes[Region]": "K-3203",
        "valueCodes[ContentsCode]": "Folketallet1",
        "valueCodes[Tid]": "from(2023K1)",
        "outputFormat": "json-stat2",
    }
    sliced = client.get("/tables/01222/data", params=params).json()
    assert sliced["dimension"]["Region"]["category"]["label"] == {"K-3203": "Asker"}
    assert [lookup(cube, c)[0] for c in cells(sliced)] == sliced["value"] and None not in sliced["value"]
    star = client.get("/tables/01222/data", params={**params, "valueCodes[Region]": "*"}).json()
    assert category_codes(star["dimension"]["Region"]) == ["K-3201", "K-3203"]
    no_codelist = {k: v for k, v in params.items() if not k.endswith("[Region]")} | {"valueCodes[Region]": "K-3203"}
    assert_problem(client.get("/tables/01222/data", params=no_codelist), 400, "K-3203", "Region")
    assert_problem(
        client.get("/tables/01222/data", params={**params, "codelist[Region]": "agg_Nope"}), 400, "agg_Nope"
    )


def test_unselected_eliminable_variables_are_eliminated(client: httpx.Client) -> None:
    cube = full_cube("07459")
    sliced = data_get(client, "07459", ContentsCode="*", Tid="top(2)").json()
    assert sliced["id"] == ["ContentsCode", "Tid"]  # Region, Kjonn, Alder eliminated
    for coords, value in zip(cells(sliced), sliced["value"], strict=True):
        # Region and Kjonn have no eliminationValueCode: summed; Alder uses its "999D"
        expected = sum(
            lookup(cube, {**coords, "Region": r, "Kjonn": k, "Alder": "999D"})[0]
            for r in ("3201", "3203")
            for k in ("1", "2")
        )
        assert value == expected
    assert sliced["extension"]["px"]["stub"] == []


def test_placement_reorders_the_dimensions(client: httpx.Client) -> None:
    cube = full_cube("01222")
    body = {
        "selection": [
            {"variableCode": "Region", "valueCodes": ["*"]},
            {"variableCode": "ContentsCode", "valueCodes": ["*"]},
            {"variableCode": "Tid", "valueCodes": ["*"]},
        ],
        "placement": {"heading": ["Region"], "stub": ["Tid", "ContentsCode"]},
    }
    sliced = client.post("/tables/01222/data", params={"outputFormat": "json-stat2"}, json=body).json()
    assert sliced["id"] == ["Tid", "ContentsCode", "Region"]
    assert sliced["extension"]["px"]["heading"] == ["Region"]
    assert sliced["extension"]["px"]["stub"] == ["Tid", "ContentsCode"]
    for coords in cells(sliced):
        assert lookup(sliced, coords) == lookup(cube, coords)
    assert len(sliced["status"]) == 8  # 3203's "." for the four 2023 quarters × 2 contents, transposed


# ---- errors ------------------------------------------------------------------------------------


def test_selection_errors_are_problem_json(client: httpx.Client, server: FakePxWebApi) -> None:
    ok = {"Region": "3203", "ContentsCode": "Folketallet1", "Tid": "top(1)"}
    assert_problem(data_get(client, "01222", **ok, Kommune="3203"), 400, "Kommune")
    assert_problem(data_get(client, "01222", **(ok | {"Region": "9999"})), 400, "Value 9999", "variable Region")
    assert_problem(data_get(client, "01222", **(ok | {"Tid": "from(1999K1)"})), 400, "1999K1", "Tid")
    assert_problem(data_get(client, "01222", **(ok | {"Tid": "top(x)"})), 400, "top(x)")
    missing_tid = {k: v for k, v in ok.items() if k != "Tid"}
    assert_problem(data_get(client, "01222", **missing_tid), 400, "Tid")
    missing_contents = {k: v for k, v in ok.items() if k != "ContentsCode"}
    assert_problem(data_get(client, "01222", **missing_contents), 400, "ContentsCode")
    assert_problem(data_get(client, "01222", **(ok | {"Tid": "1999*"})), 400, "Tid")  # matches nothing
    assert_problem(
        client.get("/tables/01222/data", params={**{f"valueCodes[{k}]": v for k, v in ok.items()}, "outputFormat": "csv"}),
        400,
        "csv",
    )
    assert_problem(client.get("/tables/01222", params={"lang": "sv"}), 400, "sv")
    assert_problem(client.post("/tables/01222/data", content=b"not json"), 400)
    for path in ("/tables/99999", "/tables/99999/metadata", "/tables/99999/data"):
        assert_problem(client.get(path), 404, "99999")
    assert_problem(client.post("/tables/99999/data", json={"selection": []}), 404, "99999")
    assert client.get("/nowhere").status_code == 404


def test_too_many_cells() -> None:
    with FakePxWebApi(FAKE, max_cells=10) as server, httpx.Client(base_url=server.base_url) as client:
        assert client.get("/config").json()["maxDataCells"] == 10
        assert data_get(client, "01222", Region="*", ContentsCode="Folketallet1", Tid="top(5)").status_code == 200
        response = data_get(client, "01222", Region="*", ContentsCode="*", Tid="*")  # 2 × 2 × 8 = 32
        assert_problem(response, 403, TOO_MANY_CELLS, "32")
    with FakePxWebApi(FAKE, max_cells=10, too_many_cells_status=400) as server:
        everything = "valueCodes[Region]=*&valueCodes[ContentsCode]=*&valueCodes[Tid]=*"
        response = httpx.get(f"{server.base_url}/tables/01222/data?{everything}")
        assert_problem(response, 400, TOO_MANY_CELLS)


# ---- /tables: pastDays, discontinued, paging ----------------------------------------------------


def listed(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get("/tables", params={"lang": "no", **params})
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["tables"]]


def test_past_days_and_discontinued(client: httpx.Client, server: FakePxWebApi) -> None:
    assert listed(client) == ["01222", "07459", "12209"]  # all, without the discontinued 03013
    assert listed(client, includeDiscontinued="true") == ["01222", "03013", "07459", "12209"]
    assert listed(client, pastDays=10) == ["01222"]  # updated 2026-11-20, now is 2026-11-27
    assert listed(client, pastDays=10, includeDiscontinued="true") == ["01222", "03013"]
    assert listed(client, pastDays=6) == []
    assert listed(client, pastDays=200) == ["01222", "12209"]
    server.now = NOW + timedelta(days=30)
    assert listed(client, pastDays=10) == []
    server.set_table_updated("07459", server.now - timedelta(hours=1))  # SSB published new figures
    assert listed(client, pastDays=1) == ["07459"]
    assert client.get("/tables/07459").json()["updated"] == client.get("/tables/07459/metadata").json()["updated"]
    table = client.get("/tables", params={"pastDays": 1}).json()["tables"][0]
    assert table["updated"] == (server.now - timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "language" not in table and table["timeUnit"] == "Annual"
    assert_problem(client.get("/tables", params={"pastDays": "0"}), 400)


def test_paging_follows_links(client: httpx.Client) -> None:
    first = client.get("/tables", params={"includeDiscontinued": "true", "pageSize": 3}).json()
    assert first["page"] | {"links": None} == {
        "pageNumber": 1, "pageSize": 3, "totalElements": 4, "totalPages": 2, "links": None
    }
    assert len(first["tables"]) == 3 and first["language"] == "no"
    following = next(link["href"] for link in first["page"]["links"] if link["rel"] == "next")
    second = client.get(following).json()  # the link is absolute and points at the fake
    assert second["page"]["pageNumber"] == 2 and [t["id"] for t in second["tables"]] == ["12209"]
    assert [link["rel"] for link in second["page"]["links"]] == ["previous"]
    assert_problem(client.get("/tables", params={"pageSize": 3, "pageNumber": 3}), 404)


def test_default_page_size_is_20(client: httpx.Client, server: FakePxWebApi) -> None:
    template = server.table("12209")
    for n in range(30):
        server.add_table(template | {"id": f"9{n:04d}", "updated": "2026-11-26T07:00:00Z"})
    page = client.get("/tables", params={"pastDays": 3}).json()
    assert len(page["tables"]) == 20 and page["page"]["totalElements"] == 30 and page["page"]["totalPages"] == 2
    assert len(client.get("/tables", params={"pastDays": 3, "pageNumber": 2}).json()["tables"]) == 10


# ---- the call limit ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_call_limit_in_a_trailing_window() -> None:
    clock = FakeClock()
    with FakePxWebApi(FAKE, calls=3, window=2, clock=clock) as server, httpx.Client(base_url=server.base_url) as client:
        assert client.get("/config").json()["maxCallsPerTimeWindow"] == 3  # /config counts too
        clock.now += 0.5
        assert client.get("/tables/01222").status_code == 200
        assert client.get("/tables/01222/metadata").status_code == 200
        refused = client.get("/tables/01222")
        problem = assert_problem(refused, 429, "3 request per 2 seconds")
        assert refused.headers["Retry-After"] == "2" and problem["title"] == "Too many requests"
        clock.now += 1.0
        assert client.get("/tables/01222").headers["Retry-After"] == "1"  # refusals don't use up quota
        clock.now += 0.5  # the first call has left the window: exactly one call is free again
        assert client.get("/tables/01222").status_code == 200
        assert client.get("/tables/01222").status_code == 429
        assert server.total_requests == 7 and server.count_429 == 3 and server.rate_limited == 3
        assert server.path_counts["/tables/01222"] == 5 and server.path_counts["/config"] == 1
        assert [r.status for r in server.requests] == [200, 200, 200, 429, 429, 200, 429]
        server.reset_counters()
        assert server.total_requests == 0 and server.requests == [] and server.calls_in_window() == 0
        assert client.get("/tables/01222").status_code == 200


def test_call_limit_in_real_time_and_variants() -> None:
    with FakePxWebApi(FAKE, calls=2, window=1) as server, httpx.Client(base_url=server.base_url) as client:
        assert [client.get("/tables/01222").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(float(client.get("/tables/01222").headers["Retry-After"]))
        assert client.get("/tables/01222").status_code == 200
    clock = FakeClock()
    with FakePxWebApi(FAKE, calls=1, window=10, clock=clock, rate_limit_body="text", exempt_config=True) as server:
        for _ in range(3):
            assert httpx.get(server.base_url + "/config").status_code == 200
        assert httpx.get(server.base_url + "/tables/01222").status_code == 200
        refused = httpx.get(server.base_url + "/tables/01222")
        assert refused.status_code == 429 and refused.headers["content-type"].startswith("text/plain")
        assert refused.text == "API calls quota exceeded! maximum admitted 1 per 10s."
        assert refused.headers["Retry-After"] == "10"


# ---- faults ------------------------------------------------------------------------------------

DATA = "/tables/01222/data"
SELECTION = {"valueCodes[Region]": "3203", "valueCodes[ContentsCode]": "*", "valueCodes[Tid]": "top(2)"}


def test_delay_times_out_the_client_then_recovers(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject(DATA, "delay", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get(DATA, params=SELECTION, timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert client.get(DATA, params=SELECTION).status_code == 200  # served at once on a new connection
    assert server.requests[0].fault == "delay"


@pytest.mark.parametrize(
    ("fault", "status", "kind"), [("http500", 500, "problem"), ("http502", 502, "html"), ("http503", 503, "html")]
)
def test_server_errors(client: httpx.Client, server: FakePxWebApi, fault: str, status: int, kind: str) -> None:
    server.inject(DATA, fault, times=2)
    for _ in range(2):
        response = client.get(DATA, params=SELECTION)
        assert response.status_code == status and kind in response.headers["content-type"]
    assert client.get(DATA, params=SELECTION).status_code == 200
    server.inject(DATA, "http503", retry_after=7)
    assert client.get(DATA, params=SELECTION).headers["Retry-After"] == "7"


def test_reset_closes_the_connection_without_a_response(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject(DATA, "reset")
    with pytest.raises(httpx.TransportError) as caught:
        client.get(DATA, params=SELECTION)
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert server.requests[-1].status is None and server.requests[-1].fault == "reset"
    assert client.get(DATA, params=SELECTION).status_code == 200


def test_truncated_bodies(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject(DATA, "truncate")  # Content-Length larger than what arrives
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(DATA, params=SELECTION)
    server.inject(DATA, "truncate", mode="half")  # a complete HTTP response with half a JSON document
    response = client.get(DATA, params=SELECTION)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert client.get(DATA, params=SELECTION).json()["size"] == [1, 2, 2]


def test_html_maintenance_page(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject("/tables/*", "html")
    response = client.get("/tables/01222")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_injected_status_problems(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject(DATA, "http429", retry_after=3)
    refused = client.get(DATA, params=SELECTION)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3" and server.count_429 == 1
    server.inject(DATA, "http403_cells")
    assert_problem(client.get(DATA, params=SELECTION), 403, TOO_MANY_CELLS)
    server.inject(DATA, "http400_problem", detail="Value 3203 is not a valid value code for variable Region")
    assert_problem(client.get(DATA, params=SELECTION), 400, "Value 3203")
    assert server.rate_limited == 0


def test_empty_and_changed_dimension(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject(DATA, "empty")
    empty = client.get(DATA, params=SELECTION).json()
    assert empty["size"] == [1, 2, 0] and empty["value"] == [] and empty["dimension"]["Tid"]["category"]["index"] == {}
    server.inject(DATA, "changed_dimension")
    renamed = client.get(DATA, params=SELECTION).json()
    assert renamed["id"] == ["RegionNy", "ContentsCode", "Tid"] and "Region" not in renamed["dimension"]
    assert renamed["role"]["geo"] == ["RegionNy"]
    server.inject(DATA, "changed_dimension", drop={"ContentsCode": ["Folketilvekst10"]})
    dropped = client.get(DATA, params=SELECTION).json()
    normal = client.get(DATA, params=SELECTION).json()
    assert category_codes(dropped["dimension"]["ContentsCode"]) == ["Folketallet1"]
    assert dropped["value"] == normal["value"][:2] and dropped["size"] == [1, 1, 2]


def test_fault_matching(client: httpx.Client, server: FakePxWebApi) -> None:
    server.inject("/tables/*/data", "http500", times=None, method="POST")
    server.inject("/api/pxwebapi/v2/tables/01222", "http502")  # a base-path prefix is accepted
    assert client.get(DATA, params=SELECTION).status_code == 200  # GET is not POST
    assert client.get("/tables/01222/metadata").status_code == 200  # the pattern is the whole path
    assert client.get("/tables/01222").status_code == 502
    assert client.get("/tables/01222").status_code == 200  # times=1 by default
    for _ in range(3):
        assert client.post(DATA, json={"selection": []}).status_code == 500
    assert [f.kind for f in server.pending_faults()] == ["http500"] and server.pending_faults()[0].hits == 3
    server.clear_faults()
    assert client.post(DATA, json={"selection": []}).status_code == 400  # the real answer again
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject(DATA, "meteor")
    assert set(FAULTS) >= {"delay", "reset", "truncate", "html", "empty", "changed_dimension"}


# ---- fixture changes on the fly, request log ---------------------------------------------------


def test_new_figures_and_removed_tables(client: httpx.Client, server: FakePxWebApi) -> None:
    cube = server.data("01222")
    cube["value"][-1] = 99_999  # K-3203, Folketilvekst10, 2024K4
    published = NOW + timedelta(days=1)
    server.set_data("01222", cube, updated=published)
    server.now = published + timedelta(hours=2)
    body = data_get(client, "01222", Region="3203", ContentsCode="Folketilvekst10", Tid="top(1)").json()
    unchanged = lookup(full_cube("01222"), {"Region": "3203", "ContentsCode": "Folketilvekst10", "Tid": "2024K4"})
    assert body["value"] == [unchanged[0]]  # 3203 is not K-3203
    codelist = client.get(
        DATA,
        params={
            "codelist[Region]": "agg_KommSummer",
            "valueCodes[Region]": "K-3203",
            "valueCodes[ContentsCode]": "Folketilvekst10",
            "valueCodes[Tid]": "top(1)",
        },
    ).json()
    assert codelist["value"] == [99_999] and codelist["updated"] == "2026-11-28T08:30:00Z"
    assert listed(client, pastDays=1) == ["01222"]
    server.update_table("12209", discontinued=True)
    assert listed(client) == ["01222", "07459"]
    server.remove_table("07459")
    assert_problem(client.get("/tables/07459/metadata"), 404, "07459")


def test_the_request_log(client: httpx.Client, server: FakePxWebApi) -> None:
    body = {
        "selection": [
            {"variableCode": "Region", "valueCodes": ["3203"]},
            {"variableCode": "ContentsCode", "valueCodes": ["*"]},
            {"variableCode": "Tid", "valueCodes": ["top(1)"]},
        ]
    }
    client.post(DATA, params={"outputFormat": "json-stat2", "lang": "no"}, json=body)
    client.get(DATA, params=SELECTION)
    post, get = server.requests
    assert (post.method, post.path, post.query, post.body, post.status) == (
        "POST", DATA, {"outputFormat": ["json-stat2"], "lang": ["no"]}, body, 200
    )
    assert get.method == "GET" and get.query["valueCodes[Tid]"] == ["top(2)"] and get.body is None
    assert server.path_counts == {DATA: 2} and server.total_requests == 2


# ---- lifecycle ---------------------------------------------------------------------------------


def test_clean_shutdown_with_open_connections_and_a_pending_delay() -> None:
    before = set(threading.enumerate())
    server = FakePxWebApi(FAKE).start()
    idle = httpx.Client(base_url=server.base_url)  # keeps a keep-alive connection open
    assert idle.get("/config").status_code == 200
    server.inject("/config", "delay", seconds=30)
    outcome: list[BaseException] = []

    def slow_request() -> None:
        # The server stops while this request waits: it is answered at once or its connection drops.
        try:
            httpx.get(server.base_url + "/config", timeout=5)
        except httpx.TransportError as exc:
            outcome.append(exc)

    slow = threading.Thread(target=slow_request, daemon=True)
    slow.start()
    assert wait_until(lambda: server.path_counts["/config"] == 2, timeout=5)  # the slow request has arrived
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    slow.join(timeout=2)
    assert not slow.is_alive() and len(outcome) <= 1  # answered early or dropped, never left hanging
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{idle.base_url.port}/config")
    idle.close()


def test_loopback_only_and_aware_now() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.org"):
        with pytest.raises(ValueError, match="loopback"):
            FakePxWebApi(FAKE, host=host)
    with pytest.raises(ValueError, match="timezone"):
        FakePxWebApi(FAKE, now=datetime(2026, 11, 27))
    server = FakePxWebApi(FAKE)
    with pytest.raises(ValueError, match="timezone"):
        server.now = datetime(2026, 11, 27)


def test_standalone_command() -> None:
    command = [sys.executable, "-m", "tests.support.fake_pxwebapi", "--fixtures", str(FAKE), "--port", "0", "--calls", "5"]
    env = {**os.environ, "PYTHONPATH": ""}
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().split(" at ")[1].split(" ")[0]
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/pxwebapi/v2")
            assert httpx.get(base_url + "/config").json()["maxCallsPerTimeWindow"] == 5
            process.terminate()
            assert process.wait(timeout=5) == 0
            assert "stopped after 1 requests" in process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()

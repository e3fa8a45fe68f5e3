"""The fake FHI Statistikk API itself: routes, FHI's data filters, modifiedAfter and its refusals."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support.fake_fhi import FakeFhi


@pytest.fixture(scope="module")
def server() -> Iterator[FakeFhi]:
    with FakeFhi(calls=1000, window=60) as running:
        yield running
    assert running.errors == []


def body(**filters: tuple[str, list[str]]) -> dict[str, object]:
    return {"dimensions": [{"code": c, "filter": f, "values": v} for c, (f, v) in filters.items()],
            "response": {"format": "json-stat2", "maxRowCount": 50000}}


ALL_809 = {"GEO": ("item", ["3203"]), "AAR": ("all", ["*"]), "KJONN": ("item", ["0"]), "ALDER": ("item", ["15_24"]),
           "UTDANN": ("item", ["0"]), "MEASURE_TYPE": ("item", ["RATE"])}


def post(server: FakeFhi, table: str, payload: object) -> httpx.Response:
    return httpx.post(f"{server.base_url}/nokkel/Table/{table}/data", json=payload, timeout=5)


def test_lists_and_documents(server: FakeFhi) -> None:
    sources = httpx.get(f"{server.base_url}/Common/source").json()
    assert [s["id"] for s in sources] == ["nokkel", "ngs", "sysvak"]
    tables = httpx.get(f"{server.base_url}/nokkel/table").json()  # path segments are case-insensitive
    assert [t["tableId"] for t in tables] == [185, 341, 360, 369, 370, 714, 803, 809, 999]  # 999: stonad_table.py
    assert httpx.get(f"{server.base_url}/nokkel/Table/369").json()["title"] == "KPR_3"
    dims = httpx.get(f"{server.base_url}/nokkel/Table/369/dimension").json()["dimensions"]
    assert [d["code"] for d in dims] == ["GEO", "AAR", "KJONN", "ALDER", "KODEGRUPPE", "MEASURE_TYPE"]
    assert dims[0]["categories"][0]["children"][0]["children"][1]["value"] == "3203"
    assert httpx.get(f"{server.base_url}/nokkel/Table/369/flag").json()[2] == {
        "title": ":", "text": "Anonymisert. Tallet vises ikke av personvernhensyn"}
    assert httpx.get(f"{server.base_url}/nokkel/Table/9999").status_code == 404
    assert httpx.get(f"{server.base_url}/finnesikke/Table").status_code == 404


def test_modified_after_lists_only_later_tables(server: FakeFhi) -> None:
    later = httpx.get(f"{server.base_url}/nokkel/Table", params={"modifiedAfter": "2026-03-10"}).json()
    assert [t["tableId"] for t in later] == [360, 369]
    assert httpx.get(f"{server.base_url}/nokkel/Table", params={"modifiedAfter": "i går"}).status_code == 400


def test_the_data_post_honours_item_all_top_and_bottom(server: FakeFhi) -> None:
    data = post(server, "809", body(**ALL_809)).json()
    assert data["size"] == [1, 13, 1, 1, 1, 1] and data["status"] == {"11": ":"}
    assert data["role"] == {"time": None, "geo": None, "metric": ["MEASURE_TYPE"]}
    top = post(server, "809", body(**{**ALL_809, "AAR": ("top", ["2"])})).json()
    assert top["dimension"]["AAR"]["category"]["index"] == ["2012_2012", "2013_2013"] and top["status"] == ""
    bottom = post(server, "809", body(**{**ALL_809, "AAR": ("bottom", ["1"])})).json()
    assert bottom["dimension"]["AAR"]["category"]["index"] == ["2024_2024"] and bottom["value"] == [7.4]
    wild = post(server, "809", body(**{**ALL_809, "GEO": ("all", ["32*"]), "AAR": ("item", ["2020_2020"])})).json()
    assert wild["dimension"]["GEO"]["category"]["index"] == ["32", "3201", "3203"]  # the fylke and its kommuner


@pytest.mark.parametrize("payload,status,words", [
    (body(**{k: v for k, v in ALL_809.items() if k != "UTDANN"}), 400, "missing: UTDANN"),
    (body(**{**ALL_809, "ALDER": ("item", ["16_25"])}), 400, "Category 16_25 does not exist in dimension ALDER"),
    (body(**{**ALL_809, "KJONN": ("range", ["0"])}), 400, "not one of item, top, bottom, all"),
    (body(**{**ALL_809, "LANDBAK": ("item", ["0"])}), 400, "Dimension LANDBAK does not exist"),
    (body(**{**ALL_809, "GEO": ("all", ["99*"])}), 404, "does not exist"),
    ({**body(**{**ALL_809, "GEO": ("all", ["*"])}), "response": {"format": "json-stat2", "maxRowCount": 10}}, 400,
     "more than maxRowCount 10"),
    ({**body(**ALL_809), "response": {"format": "csv3"}}, 400, "json-stat2 only"),
])
def test_the_data_post_refuses_what_fhi_refuses(server: FakeFhi, payload: object, status: int, words: str) -> None:
    response = post(server, "809", payload)
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_a_get_of_data_is_405(server: FakeFhi) -> None:
    assert httpx.get(f"{server.base_url}/nokkel/Table/809/data").status_code == 405

"""The source fault contract: one matrix of faults, run against every online source of the registry.

Each source (SSB, FHI, Udir, barnehagefakta.no, Miljødirektoratet's workbook and the SSB KOSTRA comparison) is fetched the way the scheduler's job fetches it:
`monitor.sources.registry.run_fetch` with Settings pointing at a local fake of the real server. For every fault
the fakes can give:

- a passing fault (once) is retried or split, the table ends "unchanged" and nothing stored changes;
- a lasting fault fails that table alone, with the source's words in a message that starts "tabell <id>", in the
  run log too; nothing stored changes; every indicator fed by the table shows "innhenting feiler"; and after the
  source recovers the next run succeeds and the indicators leave that state.

Retries are real; only the client's backoff is shortened (1 s → 0.01 s), and the timeout is 1 s so a 1.5 s delay
is a timeout that is retried.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from support.paths import FIXTURES, REPO
from support.checks import observations_checksum
from support.clocks import FixedClock
from support.fake_barnehagefakta import FakeBarnehagefakta
from support.fake_fhi import FakeFhi
from support.fake_miljodir import FakeMiljodir
from support.fake_pxwebapi import FakePxWebApi
from support.fake_udir import FakeUdir
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.catalogue.kostra import KostraCatalogue, load_kostra
from monitor.core.settings import Settings
from monitor.evaluate.assessment import evaluate_all
from monitor.evaluate.indicator import State
from monitor.sources.pipeline import FetchReport
from monitor.sources.registry import SOURCES, run_fetch
from monitor.store.database import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TODAY = date(2026, 11, 27)
CATALOGUE = FIXTURES / "catalogue" / "sources.yaml"

Fault = tuple[str, dict[str, Any]]
LastingFault = tuple[str, dict[str, Any], str]

# The faults every JSON source survives: they pass after a retry.
PASSING: list[Fault] = [
    ("reset", {}), ("http429", {"retry_after": 1}), ("http500", {}), ("http503", {}),
    ("truncate", {"mode": "content_length"}), ("delay", {"seconds": 1.5}),
]
SSB_LASTING: list[LastingFault] = [
    ("http400_problem", {"detail": "Value Bosatte is not a valid value code for variable ContentsCode"},
     "HTTP 400: Parameter error – Value Bosatte is not a valid value code for variable ContentsCode"),
    ("html", {}, "fikk HTML i stedet for JSON"),
    ("truncate", {"mode": "half"}, "JSON"),
    ("changed_dimension", {}, "tabellen kan ha endret seg"),
    ("empty", {}, "tomt datasett"),
    ("http503", {}, "serverfeil hos kilden (HTTP 503) – ga opp etter 4 forsøk"),
    ("http403_cells", {}, "for stor selv for én periode"),
]


@dataclass(frozen=True)
class Case:
    """One source under the contract: its fake server, the table to break and its fault lists."""

    server: Callable[[], AbstractContextManager[Any]]
    table: str
    path: str  # the data request of `table` on the fake
    passing: list[Fault]
    lasting: list[LastingFault]
    also_in_error: tuple[str, ...] = ()  # what every failure of the source says besides the source's words


CASES: dict[str, Case] = {
    "ssb": Case(
        lambda: FakePxWebApi(calls=1000, window=60, now=NOW), "04861", "/tables/04861/data",
        PASSING + [("http403_cells", {})], SSB_LASTING,
    ),
    "ssb-kostra": Case(
        lambda: FakePxWebApi(FIXTURES / "ssb-v2-kostra", calls=1000, window=60, now=NOW), "12255",
        "/tables/12255/data", PASSING + [("http403_cells", {})],
        [(f, {"detail": "Value X is not a valid value code for variable ContentsCode"} if f == "http400_problem" else p,
          "HTTP 400: Parameter error – Value X is not a valid value code" if f == "http400_problem" else m)
         for f, p, m in SSB_LASTING],
    ),
    "fhi": Case(
        lambda: FakeFhi(calls=1000, window=60), "nokkel/369", "/nokkel/Table/369/data", PASSING,
        [
            ("http400_problem", {"title": "Bad Request", "detail": "Category 0_74 does not exist in dimension ALDER"},
             "HTTP 400: Bad Request – Category 0_74 does not exist in dimension ALDER"),
            ("html", {}, "fikk HTML i stedet for JSON"),
            ("truncate", {"mode": "half"}, "JSON"),
            ("changed_dimension", {}, "tabellen kan ha endret seg"),
            ("empty", {}, "tomt datasett"),
            ("http503", {}, "serverfeil hos kilden (HTTP 503) – ga opp etter 4 forsøk"),
        ],
    ),
    "udir": Case(
        lambda: FakeUdir(calls=1000, window=60), "150", "/Eksport/150/data", PASSING,
        [
            ("http400", {"melding": "Feil format på filtrene!"}, "HTTP 400: Feil i forespørselen – Feil format på filtrene!"),
            ("html", {}, "fikk HTML i stedet for JSON"),
            ("truncate", {"mode": "half"}, "ikke gyldig JSON"),
            ("empty", {}, "side 1 av 1 er tom"),
            ("changed_column", {},
             "svaret mangler kolonnen AndelMobbet (har AndelMobbetProsent, AntallBesvart); API-et kan ha endret seg"),
            ("http503", {}, "serverfeil hos kilden (HTTP 503) – ga opp etter 4 forsøk"),
        ],
        also_in_error=("Udirs eksport-API er ustabilt",
                       "til det virker igjen kan mobbing_10_trinn, mobbing_7_trinn mates med `monitor import`"),
    ),
    "miljodir": Case(
        lambda: FakeMiljodir(calls=1000, window=60), "utslippsstatistikk_alle_kommuner", "/", PASSING,
        [
            ("html", {}, "svaret er ikke Excel-arbeidsboken (HTTP 200 med Content-Type text/html), så adressen kan ha "
                         "flyttet; finn den nye lenken til utslippsstatistikk_alle_kommuner.xlsx på miljodirektoratet.no "
                         "og sett MONITOR_MILJODIR_URL"),
            ("truncate", {"mode": "half"}, "filen er ødelagt eller avkortet"),
            ("http503", {}, "serverfeil hos kilden (HTTP 503) – ga opp etter 4 forsøk"),
        ],
    ),
    "barnehagefakta": Case(
        lambda: FakeBarnehagefakta(calls=1000, window=60), "kommune", "/Kommune/3203", PASSING,
        [
            ("html", {}, "fikk HTML i stedet for JSON"),
            ("truncate", {"mode": "half"}, "ikke gyldig JSON"),
            ("http400_problem", {"title": "Bad Request", "detail": "Ugyldig kommunenummer"},
             "HTTP 400: Bad Request – Ugyldig kommunenummer"),
            ("http503", {}, "serverfeil hos kilden (HTTP 503) – ga opp etter 4 forsøk"),
        ],
        also_in_error=("til det virker igjen kan barnehagelaerere_andel mates med `monitor import`",),
    ),
}
PASSING_MATRIX = [(source, fault, params) for source, case in CASES.items() for fault, params in case.passing]
LASTING_MATRIX = [(source, *entry) for source, case in CASES.items() for entry in case.lasting]


def test_the_contract_covers_every_online_source_of_the_registry() -> None:
    assert set(CASES) == {key for key, source in SOURCES.items() if source.online}


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, spec in list(SOURCES.items()):
        if spec.client is not None:
            monkeypatch.setitem(SOURCES, name, replace(spec, client=functools.partial(spec.client, backoff=0.01)))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def kostra() -> KostraCatalogue:
    return load_kostra(REPO / "kostra.yaml")


class Harness:
    """A store and settings for one source's fake, and runs of that source as the scheduler makes them."""

    def __init__(self, source: str, server: Any, tmp_path: Path, catalogue: Catalogue, kostra: KostraCatalogue) -> None:
        self.source, self.server, self.catalogue, self.kostra = source, server, catalogue, kostra
        url = SOURCES[source].url_setting
        assert url is not None
        self.settings = Settings(
            db=tmp_path / "monitor.db", catalogue=CATALOGUE, raw_dir=tmp_path / "raw", http_timeout=1.0,
            **{url: server.base_url},
        )
        with Store(self.settings.db) as store:
            store.migrate()

    def run(self) -> FetchReport:
        self.server.reset_counters()  # each run is a new process in production, hours apart
        with Store(self.settings.db, create=False) as store:
            return run_fetch(self.settings, self.catalogue, store, self.source, kostra=self.kostra, force=True,
                             clock=FixedClock(NOW))

    def checksum(self) -> str:
        with Store(self.settings.db, create=False) as store:
            return observations_checksum(store)

    def runs(self) -> list[dict[str, Any]]:
        with Store(self.settings.db, create=False) as store:
            return store.runs(self.source)

    def states(self, table: str) -> dict[str, State]:
        """The states of the indicators the table feeds (none for the KOSTRA comparison)."""
        fed = {
            i.id for i in self.catalogue.indicators
            if i.fetch is not None and i.fetch.kind == self.source and table in {s.table for s in i.fetch.series.values()}
        }
        assert fed or self.source == "ssb-kostra"
        with Store(self.settings.db, create=False) as store:
            return {e.id: e.state for e in evaluate_all(self.catalogue, store, TODAY) if e.id in fed}


@pytest.fixture
def harness(
    request: pytest.FixtureRequest, tmp_path: Path, catalogue: Catalogue, kostra: KostraCatalogue, fast_retries: None
) -> Iterator[Harness]:
    source = request.param
    with CASES[source].server() as server:
        yield Harness(source, server, tmp_path, catalogue, kostra)
    assert server.errors == []


@pytest.mark.parametrize(("harness", "fault", "params"), PASSING_MATRIX, indirect=["harness"],
                         ids=[f"{s}-{f}" for s, f, _ in PASSING_MATRIX])
def test_a_passing_fault_is_retried_and_changes_nothing(harness: Harness, fault: str, params: dict[str, Any]) -> None:
    case = CASES[harness.source]
    assert harness.run().failed == []
    before = harness.checksum()
    harness.server.inject(case.path, fault, times=1, **params)
    report = harness.run()
    assert report.failed == []
    assert {t.table: t.outcome for t in report.tables}[case.table] == "unchanged"
    assert harness.checksum() == before
    if fault == "http403_cells":
        assert harness.server.path_counts[case.path] >= 3  # refused, then two halves
    else:
        assert harness.server.path_counts[case.path] == 2  # refused once, then retried once


@pytest.mark.slow
@pytest.mark.parametrize(("harness", "fault", "params", "message"), LASTING_MATRIX, indirect=["harness"],
                         ids=[f"{s}-{f}{p.get('mode', '')}" for s, f, p, _ in LASTING_MATRIX])
def test_a_lasting_fault_fails_the_table_alone_changes_nothing_and_clears_on_recovery(
    harness: Harness, fault: str, params: dict[str, Any], message: str
) -> None:
    case = CASES[harness.source]
    assert harness.run().failed == []
    assert State.FETCH_FAILING not in harness.states(case.table).values()
    before = harness.checksum()
    harness.server.inject(case.path, fault, times=None, **params)
    report = harness.run()
    assert [t.table for t in report.failed] == [case.table]
    error = report.failed[0].error or ""
    assert error.startswith(f"tabell {case.table}") and message in error
    assert all(words in error for words in case.also_in_error), error
    assert all(t.outcome == "unchanged" for t in report.tables if t.table != case.table)  # the others went on
    logged = max((r for r in harness.runs() if r["target"] == case.table), key=lambda r: r["id"])
    assert logged["outcome"] == "failed" and logged["error"] == error
    assert set(harness.states(case.table).values()) <= {State.FETCH_FAILING}
    assert harness.checksum() == before
    harness.server.clear_faults()
    assert harness.run().failed == []
    assert State.FETCH_FAILING not in harness.states(case.table).values()
    assert harness.checksum() == before

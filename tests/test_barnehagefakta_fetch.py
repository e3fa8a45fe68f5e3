"""barnehagelaerere_andel from barnehagefakta.no: the real fetcher against a local fake of its kommune answer.

The answer holds the latest year only and no year field, so the period is the counting year by the catalogue's rule
(staff counted 15 December of Y, published the spring after: from `published` 05-01 of year T the answer is T-1,
before it T-2), read from the run's clock. The fake's constructed answer gives 39,1 for Asker, the printed 2022 value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from support.auth_helpers import make_app
from support.clocks import FixedClock
from support.fake_barnehagefakta import FakeBarnehagefakta
from support.paths import FIXTURES
from fetchers.barnehagefakta import counting_year
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.cli.main import cli
from monitor.core.fetchspec_barnehagefakta import BarnehagefaktaFetch
from monitor.core.settings import Settings
from monitor.sources import registry
from monitor.sources.pipeline import FetchReport
from monitor.sources.registry import INDICATOR_SOURCES, run_fetch, sources_used
from monitor.store.database import Store
from monitor.store.rawarchive import read_archived

OSLO = ZoneInfo("Europe/Oslo")
CATALOGUE = FIXTURES / "catalogue" / "barnehagefakta.yaml"
JUNE_2023 = datetime(2023, 6, 15, 9, 50, tzinfo=OSLO)  # after the spring publication of the 2022 count
FIELD = "andelAnsatteBarnehagelarer"


@pytest.fixture
def server() -> Iterator[FakeBarnehagefakta]:
    running = FakeBarnehagefakta()
    with running:
        yield running
    assert running.errors == []


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


@pytest.fixture
def settings(tmp_path: Path, server: FakeBarnehagefakta) -> Settings:
    settings = Settings(db=tmp_path / "monitor.db", catalogue=CATALOGUE, raw_dir=tmp_path / "raw",
                        barnehagefakta_url=server.base_url, http_timeout=2.0)
    with Store(settings.db) as store:
        store.migrate()
    return settings


def fetch(settings: Settings, catalogue: Catalogue, when: datetime = JUNE_2023) -> FetchReport:
    with Store(settings.db, create=False) as store:
        return run_fetch(settings, catalogue, store, "barnehagefakta", clock=FixedClock(when))


def stored(settings: Settings) -> dict[str, tuple[float | None, str | None, str]]:
    with Store(settings.db, create=False) as store:
        return {v.period: (v.value, v.status, v.source) for v in store.vintages("barnehagelaerere_andel")}


def test_the_fake_answers_in_the_shape_public_code_reads(server: FakeBarnehagefakta) -> None:
    answer = httpx.get(f"{server.base_url}/Kommune/3203").json()
    assert set(answer) == {"navn", "kommune", "indikatorDataKommune", "indikatorDataNasjonalt",
                           "urlTilSoknadOmBarnehageplass"}
    assert answer["indikatorDataKommune"][FIELD] == 39.1 and FIELD in answer["indikatorDataNasjonalt"]
    staff = [v for k, v in answer["indikatorDataKommune"].items() if k.startswith("andelAnsatte")]
    assert round(sum(staff), 1) == 100.0  # the seven staff groups of the constructed answer add up
    assert httpx.get(f"{server.base_url}/Kommune/9999").status_code == 404


@pytest.mark.parametrize(("today", "year"), [
    (date(2023, 5, 1), 2022), (date(2023, 12, 31), 2022), (date(2023, 4, 30), 2021), (date(2024, 1, 2), 2022),
])
def test_the_counting_year_follows_the_publication_day_not_todays_year(today: date, year: int) -> None:
    assert counting_year(today, "05-01") == year


def test_the_answer_is_stored_as_the_counting_year_and_reproduces_the_print(
    settings: Settings, catalogue: Catalogue, server: FakeBarnehagefakta
) -> None:
    report = fetch(settings, catalogue)
    assert report.failed == [] and [(t.table, t.outcome, t.new) for t in report.tables] == [("kommune", "ok", 1)]
    assert stored(settings) == {"2022": (39.1, None, "barnehagefakta:kommune")}  # printed 2022: 39,1 %
    assert [r.path for r in server.requests] == ["/Kommune/3203"]  # one request, today's kommune number
    with Store(settings.db, create=False) as store:
        run = store.runs("barnehagefakta")[-1]
    assert json.loads(read_archived(Path(run["raw_path"])))["indikatorDataKommune"][FIELD] == 39.1  # archived


def test_each_year_builds_the_history_run_by_run(settings: Settings, catalogue: Catalogue, server: FakeBarnehagefakta) -> None:
    fetch(settings, catalogue)
    newer = server.kommune("3203")
    newer["indikatorDataKommune"][FIELD] = 40.4
    server.set_kommune("3203", newer)
    assert fetch(settings, catalogue, datetime(2024, 3, 1, 9, 50, tzinfo=OSLO)).failed == []  # before 1 May: 2022
    assert stored(settings)["2022"][0] == 40.4  # a revised 2022 supersedes the first (a newer vintage)
    fetch(settings, catalogue, datetime(2024, 5, 2, 9, 50, tzinfo=OSLO))
    assert {period: value for period, (value, _, _) in stored(settings).items()} == {"2022": 40.4, "2023": 40.4}


def test_a_repeated_identical_answer_is_uendret(
    settings: Settings, server: FakeBarnehagefakta, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "local_clock", lambda _settings: FixedClock(JUNE_2023))
    env = {"MONITOR_DB": str(settings.db), "MONITOR_CATALOGUE": str(CATALOGUE), "MONITOR_RAW_DIR": str(settings.raw_dir),
           "MONITOR_BARNEHAGEFAKTA_URL": server.base_url}
    runner = CliRunner()
    first = runner.invoke(cli, ["fetch", "--source", "barnehagefakta"], env=env)
    assert first.exit_code == 0, first.output
    assert "Barnehagefakta (Udir) kommune: nye verdier (1 nye verdier)" in first.output
    again = runner.invoke(cli, ["fetch", "--source", "barnehagefakta"], env=env)
    assert again.exit_code == 0, again.output
    assert "Barnehagefakta (Udir) kommune: uendret" in again.output
    assert "1 tabell, 0 feilet, 1 forespørsel til Barnehagefakta (Udir)." in again.output
    assert stored(settings) == {"2022": (39.1, None, "barnehagefakta:kommune")}


def test_a_missing_field_fails_the_table_alone_in_one_bokmal_sentence(
    settings: Settings, catalogue: Catalogue, server: FakeBarnehagefakta
) -> None:
    fetch(settings, catalogue)
    before = stored(settings)
    changed = server.kommune("3203")
    del changed["indikatorDataKommune"][FIELD]
    server.set_kommune("3203", changed)
    report = fetch(settings, catalogue, datetime(2024, 6, 1, 9, 50, tzinfo=OSLO))
    assert [t.table for t in report.failed] == ["kommune"]
    error = report.failed[0].error or ""
    assert error.startswith(f"tabell kommune: svaret mangler feltet {FIELD} i indikatorDataKommune (har ")
    assert error.endswith("barnehagefakta.no kan ha endret API-et – til det virker igjen kan barnehagelaerere_andel "
                          "mates med `monitor import`")
    assert "\n" not in error and "Traceback" not in error and "Error" not in error
    assert stored(settings) == before  # nothing stored, 2023 not invented


@pytest.mark.parametrize(("change", "words"), [
    (lambda a: a.update({"kommune": {"kommunenavn": "Bærum", "kommunenummer": "3201"}}),
     "svaret gjelder kommunenummer 3201, ikke Asker (3203)"),
    (lambda a: a.pop("indikatorDataKommune"), "svaret mangler indikatorDataKommune (har indikatorDataNasjonalt, kommune,"),
    (lambda a: a["indikatorDataKommune"].update({FIELD: "39,1"}), f"feltet {FIELD} er ikke et tall ('39,1')"),
])
def test_an_odd_answer_fails_the_table_and_stores_nothing(
    settings: Settings, catalogue: Catalogue, server: FakeBarnehagefakta, change: Any, words: str
) -> None:
    answer = server.kommune("3203")
    change(answer)
    server.set_kommune("3203", answer)
    report = fetch(settings, catalogue)
    assert len(report.failed) == 1 and words in (report.failed[0].error or "")
    assert stored(settings) == {}


def test_a_null_figure_is_kept_as_missing_never_zero(settings: Settings, catalogue: Catalogue, server: FakeBarnehagefakta) -> None:
    answer = server.kommune("3203")
    answer["indikatorDataKommune"][FIELD] = None
    server.set_kommune("3203", answer)
    assert fetch(settings, catalogue).failed == []
    assert stored(settings) == {"2022": (None, ":", "barnehagefakta:kommune")}


def test_validate_online_checks_the_field_and_that_it_is_a_percentage(server: FakeBarnehagefakta) -> None:
    env = {"MONITOR_BARNEHAGEFAKTA_URL": server.base_url}
    runner = CliRunner()
    good = runner.invoke(cli, ["validate", str(CATALOGUE), "--online"], env={**env, "MONITOR_CATALOGUE": str(CATALOGUE)})
    assert good.exit_code == 0, good.output
    assert (f"Barnehagefakta (Udir): 1 tabeller sjekket mot kommunesvaret hos {server.base_url}; 0 avvik."
            in good.output)
    answer = server.kommune("3203")
    answer["indikatorDataKommune"][FIELD] = 139.1
    server.set_kommune("3203", answer)
    bad = runner.invoke(cli, ["validate", str(CATALOGUE), "--online"], env={**env, "MONITOR_CATALOGUE": str(CATALOGUE)})
    assert bad.exit_code == 1
    assert f"barnehagelaerere_andel (serie barnehagelaerere_andel): {FIELD} = 139.1 er ikke en prosent (0–100)" in bad.output
    del answer["indikatorDataKommune"][FIELD]
    server.set_kommune("3203", answer)
    gone = runner.invoke(cli, ["validate", str(CATALOGUE), "--online"], env={**env, "MONITOR_CATALOGUE": str(CATALOGUE)})
    assert gone.exit_code == 1 and f"svaret mangler feltet {FIELD} i indikatorDataKommune" in gone.output


def test_the_source_is_in_the_registry_and_on_the_sources_page(
    tmp_path: Path, catalogue: Catalogue, server: FakeBarnehagefakta
) -> None:
    entry = INDICATOR_SOURCES["barnehagefakta"]
    assert entry.label == "Barnehagefakta (Udir)" and entry.url_setting == "barnehagefakta_url" and entry.online
    assert entry.job is not None and sources_used(catalogue) == ["barnehagefakta"]
    assert Settings.model_fields["barnehagefakta_url"].default == "https://www.barnehagefakta.no/api"
    app = make_app(tmp_path, catalogue=CATALOGUE, barnehagefakta_url=server.base_url)
    settings = Settings(db=tmp_path / "monitor.db", catalogue=CATALOGUE, raw_dir=tmp_path / "raw",
                        barnehagefakta_url=server.base_url)
    assert fetch(settings, catalogue).failed == []
    html = app.test_client().get("/kilder").get_data(as_text=True)
    assert "Barnehagefakta (Udir)" in html


def test_the_production_catalogue_fetches_it_from_barnehagefakta() -> None:
    from support.catalogues import PRODUCTION_CATALOGUE

    indicator = load_catalogue(PRODUCTION_CATALOGUE).get("barnehagelaerere_andel")
    assert indicator.path == "fetch:barnehagefakta" and indicator.import_reason is None
    assert isinstance(indicator.fetch, BarnehagefaktaFetch)
    assert indicator.fetch.series["barnehagelaerere_andel"].field == FIELD
    assert indicator.definition_note is not None and "ikke bekreftet" in indicator.definition_note

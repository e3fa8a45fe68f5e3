"""Miljødirektoratet's emissions workbook downloaded as a source («miljodir»): the real fetcher against a local fake
of the download address (tests/support/fake_miljodir.py) serving the real-shaped constructed workbook
(tests/support/miljodir_workbook.py), on the production catalogue (indicators.yaml).

Hand-worked numbers: Asker's rows of the workbook sum to the printed 232 966 / 219 333 / 214 899 / 212 196 tonn
(2019–2022); with 300 000 tonn for 2009 the −67 % target is 300 000 × 0,33 = 99 000 tonn by 2030. Each year has 19
rows (sector × emission source × gas) for Asker, so five years are 95 rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from support.catalogues import PRODUCTION_CATALOGUE, load_fixture_baseline
from support.checks import observations_checksum
from support.clocks import FixedClock
from support.fake_miljodir import XLSX_TYPE, FakeMiljodir
from support.miljodir_workbook import ASKER_TOTALS, HEADER, build, detail_rows
from fetchers.miljodir_source import MiljodirClient, MiljodirSource
from monitor.catalogue.indicators import Catalogue, load_catalogue
from monitor.core.errors import ImportFileError
from monitor.core.settings import Settings
from monitor.evaluate.progress import assess_progress
from monitor.sources.registry import SOURCES, next_check, run_fetch
from monitor.store.database import Store
from monitor.store.rawarchive import read_archived

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 11, 27, 9, 45, tzinfo=OSLO)  # a Friday
INDICATOR = "direkte_klimagassutslipp"
TABLE = "utslippsstatistikk_alle_kommuner"
ORIGIN = f"miljodir:{TABLE}"
PRINTED = {"2019": 232966.0, "2020": 219333.0, "2021": 214899.0, "2022": 212196.0}
WITH_2009 = {2009: Decimal("300000"), **ASKER_TOTALS}
MOVED = "adressen kan ha flyttet"


def workbook(totals: dict[int, Decimal] = WITH_2009, **options: Any) -> bytes:
    return build(rows=detail_rows(asker_totals=totals), **options)


GOOD = workbook()  # built once: openpyxl stamps the zip entries with the time, so each build has other bytes


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(PRODUCTION_CATALOGUE)


@pytest.fixture
def server() -> Iterator[FakeMiljodir]:
    with FakeMiljodir(GOOD) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as opened:
        opened.migrate()
        yield opened


def settings(tmp_path: Path, url: str) -> Settings:
    return Settings(db=tmp_path / "monitor.db", catalogue=PRODUCTION_CATALOGUE, raw_dir=tmp_path / "raw",  # type: ignore[call-arg]
                    miljodir_url=url, http_timeout=5.0)


def fetch(catalogue: Catalogue, store: Store, url: str, tmp_path: Path, **kwargs: Any) -> Any:
    return run_fetch(settings(tmp_path, url), catalogue, store, "miljodir", clock=FixedClock(NOW), **kwargs)


def stored(store: Store) -> dict[str, float | None]:
    return {v.period: v.value for v in store.latest(INDICATOR)}


def test_the_indicator_is_on_the_fetch_path_with_a_weekly_check(catalogue: Catalogue) -> None:
    indicator = catalogue.get(INDICATOR)
    assert indicator.path == "fetch:miljodir" and indicator.source.kind.value == "register"
    entry = SOURCES["miljodir"]
    assert (entry.label, entry.url_setting, entry.page) == ("Miljødirektoratet", "miljodir_url", "/kilder")
    assert Settings.model_fields["miljodir_url"].default.endswith("/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA")
    assert next_check("miljodir", NOW, OSLO) == datetime(2026, 11, 30, 9, 45, tzinfo=OSLO)  # the next Monday


def test_the_workbook_is_stored_and_reproduces_the_print(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    load_fixture_baseline(store, catalogue, NOW, tmp_path)
    report = fetch(catalogue, store, server.base_url, tmp_path)
    [table] = report.tables
    assert (table.table, table.outcome, table.new) == (TABLE, "ok", 1)  # 2019–2022 equal the printed baseline
    assert stored(store) == {"2009": 300000.0, **PRINTED}
    assert {v.source for v in store.latest(INDICATOR) if v.period == "2009"} == {ORIGIN}
    run = store.last_raw("miljodir", TABLE)
    assert run is not None and run["raw_sha256"] == hashlib.sha256(GOOD).hexdigest()
    assert read_archived(Path(run["raw_path"]), run["raw_sha256"]) == GOOD  # the last good file, kept
    meta = store.table_meta("miljodir")[TABLE]
    assert (meta.first_period, meta.last_period) == ("2009", "2022")
    [request] = server.requests
    assert (request.path, request.query) == ("/", {"id": ["01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"]})


def test_an_html_error_page_fails_alone_with_the_sentence(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    fetch(catalogue, store, server.base_url, tmp_path)
    before = observations_checksum(store)
    server.html_error_page()
    [failed] = fetch(catalogue, store, server.base_url, tmp_path).failed
    assert failed.error == (
        f"tabell {TABLE}: Miljødirektoratets utslippsstatistikk: svaret er ikke Excel-arbeidsboken (HTTP 200 med "
        f"Content-Type text/html), så {MOVED}; finn den nye lenken til utslippsstatistikk_alle_kommuner.xlsx på "
        "miljodirektoratet.no og sett MONITOR_MILJODIR_URL"
    )
    assert observations_checksum(store) == before and stored(store) == {"2009": 300000.0, **PRINTED}
    assert len(server.requests) == 2  # refused at once, not retried
    # A workbook's Content-Type on something that is not a zip file is refused too (the magic bytes).
    server.serve(b"<html>Feil</html>", content_type=XLSX_TYPE)
    [failed] = fetch(catalogue, store, server.base_url, tmp_path).failed
    assert MOVED in (failed.error or "") and "filen begynner med '<html>Feil</htm'" in (failed.error or "")
    # The old address (404 here) says the same; an octet-stream workbook is accepted.
    [failed] = fetch(catalogue, store, server.base_url.replace("downloaditem", "gammel"), tmp_path).failed
    assert "HTTP 404" in (failed.error or "") and "MONITOR_MILJODIR_URL" in (failed.error or "")
    server.serve(GOOD, content_type="application/octet-stream")
    assert fetch(catalogue, store, server.base_url, tmp_path).tables[0].outcome == "unchanged"


def _renamed(sheet: Any) -> None:
    sheet.cell(row=1, column=8).value = "Utslipp (tonn)"


def test_a_renamed_column_fails_loudly_and_keeps_the_previous_values(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    fetch(catalogue, store, server.base_url, tmp_path)
    good = store.last_raw("miljodir", TABLE)
    before = observations_checksum(store)
    server.serve(workbook({**WITH_2009, 2023: Decimal("205000")}, edit=_renamed))
    report = fetch(catalogue, store, server.base_url, tmp_path)
    [failed] = report.failed
    found = ", ".join(repr(name) for name in [*HEADER[:-1], "Utslipp (tonn)"])
    assert failed.error == (
        f"tabell {TABLE}: Miljødirektoratets utslippsstatistikk har et annet oppsett enn ventet eller er ødelagt: "
        f"arket «Oversikt - detaljert», celle A1: mangler kolonne(r) Utslipp (tonn CO₂-ekvivalenter) (fant {found}); "
        "ingenting er lagret fra filen, og de forrige verdiene står (ventet arket «Oversikt - detaljert» med kolonnene "
        "År, Kommunenummer og «Utslipp (tonn CO₂-ekvivalenter)»)"
    )
    assert observations_checksum(store) == before and "2023" not in stored(store)
    assert store.last_raw("miljodir", TABLE) == good  # the last good file is still the one to go back to
    bad = store.last_run("miljodir", TABLE, ("failed",))
    assert bad is not None and bad["raw_path"] != good["raw_path"]  # the bad file is archived for inspection
    # Another sheet name is a changed layout too; so is a file that is not a zip at all behind a zip's first bytes.
    server.serve(workbook(sheet="Ark1"))
    assert "fant ikke arket «Oversikt - detaljert» (arkene heter «Oversikt - sektorfordelt», «Ark1»)" in (
        fetch(catalogue, store, server.base_url, tmp_path).failed[0].error or "")
    server.serve(b"PK\x03\x04 avkortet")
    assert "filen er ødelagt eller avkortet" in (fetch(catalogue, store, server.base_url, tmp_path).failed[0].error or "")
    assert observations_checksum(store) == before


def test_the_failure_is_shown_on_the_sources_page(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    from monitor.report.sources import sources_page

    fetch(catalogue, store, server.base_url, tmp_path)
    server.html_error_page()
    fetch(catalogue, store, server.base_url, tmp_path)
    [group] = [g for g in sources_page(catalogue, store, NOW).groups if g.source == "miljodir"]
    assert group.label == "Miljødirektoratet" and group.failing == 1
    [row] = group.rows
    assert row.users == [(f"/indikator/{INDICATOR}", row.users[0][1])] and MOVED in (row.error or "")
    assert row.last_success is not None and len(group.problems) == 1


def test_a_revised_year_becomes_a_new_vintage_and_the_old_one_stays(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    fetch(catalogue, store, server.base_url, tmp_path)
    server.serve(workbook({**WITH_2009, 2021: Decimal("215120.5"), 2023: Decimal("205000")}))
    [table] = fetch(catalogue, store, server.base_url, tmp_path).tables
    assert (table.outcome, table.new) == ("ok", 2)  # 2021 revised, 2023 new; the other years unchanged
    assert [v.value for v in store.vintages(INDICATOR) if v.period == "2021"] == [214899.0, 215120.5]
    assert stored(store)["2021"] == 215120.5 and stored(store)["2023"] == 205000.0


def test_the_same_file_again_is_unchanged_without_being_read(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch(catalogue, store, server.base_url, tmp_path)
    before = observations_checksum(store)

    def not_read(self: MiljodirSource, body: bytes) -> Any:
        raise AssertionError("the same file must not be read again")

    monkeypatch.setattr(MiljodirSource, "parse", not_read)
    [table] = fetch(catalogue, store, server.base_url, tmp_path).tables
    assert (table.outcome, table.new, table.error) == ("unchanged", 0, None)
    assert observations_checksum(store) == before
    assert store.last_raw("miljodir", TABLE)["raw_sha256"] == hashlib.sha256(GOOD).hexdigest()  # type: ignore[index]
    # --force reads it all the same (and finds nothing new).
    monkeypatch.undo()
    assert fetch(catalogue, store, server.base_url, tmp_path, force=True).tables[0].outcome == "unchanged"


def test_the_2009_base_lets_the_climate_target_be_judged(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    load_fixture_baseline(store, catalogue, NOW, tmp_path)
    indicator = catalogue.get(INDICATOR)
    before = assess_progress(indicator, store.vintages(INDICATOR))
    assert before.target_value is None and before.explanation.endswith("kan ikke vurderes uten verdien for 2009.")
    fetch(catalogue, store, server.base_url, tmp_path)
    after = assess_progress(indicator, store.vintages(INDICATOR))
    assert after.target_value == pytest.approx(99000) and after.target_year == 2030
    assert "uten verdien for 2009" not in after.explanation


def test_the_manual_import_still_feeds_it_as_a_bridge(
    catalogue: Catalogue, store: Store, server: FakeMiljodir, tmp_path: Path
) -> None:
    from monitor.imports.indicators import BRIDGE_VINTAGE, import_file

    server.html_error_page()
    assert fetch(catalogue, store, server.base_url, tmp_path).failed
    path = tmp_path / "utslippsstatistikk_alle_kommuner.xlsx"
    path.write_bytes(workbook())
    with pytest.raises(ImportFileError, match="hentes fra Miljødirektoratet, ikke import .*monitor import --bridge"):
        import_file(store, catalogue, path, now=NOW, actor="kari", fmt="miljodir")
    result = import_file(store, catalogue, path, now=NOW, actor="kari", fmt="miljodir", bridge=True)
    assert (result.source, result.new_vintages) == ("import:miljodir", 5)
    assert {v.vintage for v in store.latest(INDICATOR)} == {BRIDGE_VINTAGE}
    assert stored(store) == {"2009": 300000.0, **PRINTED}


def test_validate_online_reports_years_and_rows(catalogue: Catalogue, server: FakeMiljodir) -> None:
    from monitor.sources.online import check_miljodir_online

    with MiljodirClient(server.base_url, backoff=0.01) as client:
        tables, problems = check_miljodir_online(catalogue, client)
        assert (tables, list(problems)) == (1, [])
        assert problems.notes == [  # type: ignore[attr-defined]
            f"Miljødirektoratet {TABLE}: {INDICATOR}: arket «Oversikt - detaljert» har 95 rader for Asker, "
            "årene 2009–2022 (5 år)"
        ]
        server.serve(workbook(dict(ASKER_TOTALS)))
        assert check_miljodir_online(catalogue, client)[1] == [
            f"Miljødirektoratet {TABLE}: {INDICATOR}: arbeidsboken har ikke 2009, basisåret for klimamålet"
        ]
        server.html_error_page()
        tables, problems = check_miljodir_online(catalogue, client)
        assert tables == 0 and MOVED in problems[0]


def test_validate_online_through_the_cli(server: FakeMiljodir, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", "--online"], env={
        "MONITOR_CATALOGUE": str(PRODUCTION_CATALOGUE), "MONITOR_MILJODIR_URL": server.base_url,
        "MONITOR_SSB_URL": "http://127.0.0.1:9", "MONITOR_FHI_URL": "http://127.0.0.1:9",
        "MONITOR_UDIR_URL": "http://127.0.0.1:9", "MONITOR_BARNEHAGEFAKTA_URL": "http://127.0.0.1:9",
        "MONITOR_HTTP_TIMEOUT": "2",
    })
    assert "har 95 rader for Asker, årene 2009–2022 (5 år)" in result.stdout
    assert f"Miljødirektoratet: 1 tabeller sjekket mot arket og kolonnene i arbeidsboken hos {server.base_url}; 0 avvik." in result.stdout


def test_the_indicator_page_shows_the_2009_base_and_kilder_the_source(server: FakeMiljodir, tmp_path: Path) -> None:
    from datetime import timedelta

    from support.auth_helpers import NOW as APP_NOW, make_app

    app = make_app(tmp_path, catalogue=PRODUCTION_CATALOGUE)
    catalogue = load_catalogue(PRODUCTION_CATALOGUE)
    with Store(tmp_path / "monitor.db") as db:
        load_fixture_baseline(db, catalogue, APP_NOW, tmp_path)
        before = app.test_client().get(f"/indikator/{INDICATOR}").get_data(as_text=True)
        assert "Tallet for 2009 mangler." in before
        run_fetch(settings(tmp_path, server.base_url), catalogue, db, "miljodir",
                  clock=FixedClock(APP_NOW + timedelta(minutes=1)))
    html = app.test_client().get(f"/indikator/{INDICATOR}").get_data(as_text=True)
    assert "Tallet for 2009 mangler" not in html
    assert "<dt>Mål i 2030</dt><dd>99\u00a0000</dd>" in html  # 300 000 × (1 − 0,67)
    kilder = app.test_client().get("/kilder").get_data(as_text=True)
    assert "Miljødirektoratet" in kilder and TABLE in kilder

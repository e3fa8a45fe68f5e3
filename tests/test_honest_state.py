"""Issue 17, "honest state": with only the printed baseline loaded and no reachable source (the first day of a
real deployment) the pages say what is loaded, carry both "failing" and "late", and speak plain bokmål.

Runs on the behaviour fixture catalogue (tests/fixtures/catalogue/behaviour.yaml) and its printed baseline."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from support.auth_helpers import NOW, csrf_token, logged_in, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from monitor.core.model import Observation, RunRecord
from monitor.evaluate.failures import failure_kind, failure_sentence
from monitor.store.database import Store

REFUSED = "får ikke kontakt med http://127.0.0.1:9/x ([Errno 111] Connection refused)"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, catalogue=BEHAVIOUR_CATALOGUE)
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, load_behaviour_catalogue(), NOW, tmp_path)
    return app


def store_of(app: Flask) -> Store:
    return Store(app.config["MONITOR_SETTINGS"].db)


def fail(app: Flask, source: str, table: str, error: str = REFUSED, when: datetime = NOW) -> None:
    with store_of(app) as store:
        store.record_failure(RunRecord(source, table, when, when), error)


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_printed_baseline_only_is_not_data_per_and_says_what_is_loaded(app: Flask) -> None:
    fail(app, "ssb", "12143")
    text = visible(app.test_client().get("/").get_data(as_text=True))
    assert "Data per" not in text  # loading the baseline is neither a fetch nor an import
    assert "handlingsprogrammets trykte tall (vedtatt 12.12.2023)" in text
    assert "Ingen kilde har svart ennå" in text and "Kilder" in text


def test_data_per_is_the_newest_fetch_or_import_not_the_baseline_load(app: Flask) -> None:
    later = NOW + timedelta(hours=2)
    with store_of(app) as store:
        assert store.newest_success() is None
        store.write_run(RunRecord("ssb", "12143", later, later),
                        [Observation("netto_driftsresultat", "3203", "2023", 1.5, None, "ssb")])
        assert store.newest_success() is not None
    text = visible(app.test_client().get("/").get_data(as_text=True))
    assert "Data per" in text and "Ingen kilde har svart ennå" not in text


def test_sources_page_lists_the_baseline_load_among_the_imports(app: Flask) -> None:
    text = visible(app.test_client().get("/kilder").get_data(as_text=True))
    imports = text.split("Siste importer", 1)[1]
    assert "Trykte tall fra Handlingsprogram 2024–2027" in imports
    assert "Ingen importer ennå" not in imports


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([a-z0-9_]+)"', html)


def counts(html: str) -> dict[str, int]:
    """The headline counts: state key → number."""
    box = html.split('id="counts-title"', 1)[1].split("</section>", 1)[0]
    return {key: int(n.replace("\u00a0", "")) for key, n in re.findall(r'class="count (\w+)"[^>]*><strong>([\d\u00a0]+)', box)}


def test_failing_and_late_carries_both_facts_counted_once_found_under_both(app: Flask) -> None:
    client = app.test_client()
    before = counts(client.get("/").get_data(as_text=True))
    assert "netto_driftsresultat" in row_ids(client.get("/?state=late").get_data(as_text=True))
    fail(app, "ssb", "12143")
    html = client.get("/").get_data(as_text=True)
    row = html.split('data-id="netto_driftsresultat"', 1)[1].split("</tr>", 1)[0]
    assert "Innhenting feiler · mangler 2023–2025" in visible(row)
    after = counts(html)
    assert after["fetch_failing"] == before.get("fetch_failing", 0) + 1  # by its worst state …
    assert after["late"] == before["late"] - 1  # … and only once
    assert sum(after[k] for k in after if k != "off_target") == sum(before[k] for k in before if k != "off_target")
    assert "netto_driftsresultat" in row_ids(client.get("/?state=late").get_data(as_text=True))
    assert "netto_driftsresultat" in row_ids(client.get("/?state=fetch_failing").get_data(as_text=True))
    page = visible(client.get("/indikator/netto_driftsresultat").get_data(as_text=True))
    assert "Tall for 2023–2025 mangler" in page


def test_late_names_every_missing_period(app: Flask) -> None:
    page = visible(app.test_client().get("/indikator/netto_driftsresultat").get_data(as_text=True))
    assert re.search(r"Tall for 2023–2025 mangler – \d+ dager etter forventet publisering", page)


DNS = "tabell 12143 (metadata): får ikke kontakt med https://data.ssb.no ([Errno -2] Name or service not known)"
RAW = ("Errno", "Connection refused", "ReadTimeout", "Traceback", "Name or service not known")


@pytest.mark.parametrize("error,sentence", [
    (DNS, "SSB kan ikke nås fra serveren siden 27.11. kl. 09:30."),
    (REFUSED, "SSB avviser tilkoblingen fra serveren siden 27.11. kl. 09:30."),
    ("tabell 1: tidsavbrudd etter 30 s (ReadTimeout) – ga opp etter 3 forsøk",
     "SSB svarer ikke innen tidsfristen siden 27.11. kl. 09:30."),
    ("tabell 1: serverfeil hos kilden (HTTP 503): Vedlikehold til kl. 12",
     "SSB svarer med en feilmelding siden 27.11. kl. 09:30: «Vedlikehold til kl. 12»."),
    ("tabell 1: metadata er ikke gyldig JSON (Expecting value: line 1 column 1 (char 0))",
     "Svaret fra SSB kan ikke leses siden 27.11. kl. 09:30."),
])
def test_one_plain_sentence_per_kind_of_failure(error: str, sentence: str) -> None:
    assert failure_sentence("SSB", error, NOW.isoformat()) == sentence
    assert not any(word in sentence for word in RAW)
    assert failure_kind(error) in {"unreachable", "refused", "timeout", "source", "unreadable"}


def test_pages_say_the_failure_in_words_once_per_source_raw_detail_for_logged_in_only(app: Flask) -> None:
    fail(app, "ssb", "12143", DNS, NOW - timedelta(days=1))
    fail(app, "ssb", "12143", DNS)
    fail(app, "ssb", "12905", DNS)  # another SSB table: still one sentence for the source
    client = app.test_client()
    sentence = "SSB kan ikke nås fra serveren siden 26.11. kl. 09:30."  # since the first failure in a row
    page = visible(client.get("/indikator/netto_driftsresultat").get_data(as_text=True))
    assert f"Innhentingen feiler: {sentence}" in page and "Tall for 2023–2025 mangler." in page
    sources = visible(client.get("/kilder").get_data(as_text=True))
    assert sources.count("SSB kan ikke nås fra serveren") == 1
    for url in ("/", "/kilder", "/indikator/netto_driftsresultat", "/api/indicators"):
        text = client.get(url).get_data(as_text=True)
        assert not any(word in text for word in RAW), url
    assert "Name or service not known" in logged_in(app, "lise").get("/kilder").get_data(as_text=True)


CODE_WORDS = ("pending", "not_measured", "baseline", "fetch_failing", "Klokkene", "desimaler)", "1 rader",
              "Siste 1 kjøringer", "(1 indikatorer)", "ett tabell")


def test_no_english_or_code_words_on_the_pages(app: Flask) -> None:
    fail(app, "ssb", "12143", DNS)
    client = app.test_client()
    for url in ("/", "/kilder", "/indikator/netto_driftsresultat", "/indikator/sykefravaer", "/eksport"):
        text = visible(client.get(url).get_data(as_text=True))
        assert not any(word in text for word in CODE_WORDS), (url, [w for w in CODE_WORDS if w in text])
    page = visible(client.get("/indikator/sykefravaer").get_data(as_text=True))
    assert "Handlingsprogrammet (trykt)" in page and "Ikke målt" in page and "Tidspunkter" in page
    crumb = client.get("/indikator/sykefravaer").get_data(as_text=True).split('aria-current="page">', 1)[1]
    assert crumb.startswith("Sykefravær")  # the breadcrumb names the indicator, not its id
    kilder = client.get("/kilder").get_data(as_text=True)
    assert ">netto_driftsresultat</a>" not in kilder and "/indikator/netto_driftsresultat" in kilder


def test_counted_says_one_and_many() -> None:
    from web.formatting import counted
    assert counted(1, "rad", "rader") == "1 rad" and counted(2, "rad", "rader") == "2 rader"
    assert counted(1234, "rad", "rader") == "1\u00a0234 rader"


def test_a_manual_bridge_feeds_a_fetched_indicator_until_the_next_fetch(app: Flask, tmp_path: Path) -> None:
    from monitor.core.errors import MonitorError
    from monitor.imports.indicators import BRIDGE_VINTAGE, import_file

    catalogue = load_behaviour_catalogue()
    path = tmp_path / "bro.csv"
    path.write_text("indicator_id;period;value\nnetto_driftsresultat;2023;1,2\n", encoding="utf-8")
    with store_of(app) as store:
        with pytest.raises(MonitorError, match="manuell bro"):  # without --bridge a fetched indicator is refused
            import_file(store, catalogue, path, now=NOW, actor="kari")
        result = import_file(store, catalogue, path, now=NOW, actor="kari", bridge=True)
        assert result.new_vintages == 1
        [bridged] = [v for v in store.vintages("netto_driftsresultat") if v.period == "2023"]
        assert bridged.vintage == BRIDGE_VINTAGE and bridged.value == 1.2
    client = app.test_client()
    page = visible(client.get("/indikator/netto_driftsresultat").get_data(as_text=True))
    assert "2023: 1,2" in page.replace("\u00a0", " ")
    assert "Manuelt lagt inn" in page
    later = NOW + timedelta(days=1)
    with store_of(app) as store:
        store.write_run(RunRecord("ssb", "12143", later, later),
                        [Observation("netto_driftsresultat", "3203", "2023", 1.5, None, "ssb")])
    page = visible(client.get("/indikator/netto_driftsresultat").get_data(as_text=True))
    assert "2023: 1,5" in page.replace("\u00a0", " ")  # the fetched value takes over for the same period


def test_the_cli_and_the_web_form_offer_the_bridge(app: Flask, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from monitor.cli.main import cli

    assert "--bridge" in CliRunner().invoke(cli, ["import", "--help"]).output
    form = logged_in(app, "erik").get("/import").get_data(as_text=True)
    assert 'type="checkbox" id="bro" name="bro" value="ja"' in form and "manuelt lagt inn" in form
    editor = logged_in(app, "erik")

    def upload(**extra: str) -> str:
        data = {"csrf_token": csrf_token(editor, "/import"), "format": "auto", **extra,
                "fil": (io.BytesIO(b"indicator_id;period;value\nnetto_driftsresultat;2023;1,2\n"), "bro.csv")}
        return editor.post("/import", content_type="multipart/form-data", data=data).get_data(as_text=True)

    assert "manuell bro" in upload()  # refused without the box ticked
    assert "1 rad, 1 ny verdi lagret" in upload(bro="ja")
    with store_of(app) as store:
        assert [v.vintage for v in store.vintages("netto_driftsresultat") if v.period == "2023"] == ["Manuelt lagt inn"]

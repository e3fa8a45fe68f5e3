"""Issue 17's acceptance for analysts: the first day of a real deployment looks honest, not broken.

Only the printed baselines are loaded and every source failed the way an unreachable network fails (the run log
holds exactly what the fetchers record then). On /, /kilder, two indicator pages, /kostra, /kostra/oppvekst and
/eksport, read anonymously: no exception text, no English state code, and no "Data per" with today's date.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask import Flask

from monitor.catalogue.kostra import load_kostra
from monitor.core.model import RunRecord
from monitor.seed.kostra_baseline import load_kostra_baseline
from monitor.store.database import Store
from support.auth_helpers import NOW, make_app
from support.catalogues import BEHAVIOUR_CATALOGUE, load_behaviour_catalogue, load_fixture_baseline
from support.paths import REPO

PAGES = ("/", "/kilder", "/indikator/netto_driftsresultat", "/indikator/sykefravaer", "/kostra", "/kostra/oppvekst",
         "/eksport")
RAW = ("Errno", "Connection refused", "ReadTimeout", "ConnectTimeout", "Traceback", "Name or service not known")
STATE_CODES = ("fetch_failing", "not_measured", "pending", "late_days", "baseline", "unchanged")
# What the fetchers record when nothing answers: DNS, refused, timed out (fetchers/http.py's own words).
FAILURES = {
    "ssb": "tabell {table}: får ikke kontakt med https://data.ssb.no/api/pxwebapi/v2 ([Errno -2] Name or service not known)",
    "ssb-kostra": "tabell {table}: får ikke kontakt med https://data.ssb.no/api/pxwebapi/v2 ([Errno 111] Connection refused)",
    "fhi": "tabell {table}: tidsavbrudd etter 30 s (ReadTimeout) – ga opp etter 4 forsøk",
}


def first_day(tmp_path: Path) -> Flask:
    home = tmp_path / "deploy"
    home.mkdir()
    catalogue_path = home / "indicators.yaml"
    shutil.copy(BEHAVIOUR_CATALOGUE, catalogue_path)
    shutil.copy(REPO / "kostra.yaml", home / "kostra.yaml")  # the KOSTRA comparison next to the catalogue
    app = make_app(tmp_path, catalogue=catalogue_path)
    catalogue = load_behaviour_catalogue()
    kostra = load_kostra(home / "kostra.yaml")
    with Store(tmp_path / "monitor.db") as store:
        load_fixture_baseline(store, catalogue, NOW, tmp_path)
        load_kostra_baseline(store, kostra, NOW)
        for indicator in catalogue.indicators:
            if indicator.fetch is not None and indicator.fetch.kind in FAILURES:
                for series in indicator.fetch.series.values():
                    error = FAILURES[indicator.fetch.kind].format(table=series.table)
                    store.record_failure(RunRecord(indicator.fetch.kind, series.table, NOW, NOW), error)
        for table in sorted({series.table for _, series in kostra.fetched_series}):
            store.record_failure(RunRecord("ssb-kostra", table, NOW, NOW), FAILURES["ssb-kostra"].format(table=table))
    return app


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_first_day_shows_no_exception_text_and_no_code_words(tmp_path: Path) -> None:
    client = first_day(tmp_path).test_client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible(response.get_data(as_text=True))
        assert not [word for word in RAW if word in text], (url, [word for word in RAW if word in text])
        codes = [code for code in STATE_CODES if re.search(rf"\b{code}\b", text)]
        assert not codes, (url, codes)
    # The failures are said, in words, once per source.
    sources = visible(client.get("/kilder").get_data(as_text=True))
    assert sources.count("SSB kan ikke nås fra serveren siden 27.11.") == 1
    assert sources.count("FHI svarer ikke innen tidsfristen siden 27.11.") == 1
    assert "SSB avviser tilkoblingen fra serveren" in visible(client.get("/kostra/oppvekst").get_data(as_text=True))


def test_the_first_day_gives_no_data_per_date_and_says_the_print_is_what_is_loaded(tmp_path: Path) -> None:
    overview = visible(first_day(tmp_path).test_client().get("/").get_data(as_text=True))
    assert "Data per" not in overview
    assert f"{NOW:%d.%m.%Y}" not in overview.split("Tall for")[0]  # today's date is not given as the data's date
    assert "12.12.2023" in overview  # the handlingsprogram's printed figures, as adopted

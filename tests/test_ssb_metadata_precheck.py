"""SSB codes checked against the table's metadata, and values chosen by label: one wrong code or label fails its
indicator alone, the other indicators of the same table are stored (the real fetcher against the fake PxWebApi)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fetchers.jsonstat import parse_dataset
from fetchers.ssb import SsbClient
from fetchers.ssb_source import SsbSource
from monitor.cli.main import cli
from monitor.core.errors import CatalogueError, IndicatorRefused
from monitor.core.fetchspec import SsbFetch
from monitor.sources.online import Findings, check_ssb_online
from monitor.sources.pipeline import FetchReport
from monitor.store.database import Store
from monitor.store.rawarchive import read_archived
from support.fake_pxwebapi import FakePxWebApi
from support.paths import FIXTURES, OSLO
from support.ssb_catalogue import catalogue_with, over_80, ssb_indicator
from support.ssb_runs import run_ssb, stored

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)

# 12143 in tests/fixtures/ssb-v2 (constructed): KOKartkap0000 AGD23 «Netto driftsresultat», AGD97 «Netto renter»,
# AGD21 «Avdrag», KG31 «Netto lånegjeld»; × KOSbelopbrinv0000. Asker's values by year, as in the fixture:
NETTO_DRIFTSRESULTAT = {"2019": 4.9, "2020": 3.9, "2021": 4.4, "2022": -0.7, "2023": 1.2, "2024": 2.6}
NETTO_LANEGJELD = {"2019": 99.1, "2020": 102.8, "2021": 99.0, "2022": 97.4, "2023": 98.6, "2024": 101.3}
# 12209: KOSsykhjand80aar0000 (institution), stored by over_80 as 100 − x
BOR_HJEMME = {"2019": 90.6, "2020": 90.4, "2021": 89.8, "2022": 90.9, "2023": 90.7, "2024": 91.0}


def driftsresultat() -> dict[str, Any]:
    return ssb_indicator("driftsresultat", "12143", {"KOKartkap0000": "AGD23", "ContentsCode": "KOSbelopbrinv0000"},
                         labels={"KOKartkap0000": "Netto driftsresultat"})


def by_label(label: str, indicator_id: str = "lanegjeld_etikett") -> dict[str, Any]:
    return ssb_indicator(indicator_id, "12143", {"KOKartkap0000": {"label": label}, "ContentsCode": "KOSbelopbrinv0000"})




@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=NOW) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        yield store






def outcomes(report: FetchReport) -> dict[str, tuple[str, str | None]]:
    return {t.table: (t.outcome, t.error) for t in report.tables}


def test_a_code_the_table_lacks_fails_only_its_indicator_and_the_sibling_is_stored(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    wrong = ssb_indicator("feil_kode", "12209", {"ContentsCode": "KOSandelfinnesikke0000"})
    catalogue = catalogue_with(tmp_path, over_80(), wrong)
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    sentence = "SSB-tabell 12209 har ingen verdi KOSandelfinnesikke0000 i ContentsCode"
    assert outcomes(report) == {"12209": ("ok", None), "12209:feil_kode": ("failed", sentence)}
    assert stored(db, "bor_hjemme") == BOR_HJEMME
    assert stored(db, "feil_kode") == {}
    # SSB refused the first query (400), the metadata named the code, the query without it was answered
    assert server.path_counts["/tables/12209/data"] == 2 and server.path_counts["/tables/12209/metadata"] == 1
    assert [body["selection"][1]["valueCodes"] for body in (r.body for r in server.requests if r.method == "POST")][-1] \
        == ["KOSsykhjand80aar0000"]
    run_log = {r["target"]: r for r in db.runs("ssb")}
    assert run_log["12209:feil_kode"]["outcome"] == "failed" and run_log["12209:feil_kode"]["error"] == sentence
    assert run_log["12209"]["outcome"] == "ok"


def test_a_happy_run_reads_no_metadata(tmp_path: Path, db: Store, server: FakePxWebApi) -> None:
    catalogue = catalogue_with(tmp_path, driftsresultat(), over_80())
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert report.failed == []
    assert report.requests == server.total_requests == 3  # /config and one POST per table
    assert not any(path.endswith("/metadata") for path in server.path_counts)


def test_when_the_metadata_cannot_be_read_the_table_fails_as_before(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    wrong = ssb_indicator("feil_kode", "12209", {"ContentsCode": "KOSandelfinnesikke0000"})
    catalogue = catalogue_with(tmp_path, over_80(), wrong)
    server.inject("/tables/12209/metadata", "html", times=None)
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert [t.table for t in report.failed] == ["12209"]
    error = report.failed[0].error or ""
    assert error.startswith("tabell 12209: ") and "HTTP 400" in error and "KOSandelfinnesikke0000" in error
    assert stored(db, "bor_hjemme") == {}


def test_a_label_resolves_to_its_code_and_the_value_is_stored(
    tmp_path: Path, db: Store, server: FakePxWebApi, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("  netto   LÅNEGJELD "))
    with caplog.at_level("INFO", logger="fetchers.ssb_source"):
        report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert report.failed == []
    assert stored(db, "lanegjeld_etikett") == NETTO_LANEGJELD
    assert stored(db, "driftsresultat") == NETTO_DRIFTSRESULTAT
    # the metadata is read once, before the one data request, which asks for the resolved code
    assert server.path_counts["/tables/12143/metadata"] == 1 and server.path_counts["/tables/12143/data"] == 1
    post = next(r.body for r in server.requests if r.method == "POST")
    assert post["selection"][1] == {"variableCode": "KOKartkap0000", "valueCodes": ["AGD23", "KG31"]}
    # the run log (service log) and the raw archive keep the resolved code, so ops can pin it
    assert "SSB 12143: lanegjeld_etikett (serie lanegjeld_etikett): KOKartkap0000 «  netto   LÅNEGJELD » er koden KG31" \
        in caplog.messages
    logged = [r for r in db.runs("ssb") if r["target"] == "12143"][-1]
    assert '"KG31"' in read_archived(Path(logged["raw_path"]), logged["raw_sha256"]).decode("utf-8")


def test_a_label_with_no_match_fails_alone_naming_the_label_and_the_table(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("Ubundne investeringsfond", "fond_test"))
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert outcomes(report) == {
        "12143": ("ok", None),
        "12143:fond_test": (
            "failed", "SSB-tabell 12143 har ingen verdi med etiketten «Ubundne investeringsfond» i KOKartkap0000"),
    }
    assert stored(db, "driftsresultat") == NETTO_DRIFTSRESULTAT
    assert stored(db, "fond_test") == {}


def test_a_label_is_the_whole_label_not_a_part_of_it(tmp_path: Path, db: Store, server: FakePxWebApi) -> None:
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("Netto"))  # a prefix of two labels: no match
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert outcomes(report)["12143:lanegjeld_etikett"] == (
        "failed", "SSB-tabell 12143 har ingen verdi med etiketten «Netto» i KOKartkap0000")


def test_a_label_with_two_matches_fails_alone_listing_the_candidates(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    metadata = _metadata("12143")
    metadata["dimension"]["KOKartkap0000"]["category"]["label"]["AGD21"] = "Netto lånegjeld"
    server.set_metadata("12143", metadata)
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("Netto lånegjeld"))
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert outcomes(report) == {
        "12143": ("ok", None),
        "12143:lanegjeld_etikett": ("failed", (
            "SSB-tabell 12143 har 2 verdier med etiketten «Netto lånegjeld» i KOKartkap0000: "
            "AGD21 («Netto lånegjeld»), KG31 («Netto lånegjeld»); velg koden i katalogen")),
    }
    assert stored(db, "driftsresultat") == NETTO_DRIFTSRESULTAT
    assert stored(db, "lanegjeld_etikett") == {}


def test_a_label_cannot_be_looked_up_without_metadata_and_the_sibling_is_stored(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    server.inject("/tables/12143/metadata", "html", times=None)
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("Netto lånegjeld"))
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    outcome, error = outcomes(report)["12143:lanegjeld_etikett"]
    assert outcome == "failed" and (error or "").startswith(
        "SSB-tabell 12143: etiketten «Netto lånegjeld» i KOKartkap0000 kunne ikke slås opp fordi tabellens metadata "
        "ikke kunne hentes (")
    assert outcomes(report)["12143"] == ("ok", None)
    assert stored(db, "driftsresultat") == NETTO_DRIFTSRESULTAT


def test_every_series_of_a_table_refused_fails_the_table_with_the_sentences(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    catalogue = catalogue_with(tmp_path, by_label("Ubundne investeringsfond", "fond_test"), over_80())
    report = run_ssb(catalogue, db, server, tmp_path, NOW)
    assert outcomes(report) == {
        "12143": ("failed", "tabell 12143: SSB-tabell 12143 har ingen verdi med etiketten «Ubundne investeringsfond» i "
                            "KOKartkap0000."),
        "12209": ("ok", None),
    }
    assert server.path_counts["/tables/12143/data"] == 0


def test_validate_online_reports_the_resolved_code_per_series(tmp_path: Path, server: FakePxWebApi) -> None:
    catalogue = catalogue_with(tmp_path, driftsresultat(), by_label("Netto lånegjeld"),
                               by_label("Ubundne investeringsfond", "fond_test"))
    with SsbClient(server.base_url, timeout=5.0, backoff=0.01) as client:
        tables, problems = check_ssb_online(catalogue, client)
    assert tables == 1
    assert list(problems) == [
        "SSB 12143: fond_test (serie fond_test): SSB-tabell 12143 har ingen verdi med "
        "etiketten «Ubundne investeringsfond» i KOKartkap0000",
    ]
    assert isinstance(problems, Findings) and problems.notes == [
        "SSB 12143: lanegjeld_etikett (serie lanegjeld_etikett): KOKartkap0000 «Netto lånegjeld» er koden KG31",
    ]


@pytest.mark.parametrize(("select", "labels", "message"), [
    ({"KOKartkap0000": {"label": "  "}, "ContentsCode": "KOSbelopbrinv0000"}, None, "etiketten er tom"),
    ({"KOKartkap0000": {"label": "Netto lånegjeld"}, "ContentsCode": "KOSbelopbrinv0000"},
     {"KOKartkap0000": "Netto lånegjeld"}, "velges alt med `label`"),
    ({"KOKartkap0000": {"label": "Netto lånegjeld", "pattern": "Netto*"}, "ContentsCode": "KOSbelopbrinv0000"}, None,
     "pattern"),
])
def test_a_malformed_label_select_is_a_catalogue_error(
    tmp_path: Path, select: dict[str, object], labels: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(CatalogueError) as raised:
        catalogue_with(tmp_path, ssb_indicator("x", "12143", select, labels=labels))
    assert message in str(raised.value)


def _metadata(table: str) -> dict[str, Any]:
    """The fixture's metadata of a table, to change and serve instead."""
    document: dict[str, Any] = json.loads((FIXTURES / "ssb-v2" / table / "metadata.json").read_text(encoding="utf-8"))
    return document


def test_monitor_validate_online_prints_the_resolved_code_and_counts_no_deviation(
    tmp_path: Path, server: FakePxWebApi
) -> None:
    catalogue_with(tmp_path, driftsresultat(), by_label("Netto lånegjeld"))
    path = tmp_path / "catalogue.yaml"
    env = {"MONITOR_SSB_URL": server.base_url, "MONITOR_CATALOGUE": str(path), "MONITOR_DB": str(tmp_path / "x.db")}
    result = CliRunner().invoke(cli, ["validate", str(path), "--online"], env=env)
    assert result.exit_code == 0, result.output
    assert "SSB 12143: lanegjeld_etikett (serie lanegjeld_etikett): KOKartkap0000 «Netto lånegjeld» er koden KG31" \
        in result.stdout.splitlines()
    assert "1 tabeller sjekket" in result.stdout and "0 avvik" in result.stdout


def test_a_label_this_run_did_not_resolve_is_resolved_against_the_answer_itself(tmp_path: Path) -> None:
    """An indicator whose other table was not fetched in this run reads that table's archived answer: the label is
    resolved against the answer's own category labels (no request)."""
    catalogue = catalogue_with(tmp_path, by_label("Netto lånegjeld"), by_label("Ubundne investeringsfond", "fond_test"))
    dataset = parse_dataset((FIXTURES / "ssb-v2" / "12143" / "data.json").read_bytes())
    with SsbClient("http://127.0.0.1:9", timeout=1.0) as client:
        source = SsbSource(client, catalogue)
        fetch = catalogue.get("lanegjeld_etikett").fetch
        assert isinstance(fetch, SsbFetch)
        points = source.extract(dataset, fetch.series["lanegjeld_etikett"], catalogue.municipality)
        assert {period: round(point.value or 0, 6) for period, point in points.items()} == NETTO_LANEGJELD
        other = catalogue.get("fond_test").fetch
        assert isinstance(other, SsbFetch)
        with pytest.raises(IndicatorRefused, match="har ingen verdi med etiketten «Ubundne investeringsfond»"):
            source.extract(dataset, other.series["fond_test"], catalogue.municipality)
        assert client.requests == 0

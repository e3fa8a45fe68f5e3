"""An indicator its table refuses alone (a code or label the table lacks) is «innhenting feiler» and alerted, while
the table's other indicators stay healthy; the refusal lasts until an answer of the table is read without it
(the real SSB fetcher against the fake PxWebApi, the real evaluation and alert conditions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.conditions import describe, find_conditions
from monitor.catalogue.indicators import Catalogue
from monitor.core.model import RunRecord
from monitor.evaluate.assessment import evaluate_all
from monitor.evaluate.indicator import Evaluation, State
from monitor.store.database import Store
from support.fake_pxwebapi import FakePxWebApi
from support.paths import OSLO
from support.ssb_catalogue import catalogue_with, over_80, ssb_indicator
from support.ssb_runs import run_ssb

FIRST = datetime(2026, 11, 27, 9, 0, tzinfo=OSLO)
SENTENCE = "SSB-tabell 12209 har ingen verdi KOSandelfinnesikke0000 i ContentsCode"


def helse(code: str) -> dict[str, Any]:
    return ssb_indicator("helse", "12209", {"ContentsCode": code})


@pytest.fixture
def server() -> Iterator[FakePxWebApi]:
    with FakePxWebApi(calls=1000, window=60, now=FIRST) as running:
        yield running


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "monitor.db") as store:
        store.migrate()
        yield store


def judged(catalogue: Catalogue, store: Store, at: datetime) -> dict[str, Evaluation]:
    return {e.id: e for e in evaluate_all(catalogue, store, at.date())}


def test_a_refused_indicator_fails_alone_until_its_table_answers_for_it(
    tmp_path: Path, db: Store, server: FakePxWebApi
) -> None:
    wrong = catalogue_with(tmp_path, over_80(), helse("KOSandelfinnesikke0000"))
    report = run_ssb(wrong, db, server, tmp_path, FIRST)
    assert {t.table: t.outcome for t in report.tables} == {"12209": "ok", "12209:helse": "failed"}

    evaluations = judged(wrong, db, FIRST)
    assert evaluations["helse"].state is State.FETCH_FAILING
    assert evaluations["helse"].last_outcome == "failed"
    # the fetch's own sentence, with since when (09:00 Oslo on 27 November)
    assert f"Innhentingen feiler: {SENTENCE} siden 27.11. kl. 09:00." in evaluations["helse"].explanation
    assert evaluations["bor_hjemme"].state is not State.FETCH_FAILING
    assert evaluations["bor_hjemme"].last_outcome == "ok"

    findings = find_conditions(wrong, db, evaluations.values())
    failing = {c.about.subject: c for c in findings.conditions if c.about.kind == "fetch_failing"}
    assert list(failing) == ["ssb:12209:helse"]  # the table itself is not failing
    condition = failing["ssb:12209:helse"]
    assert condition.about.title == "SSB-tabell 12209 for Testindikator helse"
    assert condition.about.path == "/indikator/helse"
    assert {"ssb:12209:helse", "ssb:12209", "ssb", "helse"} <= condition.about.aliases
    assert SENTENCE in condition.detail and condition.detail.endswith("Gjelder: Testindikator helse.")

    # A day later the first scheduled run (no change check yet) reads 12209 again: the same values, refused again
    later = FIRST + timedelta(days=1)
    reread = run_ssb(wrong, db, server, tmp_path, later, force=False)
    assert {t.table: t.outcome for t in reread.tables} == {"12209": "unchanged", "12209:helse": "failed"}
    assert judged(wrong, db, later)["helse"].state is State.FETCH_FAILING

    # Another forced run refuses again: still one streak, since 27 November
    again = FIRST + timedelta(days=2)
    run_ssb(wrong, db, server, tmp_path, again)
    assert f"{SENTENCE} siden 27.11. kl. 09:00." in judged(wrong, db, again)["helse"].explanation

    # The catalogue is corrected (the code 12209 has): the next answer is read without a refusal
    fixed = catalogue_with(tmp_path, over_80(), helse("KOSandelmhelseut0000"))
    mended = FIRST + timedelta(days=3)
    report = run_ssb(fixed, db, server, tmp_path, mended)
    assert {t.table: t.outcome for t in report.tables} == {"12209": "ok"}
    evaluations = judged(fixed, db, mended)
    assert evaluations["helse"].state is not State.FETCH_FAILING and evaluations["helse"].latest_value is not None
    findings = find_conditions(fixed, db, evaluations.values())
    assert [c for c in findings.conditions if c.about.kind == "fetch_failing"] == []
    assert "ssb:12209:helse" in findings.resolved_details  # an open episode is resolved with a sentence


def test_a_change_check_that_does_not_read_the_table_keeps_the_refusal(db: Store) -> None:
    """The run log alone: a refusal ends only with an answer of the table read without one."""
    day = [FIRST + timedelta(days=n) for n in range(4)]
    read = {"raw_path": "raw/ssb/12209.json", "raw_sha256": "ab"}
    db.write_run(RunRecord("ssb", "12209", day[0], day[0], **read), [])
    db.record_failure(RunRecord("ssb", "12209:helse", day[0], day[0]), SENTENCE)
    db.write_run(RunRecord("ssb", "12209", day[1], day[1]), [])  # the change check: not updated, not read
    refused = db.refusal("ssb", "12209", "helse")
    assert refused is not None and refused[0] == SENTENCE
    assert datetime.fromisoformat(refused[1]) == day[0]  # since the refusal, 27 November 09:00 Oslo
    assert db.refusal("ssb", "12209", "bor_hjemme") is None  # never refused
    db.write_run(RunRecord("ssb", "12209", day[2], day[2], **read), [])  # read again, nothing refused beside it
    assert db.refusal("ssb", "12209", "helse") is None


def test_an_episode_subject_for_a_removed_indicator_is_still_described(tmp_path: Path) -> None:
    catalogue = catalogue_with(tmp_path, over_80())
    about = describe(catalogue, "fetch_failing", "ssb:12209:fjernet")
    assert about.title == "SSB-tabell 12209 for fjernet"
    assert about.path == "/indikator/fjernet" and "ssb:12209" in about.aliases

"""Evaluation: release calendars around each release date, states, targets, trend, revision, explanations."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from support.catalogues import load_fixture_baseline
from monitor.evaluate.assessment import evaluate_all
from monitor.catalogue.indicators import Catalogue, Frequency, Indicator
from monitor.evaluate.indicator import FetchHealth, State, TargetStatus, evaluate_indicator, judge_target, trajectory_value
from monitor.core.model import Vintage
from monitor.catalogue.releases import KOSTRA_PRELIMINARY, ReleaseRule, expected_latest
from monitor.sources.registry import default_rule
from monitor.store.database import Store

TODAY = date(2026, 11, 27)
ANNUAL = ReleaseRule(kind="annual", due="06-30")
WAVES = ReleaseRule(kind="waves", due="12-31", year_offset=1, grace_days=30)


@pytest.mark.parametrize(
    "rule,frequency,lag,today,held,expected",
    [
        # KOSTRA: unrevised figures for the year before on 15 March.
        (KOSTRA_PRELIMINARY, Frequency.ANNUAL, 0, date(2026, 3, 14), [], 2024),
        (KOSTRA_PRELIMINARY, Frequency.ANNUAL, 0, date(2026, 3, 15), [], 2025),
        (KOSTRA_PRELIMINARY, Frequency.ANNUAL, 0, date(2026, 3, 16), [], 2025),
        (KOSTRA_PRELIMINARY, Frequency.ANNUAL, 1, date(2026, 3, 16), [], 2024),
        # Annual SSB/FHI/registers: due 30 June the year after.
        (ANNUAL, Frequency.ANNUAL, 0, date(2026, 6, 29), [], 2024),
        (ANNUAL, Frequency.ANNUAL, 0, date(2026, 6, 30), [], 2025),
        (ANNUAL, Frequency.ANNUAL, 0, date(2026, 7, 1), [], 2025),
        (ANNUAL, Frequency.ANNUAL, 1, date(2026, 7, 1), [], 2024),
        # New year: nothing new is due on 1 January.
        (ANNUAL, Frequency.ANNUAL, 0, date(2026, 12, 31), [], 2025),
        (ANNUAL, Frequency.ANNUAL, 0, date(2027, 1, 1), [], 2025),
        # Leap year: a 29 February due date exists only in leap years.
        (ReleaseRule(kind="annual", due="02-28"), Frequency.ANNUAL, 0, date(2028, 2, 29), [], 2027),
        # Udir: Elevundersøkelsen published by 31 March.
        (ReleaseRule(kind="annual", due="03-31"), Frequency.ANNUAL, 0, date(2026, 3, 30), [], 2024),
        (ReleaseRule(kind="annual", due="03-31"), Frequency.ANNUAL, 0, date(2026, 3, 31), [], 2025),
        # Surveys: Ungdata every third year, anchored at the last wave held.
        (WAVES, Frequency.TRIENNIAL, 0, date(2026, 11, 27), [2019, 2022], 2022),
        (WAVES, Frequency.TRIENNIAL, 0, date(2026, 12, 31), [2019, 2022], 2025),
        (WAVES, Frequency.BIENNIAL, 0, date(2026, 11, 27), [2021], 2023),
        (WAVES, Frequency.QUADRENNIAL, 0, date(2026, 11, 27), [2021], 2021),
        (WAVES, Frequency.QUADRENNIAL, 0, date(2027, 1, 1), [2021], 2025),
        (ReleaseRule(kind="waves", anchor=2019, every=3), Frequency.TRIENNIAL, 0, date(2026, 11, 27), [], 2025),
        # No calendar.
        (ReleaseRule(kind="none"), Frequency.SPORADIC, 0, TODAY, [2021], None),
    ],
)
def test_expected_latest_period(
    rule: ReleaseRule, frequency: Frequency, lag: int, today: date, held: list[int], expected: int | None
) -> None:
    assert expected_latest(rule, frequency, lag, today, held) == expected


def vintage(indicator: str, period: str, value: float | None, status: str | None = None, *,
            vintage_name: str | None = None, at: str = "2026-01-01T00:00:00+00:00", ident: int = 1) -> Vintage:
    return Vintage(ident, indicator, "3203", period, value, status, "test", None, at, vintage_name, None)


@pytest.fixture
def baseline_evaluations(tmp_path: Path, behaviour_catalogue: Catalogue, now: datetime) -> dict[str, object]:
    with Store(tmp_path / "e.db") as store:
        store.migrate()
        load_fixture_baseline(store, behaviour_catalogue, now, tmp_path)
        return {e.id: e for e in evaluate_all(behaviour_catalogue, store, TODAY)}


def test_baseline_alone_on_2026_11_27(baseline_evaluations: dict, behaviour_catalogue: Catalogue) -> None:
    e = baseline_evaluations
    assert (e["netto_driftsresultat"].latest_value, e["netto_driftsresultat"].target_status) == (-0.7, TargetStatus.NOT_MET)
    assert e["netto_driftsresultat"].explanation.startswith(
        "Netto driftsresultat som andel av brutto driftsinntekter 2022: \u22120,7\u00a0% er under laveste akseptable nivå (1,75\u00a0%)."
    )
    assert (e["disposisjonsfond"].latest_value, e["disposisjonsfond"].target_status) == (14.8, TargetStatus.MET)
    assert (e["netto_lanegjeld"].latest_value, e["netto_lanegjeld"].target_status) == (97.4, TargetStatus.ACCEPTABLE)
    assert (e["vedlikehold_formalsbygg"].latest_value, e["vedlikehold_formalsbygg"].target_status) == (132, TargetStatus.ACCEPTABLE)
    # Annual SSB indicators lacking 2023 and 2024 are late, with the days counted from the release date.
    for ident in ("befolkningsvekst", "nye_boliger", "egendekning_arbeidsplasser", "stromforbruk_husholdninger"):
        assert e[ident].state is State.LATE, ident
    assert (e["befolkningsvekst"].expected_period, e["befolkningsvekst"].late_days) == ("2025", 150)
    assert (e["netto_driftsresultat"].expected_period, e["netto_driftsresultat"].late_days) == ("2025", 257)
    # Surveys waiting for their next wave are not late.
    for ident in ("fritidstilbud_ungdom", "lite_fysisk_aktive_ungdom", "pavirke_beslutninger"):
        assert e[ident].state is State.OK, ident
    assert "neste periode ventes 31. desember 2026" in e["fritidstilbud_ungdom"].explanation
    # Sporadic or unknown frequency: no calendar, the latest status stands.
    assert e["reiser_sykkel"].state is State.NOT_MEASURED
    assert list(e) == [i.id for i in behaviour_catalogue.indicators]  # one evaluation per indicator


def test_states_from_statuses_and_grace(behaviour_catalogue: Catalogue) -> None:
    indicator = behaviour_catalogue.get("sykefravaer")
    rule = default_rule(indicator, frozenset())
    held = [vintage("sykefravaer", "2024", 9.0)]
    assert evaluate_indicator(indicator, held, rule, date(2026, 6, 29)).state is State.OK
    due = evaluate_indicator(indicator, held, rule, date(2026, 7, 10))
    assert (due.state, due.expected_period, due.due) == (State.DUE, "2025", date(2026, 6, 30))
    late = evaluate_indicator(indicator, held, rule, date(2026, 7, 15))
    assert (late.state, late.late_days) == (State.LATE, 15)
    pending = held + [vintage("sykefravaer", "2025", None, "pending", ident=2)]
    assert evaluate_indicator(indicator, pending, rule, date(2026, 7, 15)).state is State.PENDING
    measured = held + [vintage("sykefravaer", "2025", None, "not_measured", ident=2)]
    assert evaluate_indicator(indicator, measured, rule, date(2026, 7, 15)).state is State.NOT_MEASURED
    hidden = held + [vintage("sykefravaer", "2025", None, ":", ident=2)]
    assert evaluate_indicator(indicator, hidden, rule, date(2026, 7, 15)).state is State.SUPPRESSED


def test_fetch_failing_is_separate_from_late(behaviour_catalogue: Catalogue) -> None:
    indicator = behaviour_catalogue.get("befolkningsvekst")
    health = FetchHealth(last_attempt="2026-11-27T07:30:00+00:00", last_outcome="failed",
                         last_error="tabell 01222: serverfeil hos kilden (HTTP 503)")
    result = evaluate_indicator(indicator, [vintage("befolkningsvekst", "2025", 1.1)], ANNUAL, TODAY, health)
    assert result.state is State.FETCH_FAILING
    assert "Innhentingen feiler: tabell 01222: serverfeil hos kilden (HTTP 503)" in result.explanation


def test_trend_follows_direction_and_revision_is_flagged(behaviour_catalogue: Catalogue) -> None:
    sick = behaviour_catalogue.get("sykefravaer")  # lower is better
    series = [
        vintage("sykefravaer", "2021", 8.4, vintage_name="Handlingsprogram 2024–2027", at="2023-12-11T23:00:00+00:00", ident=1),
        vintage("sykefravaer", "2022", 9.3, vintage_name="Handlingsprogram 2024–2027", at="2023-12-11T23:00:00+00:00", ident=2),
        vintage("sykefravaer", "2022", 9.1, at="2026-03-01T00:00:00+00:00", ident=3),
    ]
    result = evaluate_indicator(sick, series, ANNUAL, date(2023, 7, 1))
    assert result.trend == "worse" and result.latest_value == 9.1
    assert result.revised == ["2022"] and "Revidert siden handlingsprogrammet: 2022." in result.explanation
    # A value equal to the printed one after rounding is not a revision.
    same = series[:2] + [vintage("sykefravaer", "2022", 9.2999999, at="2026-03-01T00:00:00+00:00", ident=3)]
    assert evaluate_indicator(sick, same, ANNUAL, date(2023, 7, 1)).revised == []


def test_threshold_and_trajectory_targets(behaviour_catalogue: Catalogue) -> None:
    overflow = behaviour_catalogue.get("overlop_forurensning")
    assert judge_target(overflow, 0.04, "2022") is TargetStatus.MET
    assert judge_target(overflow, 5.0, "2022") is TargetStatus.NOT_MET
    emissions: Indicator = behaviour_catalogue.get("direkte_klimagassutslipp")
    target = emissions.target
    assert judge_target(emissions, 212_196, "2022") is TargetStatus.NONE  # no 2009 value in the seed
    with_base = target.model_copy(update={"base_value": 300_000.0})  # type: ignore[union-attr]
    assert trajectory_value(with_base, 2009) == 300_000.0
    assert trajectory_value(with_base, 2030) == pytest.approx(99_000.0)
    on_path_2022 = trajectory_value(with_base, 2022)
    assert on_path_2022 == pytest.approx(300_000 * (1 - 0.67 * 13 / 21))
    moved = emissions.model_copy(update={"target": with_base})
    assert judge_target(moved, 170_000, "2022") is TargetStatus.MET
    assert judge_target(moved, 212_196, "2022") is TargetStatus.NOT_MET

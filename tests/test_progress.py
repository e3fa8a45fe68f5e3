"""Progress towards the target (issue 18): every branch of monitor/evaluate/progress.py, with numbers worked by hand.

Each expected number is written out below with the arithmetic that gives it; none is recomputed by the code under
test. Slopes are listed for the pairs (i, j) in order; the Theil–Sen pace is their median.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import pytest

from monitor.catalogue.indicators import Indicator
from monitor.catalogue.releases import ReleaseRule
from monitor.core.model import Vintage
from monitor.evaluate.indicator import evaluate_indicator
from monitor.evaluate.progress import (
    PROGRESS_WORDS, Progress, ProgressStatus, assess_progress, progress_from_latest,
)

BANDS_3 = {"kind": "bands", "desired": 3, "acceptable": 1.75, "text": "Ønsket > 3 %"}
AT_LEAST_100 = {"kind": "threshold", "op": ">=", "value": 100, "text": "Minst 100"}


def indicator(direction: str = "higher_is_better", target: dict[str, Any] | None = None, *, decimals: int = 1,
              symbol: str | None = "%", unit: str = "percent", name: str = "Netto driftsresultat (> 3 %)",
              progress: dict[str, Any] | None = None) -> Indicator:
    data: dict[str, Any] = {
        "id": "test_indikator", "name": name, "area": "Økonomi", "hovedmal": "H", "delmal": "D",
        "source": {"kind": "register", "name": "Test"}, "frequency": "annual", "unit": unit, "symbol": symbol,
        "decimals": decimals, "direction": direction, "target": target,
    }
    if progress is not None:
        data["progress"] = progress
    return Indicator.model_validate(data)


def vintage(period: str, value: float | None, status: str | None = None, *, at: str = "2026-01-01T00:00:00+00:00",
            ident: int = 1) -> Vintage:
    return Vintage(ident, "test_indikator", "3203", period, value, status, "test", None, at, None, None)


def series(values: dict[str, float | None]) -> list[Vintage]:
    return [vintage(period, value, None if value is not None else "..", ident=i) for i, (period, value)
            in enumerate(values.items(), start=1)]


def assess(ind: Indicator, values: dict[str, float | None]) -> Progress:
    return assess_progress(ind, series(values))


# ---- the handlingsprogram's netto driftsresultat: a sign change, against bands --------------------------------

NETTO = {"2019": 4.9, "2020": 3.9, "2021": 4.4, "2022": -0.7}


def test_sign_change_against_bands_is_deteriorating_with_the_pace_and_the_pace_needed() -> None:
    result = assess(indicator(target=BANDS_3), NETTO)
    # slopes: (3.9−4.9)/1 = −1.0; (4.4−4.9)/2 = −0.25; (−0.7−4.9)/3 = −1.8667; (4.4−3.9)/1 = 0.5;
    # (−0.7−3.9)/2 = −2.3; (−0.7−4.4)/1 = −5.1. Sorted −5.1, −2.3, −1.8667, −1.0, −0.25, 0.5: the median is
    # (−1.8667 − 1.0)/2 = −1.4333 (= −4.3/3).
    assert result.pace == pytest.approx(-1.433333333)
    # G = 3 (the desired band), Y = 2027 (bands have no year), T = 2022, c = −0.7: d·(c − G) = −3.7 < 0.
    assert (result.target_value, result.target_year) == (3, 2027)
    # r = (3 − (−0.7)) / (2027 − 2022) = 3.7/5 = 0.74; q = −1.4333/0.74 = −1.9369 < 0.
    assert result.required_pace == pytest.approx(0.74)
    assert result.ratio == pytest.approx(-1.936937)
    assert result.status is ProgressStatus.DETERIORATING and result.relative_pace is None
    # intercept at 2027: median of v + 1.4333·(y − 2027) = 4.9−11.4667 = −6.5667, 3.9−10.0333 = −6.1333,
    # 4.4−8.6 = −4.2, −0.7−7.1667 = −7.8667 → (−6.5667 − 6.1333)/2 = −6.35.
    assert result.projection is not None and result.projection.year == 2027
    assert result.projection.value == pytest.approx(-6.35)
    assert result.explanation == (
        "Fra 2019 til 2022 har netto driftsresultat gått ned med 1,4\u00a0prosentpoeng i året; "
        "for å nå 3\u00a0% innen 2027 må det øke med 0,7 i året."
    )
    assert [(p.period, p.year, p.value) for p in result.points] == [
        ("2019", 2019, 4.9), ("2020", 2020, 3.9), ("2021", 2021, 4.4), ("2022", 2022, -0.7)]


def test_to_dict_is_json_ready_with_the_status_word() -> None:
    data = assess(indicator(target=BANDS_3), NETTO).to_dict()
    assert data["status"] == "deteriorating" and data["label"] == "Går feil vei"
    assert data["base_year"] == 2019 and data["points"][0] == {"period": "2019", "year": 2019, "value": 4.9}
    assert data["projection"]["year"] == 2027 and data["projection"]["value"] == pytest.approx(-6.35)
    assert set(data) == {"status", "label", "base_year", "points", "pace", "target_value", "target_year",
                         "required_pace", "ratio", "relative_pace", "projection", "explanation"}


def test_every_status_has_its_bokmal_word() -> None:
    assert PROGRESS_WORDS == {
        ProgressStatus.TARGET_MET: "Mål nådd", ProgressStatus.SUBSTANTIAL: "God fremgang",
        ProgressStatus.MODERATE: "Noe fremgang", ProgressStatus.LIMITED: "Lite fremgang",
        ProgressStatus.DETERIORATING: "Går feil vei", ProgressStatus.INSUFFICIENT_DATA: "For få målinger",
        ProgressStatus.NO_DIRECTION: "Uten retning",
    }


# ---- ties, flat series, a target already met ---------------------------------------------------------------------

def test_tied_middle_slopes_and_a_target_already_met() -> None:
    # disposisjonsfond 15.1, 18.1, 18.0, 14.8 against "> 10 %": slopes 3.0, 1.45, −0.1, −0.1, −1.65, −3.2;
    # the two middle ones tie at −0.1, so b = −0.1. c = 14.8 ≥ G = 10: met, whatever the pace.
    result = assess(indicator(target={"kind": "bands", "desired": 10, "acceptable": 5, "text": "> 10 %"},
                              name="Disposisjonsfond"), {"2019": 15.1, "2020": 18.1, "2021": 18.0, "2022": 14.8})
    assert result.status is ProgressStatus.TARGET_MET
    assert result.pace == pytest.approx(-0.1)
    assert (result.required_pace, result.ratio, result.relative_pace) == (None, None, None)
    # at 2027: v + 0.1·(y − 2027) = 14.3, 17.4, 17.4, 14.3 → median (14.3 + 17.4)/2 = 15.85.
    assert result.projection is not None and result.projection.value == pytest.approx(15.85)
    assert result.explanation == (
        "Fra 2019 til 2022 har disposisjonsfond gått ned med 0,1\u00a0prosentpoeng i året; målet (10\u00a0%) er nådd.")


def test_exactly_at_the_target_is_met() -> None:
    # d·(c − G) = 1·(100 − 100) = 0 ≥ 0.
    result = assess(indicator(target=AT_LEAST_100), {"2020": 80, "2021": 90, "2022": 100})
    assert result.status is ProgressStatus.TARGET_MET


def test_lower_is_better_below_the_target_is_met() -> None:
    # d = −1, c = 0.04, G = 5: −1·(0.04 − 5) = 4.96 ≥ 0.
    target = {"kind": "threshold", "op": "<", "value": 5, "text": "< 5 %"}
    result = assess(indicator("lower_is_better", target, decimals=2), {"2020": 0.63, "2021": 0.14, "2022": 0.04})
    assert result.status is ProgressStatus.TARGET_MET


def test_flat_series_without_target_is_limited_with_a_positive_zero() -> None:
    # 6, 6, 6, 6 (a Kommune-NM rank, lower is better): every slope 0, b = 0, p = −1·0/6 = 0 → limited.
    result = assess(indicator("lower_is_better", decimals=0, symbol=None, unit="rank", name="Plassering"),
                    {"2019": 6, "2020": 6, "2021": 6, "2022": 6})
    assert result.status is ProgressStatus.LIMITED
    assert result.pace == 0 and result.relative_pace == 0 and math.copysign(1, result.relative_pace) == 1
    assert result.projection is not None and result.projection.value == 6
    assert result.explanation == "Fra 2019 til 2022 har plassering stått stille."


def test_flat_series_at_zero_has_relative_pace_zero() -> None:
    # mean(|v|) = 0, so p = 0 by definition → limited.
    result = assess(indicator(), {"2019": 0, "2020": 0, "2021": 0})
    assert (result.status, result.relative_pace) == (ProgressStatus.LIMITED, 0.0)


def test_flat_series_short_of_the_target_is_limited() -> None:
    # b = 0, c = 50, G = 100: r = 50/5 = 10, q = 0/10 = 0 → limited (0 ≤ q < 0.6).
    result = assess(indicator(target=AT_LEAST_100), {"2020": 50, "2021": 50, "2022": 50})
    assert (result.status, result.ratio, result.required_pace) == (ProgressStatus.LIMITED, 0.0, 10.0)


# ---- which points count ------------------------------------------------------------------------------------------

def test_spans_count_as_their_last_year_and_the_base_year_cuts() -> None:
    # "2016-2018" ends before 2019 and is left out; the others count as 2019, 2022, 2025.
    # slopes (13−10)/3 = 1.0, (19−10)/6 = 1.5, (19−13)/3 = 2.0 → b = 1.5; mean |v| = 42/3 = 14;
    # p = 1.5/14 = 0.10714 ≥ 0.015 → substantial.
    result = assess(indicator(), {"2016-2018": 4, "2017-2019": 10, "2020-2022": 13, "2023-2025": 19})
    assert [(p.period, p.year) for p in result.points] == [("2017-2019", 2019), ("2020-2022", 2022),
                                                          ("2023-2025", 2025)]
    assert result.pace == pytest.approx(1.5) and result.relative_pace == pytest.approx(0.107142857)
    assert result.status is ProgressStatus.SUBSTANTIAL
    # at 2027: v − 1.5·(y − 2027) = 10+12 = 22, 13+7.5 = 20.5, 19+3 = 22 → 22.
    assert result.projection is not None and result.projection.value == pytest.approx(22)
    assert result.explanation == (
        "Fra 2019 til 2025 har netto driftsresultat gått opp med 1,5\u00a0prosentpoeng i året, 10,7\u00a0% av "
        "gjennomsnittsnivået.")


def test_the_catalogue_may_move_the_base_year() -> None:
    values = {"2017": 10, "2018": 11, "2019": 12, "2020": 30}
    assert assess(indicator(), values).status is ProgressStatus.INSUFFICIENT_DATA  # 2019, 2020: two points
    result = assess(indicator(progress={"base_year": 2017}), values)
    # from 2017: slopes 1, 1, 20/3, 1, 9.5, 18 → median of 1, 1, 1, 6.67, 9.5, 18 = (1 + 6.67)/2 = 3.8333.
    assert result.base_year == 2017 and len(result.points) == 4
    assert result.pace == pytest.approx(3.833333333)


def test_the_latest_vintage_of_each_period_counts_and_statuses_do_not() -> None:
    vintages = [
        vintage("2019", 1.0, ident=1), vintage("2020", 2.0, ident=2),
        vintage("2020", 5.0, at="2026-06-01T00:00:00+00:00", ident=3),  # revised later: 5.0 counts
        vintage("2021", 3.0, ident=4), vintage("2022", None, "..", ident=5),
    ]
    result = assess_progress(indicator(), vintages)
    assert [p.value for p in result.points] == [1.0, 5.0, 3.0]
    # slopes 4, 1, −2 → b = 1.
    assert result.pace == pytest.approx(1.0)


def test_as_of_uses_the_vintages_known_then() -> None:
    vintages = [
        vintage("2019", 1.0, ident=1), vintage("2020", 2.0, ident=2), vintage("2021", 3.0, ident=3),
        vintage("2020", 5.0, at="2026-06-01T00:00:00+00:00", ident=4),
        vintage("2022", 9.0, at="2026-06-01T00:00:00+00:00", ident=5),
    ]
    before = assess_progress(indicator(), vintages, as_of=datetime(2026, 3, 1, tzinfo=timezone.utc))
    # 1, 2, 3: every slope 1 → b = 1.
    assert [p.value for p in before.points] == [1.0, 2.0, 3.0] and before.pace == pytest.approx(1.0)
    after = assess_progress(indicator(), vintages)
    assert [p.value for p in after.points] == [1.0, 5.0, 3.0, 9.0]


# ---- the order of the checks -------------------------------------------------------------------------------------

def test_fewer_than_three_points_is_insufficient() -> None:
    result = assess(indicator(target=BANDS_3), {"2019": 4.9, "2020": None, "2021": 4.4})
    assert result.status is ProgressStatus.INSUFFICIENT_DATA
    assert (result.pace, result.projection, result.required_pace, result.ratio) == (None, None, None, None)
    assert result.explanation == "For få målinger til å vurdere fremgangen: 2 målinger fra 2019, minst 3 trengs."
    assert assess(indicator(), {}).explanation == (
        "For få målinger til å vurdere fremgangen: ingen målinger fra 2019, minst 3 trengs.")


def test_direction_none_comes_before_too_few_points() -> None:
    few = assess(indicator("none"), {"2022": 1.8})
    assert few.status is ProgressStatus.NO_DIRECTION and few.pace is None
    # befolkningsvekst 0.8, 0.5, 1.2, 1.8: slopes −0.3, 0.2, 0.333, 0.7, 0.65, 0.6 → sorted −0.3, 0.2, 0.333, 0.6,
    # 0.65, 0.7 → b = (0.333 + 0.6)/2 = 0.4667; the pace is reported, the status is not graded.
    many = assess(indicator("none", name="Befolkningsvekst"), {"2019": 0.8, "2020": 0.5, "2021": 1.2, "2022": 1.8})
    assert many.status is ProgressStatus.NO_DIRECTION and many.pace == pytest.approx(0.466666667)
    assert (many.relative_pace, many.ratio) == (None, None)
    assert many.explanation == ("Fra 2019 til 2022 har befolkningsvekst gått opp med 0,5\u00a0prosentpoeng i året; "
                                "indikatoren har ingen ønsket retning, så fremgangen vurderes ikke.")


# ---- trajectories ------------------------------------------------------------------------------------------------

CLIMATE = {"kind": "trajectory", "base_year": 2009, "target_year": 2030, "change_percent": -67,
           "text": "−67 % innen 2030 sammenlignet med 2009"}


def test_missing_trajectory_base_is_insufficient_and_names_the_year() -> None:
    result = assess(indicator("lower_is_better", CLIMATE, decimals=0, symbol=None, unit="amount", name="Utslipp"),
                    {"2019": 232966, "2020": 219333, "2021": 214899, "2022": 212196})
    assert result.status is ProgressStatus.INSUFFICIENT_DATA
    assert (result.target_value, result.target_year) == (None, 2030)
    assert "2009" in result.explanation
    # slopes −13633, −9033.5, −6923.33, −4434, −3568.5, −2703 → b = (−6923.33 − 4434)/2 = −5678.67
    assert result.pace == pytest.approx(-5678.666667)
    assert result.explanation == (
        "Fra 2019 til 2022 har utslipp gått ned med 5\u00a0679 i året; fremgangen mot målet "
        "(−67 % innen 2030 sammenlignet med 2009) kan ikke vurderes uten verdien for 2009.")


def test_trajectory_base_from_the_store_when_the_catalogue_has_none() -> None:
    # 2009 = 200 (before the base year: not a point) → G = 200 × (1 − 0.67) = 66, Y = 2030.
    # points 100, 90, 85: slopes −10, −7.5, −5 → b = −7.5. T = 2021, c = 85: r = (66 − 85)/9 = −2.1111;
    # q = −7.5 / −2.1111 = 3.5526 ≥ 0.95 → substantial.
    result = assess(indicator("lower_is_better", CLIMATE, decimals=0, symbol=None, unit="amount"),
                    {"2009": 200, "2019": 100, "2020": 90, "2021": 85})
    assert [p.year for p in result.points] == [2019, 2020, 2021]
    assert result.target_value == pytest.approx(66) and result.target_year == 2030
    assert result.required_pace == pytest.approx(-2.111111)
    assert result.ratio == pytest.approx(3.552632)
    assert result.status is ProgressStatus.SUBSTANTIAL
    # at 2030: v + 7.5·(y − 2030) = 100−82.5 = 17.5, 90−75 = 15, 85−67.5 = 17.5 → 17.5.
    assert result.projection is not None and result.projection.year == 2030
    assert result.projection.value == pytest.approx(17.5)


def test_catalogue_base_value_wins_and_a_target_year_already_passed_divides_by_one() -> None:
    # base_value 100, −50 % by 2021 → G = 50, Y = 2021 ≤ T = 2022: r = (50 − 60)/max(2021 − 2022, 1) = −10.
    # points 70, 66, 64, 60: slopes −4, −3, −3.333, −2, −3, −4 → sorted −4, −4, −3.333, −3, −3, −2 →
    # b = (−10/3 − 3)/2 = −19/6 = −3.1667; q = (−19/6)/−10 = 19/60 = 0.31667 → limited.
    target = {"kind": "trajectory", "base_year": 2009, "target_year": 2021, "change_percent": -50,
              "base_value": 100, "text": "−50 % innen 2021"}
    result = assess(indicator("lower_is_better", target, symbol=None, unit="amount", name="Utslipp"),
                    {"2009": 999, "2019": 70, "2020": 66, "2021": 64, "2022": 60})
    assert result.target_value == 50 and result.target_year == 2021
    assert result.required_pace == -10
    assert result.pace == pytest.approx(-19 / 6) and result.ratio == pytest.approx(19 / 60)
    assert result.status is ProgressStatus.LIMITED
    # at 2021: v + 3.1667·(y − 2021) = 63.667, 62.833, 64, 63.167 → (63.167 + 63.667)/2 = 63.4167.
    assert result.projection is not None and result.projection.year == 2021
    assert result.projection.value == pytest.approx(63.416667)
    assert result.explanation == ("Fra 2019 til 2022 har utslipp gått ned med 3,2 i året; for å nå 50,0 innen 2021 "
                                  "må det gå ned med 10,0 i året.")


# ---- the boundaries of q (with a target) and p (without) ---------------------------------------------------------

@pytest.mark.parametrize("pace,ratio,status", [
    # G = 100, c = 0 at T = 2022, Y = 2027: r = 100/5 = 20; points −2b, −b, 0 have every slope b; q = b/20.
    (19, 0.95, ProgressStatus.SUBSTANTIAL),
    (18.9, 0.945, ProgressStatus.MODERATE),
    (12, 0.6, ProgressStatus.MODERATE),
    (11.9, 0.595, ProgressStatus.LIMITED),
    (0, 0.0, ProgressStatus.LIMITED),
    (-1, -0.05, ProgressStatus.DETERIORATING),
])
def test_ratio_thresholds(pace: float, ratio: float, status: ProgressStatus) -> None:
    result = assess(indicator(target=AT_LEAST_100), {"2020": -2 * pace, "2021": -pace, "2022": 0})
    assert result.required_pace == 20 and result.pace == pytest.approx(pace)
    assert result.ratio == pytest.approx(ratio) and result.status is status


def test_ratio_threshold_lower_is_better() -> None:
    # G = 0, c = 100: r = (0 − 100)/5 = −20; b = −19 (points 138, 119, 100); q = −19/−20 = 0.95 → substantial.
    target = {"kind": "threshold", "op": "<=", "value": 0, "text": "Null"}
    result = assess(indicator("lower_is_better", target), {"2020": 138, "2021": 119, "2022": 100})
    assert (result.required_pace, result.ratio, result.status) == (-20, pytest.approx(0.95), ProgressStatus.SUBSTANTIAL)
    assert result.explanation.endswith("for å nå 0\u00a0% innen 2027 må det gå ned med 20,0 i året.")


@pytest.mark.parametrize("direction,values,relative,status", [
    # mean |v| = 100 in each; b from slopes that are all equal.
    ("higher_is_better", (98.5, 100, 101.5), 0.015, ProgressStatus.SUBSTANTIAL),  # 1.5/100
    ("higher_is_better", (98.52, 100, 101.48), 0.0148, ProgressStatus.MODERATE),  # 1.48/100
    ("higher_is_better", (99.5, 100, 100.5), 0.005, ProgressStatus.MODERATE),  # 0.5/100
    ("higher_is_better", (99.6, 100, 100.4), 0.004, ProgressStatus.LIMITED),  # 0.4/100
    ("higher_is_better", (100, 100, 100), 0.0, ProgressStatus.LIMITED),
    ("higher_is_better", (100.5, 100, 99.5), -0.005, ProgressStatus.DETERIORATING),  # −0.5/100
    ("lower_is_better", (101.5, 100, 98.5), 0.015, ProgressStatus.SUBSTANTIAL),  # −1·−1.5/100
    ("lower_is_better", (99.5, 100, 100.5), -0.005, ProgressStatus.DETERIORATING),  # −1·0.5/100
])
def test_relative_pace_thresholds(direction: str, values: tuple[float, ...], relative: float,
                                  status: ProgressStatus) -> None:
    result = assess(indicator(direction), dict(zip(("2020", "2021", "2022"), values)))
    assert result.relative_pace == pytest.approx(relative) and result.status is status
    assert (result.target_value, result.target_year, result.required_pace, result.ratio) == (None, None, None, None)
    assert result.projection is not None and result.projection.year == 2027


def test_relative_pace_divides_by_the_mean_of_absolute_values() -> None:
    # −3, −1, 1, 3: every slope 2, b = 2; mean v = 0 but mean |v| = 8/4 = 2 → p = 2/2 = 1.0.
    result = assess(indicator(), {"2019": -3, "2020": -1, "2021": 1, "2022": 3})
    assert result.relative_pace == pytest.approx(1.0) and result.status is ProgressStatus.SUBSTANTIAL


def test_a_small_pace_shows_enough_decimals_not_to_read_as_zero() -> None:
    # decimals 0, b = 0.2 (points 10, 10.2, 10.4): "0" would hide it; one more decimal shows 0,2.
    result = assess(indicator(decimals=0, symbol="GWh", unit="amount", name="Forbruk"),
                    {"2020": 10, "2021": 10.2, "2022": 10.4})
    assert result.explanation.startswith("Fra 2020 til 2022 har forbruk gått opp med 0,2\u00a0GWh i året")


# ---- the evaluation carries it -----------------------------------------------------------------------------------

def test_the_evaluation_carries_the_progress() -> None:
    ind = indicator(target=BANDS_3)
    evaluation = evaluate_indicator(ind, series(NETTO), ReleaseRule(kind="none"), datetime(2026, 11, 27).date())
    assert evaluation.progress is not None and evaluation.progress.status is ProgressStatus.DETERIORATING
    data = evaluation.as_dict()
    assert data["progress"]["status"] == "deteriorating"
    assert data["progress"]["pace"] == pytest.approx(-1.433333333)
    assert progress_from_latest(ind, {v.period: v for v in series(NETTO)}) == evaluation.progress

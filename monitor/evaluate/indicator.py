"""Pure evaluation: for one indicator on a given day, its state, target status, trend, revision and explanation."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from monitor.catalogue.indicators import BandsTarget, Direction, Indicator, ThresholdTarget, TrajectoryTarget
from monitor.core.model import MISSING_STATUSES, NOT_MEASURED, PENDING, Vintage, period_year
from monitor.core.numbers import format_value
from monitor.catalogue.releases import ReleaseRule, due_date, expected_latest, grace_end, next_expected
from monitor.evaluate.progress import Progress, progress_from_latest

BASELINE_VINTAGE = "Handlingsprogram 2024–2027"
SUPPRESSED = frozenset({":"})
NOT_APPLICABLE = frozenset({"."})


class State(StrEnum):
    """Where an indicator stands, from the analyst's point of view."""

    OK = "ok"
    DUE = "due"  # the expected period's release date has passed, within the grace period
    LATE = "late"  # past the grace period; `late_days` says by how much
    PENDING = "pending"  # "Tall kommer"
    NOT_MEASURED = "not_measured"  # "Ikke målt"
    SUPPRESSED = "suppressed"  # the source hides the figure (":")
    FETCH_FAILING = "fetch_failing"  # the source or fetcher is broken, separate from data being late
    RETIRED = "retired"


class TargetStatus(StrEnum):
    MET = "met"
    ACCEPTABLE = "acceptable"
    NOT_MET = "not_met"
    NONE = "none"


STATE_WORDS = {
    State.OK: "i rute", State.DUE: "ventes nå", State.LATE: "forsinket", State.PENDING: "tall kommer",
    State.NOT_MEASURED: "ikke målt", State.SUPPRESSED: "skjermet", State.FETCH_FAILING: "innhenting feiler",
    State.RETIRED: "utgått",
}
TARGET_WORDS = {
    TargetStatus.MET: "nådd", TargetStatus.ACCEPTABLE: "akseptabelt", TargetStatus.NOT_MET: "ikke nådd",
    TargetStatus.NONE: "uten mål",
}


@dataclass(frozen=True)
class FetchHealth:
    """What the run log says about the tables an indicator is fetched from."""

    last_attempt: str | None = None  # UTC ISO
    last_outcome: str | None = None  # ok | unchanged | failed
    last_error: str | None = None
    last_success: str | None = None
    source_updated: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """Everything the web, exports and alerts say about one indicator."""

    id: str
    name: str
    area: str
    state: State
    late_days: int | None
    target_status: TargetStatus
    latest_period: str | None  # the latest period held (value or status)
    latest_value: float | None  # the latest number held
    latest_value_period: str | None
    latest_status: str | None
    expected_period: str | None
    due: date | None  # the release date of the expected (or, when all is held, the next) period
    trend: str  # better | worse | unchanged | none
    revised: list[str]  # periods whose latest value differs from the handlingsprogram's printed one
    explanation: str
    last_attempt: str | None
    last_outcome: str | None
    last_success: str | None
    source_updated: str | None
    next_check: str | None
    progress: Progress | None = None  # the pace towards the target (monitor/evaluate/progress.py)
    # Every period past its grace period and not held, oldest first: set when the indicator is late, also when
    # its fetch fails at the same time (state FETCH_FAILING), so both facts are carried (issue 17).
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = {field.name: getattr(self, field.name) for field in fields(self)}  # not asdict: progress has to_dict
        data["revised"] = list(self.revised)
        data["missing"] = list(self.missing)
        data["state"] = self.state.value
        data["target_status"] = self.target_status.value
        data["due"] = self.due.isoformat() if self.due else None
        data["progress"] = self.progress.to_dict() if self.progress else None
        return data


def evaluate_indicator(
    indicator: Indicator,
    vintages: list[Vintage],
    rule: ReleaseRule,
    today: date,
    health: FetchHealth | None = None,
    next_check: str | None = None,
) -> Evaluation:
    """Evaluate one indicator from all its vintages for the kommune. Pure: `today` is an argument."""
    health = health or FetchHealth()
    latest = _latest_by_period(vintages)
    periods = sorted(latest, key=period_year)
    numeric = [p for p in periods if latest[p].value is not None]
    held_years = [period_year(p) for p in numeric]
    expected = expected_latest(rule, indicator.frequency, indicator.lag or 0, today, held_years)
    state, late_days, due = _state(indicator, latest, rule, today, expected, FetchHealth(), held_years)
    missing = _missing(rule, expected, held_years) if state is State.LATE else []
    if indicator.fetch is not None and health.last_outcome == "failed":
        state = State.FETCH_FAILING  # the worst state; a late one keeps its missing periods and days
    value_period = numeric[-1] if numeric else None
    value = latest[value_period].value if value_period else None
    target = judge_target(indicator, value, value_period)
    trend = _trend(indicator, latest, numeric)
    revised = _revised(indicator, vintages, latest)
    latest_period = periods[-1] if periods else None
    evaluation = Evaluation(
        id=indicator.id, name=indicator.name, area=indicator.area, state=state, late_days=late_days,
        target_status=target, latest_period=latest_period, latest_value=value, latest_value_period=value_period,
        latest_status=latest[latest_period].status if latest_period else None,
        expected_period=str(expected) if expected is not None else None, due=due, trend=trend, revised=revised,
        explanation="", last_attempt=health.last_attempt, last_outcome=health.last_outcome,
        last_success=health.last_success, source_updated=health.source_updated, next_check=next_check,
        progress=progress_from_latest(indicator, latest), missing=missing,
    )
    return _with_explanation(indicator, evaluation, health)


def _missing(rule: ReleaseRule, expected: int | None, held_years: list[int]) -> list[str]:
    """The periods a late indicator lacks: every year after the newest held through the expected one (a yearly
    calendar), or the expected wave alone."""
    if expected is None:
        return []
    if rule.kind == "waves" or not held_years or max(held_years) >= expected:
        return [str(expected)]
    return [str(year) for year in range(max(held_years) + 1, expected + 1)]


def missing_text(periods: list[str]) -> str:
    """"2023–2025" for consecutive years, "2025" for one, "2019, 2022" otherwise."""
    if len(periods) > 1 and all(p.isdigit() for p in periods):
        years = [int(p) for p in periods]
        if years == list(range(years[0], years[-1] + 1)):
            return f"{years[0]}–{years[-1]}"
    return ", ".join(periods)


def _latest_by_period(vintages: list[Vintage]) -> dict[str, Vintage]:
    latest: dict[str, Vintage] = {}
    for vintage in sorted(vintages, key=lambda v: (v.retrieved_at, v.id)):
        latest[vintage.period] = vintage
    return latest


def _state(
    indicator: Indicator, latest: dict[str, Vintage], rule: ReleaseRule, today: date, expected: int | None,
    health: FetchHealth, held_years: list[int],
) -> tuple[State, int | None, date | None]:
    lag = indicator.lag or 0
    if indicator.fetch is not None and health.last_outcome == "failed":
        return State.FETCH_FAILING, None, None
    if expected is None:
        newest = max(latest.values(), key=lambda v: period_year(v.period)) if latest else None
        return _status_state(newest.status) if newest and newest.value is None else State.OK, None, None
    at_expected = [v for p, v in latest.items() if period_year(p) == expected]
    newer_held = any(period_year(p) > expected and v.value is not None for p, v in latest.items())
    if newer_held or (at_expected and at_expected[-1].value is not None):
        following = next_expected(rule, indicator.frequency, lag, today, held_years)
        return State.OK, None, following[1] if following else None
    due = due_date(rule, expected, lag)
    if at_expected and at_expected[-1].status not in MISSING_STATUSES | {None}:
        return _status_state(at_expected[-1].status), None, due
    if today <= grace_end(rule, expected, lag):
        return State.DUE, None, due
    return State.LATE, (today - due).days, due


def _status_state(status: str | None) -> State:
    if status == PENDING:
        return State.PENDING
    if status == NOT_MEASURED or status in NOT_APPLICABLE:
        return State.NOT_MEASURED
    if status in SUPPRESSED:
        return State.SUPPRESSED
    return State.PENDING


def judge_target(indicator: Indicator, value: float | None, period: str | None) -> TargetStatus:
    """met / acceptable / not_met / none for a value against the indicator's target."""
    target = indicator.target
    if value is None or target is None:
        return TargetStatus.NONE
    higher = indicator.direction is not Direction.LOWER_IS_BETTER
    if isinstance(target, BandsTarget):
        if (value > target.desired) if higher else (value < target.desired):
            return TargetStatus.MET
        if (value >= target.acceptable) if higher else (value <= target.acceptable):
            return TargetStatus.ACCEPTABLE
        return TargetStatus.NOT_MET
    if isinstance(target, ThresholdTarget):
        ok = {">": value > target.value, ">=": value >= target.value,
              "<": value < target.value, "<=": value <= target.value}[target.op]
        return TargetStatus.MET if ok else TargetStatus.NOT_MET
    path = trajectory_value(target, period_year(period)) if period else None
    if path is None:
        return TargetStatus.NONE
    return TargetStatus.MET if ((value <= path) if target.change_percent < 0 else (value >= path)) else TargetStatus.NOT_MET


def trajectory_value(target: TrajectoryTarget, year: int) -> float | None:
    """The straight-line path from the base year's value to the target, at `year` (None without a base value)."""
    if target.base_value is None:
        return None
    share = min(max((year - target.base_year) / (target.target_year - target.base_year), 0.0), 1.0)
    return target.base_value * (1 + target.change_percent / 100 * share)


def _trend(indicator: Indicator, latest: dict[str, Vintage], numeric: list[str]) -> str:
    if len(numeric) < 2 or indicator.direction is Direction.NONE:
        return "none"
    now, before = latest[numeric[-1]].value, latest[numeric[-2]].value
    assert now is not None and before is not None
    if round(now, indicator.decimals) == round(before, indicator.decimals):
        return "unchanged"
    up = now > before
    return "better" if up == (indicator.direction is Direction.HIGHER_IS_BETTER) else "worse"


def _revised(indicator: Indicator, vintages: list[Vintage], latest: dict[str, Vintage]) -> list[str]:
    printed = {v.period: v for v in vintages if v.vintage == BASELINE_VINTAGE}
    changed = []
    for period, base in printed.items():
        now = latest.get(period)
        if now is None or now.vintage == BASELINE_VINTAGE:
            continue
        same_status = now.status == base.status
        same_value = (now.value is None and base.value is None) or (
            now.value is not None and base.value is not None
            and round(now.value, indicator.decimals) == round(base.value, indicator.decimals)
        )
        if not (same_status and same_value):
            changed.append(period)
    return sorted(changed, key=period_year)


def short_label(indicator: Indicator) -> str:
    """The name without a trailing parenthesis (the printed target or an explanation)."""
    name = indicator.name
    if name.endswith(")") and " (" in name:
        return name[: name.rindex(" (")]
    return name


def show_target(indicator: Indicator, number: float) -> str:
    """A target threshold with the decimals it was written with: 10 → "10 %", 1.75 → "1,75 %"."""
    decimals = 0
    while decimals < 3 and round(number, decimals) != number:
        decimals += 1
    text = format_value(number, decimals, indicator.symbol)
    return "\u2212" + text[1:] if text.startswith("-") else text


def show(indicator: Indicator, value: float) -> str:
    """A value for a sentence: Norwegian format, typographic minus."""
    text = format_value(value, indicator.decimals, indicator.symbol)
    return "\u2212" + text[1:] if text.startswith("-") else text


@lru_cache(maxsize=4096)
def _day(when: date) -> str:
    return format_date(when, format="d. MMMM y", locale="nb_NO")


def _with_explanation(indicator: Indicator, evaluation: Evaluation, health: FetchHealth) -> Evaluation:
    from dataclasses import replace

    parts: list[str] = []
    label = short_label(indicator)
    if evaluation.latest_value is not None and evaluation.latest_value_period is not None:
        sentence = f"{label} {evaluation.latest_value_period}: {show(indicator, evaluation.latest_value)}"
        phrase = _target_phrase(indicator, evaluation)
        parts.append(f"{sentence} {phrase}." if phrase else f"{sentence}.")
    else:
        parts.append(f"{label}: ingen tall ennå.")
    parts.append(_state_phrase(evaluation, health))
    if evaluation.revised:
        parts.append(f"Revidert siden handlingsprogrammet: {', '.join(evaluation.revised)}.")
    return replace(evaluation, explanation=" ".join(part for part in parts if part))


def _target_phrase(indicator: Indicator, evaluation: Evaluation) -> str:
    target, status = indicator.target, evaluation.target_status
    fmt = lambda number: show_target(indicator, number)  # noqa: E731
    higher = indicator.direction is not Direction.LOWER_IS_BETTER
    if isinstance(target, BandsTarget):
        low, high = sorted((target.desired, target.acceptable))
        band = f"{fmt(low).split(chr(160))[0]}–{fmt(high)}"
        if status is TargetStatus.MET:
            return f"er {'over' if higher else 'under'} ønsket nivå ({fmt(target.desired)})"
        if status is TargetStatus.ACCEPTABLE:
            return f"er innenfor laveste akseptable nivå ({band})"
        return f"er {'under' if higher else 'over'} laveste akseptable nivå ({fmt(target.acceptable)})"
    if isinstance(target, ThresholdTarget):
        verb = "oppfyller" if status is TargetStatus.MET else "oppfyller ikke"
        return f"{verb} målet ({target.text})"
    if isinstance(target, TrajectoryTarget):
        if status is TargetStatus.NONE:
            return f"– målet ({target.text}) kan ikke vurderes uten utslippsnivået i {target.base_year}"
        verb = "er på" if status is TargetStatus.MET else "er ikke på"
        return f"{verb} rett kurs mot målet ({target.text})"
    return ""


def _state_phrase(evaluation: Evaluation, health: FetchHealth) -> str:
    expected, due = evaluation.expected_period, evaluation.due
    state = evaluation.state
    if state is State.FETCH_FAILING:
        failing = f"Innhentingen feiler: {health.last_error or 'ukjent feil'}"
        if evaluation.missing:
            return f"{failing.rstrip('.')}. Tall for {missing_text(evaluation.missing)} mangler."
        return failing
    if state is State.LATE and due is not None:
        return (f"Tall for {missing_text(evaluation.missing or [str(expected)])} mangler – {evaluation.late_days} "
                f"dager etter forventet publisering {_day(due)}.")
    if state is State.DUE and due is not None:
        return f"Tall for {expected} ventes nå (forventet {_day(due)})."
    if state is State.PENDING:
        return f"Tall for {expected or evaluation.latest_period} kommer."
    if state is State.NOT_MEASURED:
        return f"Ikke målt i {expected or evaluation.latest_period}."
    if state is State.SUPPRESSED:
        return f"Tallet for {expected or evaluation.latest_period} er skjermet av kilden."
    if expected is None:
        return "Ingen fast publiseringsplan."
    if due is not None:
        return f"I rute; neste periode ventes {_day(due)}."
    return "I rute."

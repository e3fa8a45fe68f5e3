"""Progress towards the target (issue 18): the pace since the base year against the pace the target needs.

Pure: the vintages (and, for a past view, the moment they are cut at) are arguments. The method, in
docs/progress.md: the points are the kommune's numeric values, one per year (a span such as "2017-2019" counts as
its last year), from the base year on (2019, the handlingsprogram's first column, unless the catalogue sets
`progress: {base_year: …}`). The pace b is the Theil–Sen slope (the median of the pairwise slopes). With a target
level G by the year Y, the pace needed is r = (G − c) / max(Y − T, 1) from the latest point (T, c), and the ratio
q = b / r decides the status; without a target the relative pace p = d · b / mean(|v|) does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from statistics import median
from typing import Any

from monitor.catalogue.indicators import BandsTarget, Direction, Indicator, ThresholdTarget, TrajectoryTarget
from monitor.core import timestamps
from monitor.core.model import Vintage, period_year
from monitor.core.numbers import format_number, format_value

DEFAULT_BASE_YEAR = 2019  # the first column of the handlingsprogram's tables
PLAN_END_YEAR = 2027  # the last year of the plan period: the target year when a target has none of its own
MIN_POINTS = 3
# With a target: q = b / r (the pace held against the pace needed).
SUBSTANTIAL_RATIO, MODERATE_RATIO = 0.95, 0.6
# Without a target: p = d · b / mean(|v|) (the pace as a share of the level, per year).
SUBSTANTIAL_RELATIVE, MODERATE_RELATIVE = 0.015, 0.005


class ProgressStatus(StrEnum):
    """How an indicator moves towards its target (or, without one, in its good direction)."""

    TARGET_MET = "target_met"
    SUBSTANTIAL = "substantial"
    MODERATE = "moderate"
    LIMITED = "limited"
    DETERIORATING = "deteriorating"
    INSUFFICIENT_DATA = "insufficient_data"
    NO_DIRECTION = "no_direction"


# The words a UI shows for each status (bokmål).
PROGRESS_WORDS: dict[ProgressStatus, str] = {
    ProgressStatus.TARGET_MET: "Mål nådd",
    ProgressStatus.SUBSTANTIAL: "God fremgang",
    ProgressStatus.MODERATE: "Noe fremgang",
    ProgressStatus.LIMITED: "Lite fremgang",
    ProgressStatus.DETERIORATING: "Går feil vei",
    ProgressStatus.INSUFFICIENT_DATA: "For få målinger",
    ProgressStatus.NO_DIRECTION: "Uten retning",
}


@dataclass(frozen=True)
class Point:
    """One value used: the period as stored, the year it counts as, the value."""

    period: str
    year: int
    value: float


@dataclass(frozen=True)
class Projection:
    """The Theil–Sen line at a year."""

    year: int
    value: float


@dataclass(frozen=True)
class Progress:
    """The progress of one indicator. `pace` and `projection` need 3 points; `target_*`, `required_pace` and
    `ratio` are there when the indicator has a target (`required_pace` and `ratio` not when it is met);
    `relative_pace` when it has none."""

    status: ProgressStatus
    base_year: int
    points: tuple[Point, ...]
    pace: float | None  # b, the indicator's units per year
    target_value: float | None  # G
    target_year: int | None  # Y
    required_pace: float | None  # r
    ratio: float | None  # q = b / r
    relative_pace: float | None  # p = d · b / mean(|v|)
    projection: Projection | None
    explanation: str

    @property
    def label(self) -> str:
        """The status in bokmål, for a UI («God fremgang»)."""
        return PROGRESS_WORDS[self.status]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "status": self.status.value,
            "label": self.label,
            "base_year": self.base_year,
            "points": [{"period": p.period, "year": p.year, "value": p.value} for p in self.points],
            "pace": self.pace,
            "target_value": self.target_value,
            "target_year": self.target_year,
            "required_pace": self.required_pace,
            "ratio": self.ratio,
            "relative_pace": self.relative_pace,
            "projection": {"year": self.projection.year, "value": self.projection.value} if self.projection else None,
            "explanation": self.explanation,
        }


def assess_progress(indicator: Indicator, vintages: Iterable[Vintage], as_of: datetime | None = None) -> Progress:
    """The progress from the kommune's vintages of the indicator: the latest vintage of each period, or the latest
    known at `as_of` (an aware moment; vintages retrieved after it are left out)."""
    known = [v for v in vintages if as_of is None or timestamps.decode(v.retrieved_at) <= as_of]
    latest: dict[str, Vintage] = {}
    for vintage in sorted(known, key=lambda v: (v.retrieved_at, v.id)):
        latest[vintage.period] = vintage
    return progress_from_latest(indicator, latest)


def progress_from_latest(indicator: Indicator, latest: Mapping[str, Vintage]) -> Progress:
    """The progress from the latest vintage of each period (period → vintage), as `evaluate_indicator` holds them."""
    by_year: dict[int, Vintage] = {}
    for period, vintage in latest.items():  # one point a year; of two periods ending in one year, the newer known
        year = period_year(period)
        if vintage.value is not None and (year not in by_year or _newer(vintage, by_year[year])):
            by_year[year] = vintage
    values = {year: float(v.value) for year, v in by_year.items() if v.value is not None}
    base_year = indicator.progress.base_year if indicator.progress is not None else DEFAULT_BASE_YEAR
    points = tuple(Point(by_year[y].period, y, values[y]) for y in sorted(values) if y >= base_year)
    return progress_of_points(indicator, points, base_year, values)


def _newer(a: Vintage, b: Vintage) -> bool:
    return (a.retrieved_at, a.id) > (b.retrieved_at, b.id)


def theil_sen(points: tuple[Point, ...]) -> tuple[float, float]:
    """(slope, intercept): the median over all pairs i < j of (vj − vi)/(yj − yi), and the median of vi − b·yi."""
    slopes = [(q.value - p.value) / (q.year - p.year) for i, p in enumerate(points) for q in points[i + 1:]]
    slope = median(slopes)
    return slope, median(p.value - slope * p.year for p in points)


def target_level(indicator: Indicator, values: Mapping[int, float]) -> tuple[float | None, int]:
    """(G, Y): the level the target asks for and the year it is asked by. G is None for a trajectory whose base
    year has neither the catalogue's `base_value` nor a stored value; Y is the target's own year, else 2027."""
    target = indicator.target
    if isinstance(target, BandsTarget):
        return target.desired, PLAN_END_YEAR
    if isinstance(target, ThresholdTarget):
        return target.value, PLAN_END_YEAR
    assert isinstance(target, TrajectoryTarget)
    base = target.base_value if target.base_value is not None else values.get(target.base_year)
    return (None if base is None else base * (1 + target.change_percent / 100)), target.target_year


def progress_of_points(
    indicator: Indicator, points: tuple[Point, ...], base_year: int, values: Mapping[int, float] | None = None
) -> Progress:
    """The method on points already chosen (in year order, one a year). `values` (year → value, every year held,
    also before the base year) gives a trajectory its base-year value when the catalogue has none."""
    values = {p.year: p.value for p in points} if values is None else values
    text = _Text(indicator, points)
    has_target = indicator.target is not None
    level, year = target_level(indicator, values) if has_target else (None, PLAN_END_YEAR)
    found = Progress(ProgressStatus.INSUFFICIENT_DATA, base_year, points, None, level, year if has_target else None,
                     None, None, None, None, "")
    if len(points) >= MIN_POINTS:
        slope, intercept = theil_sen(points)
        found = replace(found, pace=slope, projection=Projection(year, intercept + slope * year))
    if indicator.direction is Direction.NONE:
        return replace(found, status=ProgressStatus.NO_DIRECTION, explanation=text.no_direction(found.pace))
    if found.pace is None:
        return replace(found, explanation=text.too_few(base_year))
    slope = found.pace
    if isinstance(indicator.target, TrajectoryTarget) and level is None:
        return replace(found, explanation=text.no_base(slope, indicator.target))
    sign = 1 if indicator.direction is Direction.HIGHER_IS_BETTER else -1
    last = points[-1]
    if level is not None:
        if sign * (last.value - level) >= 0:
            return replace(found, status=ProgressStatus.TARGET_MET, explanation=text.met(slope, level))
        required = (level - last.value) / max(year - last.year, 1)
        ratio = slope / required + 0.0  # + 0.0: a flat pace is 0.0, never -0.0
        return replace(found, status=_grade(ratio, SUBSTANTIAL_RATIO, MODERATE_RATIO), required_pace=required,
                       ratio=ratio, explanation=text.needed(slope, level, year, required))
    magnitude = sum(abs(p.value) for p in points) / len(points)
    relative = sign * slope / magnitude + 0.0 if magnitude else 0.0
    return replace(found, status=_grade(relative, SUBSTANTIAL_RELATIVE, MODERATE_RELATIVE), relative_pace=relative,
                   explanation=text.relative(slope, magnitude))


def _grade(measure: float, substantial: float, moderate: float) -> ProgressStatus:
    if measure >= substantial:
        return ProgressStatus.SUBSTANTIAL
    if measure >= moderate:
        return ProgressStatus.MODERATE
    if measure >= 0:
        return ProgressStatus.LIMITED
    return ProgressStatus.DETERIORATING


class _Text:
    """The one-sentence explanations, in bokmål with Norwegian numbers."""

    def __init__(self, indicator: Indicator, points: tuple[Point, ...]) -> None:
        self.indicator = indicator
        self.points = points
        name = indicator.name
        if name.endswith(")") and " (" in name:  # the printed target or an explanation in brackets
            name = name[: name.rindex(" (")]
        self.subject = name[0].lower() + name[1:] if name[1:2].islower() else name

    def _pace(self, slope: float) -> str:
        """"Fra 2019 til 2022 har X gått ned med 1,4 prosentpoeng i året"."""
        first, last = self.points[0].year, self.points[-1].year
        if slope == 0:
            return f"Fra {first} til {last} har {self.subject} stått stille"
        symbol = self.indicator.symbol
        unit = "prosentpoeng" if symbol == "%" else symbol  # a change in a percentage is in percentage points
        amount = format_value(abs(slope), self._decimals(slope), unit)
        return f"Fra {first} til {last} har {self.subject} gått {'opp' if slope > 0 else 'ned'} med {amount} i året"

    def _decimals(self, number: float) -> int:
        """The indicator's decimals, or more (up to 3) where those would show a pace that is not 0 as 0."""
        decimals = self.indicator.decimals
        while decimals < 3 and number != 0 and abs(number) < 0.5 * 10 ** -decimals:  # would round (half up) to 0
            decimals += 1
        return decimals

    def _number(self, number: float) -> str:
        text = format_number(number, self._decimals(number))
        return "\u2212" + text[1:] if text.startswith("-") else text

    def _level(self, level: float) -> str:
        """A target level as written in the catalogue ("3 %", "1,75 %"), a computed one with the indicator's decimals."""
        if isinstance(self.indicator.target, TrajectoryTarget):
            text = format_value(level, self.indicator.decimals, self.indicator.symbol)
        else:
            decimals = 0
            while decimals < 3 and round(level, decimals) != level:
                decimals += 1
            text = format_value(level, decimals, self.indicator.symbol)
        return "\u2212" + text[1:] if text.startswith("-") else text

    def no_direction(self, slope: float | None) -> str:
        if slope is None:
            return "Indikatoren har ingen ønsket retning, så fremgangen vurderes ikke."
        return f"{self._pace(slope)}; indikatoren har ingen ønsket retning, så fremgangen vurderes ikke."

    def too_few(self, base_year: int) -> str:
        count = len(self.points)
        held = "ingen målinger" if count == 0 else ("én måling" if count == 1 else f"{count} målinger")
        return f"For få målinger til å vurdere fremgangen: {held} fra {base_year}, minst {MIN_POINTS} trengs."

    def no_base(self, slope: float, target: TrajectoryTarget) -> str:
        return (f"{self._pace(slope)}; fremgangen mot målet ({target.text}) kan ikke vurderes uten verdien for "
                f"{target.base_year}.")

    def met(self, slope: float, level: float) -> str:
        return f"{self._pace(slope)}; målet ({self._level(level)}) er nådd."

    def needed(self, slope: float, level: float, year: int, required: float) -> str:
        verb = "øke" if required > 0 else "gå ned"
        return (f"{self._pace(slope)}; for å nå {self._level(level)} innen {year} må det {verb} med "
                f"{self._number(abs(required))} i året.")

    def relative(self, slope: float, magnitude: float) -> str:
        if slope == 0 or not magnitude:
            return f"{self._pace(slope)}."
        share = format_value(abs(slope) / magnitude * 100, 1, "%")
        return f"{self._pace(slope)}, {share} av gjennomsnittsnivået."

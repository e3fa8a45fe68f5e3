"""Chart geometry for the inline SVGs (sparklines and the indicator chart), computed server-side.

Only coordinates and labels are made here; the templates write the SVG, so every text passes Jinja's
autoescaping. Numbers on the axes are formatted by `monitor.core.numbers` (Norwegian, through Babel).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from monitor.catalogue.indicators import BandsTarget, Direction, Indicator, ThresholdTarget, TrajectoryTarget, Unit
from monitor.evaluate.indicator import show, show_target, trajectory_value
from monitor.core.model import period_year
from monitor.evaluate.progress import Progress
from monitor.core.numbers import format_number
from monitor.report.readmodel import SeriesPoint


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    path: str  # the polyline's points ("x,y x,y …"), empty for a single point
    last: tuple[float, float]  # the newest point, marked with a dot
    label: str  # the text alternative


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    period: str
    text: str


@dataclass(frozen=True)
class Band:
    y: float
    height: float
    kind: str  # desired | acceptable | rejected
    label: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Trend:
    """The progress's Theil–Sen line (issue 18): fitted over the points it used, then projected to the year Y."""

    fit: tuple[float, float, float, float]  # x1, y1, x2, y2: from the first to the last point used
    ahead: tuple[float, float, float, float] | None  # the projection, dashed: the last point to Y (None when Y ≤ it)
    year: int  # Y
    value_text: str  # the line at Y
    point: tuple[float, float]  # the line at Y, marked
    label: str  # "Framskrevet 2027: −6 %"
    label_at: tuple[float, float]  # where the label's end sits


@dataclass(frozen=True)
class Goal:
    """The target level at the year Y, drawn as a marker."""

    x: float
    y: float
    year: int
    value_text: str
    label: str  # "Mål 2030: 99 000"
    label_at: tuple[float, float]


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge
    line: str
    dots: list[Dot]
    printed: list[Dot]  # the handlingsprogram's printed values
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    bands: list[Band] = field(default_factory=list)
    target_line: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2
    target_label: str | None = None
    unit: str | None = None
    broken: bool = False  # the y axis does not start at zero (issue 17 §14): a zigzag and a note mark it
    trend: Trend | None = None
    goal: Goal | None = None


def _xs(periods: list[str], left: float, right: float) -> dict[str, float]:
    years = [period_year(p) for p in periods]
    low, high = min(years), max(years)
    if low == high:
        return {p: (left + right) / 2 for p in periods}
    return {p: left + (period_year(p) - low) / (high - low) * (right - left) for p in periods}


def sparkline(points: list[SeriesPoint], width: int = 120, height: int = 32) -> Sparkline | None:
    """A small line of the latest value per period; None when there is no number at all."""
    if not points:
        return None
    pad = 4
    xs = _xs([p.period for p in points], pad, width - pad)
    values = [p.value for p in points]
    low, high = min(values), max(values)

    def y(value: float) -> float:
        return height / 2 if high == low else pad + (high - value) / (high - low) * (height - 2 * pad)

    coords = [(round(xs[p.period], 1), round(y(p.value), 1)) for p in points]
    path = " ".join(f"{x},{yy}" for x, yy in coords) if len(coords) > 1 else ""
    label = "Utvikling: " + ", ".join(f"{p.period}: {p.text}" for p in points)
    return Sparkline(width, height, path, coords[-1], label)


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2,5 or 5 times a power of ten) giving about `count` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _decimals(step: float) -> int:
    decimals = 0
    while decimals < 3 and abs(round(step, decimals) - step) > 1e-9:
        decimals += 1
    return decimals


# Units whose axis starts at zero (issue 17 §14): a share, a count, a rate or an amount read against zero.
FROM_ZERO = frozenset({Unit.SHARE, Unit.COUNT, Unit.RATE, Unit.AMOUNT})
# Data sit "far from zero" when all of them are above this share of the largest; the axis is then broken and
# starts at a round number at or below that share of the largest, so a 9 % fall still shows as about 9 %.
FAR_FROM_ZERO = 0.6
UNIT_WORDS = {Unit.COUNT: "antall", Unit.RATE: "rate", Unit.AMOUNT: "beløp", Unit.INDEX: "indeks",
              Unit.RANK: "plass", Unit.SHARE: "%", Unit.PERCENT: "%", Unit.PERCENTAGE_POINTS: "prosentpoeng"}


@dataclass(frozen=True)
class Axis:
    """The y axis: from `low` to `high` in steps of `step`, ticks in Norwegian with the indicator's decimals."""

    low: float
    high: float
    step: float
    ticks: tuple[tuple[float, str], ...]  # (value, label), from the bottom
    broken: bool  # a zero-based unit whose axis does not start at zero: marked on the chart
    unit: str  # the axis label: the indicator's symbol, or a word for the unit


def _step_for(span: float, decimals: int) -> float:
    """`nice_step` of `span`, but never finer than the indicator's decimals can print (no repeated labels)."""
    step = max(nice_step(span), 10.0 ** -decimals)
    for factor in (1, 2, 2.5, 5, 10):  # 2,5 needs one more decimal than 2 or 5: skip it when that is not printed
        candidate = factor * 10 ** math.floor(math.log10(step) + 1e-9)
        if candidate >= step - 1e-12 and abs(round(candidate, decimals) - candidate) < 1e-9:
            return candidate
    return step * 2


def y_axis(values: list[float], unit: Unit, decimals: int, symbol: str | None = None,
           scale: tuple[int, int] | None = None) -> Axis:
    """The y axis over `values` (the data, the target levels and any projection, so the target band is always in).

    Shares, counts, rates and amounts start at zero, unless every value is above FAR_FROM_ZERO of the largest:
    then the axis starts at a round number at or below FAR_FROM_ZERO of the largest and is marked broken.
    Other units (percent changes, indexes, scores, ranks) run over the data."""
    low, high = min(values), max(values)
    broken = False
    if unit in FROM_ZERO and low >= 0:
        if low > FAR_FROM_ZERO * high:
            low, broken = FAR_FROM_ZERO * high, True
        else:
            low = 0.0
    step = _step_for(high - low if high > low else abs(high) or 1.0, decimals)
    y_low, y_high = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    if y_low == y_high:
        y_low, y_high = (y_low - step if y_low > 0 or unit not in FROM_ZERO else y_low), y_high + step
    if unit in FROM_ZERO and y_low < 0 <= min(values):
        y_low = 0.0
    y_low, y_high = round(y_low, 10), round(y_high, 10)
    broken = broken and y_low > 0
    count = int(round((y_high - y_low) / step))
    ticks = tuple((round(y_low + i * step, 10), format_number(round(y_low + i * step, 10), decimals))
                  for i in range(count + 1))
    if symbol:
        label = symbol
    elif unit is Unit.SCALE and scale is not None:
        label = f"skala {scale[0]}–{scale[1]}"
    else:
        label = UNIT_WORDS.get(unit, "")
    return Axis(y_low, y_high, step, ticks, broken, label)


def _target_values(indicator: Indicator, years: tuple[int, int]) -> list[float]:
    target = indicator.target
    if isinstance(target, BandsTarget):
        return [target.desired, target.acceptable]
    if isinstance(target, ThresholdTarget):
        return [target.value]
    if isinstance(target, TrajectoryTarget):
        return [v for year in years if (v := trajectory_value(target, year)) is not None]
    return []


def _trend_line(progress: Progress | None) -> tuple[int, int, Callable[[int], float]] | None:
    """(first year, Y, the line) of the progress's Theil–Sen line, or None without a projection."""
    if progress is None or progress.projection is None or progress.pace is None or not progress.points:
        return None
    year, value, pace = progress.projection.year, progress.projection.value, progress.pace
    return progress.points[0].year, year, lambda at: value + pace * (at - year)


def chart(indicator: Indicator, points: list[SeriesPoint], printed: list[SeriesPoint],
          progress: Progress | None = None) -> Chart | None:
    """The indicator's chart: every period's latest value, the printed values, and its target; with `progress`,
    also its Theil–Sen line projected to the year Y and, for a target, the target level at Y (issue 18)."""
    if not points and not printed:
        return None
    width, height, left, top = 640, 310, 72, 30
    right, bottom = width - 24, height - 36
    periods = sorted({p.period for p in points} | {p.period for p in printed}, key=lambda p: (period_year(p), p))
    years = (period_year(periods[0]), period_year(periods[-1]))
    line = _trend_line(progress)
    goal_level = progress.target_value if progress is not None else None
    goal_year = progress.target_year if progress is not None else None
    end_year = max([years[1]] + ([line[1]] if line else []) + ([goal_year] if goal_year and goal_level is not None else []))
    targets = _target_values(indicator, (years[0], end_year))
    extra = [line[2](line[0]), line[2](line[1])] if line else []
    extra += [goal_level] if goal_level is not None and goal_year is not None else []
    values = [p.value for p in points] + [p.value for p in printed] + targets + extra
    axis = y_axis(values, indicator.unit, indicator.decimals, indicator.symbol, indicator.scale)
    y_low, y_high = axis.low, axis.high

    def y(value: float) -> float:
        return round(top + (y_high - value) / (y_high - y_low) * (bottom - top), 1)

    xs = _xs(periods, left + 16, right - 16)
    x_of_year = _year_x(years[0], end_year, left + 16, right - 16)
    if end_year > years[1]:  # the x axis runs on to Y
        xs = {p: x_of_year(period_year(p)) for p in periods}
    dots = [Dot(round(xs[p.period], 1), y(p.value), p.period, p.text) for p in points]
    y_ticks = [Tick(y(value), label) for value, label in axis.ticks]
    every = max(1, math.ceil(len(periods) / 8))
    shown = periods[::-1][::every][::-1]  # thin out from the newest, which is always labelled
    x_ticks = [Tick(round(xs[p], 1), p) for p in shown]
    if end_year > years[1]:  # label Y; drop period labels that would run into it
        at = round(x_of_year(end_year), 1)
        x_ticks = [tick for tick in x_ticks if at - tick.at >= 36] + [Tick(at, str(end_year))]
    result = Chart(
        width, height, left, right, top, bottom, " ".join(f"{d.x},{d.y}" for d in dots), dots,
        [Dot(round(xs[p.period], 1), y(p.value), p.period, p.text) for p in printed],
        x_ticks, y_ticks, unit=axis.unit or None, broken=axis.broken,
    )
    _add_target(result, indicator, y, (xs[periods[0]], x_of_year(end_year)), (years[0], end_year), (y_low, y_high))
    if line is not None:
        assert progress is not None
        result.trend = _trend(indicator, progress, line, x_of_year, y)
    if goal_level is not None and goal_year is not None:
        gx, gy = round(x_of_year(goal_year), 1), y(goal_level)
        text = show(indicator, goal_level) if isinstance(indicator.target, TrajectoryTarget) else show_target(
            indicator, goal_level)
        result.goal = Goal(gx, gy, goal_year, text, f"Mål {goal_year}: {text}", (gx, gy))
    _place_labels(result)
    return result


def _year_x(low: int, high: int, left: float, right: float) -> Callable[[int], float]:
    """x of a year on an axis running from `low` to `high` (the middle when they are one year)."""
    if low == high:
        return lambda year: (left + right) / 2
    return lambda year: left + (year - low) / (high - low) * (right - left)


def _trend(indicator: Indicator, progress: Progress, line: tuple[int, int, Callable[[int], float]],
           x: Callable[[int], float], y: Callable[[float], float]) -> Trend:
    first, year, at = line
    last = progress.points[-1].year
    fit_end = min(last, year) if year > first else last
    fit = (round(x(first), 1), y(at(first)), round(x(fit_end), 1), y(at(fit_end)))
    ahead = (round(x(last), 1), y(at(last)), round(x(year), 1), y(at(year))) if year > last else None
    text = show(indicator, at(year))
    point = (round(x(year), 1), y(at(year)))
    return Trend(fit, ahead, year, text, point, f"Framskrevet {year}: {text}", point)


def _place_labels(result: Chart) -> None:
    """The projection's and the goal's labels: on opposite sides of their points (the higher one above), and
    inside the plot."""
    trend, goal = result.trend, result.goal
    middle = (result.top + result.bottom) / 2

    def spot(x: float, at: float, above: bool) -> tuple[float, float]:
        if above and at - 9 < result.top:
            above = False
        elif not above and at + 17 > result.bottom - 2:
            above = True
        return (x, round(at - 9, 1) if above else round(at + 17, 1))

    trend_y = trend.label_at[1] if trend is not None else None
    if trend is not None and trend_y is not None:
        above = trend_y > middle if goal is None else trend_y <= goal.y
        result.trend = replace(trend, label_at=spot(trend.label_at[0], trend_y, above))
    if goal is not None:
        above = goal.y > middle if trend_y is None else goal.y < trend_y
        result.goal = replace(goal, label_at=spot(goal.x, goal.y, above))


def _add_target(result: Chart, indicator: Indicator, y: Callable[[float], float], edges: tuple[float, float],
                years: tuple[int, int], domain: tuple[float, float]) -> None:
    target = indicator.target
    if isinstance(target, BandsTarget):
        higher = indicator.direction is not Direction.LOWER_IS_BETTER
        low, high = domain
        zones = (
            [("desired", target.desired, high), ("acceptable", target.acceptable, target.desired),
             ("rejected", low, target.acceptable)]
            if higher else
            [("desired", low, target.desired), ("acceptable", target.desired, target.acceptable),
             ("rejected", target.acceptable, high)]
        )
        words = {"desired": "Ønsket", "acceptable": "Laveste akseptable", "rejected": "Ikke godkjent"}
        for kind, start, end in zones:
            start, end = max(start, low), min(end, high)
            if end > start:
                result.bands.append(Band(y(end), round(y(start) - y(end), 1), kind, words[kind]))
    elif isinstance(target, ThresholdTarget):
        at = y(target.value)
        result.target_line = (result.left, at, result.right, at)
        result.target_label = f"Mål {target.op} {show_target(indicator, target.value)}"
    elif isinstance(target, TrajectoryTarget):
        first, last = trajectory_value(target, years[0]), trajectory_value(target, years[1])
        if first is not None and last is not None:
            result.target_line = (round(edges[0], 1), y(first), round(edges[1], 1), y(last))
            result.target_label = "Målbane"

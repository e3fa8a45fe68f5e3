"""Chart geometry for the inline SVGs (sparklines and the indicator chart), computed server-side.

Only coordinates and labels are made here; the templates write the SVG, so every text passes Jinja's
autoescaping. Numbers on the axes are formatted by `monitor.core.numbers` (Norwegian, through Babel).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.catalogue.indicators import BandsTarget, Direction, Indicator, ThresholdTarget, TrajectoryTarget
from monitor.evaluate.indicator import period_year, show_target, trajectory_value
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


def _target_values(indicator: Indicator, years: tuple[int, int]) -> list[float]:
    target = indicator.target
    if isinstance(target, BandsTarget):
        return [target.desired, target.acceptable]
    if isinstance(target, ThresholdTarget):
        return [target.value]
    if isinstance(target, TrajectoryTarget):
        return [v for year in years if (v := trajectory_value(target, year)) is not None]
    return []


def chart(indicator: Indicator, points: list[SeriesPoint], printed: list[SeriesPoint]) -> Chart | None:
    """The indicator's chart: every period's latest value, the printed values, and its target."""
    if not points and not printed:
        return None
    width, height, left, top = 640, 310, 72, 30
    right, bottom = width - 24, height - 36
    periods = sorted({p.period for p in points} | {p.period for p in printed}, key=lambda p: (period_year(p), p))
    years = (period_year(periods[0]), period_year(periods[-1]))
    targets = _target_values(indicator, years)
    values = [p.value for p in points] + [p.value for p in printed] + targets
    low, high = min(values), max(values)
    step = nice_step(high - low if high > low else abs(high) or 1.0)
    y_low, y_high = math.floor(low / step) * step, math.ceil(high / step) * step
    if y_low == y_high:
        y_low, y_high = y_low - step, y_high + step

    def y(value: float) -> float:
        return round(top + (y_high - value) / (y_high - y_low) * (bottom - top), 1)

    xs = _xs(periods, left + 16, right - 16)
    dots = [Dot(round(xs[p.period], 1), y(p.value), p.period, p.text) for p in points]
    decimals = _decimals(step)
    count = int(round((y_high - y_low) / step))
    y_ticks = [Tick(y(y_low + i * step), format_number(y_low + i * step, decimals)) for i in range(count + 1)]
    every = max(1, math.ceil(len(periods) / 8))
    shown = periods[::-1][::every][::-1]  # thin out from the newest, which is always labelled
    result = Chart(
        width, height, left, right, top, bottom, " ".join(f"{d.x},{d.y}" for d in dots), dots,
        [Dot(round(xs[p.period], 1), y(p.value), p.period, p.text) for p in printed],
        [Tick(round(xs[p], 1), p) for p in shown], y_ticks, unit=indicator.symbol,
    )
    _add_target(result, indicator, y, (xs[periods[0]], xs[periods[-1]]), years, (y_low, y_high))
    return result


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

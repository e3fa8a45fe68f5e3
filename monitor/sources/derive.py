"""Derived indicators: the catalogue's named transforms (growth, change, ratio, share, sum, scale, merge, weighted_mean)
over series."""

from __future__ import annotations

from monitor.catalogue.indicators import Derive, Expr
from monitor.core.errors import FetchError
from monitor.core.model import Point, Series

NOT_POSSIBLE = "."  # SSB's "ikke mulig å oppgi tall": used for a division by zero


def evaluate(expr: Expr, series: dict[str, Series]) -> Series:
    """Evaluate an expression over named series; a period appears only where every input has it.

    A status in any input (suppressed, missing, …) carries through to the result rather than being
    treated as zero. `growth`/`change` give a period only where the period `years` before is there too
    (a missing base is never invented). `merge` is the exception to "every input": it is the union of
    its inputs, and a period in more than one of them raises FetchError (one bokmål sentence) rather
    than choosing one.
    """
    if isinstance(expr, str):
        return dict(series[expr])
    return {period: _tidy(point) for period, point in _evaluate(expr, series).items()}


def _tidy(point: Point) -> Point:
    # Ten decimals remove binary noise (0.30000000000000004) without touching any real precision.
    return point if point.value is None else Point(round(point.value, 10), point.status)


def _evaluate(expr: Derive, series: dict[str, Series]) -> Series:
    inputs = [evaluate(item, series) for item in expr.of]
    if expr.op in ("growth", "change"):
        return _over_previous(expr, inputs[0])
    if expr.op == "merge":
        return _merge(inputs)
    if expr.op == "weighted_mean":
        return _weighted_mean(inputs, [evaluate(item, series) for item in expr.weights])
    periods = set(inputs[0])
    for other in inputs[1:]:
        periods &= set(other)
    return {period: _combine(expr, [given[period] for given in inputs]) for period in sorted(periods)}


def _combine(expr: Derive, points: list[Point]) -> Point:
    for point in points:
        if point.value is None:
            return Point(None, point.status)
    values = [point.value for point in points if point.value is not None]
    if expr.op == "sum":
        return Point(sum(values))
    if expr.op == "scale":
        return Point(values[0] * expr.factor + expr.offset)
    numerator, denominator = values
    if denominator == 0:
        return Point(None, NOT_POSSIBLE)
    factor = 100.0 if expr.op == "share" else expr.factor
    return Point(numerator / denominator * factor)


def _over_previous(expr: Derive, series: Series) -> Series:
    result: Series = {}
    for period, point in sorted(series.items()):
        previous = _previous_period(period, expr.years)
        if previous is None or previous not in series:
            continue
        before = series[previous]
        if point.value is None or before.value is None:
            result[period] = Point(None, point.status if point.value is None else before.status)
        elif expr.op == "change":
            result[period] = Point(point.value - before.value)
        elif before.value == 0:
            result[period] = Point(None, NOT_POSSIBLE)
        else:
            result[period] = Point((point.value / before.value - 1.0) * 100.0)
    return result


def _previous_period(period: str, years: int) -> str | None:
    return str(int(period) - years) if period.isdigit() and len(period) == 4 else None


def _merge(inputs: list[Series]) -> Series:
    result: Series = {}
    for given in inputs:
        twice = sorted(set(result) & set(given))
        if twice:
            raise FetchError(
                f"seriene som skal slås sammen (`merge`) har begge tall for {', '.join(twice)}; "
                "ingen av dem velges, så indikatoren får ingen verdi før katalogen er rettet"
            )
        result.update(given)
    return dict(sorted(result.items()))


def _weighted_mean(inputs: list[Series], weights: list[Series]) -> Series:
    """Σ x·w / Σ w per period every input and weight has (equal weights when none are given).

    A status in any value or weight carries through (a suppressed grade never counts as zero, and the other grade
    alone is not the combined figure); weights that sum to zero give NOT_POSSIBLE.
    """
    weights = weights or [{period: Point(1.0) for period in given} for given in inputs]
    periods = set(inputs[0])
    for other in [*inputs[1:], *weights]:
        periods &= set(other)
    result: Series = {}
    for period in sorted(periods):
        points = [given[period] for given in inputs]
        masses = [given[period] for given in weights]
        hidden = next((point for point in [*points, *masses] if point.value is None), None)
        if hidden is not None:
            result[period] = Point(None, hidden.status)
            continue
        total = sum(mass.value for mass in masses if mass.value is not None)
        if total == 0:
            result[period] = Point(None, NOT_POSSIBLE)
            continue
        weighted = sum((point.value or 0.0) * (mass.value or 0.0) for point, mass in zip(points, masses))
        result[period] = Point(weighted / total)
    return result

"""What alert e-mails say about a figure: the latest value with its unit in Norwegian format, and times. Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.catalogue.indicators import Indicator, Unit
from monitor.evaluate.indicator import Evaluation, show

UNIT_WORDS = {
    Unit.SHARE: "prosent", Unit.PERCENT: "prosent", Unit.PERCENTAGE_POINTS: "prosentpoeng", Unit.COUNT: "antall",
    Unit.RATE: "rate", Unit.AMOUNT: "mengde", Unit.SCALE: "skår", Unit.RANK: "plassering, 1 er best",
    Unit.INDEX: "indeks",
}


def with_unit(indicator: Indicator, value: float) -> str:
    """A value as the e-mails show it: Norwegian format with the symbol ("6,1 %", "115 kr/m²"), or, for an
    indicator without one, what kind of number it is ("4,2 på skala 1–5", "1 748 (antall)")."""
    text = show(indicator, value)
    if indicator.symbol:
        return text
    if indicator.unit is Unit.SCALE and indicator.scale is not None:
        return f"{text} på skala {indicator.scale[0]}–{indicator.scale[1]}"
    return f"{text} ({UNIT_WORDS[indicator.unit]})"


def figure(indicator: Indicator, evaluation: Evaluation) -> str:
    """The latest value with its unit and period, and the target: "Siste tall (2024): 6,1 %; mål: under 7 %"."""
    parts = []
    if evaluation.latest_value is not None and evaluation.latest_value_period is not None:
        parts.append(f"Siste tall ({evaluation.latest_value_period}): {with_unit(indicator, evaluation.latest_value)}")
    if indicator.target is not None:
        parts.append(f"mål: {indicator.target.text}")  # written with its unit ("under 7 %")
    return "; ".join(parts)


def local_stamp(moment: datetime, zone: ZoneInfo) -> str:
    """dd.mm.yyyy kl. HH:MM in the configured time zone."""
    local = moment.astimezone(zone)
    return f"{local:%d.%m.%Y} kl. {local:%H:%M}"



"""An indicator's control figure beside its value (issue 20): per year, with the catalogue's note, flagged in words
where the two differ by more than rounding, and what the last attempt to fetch it gave.

The control figure is read from its own series key (monitor.core.model.control_key) and never becomes the value:
the evaluation, targets, exports and progress read only the indicator's id. A control table that fails is a note
here (the value comes from import), never the indicator's «Innhenting feiler».
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.core.model import Vintage, control_key, period_year
from monitor.core.numbers import format_value
from monitor.evaluate.failures import failure_sentence
from monitor.evaluate.indicator import show
from monitor.sources.registry import label
from monitor.store.database import Store


@dataclass(frozen=True)
class ControlRow:
    """One period: the indicator's current value, the control figure, and the difference when it is more than
    rounding."""

    period: str
    value: float | None
    control: float | None
    value_text: str | None  # the value with its unit; None when there is no number
    control_text: str | None
    difference: float | None  # control − value, when both are numbers
    flagged: bool  # |control − value| > half a unit of the last displayed decimal
    sentence: str | None  # the flag in words, e.g. «Kontrolltallet fra SSB avviker fra kommunens tall med 1,3 prosentpoeng»

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "value": self.value, "control": self.control, "difference": self.difference,
                "flagged": self.flagged, "sentence": self.sentence}


@dataclass(frozen=True)
class ControlFigures:
    """The control figure of one indicator: where it comes from, why it is only a control, its years, and whether
    the last attempt to fetch it failed."""

    source: str  # the run-log source key ("ssb")
    source_label: str  # "SSB"
    tables: list[str]
    note: str
    tolerance: float  # half a unit of the indicator's last displayed decimal
    tolerance_text: str  # it in words: "0,05 prosentpoeng"
    rows: list[ControlRow]  # oldest period first
    failure: str | None  # the last attempt failed: one bokmål sentence (the value is not touched)

    @property
    def flagged(self) -> list[ControlRow]:
        return [row for row in self.rows if row.flagged]

    def row_for(self, period: str | None) -> ControlRow | None:
        """The row of a period (the value's latest), or None."""
        return next((row for row in self.rows if row.period == period), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the API and `monitor check --format json`)."""
        return {
            "source": self.source, "tables": self.tables, "note": self.note, "tolerance": self.tolerance,
            "observations": [row.as_dict() for row in self.rows],
            "flagged": [row.period for row in self.flagged], "failure": self.failure,
        }


def tolerance(indicator: Indicator) -> float:
    """Half a unit of the last decimal the indicator is shown with: 0,05 for one decimal, 0,5 for none."""
    return 0.5 * 10 ** -indicator.decimals


def _unit(indicator: Indicator) -> str | None:
    """The unit of a difference: prosentpoeng for percentages, else the indicator's own."""
    return "prosentpoeng" if indicator.symbol == "%" else indicator.symbol


def difference_sentence(indicator: Indicator, source_label: str, difference: float) -> str:
    """«Kontrolltallet fra SSB avviker fra kommunens tall med 1,3 prosentpoeng» (a difference of percentages is in
    prosentpoeng; otherwise in the indicator's unit)."""
    shown = format_value(abs(difference), indicator.decimals, _unit(indicator))
    return f"Kontrolltallet fra {source_label} avviker fra kommunens tall med {shown}"


def _latest(vintages: list[Vintage]) -> dict[str, Vintage]:
    latest: dict[str, Vintage] = {}
    for vintage in sorted(vintages, key=lambda v: (v.retrieved_at, v.id)):
        latest[vintage.period] = vintage
    return latest


def control_rows(indicator: Indicator, values: list[Vintage], controls: list[Vintage], source_label: str) -> list[ControlRow]:
    """Every period that has a control figure, oldest first, beside the indicator's current value. Pure."""
    current, checked = _latest(values), _latest(controls)
    limit = tolerance(indicator)
    rows: list[ControlRow] = []
    for period in sorted(checked, key=lambda p: (period_year(p), p)):
        value = current[period].value if period in current else None
        control = checked[period].value
        difference = round(control - value, 10) if value is not None and control is not None else None
        flagged = difference is not None and abs(difference) > limit
        rows.append(ControlRow(
            period=period, value=value, control=control,
            value_text=show(indicator, value) if value is not None else None,
            control_text=show(indicator, control) if control is not None else None,
            difference=difference, flagged=flagged,
            sentence=difference_sentence(indicator, source_label, difference) if flagged and difference is not None else None,
        ))
    return rows


def _failure(store: Store, source: str, tables: list[str], key: str) -> str | None:
    """The last attempt at a control table failed (the table, or this control alone): one sentence, else None."""
    for table in tables:
        last = store.last_run(source, table, ("ok", "unchanged", "failed"))
        if last is not None and last["outcome"] == "failed":
            return failure_sentence(label(source), last["error"], store.failing_since(source, table))
        refused = store.last_run(source, f"{table}:{key}", ("failed",))  # a code or label the table lacks
        if refused is not None and (last is None or refused["id"] > last["id"]):
            text = str(refused["error"])  # already one bokmål sentence (IndicatorRefused), e.g. a label 12143 lacks
            return text if text.endswith(".") else f"{text}."
    return None


def control_figures(catalogue: Catalogue, store: Store, indicator: Indicator,
                    values: list[Vintage] | None = None) -> ControlFigures | None:
    """The indicator's control figure, or None when the catalogue gives it none. `values`: the kommune's vintages
    of the indicator, when the caller has them."""
    control = indicator.control
    if control is None:
        return None
    region = catalogue.municipality.current_code
    key = control_key(indicator.id)
    held = values if values is not None else store.vintages(indicator.id, region)
    source = control.kind
    tables = sorted({series.table for series in control.series.values()})
    words = label(source)
    return ControlFigures(
        source=source, source_label=words, tables=tables, note=control.note, tolerance=tolerance(indicator),
        tolerance_text=format_value(tolerance(indicator), indicator.decimals + 1, _unit(indicator)),
        rows=control_rows(indicator, held, store.vintages(key, region), words),
        failure=_failure(store, source, tables, key),
    )


def control_summaries(catalogue: Catalogue, store: Store) -> dict[str, dict[str, Any]]:
    """indicator id → its control figure as JSON, for every indicator with a `control` block."""
    found: dict[str, dict[str, Any]] = {}
    for indicator in catalogue.indicators:
        figures = control_figures(catalogue, store, indicator)
        if figures is not None:
            found[indicator.id] = figures.as_dict()
    return found

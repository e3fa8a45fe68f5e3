"""What the JSON API answers: catalogue facts, evaluations, vintages, the fetch history and JSON-stat 2.0.

Plain, JSON-ready dicts built from the catalogue, the store and the evaluation; `web.api` only routes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.evaluate.indicator import Evaluation
from monitor.core.model import period_year
from monitor.core.model import NO_VALUE, NOT_MEASURED, PENDING, SSB_SYMBOLS, STATUS_WORDS, Vintage
from monitor.report.controls import control_figures
from monitor.store.database import Store

# JSON-stat status symbols. SSB's own symbols pass through verbatim; the handlingsprogram's two words
# get short symbols of their own, listed with every other symbol in the dataset's `extension.status`.
JSONSTAT_SYMBOLS = {NOT_MEASURED: "IM", PENDING: "TK"}
JSONSTAT_STATUS_LABELS = {**SSB_SYMBOLS, **{JSONSTAT_SYMBOLS[code]: STATUS_WORDS[code] for code in JSONSTAT_SYMBOLS}}
HISTORY_LIMIT = 500  # the newest runs shown in an indicator's fetch history
RUN_FIELDS = ("id", "source", "target", "started_at", "finished_at", "outcome", "error", "row_count", "new_count",
              "actor", "file_name", "file_sha256", "raw_sha256")  # not raw_path: a path on the server


def indicator_facts(indicator: Indicator) -> dict[str, Any]:
    """The catalogue's facts about an indicator."""
    return {
        "id": indicator.id,
        "name": indicator.name,
        "area": indicator.area,
        "hovedmal": indicator.hovedmal,
        "delmal": indicator.delmal,
        "source": {"kind": indicator.source.kind.value, "name": indicator.source.name, "tables": indicator.source.tables},
        "path": indicator.path,
        "frequency": indicator.frequency.value,
        "lag": indicator.lag,
        "unit": indicator.unit.value,
        "symbol": indicator.symbol,
        "scale": list(indicator.scale) if indicator.scale else None,
        "decimals": indicator.decimals,
        "direction": indicator.direction.value,
        "target": indicator.target.model_dump(mode="json") if indicator.target else None,
        "definition_note": indicator.definition_note,
    }


def _envelope(catalogue: Catalogue, now: datetime) -> dict[str, Any]:
    municipality = catalogue.municipality
    return {
        "municipality": {"name": municipality.name, "code": municipality.current_code},
        "as_of": now.isoformat(timespec="seconds"),
    }


def indicator_rows(catalogue: Catalogue, evaluations: list[Evaluation]) -> list[dict[str, Any]]:
    """Every active indicator, in catalogue order: its facts and its evaluation."""
    by_id = {e.id: e for e in evaluations}
    return [{**indicator_facts(indicator), "evaluation": by_id[indicator.id].as_dict()} for indicator in catalogue.indicators]


def indicator_list(catalogue: Catalogue, evaluations: list[Evaluation], now: datetime) -> dict[str, Any]:
    """/api/indicators: every active indicator, in catalogue order, with its evaluation."""
    return {**_envelope(catalogue, now), "indicators": indicator_rows(catalogue, evaluations)}


def indicator_list_json(catalogue: Catalogue, rows_json: str, now: datetime) -> str:
    """`indicator_list` as JSON text, around the rows already serialised (they are cached; the envelope is not)."""
    head = json.dumps(_envelope(catalogue, now), ensure_ascii=False)
    return f'{head[:-1]}, "indicators": {rows_json}}}'


def vintage_dict(vintage: Vintage) -> dict[str, Any]:
    """One stored vintage."""
    return {
        "id": vintage.id,
        "period": vintage.period,
        "value": vintage.value,
        "status": vintage.status,
        "source": vintage.source,
        "source_updated": vintage.source_updated,
        "retrieved_at": vintage.retrieved_at,
        "vintage": vintage.vintage,
        "run_id": vintage.run_id,
    }


def _by_period(vintages: list[Vintage]) -> dict[str, list[Vintage]]:
    """Vintages per period, in period order; within a period in the order they became known."""
    periods: dict[str, list[Vintage]] = {}
    for vintage in sorted(vintages, key=lambda v: (v.retrieved_at, v.id)):
        periods.setdefault(vintage.period, []).append(vintage)
    return {period: periods[period] for period in sorted(periods, key=lambda p: (period_year(p), p))}


def indicator_detail(
    catalogue: Catalogue, store: Store, indicator: Indicator, evaluation: Evaluation, now: datetime
) -> dict[str, Any]:
    """/api/indicators/<id>: the facts, the evaluation, every vintage of every period and the fetch history."""
    region = catalogue.municipality.current_code
    vintages = store.vintages(indicator.id, region)
    source = indicator.fetch.kind if indicator.fetch is not None else None
    tables = sorted({series.table for series in indicator.fetch.series.values()}) if indicator.fetch else []
    runs = store.runs_touching(source, tables, indicator.id, limit=HISTORY_LIMIT, region=region)
    return {
        **_envelope(catalogue, now),
        **indicator_facts(indicator),
        "evaluation": evaluation.as_dict(),
        "observations": [
            {"period": period, "latest": vintage_dict(held[-1]), "vintages": [vintage_dict(v) for v in held]}
            for period, held in _by_period(vintages).items()
        ],
        "control": figures.as_dict() if (figures := control_figures(catalogue, store, indicator, vintages)) else None,
        "fetch_history": [{name: run.get(name) for name in RUN_FIELDS} for run in runs],
        "fetch_history_limit": HISTORY_LIMIT,
    }


def jsonstat_status(status: str) -> str:
    """A stored status as a JSON-stat status symbol."""
    return JSONSTAT_SYMBOLS.get(status, status)


def jsonstat_unit(indicator: Indicator) -> dict[str, Any]:
    """The indicator's JSON-stat unit (`dimension.<metric>.category.unit`): its decimals, label and symbol."""
    unit: dict[str, Any] = {"decimals": indicator.decimals, "label": indicator.symbol or indicator.unit.value}
    if indicator.symbol:
        unit |= {"symbol": indicator.symbol, "position": "end"}
    return unit


def jsonstat_dataset(catalogue: Catalogue, indicator: Indicator, vintages: list[Vintage]) -> dict[str, Any]:
    """The indicator's latest series for the kommune as a JSON-stat 2.0 dataset (indikator × region × tid).

    `vintages` are the kommune's vintages of the indicator; each period shows the one that became known
    last. A period held only as a status has a null value and its symbol in `status`.
    """
    municipality = catalogue.municipality
    latest = {period: held[-1] for period, held in _by_period(vintages).items()}
    periods = list(latest)
    values = [latest[p].value for p in periods]
    # A value the source left empty without a symbol (NO_VALUE) is a null with no status, as the source gave it.
    status = {
        str(i): jsonstat_status(latest[p].status or "") for i, p in enumerate(periods)
        if latest[p].status and latest[p].status != NO_VALUE
    }
    unit = jsonstat_unit(indicator)
    dataset: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": indicator.name,
        "source": indicator.source.name,
    }
    stamps = [v.retrieved_at for v in latest.values()]
    if stamps:
        dataset["updated"] = max(stamps)
    dataset |= {
        "id": ["indikator", "region", "tid"],
        "size": [1, 1, len(periods)],
        "role": {"time": ["tid"], "geo": ["region"], "metric": ["indikator"]},
        "dimension": {
            "indikator": {
                "label": "Indikator",
                "category": {"index": {indicator.id: 0}, "label": {indicator.id: indicator.name},
                             "unit": {indicator.id: unit}},
            },
            "region": {
                "label": "Region",
                "category": {"index": {municipality.current_code: 0},
                             "label": {municipality.current_code: municipality.name}},
            },
            "tid": {
                "label": "Tid",
                "category": {"index": {p: i for i, p in enumerate(periods)}, "label": {p: p for p in periods}},
            },
        },
        "value": values,
    }
    if status:
        dataset["status"] = status
    dataset["extension"] = {
        "indicator_id": indicator.id,
        "unit": indicator.unit.value,
        "symbol": indicator.symbol,
        "decimals": indicator.decimals,
        "direction": indicator.direction.value,
        "status": JSONSTAT_STATUS_LABELS,
    }
    return dataset

"""The status listing: for each indicator, the latest period held, its value or status, source and path."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from monitor.catalogue.indicators import Catalogue
from monitor.core.model import SSB_SYMBOLS, STATUS_WORDS, Vintage
from monitor.core.numbers import format_value
from monitor.store.database import Store


@dataclass(frozen=True)
class StatusRow:
    """One line of `monitor status`."""

    id: str
    name: str
    area: str
    latest_period: str | None
    value: float | None
    status: str | None
    display: str  # the value in Norwegian format, or the status in words, or "Ingen data"
    source: str  # the catalogue's Kilde text
    path: str  # "fetch:ssb", "fetch:fhi", "fetch:udir" or "import"
    last_value_period: str | None  # the latest period that has a number
    last_value: float | None
    control: str | None = None  # the source of its control figure ("ssb"; issue 20), beside an imported value

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def describe_status(status: str) -> str:
    """A status code in bokmål words."""
    if status in STATUS_WORDS:
        return STATUS_WORDS[status]
    return f"{status} ({SSB_SYMBOLS[status]})" if status in SSB_SYMBOLS else status


def status_rows(catalogue: Catalogue, store: Store) -> list[StatusRow]:
    """One row per active indicator, in catalogue order, for the kommune's current code."""
    region = catalogue.municipality.current_code
    by_indicator: dict[str, list[Vintage]] = {}
    for vintage in store.latest(region=region):
        by_indicator.setdefault(vintage.indicator_id, []).append(vintage)
    rows: list[StatusRow] = []
    for indicator in catalogue.indicators:
        held = sorted(by_indicator.get(indicator.id, []), key=lambda v: v.period)
        latest = held[-1] if held else None
        numeric = [v for v in held if v.value is not None]
        last_numeric = numeric[-1] if numeric else None
        if latest is None:
            display = "Ingen data"
        elif latest.value is not None:
            display = format_value(latest.value, indicator.decimals, indicator.symbol)
        else:
            display = describe_status(latest.status or "")
        rows.append(
            StatusRow(
                id=indicator.id,
                name=indicator.name,
                area=indicator.area,
                latest_period=latest.period if latest else None,
                value=latest.value if latest else None,
                status=latest.status if latest else None,
                display=display,
                source=indicator.source.name,
                path=indicator.path,
                last_value_period=last_numeric.period if last_numeric else None,
                last_value=last_numeric.value if last_numeric else None,
                control=indicator.control_source,
            )
        )
    return rows

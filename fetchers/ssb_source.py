"""SSB as a pipeline source: one PxWebApi v2 POST per table, split by time when SSB finds it too large.

The same adapter serves the indicator catalogue (run-log source "ssb") and the KOSTRA peer comparison ("ssb-kostra"):
what differs is only how the selections are built, which the caller passes in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fetchers.jsonstat import Dataset, parse_dataset
from fetchers.meaning import dataset_label_of, dataset_unit_of, require_meaning
from fetchers.ssb import SsbClient
from fetchers.ssb_extract import extract
from fetchers.ssb_query import Selection, all_series, build_selections, selection_body, series_meaning_problems, split_selection
from monitor.core.fetchspec import CatalogueView, Municipality
from monitor.core.errors import FetchError, TooManyCells
from monitor.core.model import Series, TableMeta


# Every selection of a source, by table; given a table's metadata, its time codes are named instead of expressed.
SelectionBuilder = Callable[[Mapping[str, Mapping[str, Any]] | None], dict[str, Selection]]


def fetch_selection(client: SsbClient, selection: Selection, rebuild: SelectionBuilder) -> list[bytes]:
    """The selection's data in one POST or, when SSB refuses it as too many cells, in parts split by time.

    This is the one place that handles SSB's "too many cells" refusal, for every SSB table. The first query may name
    time by an expression such as from(2019); then the table's metadata gives the codes (`rebuild`) and the query is
    halved. A part SSB still refuses when it holds a single period fails the table with a clear error instead of
    starting over, so a refusal can never recurse without end.
    """
    return _fetch_parts(client, selection, rebuild, split=False)


def _fetch_parts(client: SsbClient, selection: Selection, rebuild: SelectionBuilder, *, split: bool) -> list[bytes]:
    try:
        return [client.data(selection.table, selection_body(selection))]
    except TooManyCells as refused:
        halves = split_selection(selection)
        if halves is None and not split:
            try:
                metadata = json.loads(client.metadata(selection.table))
            except ValueError as exc:
                raise FetchError(f"tabell {selection.table}: metadata er ikke gyldig JSON ({exc})") from exc
            halves = split_selection(rebuild({selection.table: metadata})[selection.table])
        if halves is None:
            raise FetchError(
                f"tabell {selection.table}: SSB avviser spørringen som for stor selv for én periode ({refused})"
            ) from refused
        return [body for half in halves for body in _fetch_parts(client, half, rebuild, split=True)]


class SsbSource:
    """The SourceAdapter for SSB: the indicator catalogue's tables, or any other set of selections (KOSTRA)."""

    def __init__(
        self, client: SsbClient, catalogue: CatalogueView | None = None, *, selections: SelectionBuilder | None = None,
        source: str = "ssb", label: str = "SSB",
    ) -> None:
        if selections is None:
            if catalogue is None:
                raise ValueError("SsbSource needs a catalogue or a selection builder")
            view = catalogue

            def selections(metadata: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Selection]:
                return build_selections(view, metadata)

        self.client = client
        self.source = source
        self.label = label
        self.rebuild: SelectionBuilder = selections
        self.selections = selections(None)
        # whose a series is, for the line a meaning mismatch fails the table with (by object: series are unhashable)
        owned = all_series(catalogue) if catalogue is not None else []
        self._owners = {id(series): f"{indicator_id} (serie {name})" for indicator_id, name, series in owned}

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def start(self) -> None:
        """GET /config: the limits the throttle keeps below."""
        self.client.load_config()

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """One GET /tables?pastDays=N for every table SSB updated lately."""
        wanted = set(tables)
        return [
            TableMeta(
                self.source, entry["id"], label=entry.get("label"), updated=entry.get("updated"),
                first_period=entry.get("firstPeriod"), last_period=entry.get("lastPeriod"),
                discontinued=bool(entry.get("discontinued")),
            )
            for entry in self.client.updated_tables(days)
            if entry.get("id") in wanted
        ]

    def fetch(self, table: str) -> list[bytes]:
        """The table's data, in one POST or, if SSB finds it too large, in parts split by time."""
        return fetch_selection(self.client, self.selections[table], self.rebuild)

    def parse(self, body: bytes) -> Dataset:
        """JSON-stat2 to a dataset."""
        return parse_dataset(body)

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' points from an SSB dataset, once its labelled codes and unit still mean what the catalogue says
        (a mismatch is a FetchError: the table fails and nothing of it is stored)."""
        problems = series_meaning_problems(series, dataset_label_of(dataset), dataset_unit_of(dataset))
        require_meaning(series.table, self._owners.get(id(series)), problems)
        return extract(dataset, series.table, series, municipality)

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """updated, periods, next update and discontinued, from the response and the listing."""
        extension = dataset.extension
        px = extension.get("px") if isinstance(extension.get("px"), dict) else {}
        return TableMeta(
            self.source, table,
            label=dataset.label or (listed.label if listed else None),
            updated=dataset.updated or (listed.updated if listed else None),
            first_period=extension.get("firstPeriod") or (listed.first_period if listed else None),
            last_period=extension.get("lastPeriod") or (listed.last_period if listed else None),
            next_update=(px or {}).get("nextUpdate"),
            discontinued=bool(extension.get("discontinued")) or bool(listed and listed.discontinued),
        )

"""SSB as a pipeline source: one PxWebApi v2 POST per table, split by time when SSB finds it too large.

The same adapter serves the indicator catalogue (run-log source "ssb") and the KOSTRA peer comparison ("ssb-kostra"):
what differs is only how the selections are built, which the caller passes in.

For the indicator catalogue, every series' codes are checked against the table's own values (fetchers.ssb_codes)
so that one wrong code fails its indicator alone instead of the whole table (SSB refuses the whole query with HTTP
400). The table's metadata is read at most once per table per run: before the data request when a series of the
table chooses a value by label (the label must be resolved to a code), else only when SSB refuses the query; a
happy run costs no extra request. A series that fails the check is left out of the query and its indicator fails
alone (IndicatorRefused, recorded by the pipeline); when the metadata cannot be read, the table fails as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from fetchers.jsonstat import Dataset, parse_dataset
from fetchers.meaning import dataset_label_of, dataset_unit_of, require_meaning
from fetchers.ssb import SsbClient
from fetchers.ssb_extract import extract
from fetchers.ssb_codes import Checked, check_series, metadata_categories, no_metadata, resolved_note
from fetchers.ssb_query import Selection, all_series, build_selections, selection_body, series_meaning_problems, split_selection
from monitor.core.fetchspec import CatalogueView, Municipality, SsbSeries
from monitor.core.errors import FetchError, IndicatorRefused, SourceUnreachable, TooManyCells
from monitor.core.model import Series, TableMeta

log = logging.getLogger(__name__)
Member = tuple[str, str, SsbSeries]  # (indicator id, series name, series)


# Every selection of a source, by table; given a table's metadata, its time codes are named instead of expressed.
SelectionBuilder = Callable[[Mapping[str, Mapping[str, Any]] | None], dict[str, Selection]]


def fetch_selection(
    client: SsbClient, selection: Selection, rebuild: SelectionBuilder, metadata: Mapping[str, Any] | None = None
) -> list[bytes]:
    """The selection's data in one POST or, when SSB refuses it as too many cells, in parts split by time.

    This is the one place that handles SSB's "too many cells" refusal, for every SSB table. The first query may name
    time by an expression such as from(2019); then the table's metadata gives the codes (`rebuild`) and the query is
    halved. A part SSB still refuses when it holds a single period fails the table with a clear error instead of
    starting over, so a refusal can never recurse without end. `metadata`, when this run already read it, is
    used instead of asking again.
    """
    return _fetch_parts(client, selection, rebuild, split=False, metadata=metadata)


def read_metadata(client: SsbClient, table: str) -> dict[str, Any]:
    """GET /tables/{id}/metadata as JSON; a FetchError when it is not JSON."""
    try:
        body = json.loads(client.metadata(table))
    except ValueError as exc:
        raise FetchError(f"tabell {table}: metadata er ikke gyldig JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise FetchError(f"tabell {table}: metadata er ikke et JSON-objekt")
    return body


def _fetch_parts(
    client: SsbClient, selection: Selection, rebuild: SelectionBuilder, *, split: bool,
    metadata: Mapping[str, Any] | None = None,
) -> list[bytes]:
    try:
        return [client.data(selection.table, selection_body(selection))]
    except TooManyCells as refused:
        halves = split_selection(selection)
        if halves is None and not split:
            meta = metadata if metadata is not None else read_metadata(client, selection.table)
            halves = split_selection(rebuild({selection.table: meta})[selection.table])
        if halves is None:
            raise FetchError(
                f"tabell {selection.table}: SSB avviser spørringen som for stor selv for én periode ({refused})"
            ) from refused
        return [body for half in halves for body in _fetch_parts(client, half, rebuild, split=True)]


def series_key(series: SsbSeries) -> str:
    """A series by its content (series are unhashable, and a view of the catalogue may hand out copies)."""
    return series.model_dump_json()


class SsbSource:
    """The SourceAdapter for SSB: the indicator catalogue's tables, or any other set of selections (KOSTRA)."""

    def __init__(
        self, client: SsbClient, catalogue: CatalogueView | None = None, *, selections: SelectionBuilder | None = None,
        source: str = "ssb", label: str = "SSB",
    ) -> None:
        if selections is None and catalogue is None:
            raise ValueError("SsbSource needs a catalogue or a selection builder")
        self.client = client
        self.source = source
        self.label = label
        self._catalogue = catalogue if selections is None else None
        self._given = selections
        # whose a series is, for the line a meaning mismatch fails the table with (by object: series are unhashable)
        owned = all_series(catalogue) if catalogue is not None else []
        self._owners = {id(series): f"{indicator_id} (serie {name})" for indicator_id, name, series in owned}
        self._members: list[Member] = owned if selections is None else []
        self._metadata: dict[str, dict[str, Any] | None] = {}  # read at most once per table per run
        self._metadata_errors: dict[str, str] = {}  # why a table's metadata could not be read
        # by the series' own content (series_key), so a copy of a catalogue series (a view of the catalogue) is found
        self._ready: dict[str, SsbSeries] = {}  # series → the series as asked (labels resolved)
        self._refused: dict[str, str] = {}  # series → why its indicator fails alone
        self.resolved: list[str] = []  # one line per series whose labels were resolved in this run (for the log)

    @property
    def selections(self) -> dict[str, Selection]:
        """Every table's selection without metadata (time as an expression); labels are not resolved here."""
        return self.rebuild(None)

    def rebuild(self, metadata: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Selection]:
        """Every selection, given tables' metadata (SelectionBuilder)."""
        if self._given is not None:
            return self._given(metadata)
        assert self._catalogue is not None
        return build_selections(self._catalogue, metadata)

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
        """The table's data, in one POST or, if SSB finds it too large, in parts split by time.

        For the catalogue, a series whose code (or label) the table does not have is left out of the query and its
        indicator refused (see the module's docstring); when every series of the table is refused, the table fails.
        """
        if self._catalogue is None:
            return fetch_selection(self.client, self.rebuild(None)[table], self.rebuild)
        members = [member for member in self._members if member[2].table == table]
        checked_with_metadata = any(series.by_label() for _, _, series in members)
        if checked_with_metadata:
            asking = self._check(table, members, self._table_metadata(table, required=False))
        else:
            asking = [(indicator_id, name, series, series) for indicator_id, name, series in members]
        try:
            return self._fetch_members(table, asking)
        except (TooManyCells, SourceUnreachable):
            raise
        except FetchError as refused:
            if checked_with_metadata or refused.retryable or "HTTP 400" not in str(refused):
                raise
            # SSB refused the whole query: find the series whose code the table lacks, leave them out, ask again
            try:
                metadata = self._table_metadata(table, required=True)
            except FetchError:
                raise refused from None  # the metadata cannot help: the table fails as it did
            narrowed = self._check(table, [(i, n, original) for i, n, original, _ in asking], metadata)
            if len(narrowed) == len(asking):
                raise
            return self._fetch_members(table, narrowed)

    def _table_metadata(self, table: str, *, required: bool) -> dict[str, Any] | None:
        """The table's metadata, read once per run; None (or, when `required`, the FetchError) when it cannot be."""
        if table not in self._metadata:
            try:
                self._metadata[table] = read_metadata(self.client, table)
            except SourceUnreachable:
                raise
            except FetchError as exc:
                self._metadata[table] = None
                self._metadata_errors[table] = str(exc)
                if required:
                    raise
        found = self._metadata[table]
        if found is None and required:
            raise FetchError(f"tabell {table}: metadata kunne ikke hentes")
        return found

    def _check(
        self, table: str, members: list[Member], metadata: Mapping[str, Any] | None
    ) -> list[tuple[str, str, SsbSeries, SsbSeries]]:
        """(indicator id, name, catalogue series, series as asked) for every series the table can answer; every
        other series is refused (its sentence kept for `extract`) and logged."""
        categories = metadata_categories(metadata) if metadata is not None else None
        asking: list[tuple[str, str, SsbSeries, SsbSeries]] = []
        for indicator_id, name, series in members:
            if categories is not None:
                checked = check_series(series, categories)
            elif series.by_label():
                checked = no_metadata(series, self._metadata_errors.get(table, "ukjent feil"))
            else:
                checked = Checked(series)
            if checked.series is None:
                reason = checked.refusal or f"SSB-tabell {table} kan ikke svare på serien"
                self._refused[series_key(series)] = reason
                log.warning("%s: %s: %s", self.label, self._owners.get(id(series), indicator_id), reason,
                            extra={"source": self.source, "table": table, "outcome": "failed"})
                continue
            if checked.resolved:
                note = resolved_note(table, self._owners.get(id(series), indicator_id), checked.resolved)
                self.resolved.append(note)
                log.info("%s", note, extra={"source": self.source, "table": table})
            self._ready[series_key(series)] = checked.series
            asking.append((indicator_id, name, series, checked.series))
        return asking

    def _fetch_members(self, table: str, asking: list[tuple[str, str, SsbSeries, SsbSeries]]) -> list[bytes]:
        """One query for the series asked of the table; the refusals as the table's error when none is left."""
        if not asking:
            refused = [self._refused[key] for key in dict.fromkeys(
                series_key(series) for _, _, series in self._members if series.table == table
            ) if key in self._refused]
            raise FetchError(" ".join(f"{reason}." for reason in refused) or f"tabell {table}: ingen serier å hente")
        members = [(indicator_id, name, ready) for indicator_id, name, _, ready in asking]
        assert self._catalogue is not None
        catalogue = self._catalogue

        def rebuild(metadata: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Selection]:
            return build_selections(catalogue, metadata, members=members)

        return fetch_selection(self.client, rebuild(None)[table], rebuild, self._metadata.get(table))

    def parse(self, body: bytes) -> Dataset:
        """JSON-stat2 to a dataset."""
        return parse_dataset(body)

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' points from an SSB dataset, once its labelled codes and unit still mean what the catalogue says
        (a mismatch is a FetchError: the table fails and nothing of it is stored).

        A series refused in this run raises IndicatorRefused (its indicator fails alone). A series with a label
        that this run did not resolve (its table was not fetched: an archived answer) is resolved against the
        answer's own labels.
        """
        key = series_key(series)
        if key in self._refused:
            raise IndicatorRefused(self._refused[key], table=series.table)
        asked = self._ready.get(key, series)
        if asked.by_label():
            checked = check_series(asked, dataset.labels)
            if checked.series is None:
                raise IndicatorRefused(checked.refusal or "", table=series.table)
            asked = checked.series
        problems = series_meaning_problems(asked, dataset_label_of(dataset), dataset_unit_of(dataset))
        require_meaning(asked.table, self._owners.get(id(series)), problems)
        return extract(dataset, asked.table, asked, municipality)

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

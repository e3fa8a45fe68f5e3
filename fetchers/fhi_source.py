"""FHI Statistikk as a pipeline source: one json-stat2 POST per table, change polling with `modifiedAfter`.

A run costs: `GET Common/source` (start: is FHI there, does it still publish the catalogue's sources?), then either
one `GET {sourceId}/Table?modifiedAfter=<date>` per sourceId (the change check) or, on a full refresh, one
`GET {sourceId}/Table` per sourceId for every table's `modifiedAt`; and one `POST …/data` per table to fetch.

`TableMeta.updated` holds the table's `modifiedAt` from those listings, the stamp FHI bumps when data, metadata or
labels change (README "Get tables"); the `updated` of a data response is the *publication* date and is used only
when the listing did not name the table. Stamps are normalised to ISO 8601 in UTC; a stamp without an offset is
taken as UTC (UNVERIFIED: the C# `DateTime?` of TableOpenResponse may serialise without one).

A table the catalogue names by title ("nokkel/stonad" with `title`, fetchers.fhi_titles) is looked up in the full
table list when it is fetched (the list the full refresh reads for `modifiedAt` anyway: one request per source per
run), and its data is asked of the id found. The change check reads only the changed tables, so there a title
table counts as changed when a changed table has its title; a table renamed or added without a change to ours is
noticed when ours is next fetched (a full refresh at the latest, every 30 days, or `--force`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fetchers.fhi import FhiClient
from fetchers.fhi_extract import extract
from fetchers.fhi_query import build_requests, fhi_series, period_of, series_meaning_problems
from fetchers.fhi_titles import TableListing, resolved_note, titled
from fetchers.jsonstat import Dataset, parse_dataset
from fetchers.meaning import dataset_label_of, dataset_unit_of, require_meaning
from monitor.core.fetchspec import CatalogueView, Municipality
from monitor.core.errors import FetchError
from monitor.core.model import Series, TableMeta

log = logging.getLogger(__name__)

class FhiSource:
    """The SourceAdapter for FHI Statistikk (sourceId/tableId tables such as "nokkel/369")."""

    source = "fhi"
    label = "FHI"

    def __init__(self, client: FhiClient, catalogue: CatalogueView, *, clock: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self.catalogue = catalogue
        self.bodies = build_requests(catalogue)
        # whose a series is, for the line a meaning mismatch fails the table with (by object: series are unhashable)
        self._owners = {id(series): f"{indicator_id} (serie {name})" for indicator_id, name, series in fhi_series(catalogue)}
        self._time_dimension = {series.table: series.time_dimension for _, _, series in fhi_series(catalogue)}
        self._clock = clock or (lambda: datetime.now(UTC))
        self._known: dict[str, TableMeta] = {}  # what this run's listings said, by "sourceId/tableId"
        self.listing = TableListing(client)  # each sourceId's full table list, read at most once in this run
        # a table named by title: its run-log name → (the title part, whose series it is)
        self._titles = {series.table: (series.title, f"{indicator_id} (serie {name})")
                        for indicator_id, name, series in fhi_series(catalogue) if series.title is not None}
        self._resolved: dict[str, str] = {}  # run-log name → "sourceId/tableId" this run found by title

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def start(self) -> None:
        """GET Common/source: FHI answers, and still publishes every sourceId the catalogue reads."""
        wanted = sorted({table.split("/")[0] for table in self.bodies})
        if not wanted:
            return
        published = {str(entry.get("id")) for entry in self.client.sources()}
        gone = [source_id for source_id in wanted if source_id not in published]
        if gone:
            raise FetchError(
                f"FHI publiserer ikke lenger kilden {', '.join(gone)} (Common/source har {', '.join(sorted(published))})"
            )

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """One GET {sourceId}/Table?modifiedAfter=<today − days> per sourceId: the tables FHI changed lately."""
        since = (self._clock().astimezone(UTC) - timedelta(days=days)).date()
        wanted = set(tables)
        changed: list[TableMeta] = []
        for source_id in sorted({table.split("/")[0] for table in tables}):
            entries = self.client.tables(source_id, since)
            for entry in entries:
                meta = self._meta(source_id, entry)
                if meta is None:
                    continue
                self._known[meta.table_id] = meta
                if meta.table_id in wanted:
                    changed.append(meta)
            for table, (title, _) in self._titles.items():
                if table in wanted and table.startswith(f"{source_id}/"):
                    found = titled(entries, title)  # a changed table has the title: fetch (and resolve) ours
                    stamps = sorted(m.updated for m in (self._meta(source_id, e) for e in found) if m and m.updated)
                    if stamps:
                        changed.append(TableMeta(self.source, table, updated=stamps[-1]))
        return changed

    def fetch(self, table: str) -> list[bytes]:
        """The table's data in one POST (and, once per source in a full refresh, the table list for modifiedAt)."""
        source_id, table_id = table.split("/")
        if table in self._titles:
            table_id = self._resolve(table)
        elif table not in self._known and not self.listing.read(source_id):
            self._remember(source_id)
        return [self.client.data(source_id, table_id, self.bodies[table])]

    def _remember(self, source_id: str) -> None:
        """Every table's modifiedAt from the source's full list (read once per run)."""
        for entry in self.listing.entries(source_id):
            meta = self._meta(source_id, entry)
            if meta is not None:
                self._known.setdefault(meta.table_id, meta)

    def _resolve(self, table: str) -> str:
        """The tableId of a table named by title, from the full list; a FetchError when not exactly one matches."""
        source_id = table.split("/")[0]
        title, owner = self._titles[table]
        self._remember(source_id)
        entry = self.listing.resolve(source_id, title)
        table_id = str(entry["tableId"])
        meta = self._meta(source_id, entry)
        if meta is not None:
            self._known[table] = TableMeta(self.source, table, label=meta.label, updated=meta.updated)
        self._resolved[table] = f"{source_id}/{table_id}"
        note = resolved_note(owner, table, source_id, title, entry)
        log.info("%s", note, extra={"source": self.source, "table": table, "resolved": self._resolved[table]})
        return table_id

    def parse(self, body: bytes) -> Dataset:
        """JSON-stat2 to a dataset."""
        return parse_dataset(body)

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' points from an FHI dataset, once its labelled codes and unit still mean what the catalogue says
        (a mismatch is a FetchError: the table fails and nothing of it is stored)."""
        problems = series_meaning_problems(series, dataset_label_of(dataset), dataset_unit_of(dataset))
        require_meaning(series.table, self._owners.get(id(series)), problems)
        return extract(dataset, series.table, series, municipality)

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """Title, modifiedAt (else the publication date) and the first and last period of the response."""
        known = listed or self._known.get(table)
        time_dimension = self._time_dimension.get(table, "AAR")
        codes = dict(zip(dataset.ids, dataset.codes)).get(time_dimension, ())
        periods = sorted((p for p in map(period_of, codes) if p), key=lambda p: (p[-4:], p))
        label = dataset.label or (known.label if known else None)
        if table in self._resolved:  # found by title: the run log keeps the id it resolved to
            label = f"{label or table} ({self._resolved[table]}, funnet etter tittel)"
        return TableMeta(
            self.source, table,
            label=label,
            updated=known.updated if known and known.updated else normalise_stamp(dataset.updated),
            first_period=periods[0] if periods else None,
            last_period=periods[-1] if periods else None,
        )

    def _meta(self, source_id: str, entry: dict[str, Any]) -> TableMeta | None:
        table_id = entry.get("tableId")
        if table_id is None:
            return None
        modified = entry.get("modifiedAt") or entry.get("modifedAt")  # FHI's Angular sample spells it "modifedAt"
        return TableMeta(
            self.source, f"{source_id}/{table_id}",
            label=entry.get("title") if isinstance(entry.get("title"), str) else None,
            updated=normalise_stamp(modified if isinstance(modified, str) else None),
        )


_FRACTION = re.compile(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$")


def normalise_stamp(text: str | None) -> str | None:
    """An ISO 8601 stamp as UTC with offset ("…+00:00"), so stamps compare as instants; unparseable ones unchanged."""
    if not text:
        return None
    raw = text.strip().replace("Z", "+00:00")
    match = _FRACTION.match(raw)
    if match:  # .NET writes 7 fractional digits; keep microseconds
        raw = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()

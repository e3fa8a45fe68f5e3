"""The contract every online source meets, so one pipeline serves SSB, FHI and Udir alike."""

from __future__ import annotations

from typing import Any, Protocol

from fetchers.http import JsonApiClient
from fetchers.jsonstat import Dataset
from monitor.core.fetchspec import Municipality
from monitor.core.model import Series, TableMeta


class SourceAdapter(Protocol):
    """One online source for one run. Every failure is a FetchError (SourceUnreachable for the whole source)."""

    source: str  # the run-log name: "ssb", "fhi", "udir"
    label: str  # for people: "SSB", "FHI"

    @property
    def client(self) -> JsonApiClient:
        """The source's HTTP client; its `deadline` bounds every call (the pipeline sets it per table)."""
        ...

    @property
    def requests(self) -> int:
        """HTTP requests made so far in this run."""
        ...

    def start(self) -> None:
        """Read the source's limits (or check it answers) before anything else."""

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """What the source says about those of `tables` it updated in the last `days` days.

        None means the source cannot tell, so every table must be fetched.
        """

    def fetch(self, table: str) -> list[bytes]:
        """The raw response body (or bodies, when split) holding the table's selection."""

    def parse(self, body: bytes) -> Dataset:
        """A response body as a normalised dataset."""

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """One catalogue series from one dataset, by the indicator's periods."""

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """What the response (and the change listing, if any) says about the table."""

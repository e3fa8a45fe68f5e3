"""`monitor validate --online`: each SSB query and FHI series checked against the live tables, for a first deployment."""

from __future__ import annotations

import json

from fetchers.fhi import FhiClient
from fetchers.fhi_query import check_series_against_dimensions, fhi_series
from fetchers.ssb import SsbClient
from fetchers.ssb_query import check_series_against_metadata
from fetchers.udir import UdirClient
from fetchers.udir_source import check_table, udir_series, unstable_hint
from monitor.catalogue.indicators import Catalogue, FhiSeries, SsbFetch
from monitor.core.errors import FetchError


def check_ssb_online(catalogue: Catalogue, client: SsbClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems): missing dimensions or value codes, discontinued tables, errors."""
    problems: list[str] = []
    by_table: dict[str, list[tuple[str, str]]] = {}
    for indicator in catalogue.indicators:
        if not isinstance(indicator.fetch, SsbFetch):
            continue
        for name, series in indicator.fetch.series.items():
            by_table.setdefault(series.table, []).append((indicator.id, name))
    try:
        client.load_config()
    except FetchError as exc:
        return 0, [f"SSB: {exc}"]
    for table in sorted(by_table):
        try:
            metadata = json.loads(client.metadata(table))
        except FetchError as exc:
            problems.append(f"SSB {table}: {exc}")
            continue
        except ValueError as exc:
            problems.append(f"SSB {table}: metadata er ikke gyldig JSON ({exc})")
            continue
        extension = metadata.get("extension") or {}
        if extension.get("discontinued"):
            problems.append(f"SSB {table}: tabellen er avsluttet (discontinued) hos SSB – finn etterfølgeren")
        for indicator_id, name in by_table[table]:
            fetch = catalogue.get(indicator_id).fetch
            assert isinstance(fetch, SsbFetch)
            series = fetch.series[name]
            for problem in check_series_against_metadata(series, metadata, catalogue.municipality):
                problems.append(f"SSB {table}: {indicator_id} (serie {name}): {problem}")
    return len(by_table), problems


def check_fhi_online(catalogue: Catalogue, client: FhiClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems) for the FHI series: each table's live `/dimension` against the catalogue.

    Problems: a sourceId FHI no longer lists in Common/source, a table that does not answer, a dimension or category
    code a series asks for that the table lacks (GEO's tree is searched to the kommune level), and a dimension of
    the table the series does not name (FHI wants a filter for every dimension).
    """
    by_table: dict[str, list[tuple[str, str, FhiSeries]]] = {}
    for indicator_id, name, series in fhi_series(catalogue):
        by_table.setdefault(series.table, []).append((indicator_id, name, series))
    if not by_table:
        return 0, []
    try:
        published = {str(entry.get("id")) for entry in client.sources()}
    except FetchError as exc:
        return 0, [f"FHI: {exc}"]
    problems: list[str] = []
    for table in sorted(by_table):
        source_id, table_id = table.split("/")
        if source_id not in published:
            problems.append(f"FHI {table}: kilden {source_id!r} finnes ikke i Common/source")
            continue
        try:
            dimensions = client.dimensions(source_id, table_id)
        except FetchError as exc:
            problems.append(f"FHI {table}: {exc}")
            continue
        for indicator_id, name, series in by_table[table]:
            for problem in check_series_against_dimensions(series, dimensions, catalogue.municipality):
                problems.append(f"FHI {table}: {indicator_id} (serie {name}): {problem}")
    return len(by_table), problems


def check_udir_online(catalogue: Catalogue, client: UdirClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems): each Udir export table still open, its filter codes and its value column."""
    tables = sorted(udir_series(catalogue))
    if not tables:
        return 0, []
    try:
        open_tables = {str(entry.get("EksportID")) for entry in client.tables()}
    except FetchError as exc:
        return 0, [f"Udir: {exc} – {unstable_hint([])}"]
    problems: list[str] = []
    for table in tables:
        try:
            found = check_table(client, catalogue, table, open_tables)
        except FetchError as exc:
            found = [str(exc).removeprefix(f"tabell {table}: ")]
        problems += [f"Udir {table}: {problem}" for problem in found]
    return len(tables), problems

"""`monitor validate --online`: each SSB query checked against the live table metadata, for a first deployment."""

from __future__ import annotations

import json

from fetchers.ssb import SsbClient
from fetchers.ssb_query import check_series_against_metadata
from monitor.catalogue import Catalogue, SsbFetch
from monitor.errors import FetchError


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

"""`monitor validate --online`: each SSB query and FHI series checked against the live tables, for a first deployment."""

from __future__ import annotations

import json

from fetchers.fhi import FhiClient
from fetchers.fhi_query import check_series_against_dimensions, fhi_series
from fetchers.fhi_titles import TableListing, resolved_note as title_note
from fetchers.jsonstat import parse_dataset
from fetchers.miljodir_source import MiljodirClient, check_workbook
from fetchers.ssb import SsbClient
from fetchers.ssb_codes import check_series, metadata_categories, resolved_note
from fetchers.ssb_extract import extract
from fetchers.ssb_query import Selection, check_series_against_metadata, region_codes, selection_body
from fetchers.udir import UdirClient
from fetchers.udir_source import check_table, udir_series, unstable_hint
from monitor.catalogue.indicators import Catalogue, FhiSeries, SsbFetch, SsbSeries
from monitor.core.errors import FetchError
from monitor.core.fetchspec import Municipality
from monitor.core.model import Series
from monitor.sources.feeds import feed_view


def check_ssb_online(catalogue: Catalogue, client: SsbClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems): missing dimensions or value codes, discontinued tables, errors; and, as
    notes (`Findings`), the code each value chosen by label resolves to, so it can be pinned in the catalogue."""
    problems = Findings()
    by_table: dict[str, list[tuple[str, str]]] = {}
    for indicator in feed_view(catalogue).indicators:  # control blocks too, under their control key
        if not isinstance(indicator.fetch, SsbFetch):
            continue
        for name, series in indicator.fetch.series.items():
            by_table.setdefault(series.table, []).append((indicator.id, name))
        if indicator.fetch.cross_check is not None:
            by_table.setdefault(indicator.fetch.cross_check.series.table, []).append((indicator.id, CROSS_CHECK))
    try:
        client.load_config()
    except FetchError as exc:
        return 0, Findings([f"SSB: {exc}"])
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
            fetch = feed_view(catalogue).get(indicator_id).fetch
            assert isinstance(fetch, SsbFetch)
            if name == CROSS_CHECK:
                assert fetch.cross_check is not None
                series = fetch.cross_check.series
            else:
                series = fetch.series[name]
            for problem in check_series_against_metadata(series, metadata, catalogue.municipality):
                problems.append(f"SSB {table}: {indicator_id} (serie {name}): {problem}")
            resolved = check_series(series, metadata_categories(metadata)).resolved if series.by_label() else ()
            if resolved:
                problems.notes.append(resolved_note(table, f"{indicator_id} (serie {name})", resolved))
    problems += cross_check_ssb(catalogue, client)
    return len(by_table), problems


CROSS_CHECK = "cross_check"  # the name a cross-check series goes by in the lines above


def _series_values(client: SsbClient, series: SsbSeries, municipality: Municipality) -> Series:
    """One series on its own: one POST with exactly its codes, every time code from its first year on."""
    values = {
        series.region.dimension: tuple(region_codes(series, municipality)),
        **{dimension: tuple(series.codes(dimension)) for dimension in series.select},
        series.time_dimension: ("*",),
    }
    selection = Selection(
        series.table, values, codelists={**series.codelists, **(
            {series.region.dimension: series.region.codelist} if series.region.codelist else {})},
        time_dimension=series.time_dimension, region_dimension=series.region.dimension,
    )
    return extract(parse_dataset(client.data(series.table, selection_body(selection))), series.table, series, municipality)


def cross_check_ssb(catalogue: Catalogue, client: SsbClient) -> list[str]:
    """Every `cross_check` of the catalogue: both series fetched, one line for each year they disagree on.

    A year counts when both have a number; the series' own units are compared, so `tolerance` is in that unit.
    """
    problems: list[str] = []
    for indicator in catalogue.indicators:
        fetch = indicator.fetch
        if not isinstance(fetch, SsbFetch) or fetch.cross_check is None:
            continue
        check = fetch.cross_check
        main = fetch.series[check.against]
        label = f"SSB kryssjekk {indicator.id}: {main.table} mot {check.series.table}"
        try:
            ours = _series_values(client, main, catalogue.municipality)
            theirs = _series_values(client, check.series, catalogue.municipality)
        except (FetchError, ValueError) as exc:
            problems.append(f"{label}: kunne ikke hentes ({exc})")
            continue
        both = sorted(
            period for period in set(ours) & set(theirs)
            if ours[period].value is not None and theirs[period].value is not None
        )
        if not both:
            problems.append(f"{label}: ingen år med tall i begge tabellene")
            continue
        for period in both:
            a, b = ours[period].value, theirs[period].value
            assert a is not None and b is not None
            if abs(a - b) > check.tolerance:
                problems.append(
                    f"{label}: {period} gir {a:g} mot {b:g} (avvik {abs(a - b):.2g}, toleranse {check.tolerance:g})"
                )
    return problems


def check_fhi_online(catalogue: Catalogue, client: FhiClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems) for the FHI series: each table's live `/dimension` against the catalogue.

    Problems: a sourceId FHI no longer lists in Common/source, a table that does not answer, a dimension or category
    code a series asks for that the table lacks (GEO's tree is searched to the kommune level), and a dimension of
    the table the series does not name (FHI wants a filter for every dimension). A table named by title is looked up
    in the source's table list (none or several matches is a problem); the id it resolves to is a note (`Findings`).
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
    problems, listing = Findings(), TableListing(client)
    for table in sorted(by_table):
        source_id, table_id = table.split("/")
        if source_id not in published:
            problems.append(f"FHI {table}: kilden {source_id!r} finnes ikke i Common/source")
            continue
        try:
            if (title := by_table[table][0][2].title) is not None:
                entry = listing.resolve(source_id, title)
                table_id = str(entry["tableId"])
                owner = f"{by_table[table][0][0]} (serie {by_table[table][0][1]})"
                problems.notes.append(title_note(owner, table, source_id, title, entry))
            dimensions = client.dimensions(source_id, table_id)
        except FetchError as exc:
            problems.append(f"FHI {table}: {exc}")
            continue
        for indicator_id, name, series in by_table[table]:
            for problem in check_series_against_dimensions(series, dimensions, catalogue.municipality):
                problems.append(f"FHI {table}: {indicator_id} (serie {name}): {problem}")
    return len(by_table), problems


class Findings(list[str]):
    """The problems of an online check, with `notes`: what it found that is no problem (e.g. a code it resolved by
    name), printed by `monitor validate --online` without counting as a deviation."""

    def __init__(self, problems: list[str] | None = None, notes: list[str] | None = None) -> None:
        super().__init__(problems or [])
        self.notes: list[str] = notes or []


def check_udir_online(catalogue: Catalogue, client: UdirClient) -> tuple[int, list[str]]:
    """Return (tables checked, problems): each Udir export table still open, its filter codes, the codes it resolves
    by name (as notes, see `Findings`), the kommune valid in the newest school year and its value column."""
    tables = sorted(udir_series(catalogue))
    if not tables:
        return 0, Findings()
    try:
        open_tables = {str(entry.get("EksportID")) for entry in client.tables()}
    except FetchError as exc:
        return 0, Findings([f"Udir: {exc} – {unstable_hint([])}"])
    problems = Findings()
    for table in tables:
        try:
            found = check_table(client, catalogue, table, open_tables, problems.notes)
        except FetchError as exc:
            found = [str(exc).removeprefix(f"tabell {table}: ")]
        problems += [f"Udir {table}: {problem}" for problem in found]
    return len(tables), problems


def check_miljodir_online(catalogue: Catalogue, client: MiljodirClient) -> tuple[int, list[str]]:
    """Return (workbooks checked, problems) for Miljødirektoratet's workbook: downloaded, the answer an XLSX file, its
    sheet and columns as the catalogue says; the years and the number of the kommune's rows it holds as notes."""
    tables, problems, notes = check_workbook(catalogue, client)
    return tables, Findings(problems, notes)

"""SSB value codes checked against a table's own values, and values chosen by label resolved to their codes.

PxWebApi refuses a whole query (HTTP 400) when one value code is not in the table, which would stop every
indicator sharing that table. So a series' selected codes are checked against the table's values (its metadata,
`GET /tables/{id}/metadata`, or a data response's categories) and a series that asks for a code the table lacks is
left out of the query: its indicator fails alone, with one bokmål sentence naming the table, dimension and code.

A `select` value may name its value by label (`{label: "Disposisjonsfond"}`, monitor.core.fetchspec.SsbByLabel):
its code is the one value of the dimension whose label equals the label (case-insensitive, whitespace runs as one
space, the whole label: no prefix, no pattern). No match, or more than one, fails that indicator alone.

Only the dimensions of `select` that are read without a codelist are checked here: a codelist's codes (agg_…) are
not in the plain metadata, and the region and time dimensions are shared by every series of the query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fetchers.meaning import normalised
from monitor.core.fetchspec import SsbSeries

Categories = Mapping[str, Mapping[str, str]]  # dimension → value code → label (the code itself when unlabelled)


def metadata_categories(metadata: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every dimension's value codes and labels in a json-stat2 document (metadata or a data response)."""
    found: dict[str, dict[str, str]] = {}
    for dimension, body in (metadata.get("dimension") or {}).items():
        category = (body or {}).get("category") or {}
        labels = category.get("label") or {}
        index = category.get("index")
        codes = list(index) if isinstance(index, (dict, list)) else list(labels)
        found[str(dimension)] = {str(code): str(labels.get(code, code)) for code in codes}
    return found


@dataclass(frozen=True)
class Checked:
    """A series against a table's values: the series to ask for (labels resolved to codes), or why it cannot be."""

    series: SsbSeries | None  # None when refused
    refusal: str | None = None  # one bokmål sentence naming the table, the dimension and the code or label
    resolved: tuple[tuple[str, str, str], ...] = ()  # (dimension, label, code) for every value chosen by label


def no_metadata(series: SsbSeries, reason: str) -> Checked:
    """A series with a value chosen by label when the table's metadata could not be read: it cannot be asked for."""
    dimension, label = next(iter(series.by_label().items()))
    return Checked(None, (
        f"SSB-tabell {series.table}: etiketten «{label}» i {dimension} kunne ikke slås opp fordi tabellens "
        f"metadata ikke kunne hentes ({reason})"
    ))


def check_series(series: SsbSeries, categories: Categories) -> Checked:
    """The series with its labels resolved and every selected code present in the table, or the first problem."""
    found: dict[str, str] = {}
    resolved: list[tuple[str, str, str]] = []
    for dimension, label in series.by_label().items():
        values = categories.get(dimension)
        if values is None:
            return Checked(None, f"SSB-tabell {series.table} har ingen dimensjon {dimension}")
        matches = [code for code, text in values.items() if normalised(text) == normalised(label)]
        if not matches:
            return Checked(None, f"SSB-tabell {series.table} har ingen verdi med etiketten «{label}» i {dimension}")
        if len(matches) > 1:
            shown = ", ".join(f"{code} («{values[code]}»)" for code in matches)
            return Checked(None, (
                f"SSB-tabell {series.table} har {len(matches)} verdier med etiketten «{label}» i {dimension}: "
                f"{shown}; velg koden i katalogen"
            ))
        found[dimension] = matches[0]
        resolved.append((dimension, label, matches[0]))
    ready = series.with_codes(found) if found else series
    for dimension in ready.select:
        if dimension in ready.codelists:
            continue  # a codelist's codes are not the table's own values
        values = categories.get(dimension)
        if values is None:
            return Checked(None, f"SSB-tabell {series.table} har ingen dimensjon {dimension}")
        missing = [code for code in ready.codes(dimension) if code not in values]
        if missing:
            what = "verdi" if len(missing) == 1 else "verdiene"
            return Checked(None, f"SSB-tabell {series.table} har ingen {what} {', '.join(missing)} i {dimension}")
    return Checked(ready, None, tuple(resolved))


def resolved_note(table: str, owner: str, resolved: tuple[tuple[str, str, str], ...]) -> str:
    """One bokmål line saying which code each label resolved to, so ops can pin it in the catalogue."""
    found = "; ".join(f"{dimension} «{label}» er koden {code}" for dimension, label, code in resolved)
    return f"SSB {table}: {owner}: {found}"

"""Does a code still mean what the catalogue says? The catalogue's labels and unit against the source's own.

A code that exists but means something else (street lighting for road cost, MWh for GWh) passes every check of
codes; this one compares meanings. The catalogue gives each selected code the label the source gives it, or a
distinctive part of it, and a series the unit the source states (`labels` and `unit` in monitor.core.fetchspec). A
label or unit matches when it is a case-insensitive, whitespace-normalised substring of the source's.

`meaning_problems` is the one check: `monitor validate --online` runs it on the live metadata, and every fetch on
the data response it already has (a mismatch fails the table and nothing of it is stored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fetchers.jsonstat import Dataset
from monitor.core.errors import FetchError

LabelOf = Callable[[str, str], str | None]  # (dimension, code) → the source's label, or None when it has none


def normalised(text: str) -> str:
    """Lower case (casefold), runs of whitespace (no-break spaces included) as one space, trimmed."""
    return " ".join(text.split()).casefold()


def matches(expected: str, live: str) -> bool:
    """Whether the catalogue's text is a case-insensitive, whitespace-normalised part of the source's."""
    return normalised(expected) in normalised(live)


def unit_text(unit: Any) -> str | None:
    """The unit a JSON-stat `category.unit[code]` states: `base` (SSB), else `label` (FHI), else `symbol`."""
    if isinstance(unit, str):
        return unit or None
    if not isinstance(unit, Mapping):
        return None
    for key in ("base", "label", "symbol"):
        if isinstance(unit.get(key), str) and unit[key].strip():
            return str(unit[key])
    return None


def meaning_problems(
    expected: Iterable[tuple[str, str, str]],
    label_of: LabelOf,
    *,
    unit: str | None = None,
    unit_codes: tuple[str, list[str]] | None = None,
    unit_of: LabelOf | None = None,
) -> list[str]:
    """One bokmål sentence per code whose label, or unit, is not the catalogue's.

    `expected` is (dimension, code, label) from the series' `expected_labels()`; a code the source does not have at
    all is left to the code checks. `unit` is checked for every code of `unit_codes` (the value dimension and its
    selected codes) against `unit_of`; a source that states no unit for such a code is a mismatch too.
    """
    problems: list[str] = []
    for dimension, code, label in expected:
        live = label_of(dimension, code)
        if live is not None and not matches(label, live):
            problems.append(f"{dimension} {code} betyr noe annet: ventet «{label}», kilden sier «{live}»")
    if unit is not None and unit_codes is not None and unit_of is not None:
        dimension, codes = unit_codes
        for code in codes:
            live = unit_of(dimension, code)
            if live is None:
                problems.append(f"{dimension} {code}: ventet enheten «{unit}», kilden oppgir ingen enhet")
            elif not matches(unit, live):
                problems.append(f"{dimension} {code} har en annen enhet: ventet «{unit}», kilden sier «{live}»")
    return problems


def dataset_label_of(dataset: Dataset) -> LabelOf:
    """The category label a data response gives a code (None when the code is not in the response)."""

    def label_of(dimension: str, code: str) -> str | None:
        return (dataset.labels.get(dimension) or {}).get(code)

    return label_of


def dataset_unit_of(dataset: Dataset) -> LabelOf:
    """The unit a data response states for a code of a dimension (None when it states none)."""

    def unit_of(dimension: str, code: str) -> str | None:
        return unit_text((dataset.units.get(dimension) or {}).get(code))

    return unit_of


def metadata_label_of(metadata: Mapping[str, Any]) -> LabelOf:
    """The category label a json-stat2 metadata document (SSB `GET /tables/{id}/metadata`) gives a code."""

    def label_of(dimension: str, code: str) -> str | None:
        category = ((metadata.get("dimension") or {}).get(dimension) or {}).get("category") or {}
        label = (category.get("label") or {}).get(code)
        return str(label) if label is not None else None

    return label_of


def metadata_unit_of(metadata: Mapping[str, Any]) -> LabelOf:
    """The unit a json-stat2 metadata document states for a code (`category.unit[code].base` at SSB)."""

    def unit_of(dimension: str, code: str) -> str | None:
        category = ((metadata.get("dimension") or {}).get(dimension) or {}).get("category") or {}
        return unit_text((category.get("unit") or {}).get(code))

    return unit_of


def require_meaning(table: str, owner: str | None, problems: list[str]) -> None:
    """Fail the table (FetchError) with one line per mismatch, naming the indicator or row when known."""
    if problems:
        who = f"{owner}: " if owner else ""
        raise FetchError("\n".join(f"tabell {table}: {who}{problem}" for problem in problems))

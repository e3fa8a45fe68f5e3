"""Small SSB catalogues for the code-check and label tests: the behaviour catalogue with its indicators replaced.

The kommune, the source owners and the shape of an SSB entry are the behaviour catalogue's (its
netto_driftsresultat entry, copied from indicators.yaml); only the indicators under test are put in.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from monitor.catalogue.indicators import Catalogue, load_catalogue

from .catalogues import BEHAVIOUR_CATALOGUE


def _behaviour() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(BEHAVIOUR_CATALOGUE.read_text(encoding="utf-8"))
    return document


def ssb_indicator(
    indicator_id: str, table: str, select: dict[str, Any], *, labels: dict[str, Any] | None = None,
    unit: str | None = "prosent", first_year: int = 2019, region: str = "KOKkommuneregion0000",
) -> dict[str, Any]:
    """An SSB indicator with one series (named as the indicator), in the shape of the behaviour catalogue's
    netto_driftsresultat entry."""
    template = next(i for i in _behaviour()["indicators"] if i["id"] == "netto_driftsresultat")
    entry = copy.deepcopy(template)
    entry["id"] = indicator_id
    entry["name"] = f"Testindikator {indicator_id}"
    entry["source"] = {"kind": "ssb", "name": f"SSB {table}", "table": table}
    entry.pop("target", None)
    series: dict[str, Any] = {"table": table, "region": {"dimension": region}, "select": select,
                              "first_year": first_year}
    if labels:
        series["labels"] = labels
    if unit is not None:
        series["unit"] = unit
    entry["fetch"] = {"series": {indicator_id: series}, "value": indicator_id}
    return entry


def catalogue_with(directory: Path, *indicators: dict[str, Any]) -> Catalogue:
    """The behaviour catalogue with only `indicators` (no placeholders or source owners: they name its own
    indicators and sources), loaded."""
    document = _behaviour()
    document["indicators"] = list(indicators)
    document["placeholders"] = []
    document["sources"] = []  # the owners name sources of the behaviour catalogue's own indicators
    path = directory / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_catalogue(path)


def over_80() -> dict[str, Any]:
    """bor_hjemme: 12209's KOSsykhjand80aar0000 (80+ on institution), stored as 100 − x, like the catalogue's
    over_80; a sibling that must stay stored when another indicator of 12209 fails."""
    entry = ssb_indicator("bor_hjemme", "12209", {"ContentsCode": "KOSsykhjand80aar0000"},
                          labels={"ContentsCode": "beboere på institusjon"})
    entry["fetch"]["value"] = {"op": "scale", "factor": -1, "offset": 100, "of": ["bor_hjemme"]}
    return entry

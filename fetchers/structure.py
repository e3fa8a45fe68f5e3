"""The check every extractor makes first: does the response still have the dimensions and codes we ask for?"""

from __future__ import annotations

from fetchers.jsonstat import Dataset
from monitor.core.errors import FetchError


def require_codes(dataset: Dataset, table: str, wanted: dict[str, list[str]], time_dimension: str, code_word: str) -> None:
    """Fail clearly (FetchError naming the table, dimension and code) when the response lacks something wanted."""
    present = dict(zip(dataset.ids, dataset.codes))
    for dimension, codes in wanted.items():
        if dimension not in present:
            raise FetchError(
                f"tabell {table}: svaret mangler dimensjonen {dimension!r} (har {', '.join(dataset.ids)}); "
                "tabellen kan ha endret seg"
            )
        for code in codes:
            if code not in present[dimension]:
                raise FetchError(
                    f"tabell {table}: dimensjonen {dimension!r} mangler {code_word} {code!r}; tabellen kan ha endret seg"
                )
    if not present.get(time_dimension):
        raise FetchError(f"tabell {table}: svaret har ingen perioder (tomt datasett)")

"""What the online sources fetch for the indicator catalogue: each `fetch` block, and each `control` block.

A feed is one block and the key its observations are stored under: an indicator's `fetch` under the indicator's id
(its value), its `control` under its control key (monitor.core.model.control_key: a control figure, never the value).
`FeedView` is the catalogue as the fetchers read it (fetchers' CatalogueView: the kommune and "indicators" with an id
and a fetch block), so a control series is asked for in the same query as every other series of its table, its labels
and unit are checked the same way, and it fails with its table like the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.catalogue.indicators import Catalogue, Indicator
from monitor.core.fetchspec import FetchSpec, Municipality
from monitor.core.model import control_key


@dataclass(frozen=True)
class Feed:
    """One fetch or control block of one indicator, and the store key its observations get."""

    id: str  # the store key: the indicator's id (its value) or its control key (its control figure)
    fetch: FetchSpec
    indicator: Indicator

    @property
    def is_control(self) -> bool:
        return self.id != self.indicator.id


@dataclass(frozen=True)
class FeedView:
    """The catalogue as the fetchers read it: the kommune, and every feed (fetch blocks, then control blocks)."""

    municipality: Municipality
    indicators: list[Feed]

    def get(self, key: str) -> Feed:
        """The feed with this store key; KeyError if there is none."""
        for feed in self.indicators:
            if feed.id == key:
                return feed
        raise KeyError(key)


def feeds(catalogue: Catalogue, kind: str | None = None, only: set[str] | None = None) -> list[Feed]:
    """Every feed of the catalogue (of a source kind; of the given indicator ids), in catalogue order: each
    indicator's `fetch` block, then its `control` block."""
    found: list[Feed] = []
    for indicator in catalogue.indicators:
        if only is not None and indicator.id not in only:
            continue
        if indicator.fetch is not None:
            found.append(Feed(indicator.id, indicator.fetch, indicator))
        if indicator.control is not None:
            found.append(Feed(control_key(indicator.id), indicator.control, indicator))
    return [feed for feed in found if kind is None or feed.fetch.kind == kind]


def feed_view(catalogue: Catalogue) -> FeedView:
    """The catalogue with its control blocks, for a source's adapter and its online check."""
    return FeedView(catalogue.municipality, feeds(catalogue))

"""The fetch block of an indicator read from barnehagefakta.no (Udir's kindergarten facts; latest year only).

Kept apart from monitor.core.fetchspec (which names it in `FetchSpec`) so that module stays small; it imports nothing
from there.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)


class BarnehagefaktaSeries(BaseModel):
    """One figure of barnehagefakta.no's kommune answer (`GET {MONITOR_BARNEHAGEFAKTA_URL}/Kommune/{knr}`, no key).

    The answer is `{"navn": …, "indikatorDataKommune": {…}, "indikatorDataNasjonalt": {…}, …}` and holds the latest
    year only, with no year field (none seen in public code), so each answer is archived and the history is built run
    by run. `field` is the key in `indikatorDataKommune` ("andelAnsatteBarnehagelarer"); `unit` is what the figure is
    (barnehagefakta.no states none: `validate --online` checks that a "prosent" figure lies in 0–100).

    Period: the staff are counted on 15 December of year Y and shown from Udir's publication in the spring of Y+1
    until the next one (UNVERIFIED: the publication day). So an answer fetched in year T on or after `published`
    (MM-DD) is period T−1, and before it T−2; never "today's year". `table` names the query in the run log.
    """

    model_config = _STRICT

    table: str = Field(default="kommune", pattern=r"^[a-z][a-z0-9_]*$")
    field: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    unit: str = Field(default="prosent", min_length=1)
    published: str = Field(default="05-01", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
    first_year: int = Field(default=2020, ge=1990, le=2100)


class BarnehagefaktaFetch(BaseModel):
    """How an indicator is read from barnehagefakta.no (Udir's kindergarten facts). It stays importable."""

    model_config = _STRICT
    source_kind: ClassVar[str] = "udir"  # the catalogue's source kind: Utdanningsdirektoratet

    kind: Literal["barnehagefakta"]
    series: dict[str, BarnehagefaktaSeries] = Field(min_length=1, max_length=1)
    value: str = Field(min_length=1)  # the series' name: the figure is stored as barnehagefakta.no gives it

    @model_validator(mode="after")
    def _known_series(self) -> BarnehagefaktaFetch:
        if self.value not in self.series:
            raise ValueError(f"`value` bruker ukjent serie {self.value!r} (seriene heter {', '.join(self.series)})")
        return self

"""The fetch block of an indicator read from Miljødirektoratet's downloaded emissions workbook (one XLSX file, no API).

Kept apart from monitor.core.fetchspec (which names it in `FetchSpec`) so that module stays small; it imports nothing
from there.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)


class MiljodirSeries(BaseModel):
    """The kommune's total direct emissions per year from the workbook.

    `table` names the workbook (its raw-archive and run-log name). `sheet` and `column` are what the workbook must
    hold: the sheet «Oversikt - detaljert» and the emission column «Utslipp (tonn CO2-ekvivalenter)» (compared after
    lower-casing, CO₂ read as CO2 and spaces collapsed); a workbook without them fails the run loudly and nothing is
    stored. Every row of the kommune (by its code history, or its name) is summed per year over sector, emission
    source and gas. Years before `first_year` are left out; 2009 is the climate target's base year.
    """

    model_config = _STRICT

    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sheet: str = Field(default="Oversikt - detaljert", min_length=1)
    column: str = Field(default="Utslipp (tonn CO2-ekvivalenter)", min_length=1)
    unit: str = Field(default="tonn CO2-ekvivalenter", min_length=1)  # the unit the column's header names
    first_year: int = Field(default=2009, ge=1990, le=2100)


class MiljodirFetch(BaseModel):
    """How an indicator is read from the workbook: one series, and the value is that series. It stays importable."""

    model_config = _STRICT
    source_kind: ClassVar[str] = "register"  # the catalogue's source kind: a register with no API

    kind: Literal["miljodir"]
    series: dict[str, MiljodirSeries] = Field(min_length=1, max_length=1)
    value: str = Field(min_length=1)  # the series' name

    @model_validator(mode="after")
    def _known_series(self) -> MiljodirFetch:
        if self.value not in self.series:
            raise ValueError(f"`value` bruker ukjent serie {self.value!r} (seriene heter {', '.join(self.series)})")
        return self

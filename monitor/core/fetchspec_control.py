"""A catalogue `control` block (issue 20): a source's series fetched beside an imported indicator, never its value."""

from __future__ import annotations

from pydantic import Field, model_validator

from monitor.core.fetchspec import SsbFetch


class SsbControl(SsbFetch):
    """A control figure: an SSB series fetched beside an imported indicator and never its value.

    Where the source's definition differs from the plan's (SSB's kommunekonsern figure against the kommune's own
    accounts), the indicator keeps its import as its value; the `control` block (the shape of an SSB `fetch` block:
    `series` and `value`) is fetched by the normal pipeline (same source, same per-table failure, labels and unit
    checked, `validate --online`) and stored under the indicator's control key (monitor.core.model.control_key),
    shown beside the value and flagged where the two differ by more than rounding. `note` (bokmål, required) says why
    it is only a control figure.
    """

    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _no_cross_check(self) -> SsbControl:
        if self.cross_check is not None:
            raise ValueError("`control` har ingen `cross_check`: kontrolltallet er selv en kontroll")
        return self

"""Norwegian number display ("15,1 %", "1 748", "-0,7 %") through Babel's CLDR data for nb."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_decimal

LOCALE = "nb_NO"


def format_number(value: float, decimals: int) -> str:
    """Format with a fixed number of decimals, half-up rounding, Norwegian separators.

    Babel gives the CLDR nb separators (decimal comma, no-break space for thousands); the rounding
    is done here first with Decimal so 0,25 → 0,3 as Norwegian statistics print it (Babel's own
    default is half-even).
    """
    return _format_exact(repr(value), decimals)


@lru_cache(maxsize=65536)
def _format_exact(number: str, decimals: int) -> str:
    # Keyed by repr(value), so 0.0 and -0.0 stay apart; Babel is slow and pages repeat the same values.
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(number).quantize(quantum, rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(rounded, format=pattern, locale=LOCALE, decimal_quantization=True)


def format_value(value: float, decimals: int, symbol: str | None) -> str:
    """A value with its unit symbol as the handlingsprogram prints it: '15,1 %', '115 kr/m²', '4,2'."""
    number = format_number(value, decimals)
    return f"{number}\u00a0{symbol}" if symbol else number

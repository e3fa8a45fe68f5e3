"""The indicator chart's y axis (issue 17 §14), with the numbers worked by hand."""

from __future__ import annotations

from monitor.catalogue.indicators import Unit
from web.charts import y_axis


def test_a_count_far_from_zero_gets_a_broken_axis_that_does_not_zoom_to_the_data() -> None:
    # 146 → 148: every value is above 0,6 × 148 = 88,8, so the axis breaks at 88,8 rounded down. The span
    # 148 − 88,8 = 59,2 over about 5 ticks is 11,84 → a step of 20; 88,8 → 80, 148 → 160.
    axis = y_axis([146, 148], Unit.COUNT, 0)
    assert (axis.low, axis.high, axis.step, axis.broken) == (80, 160, 20, True)
    assert [label for _, label in axis.ticks] == ["80", "100", "120", "140", "160"]
    assert axis.unit == "antall"
    # A 9 % fall (148 → 134,7) then takes 13,3 / 80 = 17 % of the height, not all of it.
    assert (148 - 134.7) / (axis.high - axis.low) < 0.2


def test_a_share_starts_at_zero_with_the_indicators_decimals() -> None:
    # 4,1 and 9,2 %: 4,1 is not above 0,6 × 9,2 = 5,52, so zero is in. 9,2 / 5 = 1,84 → step 2; 9,2 → 10.
    axis = y_axis([4.1, 9.2], Unit.SHARE, 1, "%")
    assert (axis.low, axis.high, axis.step, axis.broken) == (0, 10, 2, False)
    assert [label for _, label in axis.ticks] == ["0,0", "2,0", "4,0", "6,0", "8,0", "10,0"]
    assert axis.unit == "%"


def test_the_target_band_is_always_on_the_axis() -> None:
    # Data 60–62 % with a desired level of 90 and an acceptable one of 80: 60 is above 0,6 × 90 = 54, so the axis
    # breaks at 54 → span 36 / 5 = 7,2 → step 10; 54 → 50 and 90 → 90: both band edges are inside.
    axis = y_axis([60, 62, 90, 80], Unit.SHARE, 0, "%")
    assert (axis.low, axis.high, axis.step, axis.broken) == (50, 90, 10, True)
    assert axis.low <= 80 and axis.high >= 90


def test_no_tick_step_finer_than_the_decimals_print() -> None:
    # 0 to 12 with no decimals: 12 / 5 = 2,4 → 2,5 would print "2" and "5" for 2,5 and 5,0 … so the step is 5.
    axis = y_axis([3, 12], Unit.COUNT, 0)
    assert (axis.low, axis.high, axis.step) == (0, 15, 5)
    assert [label for _, label in axis.ticks] == ["0", "5", "10", "15"]
    # 0 to 1,4 with no decimals: 1,4 / 5 = 0,28 → at least 1 (a finer step repeats "0" and "1").
    axis = y_axis([0.4, 1.4], Unit.AMOUNT, 0, "GWh")
    assert (axis.low, axis.high, axis.step) == (0, 2, 1)
    assert [label for _, label in axis.ticks] == ["0", "1", "2"]


def test_thousands_and_decimal_comma_in_norwegian() -> None:
    # 2 000 to 9 500 kr: zero is in (2 000 < 0,6 × 9 500 = 5 700); 9 500 / 5 = 1 900 → step 2 000; 9 500 → 10 000.
    axis = y_axis([2000, 9500], Unit.AMOUNT, 0, "kr/m²")
    assert (axis.low, axis.high, axis.step) == (0, 10000, 2000)
    assert axis.ticks[-1][1] == "10\u00a0000"
    assert axis.unit == "kr/m²"


def test_a_change_in_percent_runs_over_the_data_and_crosses_zero() -> None:
    # −1,2 to 3,4 %: not a zero-based unit; span 4,6 / 5 = 0,92 → step 1; −1,2 → −2 and 3,4 → 4.
    axis = y_axis([-1.2, 3.4], Unit.PERCENT, 1, "%")
    assert (axis.low, axis.high, axis.step, axis.broken) == (-2, 4, 1, False)
    assert axis.ticks[2] == (0, "0,0")

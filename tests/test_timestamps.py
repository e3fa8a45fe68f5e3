"""The one stored timestamp format (monitor.core.timestamps): UTC, ISO 8601, whole seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.core.timestamps import decode, encode

OSLO = ZoneInfo("Europe/Oslo")


def test_the_stored_text_is_utc_iso_with_whole_seconds() -> None:
    assert encode(datetime(2026, 11, 27, 9, 30, 15, 999_999, tzinfo=OSLO)) == "2026-11-27T08:30:15+00:00"
    assert encode(datetime(2026, 6, 1, 12, 0, tzinfo=OSLO)) == "2026-06-01T10:00:00+00:00"
    assert encode(datetime(2026, 1, 1, tzinfo=timezone.utc)) == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 29, 1, 59, 59, tzinfo=OSLO),  # the last second of winter time
    datetime(2026, 3, 29, 3, 0, tzinfo=OSLO),  # the first of summer time
    datetime(2026, 10, 25, 2, 30, tzinfo=OSLO),  # the hour that happens twice: the first time (summer)
    datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=OSLO),  # and the second (winter)
    datetime(2026, 7, 14, 23, 59, 59, tzinfo=OSLO),
])
def test_round_trip_across_daylight_saving(moment: datetime) -> None:
    back = decode(encode(moment))
    # The same instant (compare timestamps: PEP 495 makes a time in the repeated hour unequal to any other zone's)
    assert back.timestamp() == moment.timestamp()
    assert back.astimezone(OSLO).replace(tzinfo=None) == moment.replace(tzinfo=None)
    assert back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert encode(back) == encode(moment)


def test_the_repeated_autumn_hour_is_two_instants() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO)
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=OSLO)
    assert (encode(first), encode(second)) == ("2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+00:00")


def test_text_order_is_time_order() -> None:
    moments = [datetime(2026, 10, 25, 2, 30, fold=f, tzinfo=OSLO) + timedelta(minutes=m) for f in (0, 1) for m in (0, 20)]
    assert sorted(encode(m) for m in moments) == [encode(m) for m in sorted(moments)]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode(datetime(2026, 11, 27, 9, 30))
    with pytest.raises(ValueError, match="offset"):
        decode("2026-11-27T09:30:00")


def test_the_store_writes_this_format(store, now: datetime) -> None:
    from monitor.store.fetchrequests import request_fetch

    request, _ = request_fetch(store, "ssb", "tester", now)
    assert request.requested_at == encode(now) == "2026-11-27T08:30:00+00:00"
    stored = store.conn.execute("SELECT requested_at FROM fetch_requests").fetchone()[0]
    assert stored == "2026-11-27T08:30:00+00:00"

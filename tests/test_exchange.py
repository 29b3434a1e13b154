"""The shipped NYSE holiday table is the holidays package's calendar, year for year."""

from __future__ import annotations

from datetime import date

from alvh_cli.model import exchange


def test_table_matches_the_library():
    years, days = exchange._table()
    assert years == range(1990, 2061)
    for year in years:
        assert exchange.holidays_of(year) == exchange.library_holidays(year), year
    assert all(d.year in years for d in days)


def test_known_closures():
    # NYSE calendar: Good Friday 2026-04-03, Juneteenth 2026-06-19, Thanksgiving 2026-11-26,
    # Christmas 2027 observed Friday 2027-12-24; and 2012-10-29/30 (Hurricane Sandy).
    for d in (
        date(2026, 4, 3),
        date(2026, 6, 19),
        date(2026, 11, 26),
        date(2027, 12, 24),
        date(2012, 10, 29),
        date(2012, 10, 30),
    ):
        assert not exchange.is_business_day(d), d
    assert exchange.is_business_day(date(2026, 11, 27))  # early close, still a session


def test_years_outside_the_table_ask_the_library():
    assert exchange.holidays_of(2075) == exchange.library_holidays(2075)
    assert date(2075, 12, 25) in exchange.holidays_of(2075)


def test_early_closes():
    # NYSE published 13:00 closes: 2024-07-03, 2024-11-29, 2024-12-24, 2025-07-03,
    # 2025-11-28, 2025-12-24, 2026-11-27, 2026-12-24. July 3 2026 is the observed
    # Independence Day holiday (July 4 is a Saturday), not a half day; 2022-07-01 (before
    # a Monday July 4) and 2023-12-22 (Christmas Eve a Sunday) were full days.
    for d in (
        date(2024, 7, 3),
        date(2024, 11, 29),
        date(2024, 12, 24),
        date(2025, 7, 3),
        date(2025, 11, 28),
        date(2025, 12, 24),
        date(2026, 11, 27),
        date(2026, 12, 24),
    ):
        assert exchange.is_early_close(d), d
        assert exchange.close_time(d).hour == 13
    for d in (date(2026, 7, 3), date(2022, 7, 1), date(2023, 12, 22), date(2026, 11, 20)):
        assert not exchange.is_early_close(d), d
    assert exchange.close_time(date(2026, 11, 24)).hour == 16

"""Season labels: what is accepted, what is rejected, and with which message."""

from __future__ import annotations

from datetime import date

import pytest

from common.seasons import InvalidSeasonError, Season, current_season, parse_seasons

TODAY = date(2026, 11, 29)


def test_parses_and_prints_a_season() -> None:
    season = Season.parse("2018-19", TODAY)
    assert season == Season(2018)
    assert str(season) == "2018-19"
    assert str(Season.parse("1999-00", TODAY)) == "1999-00"  # century wrap
    # Both years written out, as some fans write it.
    assert Season.parse("2018-2019", TODAY) == Season(2018)
    assert Season.parse("1999-2000", TODAY) == Season(1999)


def test_a_bare_year_offers_both_seasons_it_touches() -> None:
    with pytest.raises(InvalidSeasonError) as year:
        Season.parse("2006", TODAY)
    assert str(year.value) == (
        "Season '2006' is malformed: expected YYYY-YY: 2005-06 (the season that ended in 2006) "
        "or 2006-07 (the one that began in it)?"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019", "malformed"),
        ("2019-21", "consecutive"),
        ("2019-2021", "consecutive"),
        ("2019-202", "malformed"),
        ("19-20", "malformed"),
        ("abcd", "malformed"),
        ("", "empty"),
        ("   ", "empty"),
        ("1995-96", "before 1996-97"),
        ("2027-28", "future"),
        ("2018-19; DROP", "malformed"),
    ],
)
def test_rejects_bad_seasons_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidSeasonError, match=message):
        Season.parse(text, TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "\uff12\uff10\uff11\uff19-20",  # full-width digits
        "2019-\uff12\uff10",
        "\u0662\u0660\u0661\u0669-20",  # Arabic-Indic digits
        "\u06f2\u06f0\u06f1\u06f9-\u06f2\u06f0",  # Extended Arabic-Indic digits
        "\U0001d7ee\U0001d7ec\U0001d7ed\U0001d7f5-20",  # mathematical sans-serif bold digits
        "2019\u201020",  # a Unicode hyphen
    ],
    ids=["fullwidth", "fullwidth-end", "arabic-indic", "persian", "math", "hyphen"],
)
def test_season_labels_are_ascii_digits_only(text: str) -> None:
    # int() and \d take non-ASCII digits: the old check read those labels as 2019-20.
    with pytest.raises(InvalidSeasonError, match="malformed"):
        Season.parse(text, TODAY)


def test_current_season_turns_over_in_october() -> None:
    assert current_season(date(2026, 9, 30)) == Season(2025)
    assert current_season(date(2026, 10, 1)) == Season(2026)
    assert current_season(TODAY) == Season(2026)
    assert Season.parse("2026-27", TODAY) == Season(2026)
    with pytest.raises(InvalidSeasonError, match="future"):
        Season.parse("2026-27", date(2026, 9, 30))


def test_ranges() -> None:
    seasons = parse_seasons("1996-97:2000-01", TODAY)
    assert [str(s) for s in seasons] == ["1996-97", "1997-98", "1998-99", "1999-00", "2000-01"]
    with pytest.raises(InvalidSeasonError, match="comes after"):
        parse_seasons("2000-01:1996-97", TODAY)
    with pytest.raises(InvalidSeasonError, match="malformed"):
        parse_seasons("1996-97:2000", TODAY)

"""Hypothesis strategies for valid identifiers and cards, shared by the test modules.

Import as ``from tests.strategies import cards`` (run pytest as ``python -m pytest`` from the
repository root). Every strategy builds valid values directly (no ``filter``), so generation
stays fast.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from ecard.card import CHINA_TZ, Card, CardStatus, Holder
from ecard.identifiers import PROVINCE_CODES, citizen_id_check_char

__all__ = [
    "ROUND_TRIP_OUTCOMES",
    "card_numbers",
    "cards",
    "chinese_names",
    "citizen_ids",
    "latin_names",
    "names",
    "region_codes",
    "round_trip_cards",
    "spec_versions",
]

_PROVINCES = sorted(PROVINCE_CODES)

# Common surname and given-name characters (all in U+4E00-U+9FFF).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋"
    "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红文玉梅海燕鹏飞俊峰丰"
    "三四力艾提买尔古丽热依扎娃"
)
# Letters for Latin names: mostly ASCII, a few Latin-1 / Latin Extended-A letters.
_LOWER = "abcdefghijklmnopqrstuvwxyz" * 3 + "éèüöäçñøåłőž"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3 + "ÉÜÖÄÇÑØÅŁŽ"
_CARD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def region_codes() -> st.SearchStrategy[str]:
    """Structurally valid GB/T 2260 region codes: province, city and county levels."""
    province = st.sampled_from(_PROVINCES)
    below = st.one_of(
        st.just("0000"),  # province level
        st.builds(
            lambda city, county: f"{city:02d}{county:02d}",
            st.integers(1, 99),
            st.integers(0, 99),
        ),
    )
    return st.builds(lambda p, rest: p + rest, province, below)


def citizen_ids(
    min_birth: dt.date = dt.date(1900, 1, 1),
    max_birth: dt.date = dt.date(2020, 12, 31),
) -> st.SearchStrategy[str]:
    """Valid 18-character citizen ID numbers with a birth date in ``[min_birth, max_birth]``."""

    def build(region: str, birth: dt.date, sequence: int) -> str:
        first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
        return first17 + citizen_id_check_char(first17)

    return st.builds(build, region_codes(), st.dates(min_birth, max_birth), st.integers(0, 999))


def chinese_names() -> st.SearchStrategy[str]:
    """Chinese names of 2-4 common ideographs, sometimes transliterations with '·' parts."""
    given = st.text(st.sampled_from(_GIVEN), min_size=1, max_size=3)
    plain = st.builds(lambda s, g: s + g, st.sampled_from(_SURNAMES), given)
    part = st.text(st.sampled_from(_SURNAMES + _GIVEN), min_size=1, max_size=4)
    dotted = st.lists(part, min_size=2, max_size=3).map("·".join)
    return st.one_of(plain, plain, dotted)


def latin_names() -> st.SearchStrategy[str]:
    """Latin names: 1-3 capitalised words, occasionally hyphenated or with an apostrophe."""
    word = st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(_UPPER),
        st.text(st.sampled_from(_LOWER), min_size=1, max_size=8),
    )
    joined = st.one_of(
        word,
        word,
        st.builds(lambda a, b: f"{a}-{b}", word, word),
        st.builds(lambda a: f"O'{a}", word),
    )
    # Cut to the 40-character limit; a cut word still starts with a letter.
    return st.lists(joined, min_size=1, max_size=3).map(lambda ws: " ".join(ws)[:40].rstrip(" -'"))


def names() -> st.SearchStrategy[str]:
    """Valid holder names (already in canonical form): Chinese, '·'-joined and Latin."""
    return st.one_of(chinese_names(), chinese_names(), latin_names())


def card_numbers() -> st.SearchStrategy[str]:
    """Valid 9-character card numbers (upper-case letters and digits)."""
    return st.text(st.sampled_from(_CARD_CHARS), min_size=9, max_size=9)


def spec_versions() -> st.SearchStrategy[str]:
    """Card specification versions ``"1.00"`` .. ``"9.99"``."""
    return st.builds(lambda v: f"{v // 100}.{v % 100:02d}", st.integers(100, 999))


def _add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved ``years`` years later; 29 February becomes 28 February if needed."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _card(
    draw: st.DrawFn,
    issued: dt.date,
    years: int,
    status: st.SearchStrategy[CardStatus],
) -> Card:
    ssn = draw(citizen_ids(max_birth=min(issued, dt.date(2020, 12, 31))))
    return Card(
        holder=Holder(name=draw(names()), ssn=ssn),
        card_number=draw(card_numbers()),
        region=draw(region_codes()),
        spec_version=draw(spec_versions()),
        issued=issued,
        expires=_add_years(issued, years),
        status=draw(status),
    )


@st.composite
def cards(draw: st.DrawFn) -> Card:
    """Valid cards: issued 2000-2030 after the holder's birth, expiring 1-20 years later."""
    issued = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))
    return _card(draw, issued, draw(st.integers(1, 20)), st.sampled_from(CardStatus))


#: What issuing a card at ``at`` with a credential of ``window``, then verifying it, comes to:
#: "refused" (the card expired before issuance: the issuer raises), "expired" (the card starts
#: after the credential ends), "inactive" (a suspended or cancelled card, in its dates), "ok"
#: (a current active card: the full round trip) and "not_yet_valid" (an active card that starts
#: inside the credential's window: the round trip once it starts, NOT_YET_VALID before).
ROUND_TRIP_OUTCOMES = ("refused", "expired", "inactive", "ok", "not_yet_valid")


@st.composite
def round_trip_cards(
    draw: st.DrawFn,
    outcome: str,
    at: dt.datetime,
    window: dt.timedelta = dt.timedelta(days=30),
) -> Card:
    """Cards that, issued at ``at`` with a credential of ``window`` and verified, reach
    ``outcome`` (one of ROUND_TRIP_OUTCOMES). A test parametrised over the outcomes spends its
    examples on each of them: drawing dates over decades around ``at`` instead reaches the
    round trip in a few percent of the draws and a card starting in ``window`` almost never.

    Assumes ``at`` is after 16:00 China time (so that the China date of ``at + window`` is
    ``window.days`` after that of ``at``); the test checks each card reaches its outcome."""
    if outcome not in ROUND_TRIP_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    today = at.astimezone(CHINA_TZ).date()
    years = draw(st.integers(1, 20))
    active = st.just(CardStatus.ACTIVE)
    if outcome == "refused":  # the last valid day is before ``at``'s day
        # (a card is issued on 1990-01-01 or later)
        expires = draw(
            st.dates(_add_years(dt.date(1990, 1, 1), years), today - dt.timedelta(days=1))
        )
        # (from a 29 February: issued and expires on 28 February, still before ``today``)
        card = _card(draw, _add_years(expires, -years), years, st.sampled_from(CardStatus))
    elif outcome == "expired":  # starts on or after the day after the credential's last day
        first = today + window + dt.timedelta(days=1)
        issued = draw(st.dates(first, first + dt.timedelta(days=5 * 366)))
        card = _card(draw, issued, years, st.sampled_from(CardStatus))
    elif outcome == "not_yet_valid":  # starts inside the credential's window, after ``at``
        days = draw(st.integers(1, window.days))
        card = _card(draw, today + dt.timedelta(days=days), years, active)
    else:  # current on ``at``'s day: issued on or before it, expiring on or after it
        issued = draw(st.dates(_add_years(today, -years) + dt.timedelta(days=1), today))
        inactive = [s for s in CardStatus if s is not CardStatus.ACTIVE]
        status = active if outcome == "ok" else st.sampled_from(inactive)
        card = _card(draw, issued, years, status)
    return card

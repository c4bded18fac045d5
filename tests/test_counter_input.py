"""What reaches a counter's verifier from scanners and files, and mistakes made around it.

- Scanners and files add a byte-order mark, blanks or a line ending (CR, LF, CR LF) around a
  code: removed, and said when more than a line ending was removed; nothing inside is touched.
- A code cut short (the scanner stopped early) is ``TRUNCATED`` ("scan again") at every cut
  point, never a verdict about the code; a damaged final group is the one ``BAD_BASE45`` left.
- ``EXPIRED`` (refresh the code) and ``CARD_EXPIRED`` (the card itself ended) are told apart.
- A naive ``now=`` or a policy clock returning naive datetimes is a ``TypeError`` where it was
  given, not a ``BAD_INPUT`` for every scan.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.errors import ErrorCode
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

NOW = T0 + dt.timedelta(hours=1)


@pytest.fixture(scope="module", params=["ES256", "SM2"])
def issued_text(
    request: pytest.FixtureRequest, signers: dict[str, CertifiedKey], card: Card
) -> str:
    signer = signers[request.param]
    return Issuer(signer.signer(), signer.certificate, clock=fixed_clock(T0)).issue(card).text


@pytest.mark.parametrize(
    ("around", "noted"),
    [
        (lambda t: t + "\n", ()),
        (lambda t: t + "\r\n", ()),
        (lambda t: t + "\r", ()),
        (lambda t: "\ufeff" + t + "\r\n", ("input: removed a UTF-8 byte-order mark",)),
        (lambda t: "  " + t, ("input: removed 2 blank character(s) before the code",)),
        (
            lambda t: " \ufeff" + t,
            (
                "input: removed a UTF-8 byte-order mark",
                "input: removed 1 blank character(s) before the code",
            ),
        ),
        (lambda t: t + " \t\r\n", ("input: removed 2 blank character(s) after the code",)),
    ],
)
def test_what_scanners_add_around_a_code_is_removed_and_said(
    issued_text: str, verifier: Verifier, around: object, noted: tuple[str, ...]
) -> None:
    scanned: str = around(issued_text)  # type: ignore[operator]
    result = verifier.verify(scanned)
    assert result.code is ErrorCode.OK, result.detail
    assert result.warnings == noted
    # the same, read from a file in binary mode
    as_bytes = verifier.verify(scanned.encode("utf-8"))
    assert as_bytes.code is ErrorCode.OK, as_bytes.detail
    assert as_bytes.warnings == noted


def test_nothing_inside_a_code_is_cleaned(issued_text: str, verifier: Verifier) -> None:
    inside = issued_text[:10] + "\n" + issued_text[10:]
    assert verifier.verify(inside).code is ErrorCode.BAD_BASE45
    spaced = "EC1: " + issued_text[4:]
    assert verifier.verify(spaced).code is not ErrorCode.OK


def test_a_code_cut_short_anywhere_is_a_scan_to_repeat(
    issued_text: str, verifier: Verifier
) -> None:
    """Every proper prefix after the prefix: TRUNCATED, except a cut leaving a final pair of
    characters above 255, which no text cut or whole can carry (BAD_BASE45)."""
    seen: dict[ErrorCode, int] = {}
    for cut in range(len("EC1:") + 1, len(issued_text)):
        result = verifier.verify(issued_text[:cut])
        seen[result.code] = seen.get(result.code, 0) + 1
        assert result.code in (ErrorCode.TRUNCATED, ErrorCode.BAD_BASE45), (cut, result.detail)
        if result.code is ErrorCode.BAD_BASE45:
            assert cut % 3 == (len("EC1:") + 2) % 3 and "exceeds 255" in result.detail
        assert "scan it again" in result.message() or result.code is ErrorCode.BAD_BASE45
    assert seen[ErrorCode.TRUNCATED] > 2 * seen.get(ErrorCode.BAD_BASE45, 0)
    zh = verifier.verify(issued_text[:-2]).message("zh")
    assert zh.startswith("二维码只读取了一部分：请重新扫描")


def test_a_code_that_expired_and_a_card_that_expired_are_told_apart(
    ds: CertifiedKey, card: Card, trust: TrustStore
) -> None:
    issuer = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))
    short = issuer.issue(card, exp=T0 + dt.timedelta(minutes=30)).text
    verifier = Verifier(trust, Policy(clock=fixed_clock(NOW)))
    code = verifier.verify(short)
    assert code.code is ErrorCode.EXPIRED
    assert "refresh the code" in code.message() and "刷新二维码" in code.message("zh")
    ended = card.model_copy(update={"expires": T0.date() + dt.timedelta(days=1)})
    text = issuer.issue(ended).text
    later = dt.datetime.combine(ended.expires, dt.time(23, 0), tzinfo=dt.UTC)  # past China midnight
    result = verifier.verify(text, now=later)
    assert result.code is ErrorCode.CARD_EXPIRED, result.detail
    assert "renew" in result.message() and "换领" in result.message("zh")


def test_naive_times_are_refused_where_they_are_given(trust: TrustStore, issued_text: str) -> None:
    verifier = Verifier(trust, Policy(clock=fixed_clock(NOW)))
    with pytest.raises(TypeError, match="now must be timezone-aware"):
        verifier.verify(issued_text, now=NOW.replace(tzinfo=None))
    with pytest.raises(TypeError, match="the policy's clock must be timezone-aware"):
        Policy(clock=lambda: dt.datetime(2026, 3, 1, 9, 0))
    assert verifier.verify(issued_text, now=NOW).valid

"""Unit tests: error codes and messages, policy validation, the human-readable report."""

from __future__ import annotations

import datetime as dt

import pytest

from ecard import errors
from ecard.card import Card, CardStatus
from ecard.errors import ErrorCode
from ecard.signing.issuer import Issuer
from ecard.verify.policy import ALL_ALGORITHMS, Policy
from ecard.verify.report import render_text
from ecard.verify.verifier import VerificationResult, Verifier

ERROR_CLASSES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type)
    and issubclass(cls, errors.EcardError)
    and cls.__name__.endswith("Error")
]


def test_every_code_has_both_languages() -> None:
    assert set(errors.MESSAGES) == set(ErrorCode)
    for en, zh in errors.MESSAGES.values():
        assert en and zh and en != zh
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_codes_are_stable_strings() -> None:
    for code in ErrorCode:
        assert code.value == code.name
    # the fixed contract of the design brief
    fixed = "OK BAD_PREFIX BAD_BASE45 BAD_COMPRESSION BAD_CBOR BAD_COSE UNSUPPORTED_ALG ALG_KEY_MISMATCH UNKNOWN_KID BAD_SIGNATURE NOT_YET_VALID EXPIRED ISSUER_CERT_INVALID REVOKED BAD_CLAIMS"
    assert set(fixed.split()) <= {c.value for c in ErrorCode}


def test_each_error_class_has_one_code() -> None:
    # a refinement (TruncatedCborError is still BAD_CBOR) shares its parent's code
    leaf = [
        c
        for c in ERROR_CLASSES
        if c not in (errors.EcardError, errors.FormatError)
        and not any(
            c is not p and issubclass(c, p) and p.code is c.code
            for p in ERROR_CLASSES
            if p not in (errors.EcardError, errors.FormatError)
        )
    ]
    codes = [c.code for c in leaf]
    assert len(codes) == len(set(codes)), "one class per code"
    assert set(codes) == set(ErrorCode) - {ErrorCode.OK}
    for cls in leaf:
        err = cls("detail text")
        assert err.code is cls.code
        assert err.message("en").endswith(": detail text")
        assert err.message("zh").endswith("：detail text")
        assert cls.code.value in repr(err)


def test_policy_validation() -> None:
    assert Policy().algorithms == ALL_ALGORITHMS
    assert Policy(algorithms=frozenset({"es256", "-8"} - {"-8"})).algorithms == {"ES256"}
    with pytest.raises(errors.UnsupportedAlgorithmError):
        Policy(algorithms=frozenset({"RS256"}))
    with pytest.raises(ValueError, match="at least one"):
        Policy(algorithms=frozenset())
    with pytest.raises(ValueError, match="clock_skew"):
        Policy(clock_skew=dt.timedelta(days=2))
    with pytest.raises(ValueError, match="clock_skew"):
        Policy(clock_skew=dt.timedelta(seconds=-1))


def test_naive_clock_is_refused_where_it_is_given(issuer: Issuer, card: Card, trust) -> None:  # type: ignore[no-untyped-def]
    """A clock returning naive datetimes is the integrator's mistake: a TypeError when the
    policy is made, not BAD_INPUT for every scan at the counter."""
    with pytest.raises(TypeError, match="the policy's clock must be timezone-aware"):
        Policy(clock=lambda: dt.datetime(2026, 3, 1, 9))
    aware = Verifier(trust, Policy(clock=lambda: dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)))
    assert aware.verify(issuer.issue(card).text).valid


def test_accepted_statuses(issuer: Issuer, card: Card, trust) -> None:  # type: ignore[no-untyped-def]
    cancelled = card.model_copy(update={"status": CardStatus.CANCELLED})
    text = issuer.issue(cancelled).text
    clock = lambda: dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)  # noqa: E731
    assert Verifier(trust, Policy(clock=clock)).verify(text).code is ErrorCode.CARD_INACTIVE
    lenient = Policy(clock=clock, accepted_statuses=frozenset(CardStatus))
    assert Verifier(trust, lenient).verify(text).valid


def test_report_masks_unless_revealed(issuer: Issuer, card: Card, verifier: Verifier) -> None:
    result = verifier.verify(issuer.issue(card).text)
    en = render_text(result, "en")
    assert "[VALID]" in en and card.holder.masked_ssn in en and card.holder.ssn not in en
    assert card.holder.ssn in render_text(result, "en", reveal=True)
    zh = render_text(result, "zh")
    assert "有效" in zh and "姓名" in zh and "张三丰" in zh


def test_report_of_a_failure() -> None:
    result = VerificationResult(code=ErrorCode.BAD_SIGNATURE, detail="x", kid=b"\x01" * 8)
    en = render_text(result, "en")
    assert "[INVALID]" in en and "BAD_SIGNATURE" in en and "0101010101010101" in en
    assert "签名无效" in render_text(result, "zh")
    assert result.to_dict()["kid"] == "0101010101010101"

"""The verification pipeline: QR text (or picture) -> :class:`VerificationResult`.

Stages, each with its own code (first failure wins)::

    prefix -> Base45 -> zlib -> CBOR/COSE_Sign1 -> alg allowed -> kid trusted -> alg fits key
      -> signature -> claims and card schema -> certificate covers the credential -> clock
      -> card status

Nothing from the payload is interpreted before its signature has verified, and only the
protected header (covered by the signature) decides the algorithm and the key.
:meth:`Verifier.verify` never raises for bad input: every failure is a result with a code.

>>> from datetime import date
>>> from ecard.card import Card, Holder
>>> from ecard.signing.issuer import Issuer
>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> from ecard.verify.trust import TrustStore
>>> ds = create_document_signer(create_root_ca("Root"), "Signer")
>>> card = Card(holder=Holder(name="张三丰", ssn="11010519491231002X"), card_number="A12345678",
...             region="110105", issued=date(2024, 1, 15), expires=date(2034, 1, 15))
>>> text = Issuer(ds.signer(), ds.certificate).issue(card).text
>>> result = Verifier(TrustStore([ds.certificate])).verify(text)
>>> result.valid, result.code.value, result.card == card
(True, 'OK', True)
>>> Verifier(TrustStore([ds.certificate])).verify("HC1:6BF").code.value
'BAD_PREFIX'
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecard._files import MAX_IMAGE_FILE, read_file
from ecard._time import utc
from ecard.cardbase import day_start_timestamp
from ecard.cardrecord import (
    CARD_KEY,
    OptionalLazyCard,
    card_json,
    claims_card,
    is_full,
    stored_card,
)
from ecard.crypto.algorithms import ALGORITHMS, Algorithm
from ecard.errors import (
    AlgKeyMismatchError,
    BadImageError,
    BadInputError,
    BadSignatureError,
    BindingRequiredError,
    BoundCardAsPlainError,
    CardExpiredError,
    CardInactiveError,
    EcardError,
    ErrorCode,
    ExpiredError,
    IssuerCertInvalidError,
    IssuerNotAuthorisedError,
    Lang,
    NotYetValidError,
    PathFailure,
    RevocationListStaleError,
    RevokedError,
    TrustListStaleError,
    UnknownKidError,
    UnsupportedAlgorithmError,
    describe,
)
from ecard.formats import qrtext
from ecard.formats.cose import Sign1Message, parse_sign1
from ecard.formats.cwt import Claims, decode_claims
from ecard.formats.presentation import decode_text, is_presentation_text, parse_presentation
from ecard.verify.policy import Policy, system_clock
from ecard.verify.presentation import check_presentation
from ecard.verify.replay import ReplayCache
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustedIssuer, TrustStore

if TYPE_CHECKING:
    from ecard.card import Card
    from ecard.cardrecord import ResidentRecord
    from ecard.countercard import CounterCard


@dataclass(frozen=True)
class VerificationResult:
    """The verdict on one credential.

    ``card`` is set only when the credential is valid. ``kid``, ``alg`` and ``issuer`` are set
    as soon as the stage that establishes them has passed (``issuer`` once the signature
    verified), so a failing result still says how far it got.
    """

    code: ErrorCode
    detail: str = ""
    #: The card (a :class:`~ecard.card.Card` or :class:`~ecard.countercard.CounterCard`); the
    #: verifier stores the checked record and the model is built when this is first read
    #: (:class:`~ecard.cardrecord.LazyCard`), so printing a verdict needs no pydantic.
    card: OptionalLazyCard = OptionalLazyCard()  # noqa: RUF009 - a descriptor, not a default
    kid: bytes | None = None
    alg: str | None = None
    issuer: str | None = None
    cti: bytes | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    #: Conditions that did not fail the check but need attention (e.g. a list past its
    #: next update, within its grace period).
    warnings: tuple[str, ...] = ()
    #: Why the issuer's certificate path failed, for ``ISSUER_CERT_INVALID`` (else ``None``).
    reason: PathFailure | None = None
    #: The purpose (``aud``) of an ``EC2:`` presentation, once its structure parsed.
    purpose: str | None = None

    @property
    def valid(self) -> bool:
        """True if and only if the code is ``OK``."""
        return self.code is ErrorCode.OK

    def message(self, lang: Lang = "en") -> str:
        """The verdict for people, in English (``"en"``) or Chinese (``"zh"``)."""
        summary = describe(self.code, lang)
        if not self.detail:
            return summary
        return f"{summary}{'：' if lang == 'zh' else ': '}{self.detail}"

    def to_dict(self, lang: Lang = "en") -> dict[str, Any]:
        """The fixed JSON shape: ``valid, code, message, card, kid`` plus details."""
        return {
            "valid": self.valid,
            "code": self.code.value,
            "message": self.message(lang),
            "card": _card_dict(stored_card(self)),
            "kid": None if self.kid is None else self.kid.hex(),
            "alg": self.alg,
            "issuer": self.issuer,
            "cti": None if self.cti is None else self.cti.hex(),
            "iat": None if self.issued_at is None else self.issued_at.isoformat(),
            "exp": None if self.expires_at is None else self.expires_at.isoformat(),
            "warnings": list(self.warnings),
            "reason": None if self.reason is None else self.reason.value,
            "purpose": self.purpose,
        }

    def to_json(self, lang: Lang = "en") -> str:
        """:meth:`to_dict` as one line of JSON (UTF-8 text, not ASCII-escaped)."""
        return json.dumps(self.to_dict(lang), ensure_ascii=False, separators=(",", ":"))


class _Progress:
    """What the pipeline has established so far, for the result of a failure."""

    __slots__ = ("alg", "claims", "issuer", "kid", "purpose", "warnings")

    def __init__(self) -> None:
        self.kid: bytes | None = None
        self.alg: str | None = None
        self.issuer: str | None = None
        self.claims: Claims | None = None
        self.warnings: list[str] = []
        self.purpose: str | None = None


class Verifier:
    """Verifies e-card credentials offline against a :class:`TrustStore` under a :class:`Policy`.

    ``revocations`` is an optional :class:`~ecard.verify.revocation.RevocationList`. Both can
    be replaced while other threads verify (:meth:`update`): each verification reads the pair
    once, so it sees either the old lists or the new ones, never a mix. ``replay_cache`` is the
    :class:`~ecard.verify.replay.ReplayCache` ``EC2:`` presentations are recorded in (share
    one file between the processes of a counter PC); by default one in memory.
    """

    def __init__(
        self,
        trust: TrustStore,
        policy: Policy | None = None,
        *,
        revocations: RevocationList | None = None,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache()
        self._lists: tuple[TrustStore, RevocationList | None] = (trust, revocations)
        self.policy = policy or Policy()
        # whether an algorithm's backend is usable is asked when a card of it arrives: asking
        # SM2 here would load libcrypto through ctypes for every verifier, SM2 card or not
        self._algorithms: dict[int | str, Algorithm] = {
            a.cose_id: a for a in ALGORITHMS.values() if a.name in self.policy.algorithms
        }
        self._skew = int(self.policy.clock_skew.total_seconds())
        self._tl_grace = int(self.policy.trust_list_grace.total_seconds())
        self._rl_grace = int(self.policy.revocation_list_grace.total_seconds())

    @property
    def trust(self) -> TrustStore:
        """The trust store in use."""
        return self._lists[0]

    @property
    def revocations(self) -> RevocationList | None:
        """The revocation list in use, if any."""
        return self._lists[1]

    def update(
        self, *, trust: TrustStore | None = None, revocations: RevocationList | None = None
    ) -> None:
        """Swap in a new trust store and/or revocation list, atomically for concurrent
        verifications (a single reference assignment)."""
        old_trust, old_revocations = self._lists
        self._lists = (
            trust if trust is not None else old_trust,
            revocations if revocations is not None else old_revocations,
        )

    def new_challenge(self, *, now: datetime | None = None) -> str:
        """A fresh counter challenge (6 digits) for the holder to type; pass it to
        :meth:`verify` as ``challenge``. It lives for the policy's presentation window plus
        the period a holder needs to type it (2 minutes) and is consumed by one presentation."""
        t = int(self._now(now))
        return self.replay_cache.issue_challenge(expires=t + 120, now=t)

    def verify(
        self, text: str | bytes, *, now: datetime | None = None, challenge: str | None = None
    ) -> VerificationResult:
        """Verify one QR text (``EC1:...`` card or ``EC2:...`` presentation). Never raises for
        bad input.

        ``challenge`` is a code from :meth:`new_challenge` the presentation must answer.

        ``now`` overrides the policy's clock for this call (aware datetime; a naive one is a
        :class:`TypeError` here, as is a policy clock that returns one: a mistake of the
        caller's, not a bad code). What a scanner or a file adds around a code (a byte-order
        mark, blanks, the line ending) is removed first; the result's ``warnings`` say so when
        more than a line ending was removed.
        """
        t = self._now(now)
        progress = _Progress()
        try:
            claims, entry = self._run(text, t, progress, challenge)
        except EcardError as exc:
            reason = exc.reason if isinstance(exc, IssuerCertInvalidError) else None
            return self._failure(exc.code, exc.detail, progress, reason)
        except Exception as exc:  # a bug must not crash a counter; tests assert this never occurs
            return self._failure(
                ErrorCode.BAD_INPUT, f"internal error: {type(exc).__name__}", progress
            )
        # VerificationResult(...) with every field given, without the frozen dataclass's one
        # object.__setattr__ call per field: the verdict of every valid code is built here
        made = _new_object(VerificationResult)
        made.__dict__.update(
            {CARD_KEY: stored_card(claims)},  # the card field's value: no model built
            code=_OK,
            detail="",
            kid=entry.kid,
            alg=progress.alg,
            issuer=entry.subject,
            cti=claims.cti,
            issued_at=_from_ts(claims.iat, UTC),
            expires_at=_from_ts(claims.exp, UTC),
            warnings=tuple(progress.warnings) if progress.warnings else (),
            reason=None,
            purpose=progress.purpose,
        )
        return made

    def verify_image(
        self, image: bytes | str | os.PathLike[str], *, now: datetime | None = None
    ) -> list[VerificationResult]:
        """Verify every QR code in a picture (needs the ``image`` extra).

        A picture that cannot be read, is larger than :data:`ecard._files.MAX_IMAGE_FILE`
        bytes (checked before decoding, as the pixel count is) or holds no QR code gives one
        ``BAD_IMAGE`` result. ``now`` is as for :meth:`verify`.
        """
        from ecard.formats.qrimage import read_texts

        try:
            if isinstance(image, str | os.PathLike):
                image = read_file(image, BadImageError, max_size=MAX_IMAGE_FILE)
            elif len(image) > MAX_IMAGE_FILE:
                raise BadImageError(
                    f"picture too large ({len(image)} bytes, at most {MAX_IMAGE_FILE})"
                )
            texts = read_texts(image)
        except EcardError as exc:
            return [self._failure(exc.code, exc.detail, _Progress())]
        except Exception as exc:  # pragma: no cover - read_texts maps its errors already
            return [self._failure(ErrorCode.BAD_IMAGE, type(exc).__name__, _Progress())]
        return [self.verify(t, now=now) for t in texts]

    # -- pipeline ---------------------------------------------------------------------------

    def _run(
        self, text: str | bytes, t: float, progress: _Progress, challenge: str | None = None
    ) -> tuple[Claims, TrustedIssuer]:
        if type(text) is not str and isinstance(text, bytes | bytearray):
            raw = bytes(text)
            try:  # ASCII, or UTF-8 for what scanners put around a code (a BOM): cleaned below
                text = raw.decode("ascii" if raw.isascii() else "utf-8")
            except UnicodeDecodeError:
                raise BadInputError("QR text must be ASCII") from None
            if not text.lstrip(" \t\r\n\ufeff").isascii():
                raise BadInputError("QR text must be ASCII")
        if not isinstance(text, str):
            raise BadInputError(f"expected QR text, got {type(text).__name__}")
        text, cleaned = qrtext.clean_scanned(text)
        if cleaned:
            progress.warnings.extend(f"input: {note}" for note in cleaned)
        if is_presentation_text(text):
            presented = parse_presentation(decode_text(text))
            progress.purpose = presented.aud
            claims, entry = self._run_card(parse_sign1(presented.card), t, progress)
            check_presentation(presented, claims, self.policy, self.replay_cache, t, challenge)
            return claims, entry
        claims, entry = self._run_card(parse_sign1(qrtext.decode(text)), t, progress)
        if claims.cnf is not None:  # whatever the policy: a card lifted out of a presentation
            raise BoundCardAsPlainError("a bound card is valid only inside an EC2: presentation")
        if self.policy.require_binding:
            raise BindingRequiredError("a plain EC1: card; this counter requires binding")
        return claims, entry

    def _run_card(
        self, msg: Sign1Message, t: float, progress: _Progress
    ) -> tuple[Claims, TrustedIssuer]:
        trust, revocations = self._lists  # one read: a concurrent update() is all or nothing
        progress.kid = msg.kid
        alg = self._algorithms.get(msg.alg)
        if alg is None or alg.unavailable() is not None:
            known = ALGORITHMS.get(msg.alg) if isinstance(msg.alg, int) else None
            if known is None:
                why = "unknown"
            elif known.name not in self.policy.algorithms:
                why = "not allowed by the verifier's policy"
            else:
                why = f"{known.name}, not available on this platform: {known.unavailable()}"
            raise UnsupportedAlgorithmError(f"alg {msg.alg!r} is {why}")
        progress.alg = alg.name
        entry = self._check_signature(trust, msg, alg)
        progress.issuer = entry.subject
        claims = decode_claims(msg.payload)
        progress.claims = claims
        if revocations is not None or trust.next_update_ts is not None:  # else nothing is due
            self._check_lists(trust, revocations, t, progress)
        self._check_certificate(entry, claims)
        if entry.entry is not None:  # a signer without a trust-list entry has no scope
            self._check_scope(entry, claims)
        self._check_time(claims, t)
        if revocations is not None and revocations.is_revoked(msg.kid, claims.cti):
            raise RevokedError("the credential id is on the revocation list")
        status = claims_card(claims).status
        if status not in self.policy.accepted_statuses:
            raise CardInactiveError(f"card status is {status.name.lower()}")
        return claims, entry

    @staticmethod
    def _check_signature(trust: TrustStore, msg: Sign1Message, alg: Algorithm) -> TrustedIssuer:
        candidates = trust.lookup(msg.kid)
        if not candidates:
            raise UnknownKidError(f"kid {msg.kid.hex()} is not trusted")
        tbs = msg.to_be_signed()
        fitted = False
        for entry in candidates:
            check = entry.verifiers.get(alg.cose_id)
            if check is None:
                continue
            fitted = True
            if check(msg.signature, tbs):
                return entry
        if not fitted:
            raise AlgKeyMismatchError(
                f"{alg.name} does not fit the issuer key of kid {msg.kid.hex()}"
            )
        raise BadSignatureError(f"signature does not verify under kid {msg.kid.hex()}")

    def _check_lists(
        self,
        trust: TrustStore,
        revocations: RevocationList | None,
        t: float,
        progress: _Progress,
    ) -> None:
        due = trust.next_update_ts
        if due is not None and t > due:
            if t > due + self._tl_grace:
                raise TrustListStaleError(
                    f"next update was due {_iso(due)}; grace ended {_iso(due + self._tl_grace)}"
                )
            progress.warnings.append(
                f"trust list past its next update ({_iso(due)}); verification stops "
                f"after {_iso(due + self._tl_grace)}"
            )
        if revocations is not None:
            due = revocations.signed.info.next_update
            if t > due:
                if t > due + self._rl_grace:
                    raise RevocationListStaleError(
                        f"next update was due {_iso(due)}; grace ended {_iso(due + self._rl_grace)}"
                    )
                progress.warnings.append(
                    f"revocation list past its next update ({_iso(due)}); verification stops "
                    f"after {_iso(due + self._rl_grace)}"
                )

    @staticmethod
    def _check_scope(entry: TrustedIssuer, claims: Claims) -> None:
        scope = entry.entry
        if scope is None:
            return
        card = claims_card(claims)
        if not scope.covers_region(card.region):
            raise IssuerNotAuthorisedError(
                f"signer may sign for regions {sorted(scope.regions or ())}, not {card.region}"
            )
        if scope.spec_versions is not None and card.spec_version not in scope.spec_versions:
            raise IssuerNotAuthorisedError(
                f"signer may sign card specifications {sorted(scope.spec_versions)}, "
                f"not {card.spec_version}"
            )

    @staticmethod
    def _check_certificate(entry: TrustedIssuer, claims: Claims) -> None:
        if entry.unfit:
            raise IssuerCertInvalidError(entry.unfit, reason=entry.unfit_reason)
        if entry.path is not None and not entry.path.covers_ts(claims.iat):
            path = entry.path
            if path.revoked_at is not None and claims.iat >= path.revoked_at.timestamp():
                raise IssuerCertInvalidError(
                    f"a certificate in the signer's path was revoked at "
                    f"{path.revoked_at.isoformat()}, before iat {claims.issued_at.isoformat()}",
                    reason=PathFailure.REVOKED,
                )
            early = claims.iat < path.valid_from.timestamp()
            raise IssuerCertInvalidError(
                f"the signer's certificate path is not valid at iat {claims.issued_at.isoformat()}"
                f" ({path.valid_from.isoformat()} .. {path.valid_until.isoformat()})",
                reason=PathFailure.NOT_YET_VALID if early else PathFailure.EXPIRED,
            )
        if entry.compromised_at_ts is not None and claims.iat >= entry.compromised_at_ts:
            raise RevokedError(
                f"the signer's key is marked compromised since {_iso(entry.compromised_at_ts)}"
            )
        if entry.retired_at_ts is not None and claims.iat > entry.retired_at_ts:
            raise IssuerCertInvalidError(
                f"signed at {claims.issued_at.isoformat()}, after the signer retired "
                f"({_iso(entry.retired_at_ts)})"
            )
        if not entry.not_before_ts <= claims.iat <= entry.not_after_ts:
            raise IssuerCertInvalidError(
                f"certificate not valid at iat {claims.issued_at.isoformat()} "
                f"({entry.not_before.isoformat()} .. {entry.not_after.isoformat()})"
            )
        if claims.exp > entry.not_after_ts:
            raise IssuerCertInvalidError(
                f"credential exp {claims.expires_at.isoformat()} is after the certificate's "
                f"notAfter {entry.not_after.isoformat()}"
            )

    def _now(self, now: datetime | None) -> float:
        if now is None:
            if self.policy.clock is system_clock:
                return time.time()
            return utc(self.policy.clock(), "the verifier's clock").timestamp()
        return utc(now, "now").timestamp()

    def _check_time(self, claims: Claims, t: float) -> None:
        skew = self._skew
        if t + skew < claims.iat:
            raise NotYetValidError(f"issued at {claims.issued_at.isoformat()}, now {_iso(t)}")
        if claims.nbf is not None and t + skew < claims.nbf:
            raise NotYetValidError(f"not before {_iso(claims.nbf)}, now {_iso(t)}")
        # the card's own dates bind too, whatever exp an issuer wrote; an expired card is told
        # apart from a code that only needs refreshing (staff act differently on each)
        card = claims_card(claims)
        if t - skew >= day_start_timestamp(card.expires) + 86400:
            raise CardExpiredError(f"card expired on {card.expires.isoformat()} (China time)")
        if t - skew >= claims.exp:
            raise ExpiredError(f"code expired at {claims.expires_at.isoformat()}, now {_iso(t)}")
        # a counter profile has no date of issue: its issuer wrote the card's first day as nbf
        if is_full(card) and t + skew < day_start_timestamp(card.issued):
            raise NotYetValidError(f"card valid from {card.issued.isoformat()} (China time)")

    @staticmethod
    def _failure(
        code: ErrorCode, detail: str, progress: _Progress, reason: PathFailure | None = None
    ) -> VerificationResult:
        claims = progress.claims
        return VerificationResult(
            reason=reason,
            warnings=tuple(progress.warnings),
            code=code,
            detail=detail,
            kid=progress.kid,
            alg=progress.alg,
            issuer=progress.issuer,
            cti=None if claims is None else claims.cti,
            issued_at=None if claims is None else claims.issued_at,
            expires_at=None if claims is None else claims.expires_at,
            purpose=progress.purpose,
        )


def _card_dict(card: Card | CounterCard | ResidentRecord | None) -> dict[str, Any] | None:
    """The ``card`` member of :meth:`VerificationResult.to_dict`."""
    if card is None:
        return None
    if is_full(card):
        return card_json(card)
    return card.model_dump(mode="json")


_OK = ErrorCode.OK
_new_object = object.__new__
_from_ts = datetime.fromtimestamp


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).isoformat()


__all__ = ["VerificationResult", "Verifier"]

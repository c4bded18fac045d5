"""The issuer: Card -> signed CWT (COSE_Sign1) -> QR text -> picture.

>>> from datetime import date
>>> from ecard.card import Card, Holder
>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> root = create_root_ca("Doc Root CA")
>>> ds = create_document_signer(root, "Doc Signer")
>>> issuer = Issuer(ds.signer(), ds.certificate)
>>> card = Card(holder=Holder(name="张三丰", ssn="11010519491231002X"), card_number="A12345678",
...             region="110105", issued=date(2024, 1, 15), expires=date(2034, 1, 15))
>>> issuer.issue(card).text.startswith("EC1:")
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from cryptography import x509

from ecard._time import utc
from ecard.card import Card, day_start_timestamp
from ecard.cardrecord import CARD_KEY
from ecard.countercard import CounterCard
from ecard.crypto.x509 import signing_unfitness
from ecard.errors import BadCertificateError, BadInputError
from ecard.formats import qrtext
from ecard.formats.cose import kid_for_certificate
from ecard.formats.cosekey import DeviceKey
from ecard.formats.credential import IssuedCard
from ecard.formats.cwt import MAX_CTI, MIN_CTI, Claims, counter_cti, encode_claims
from ecard.signing.cose import Sign1Template
from ecard.signing.signers import Signer, require_certified_key

_new_object = object.__new__
_from_ts = datetime.fromtimestamp

#: Default size of a random credential id (64 bits): per document signer, 10 million
#: credentials collide with probability below 3e-6; raise it for larger volumes.
DEFAULT_CTI_SIZE: Final = 8


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class Issuer:
    """Signs cards with one signer under its document-signer certificate.

    ``iss`` is the short issuer name put in every credential. ``validity`` caps how long a
    credential lives after issuance (default: until the card expires). Whatever is asked, a
    credential never outlives the signer certificate. ``clock`` returns the current time
    (aware); tests and batch jobs inject one.

    Raises :class:`~ecard.errors.BadKeyError` if the signer's key is not the certificate's and
    :class:`~ecard.errors.BadCertificateError` if the certificate may not sign cards (a CA
    certificate, or key usage without ``digitalSignature``).
    """

    def __init__(
        self,
        signer: Signer,
        certificate: x509.Certificate,
        *,
        iss: str = "CN",
        validity: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
        cti_size: int = DEFAULT_CTI_SIZE,
    ) -> None:
        require_certified_key(signer, certificate, "signing key")
        unfit = signing_unfitness(certificate)
        if unfit:
            raise BadCertificateError(unfit)
        if not MIN_CTI <= cti_size <= MAX_CTI:
            raise BadInputError(f"cti_size must be {MIN_CTI}..{MAX_CTI}")
        if validity is not None and validity <= timedelta(0):
            raise BadInputError("validity must be positive")
        self.signer = signer
        self.certificate = certificate
        self.kid = kid_for_certificate(certificate)
        self._sign1 = Sign1Template(signer, self.kid)  # the protected header made once
        self.iss = iss
        self.validity = validity
        self._validity = None if validity is None else int(validity.total_seconds())
        self._clock = clock
        self._cti_size = cti_size
        # certificate times are whole seconds; read them once
        self._not_before = int(certificate.not_valid_before_utc.timestamp())
        self._not_after = int(certificate.not_valid_after_utc.timestamp())

    def issue(
        self,
        card: Card,
        *,
        iat: datetime | None = None,
        exp: datetime | None = None,
        cti: bytes | None = None,
        device_key: DeviceKey | None = None,
        profile: Literal["full", "counter"] = "full",
    ) -> IssuedCard:
        """Sign ``card``; returns the credential with its QR text.

        ``device_key`` binds the card to a holder's device (claim ``cnf``): check the device's
        proof of possession first (:func:`ecard.signing.binding.check_enrolment`). A bound card
        verifies only inside an ``EC2:`` presentation signed by that key, never as ``EC1:``.
        ``profile="counter"`` signs the card's counter profile (:class:`ecard.countercard.CounterCard`:
        masked name, no ID number) instead of the card; it needs ``device_key``, and its
        ``cti`` is derived from that key (:func:`ecard.formats.cwt.counter_cti`).

        ``iat`` defaults to now; ``exp`` to the card's expiry (end of that day, China time),
        shortened by ``validity`` and by the certificate's ``notAfter``. An explicit ``exp``
        may not pass either the card's expiry or the certificate's ``notAfter``. Raises
        :class:`~ecard.errors.BadInputError` if the result would be empty (``exp <= iat``),
        :class:`~ecard.errors.BadCertificateError` if the certificate is not valid at ``iat``.
        """
        if not isinstance(card, Card):
            raise BadInputError("card must be an ecard.Card")
        if iat is not None:
            issued = int(utc(iat, "iat").timestamp())
        elif self._clock is None:
            issued = int(time.time())
        else:
            issued = int(utc(self._clock(), "the issuer's clock").timestamp())
        if not self._not_before <= issued <= self._not_after:
            raise BadCertificateError(
                f"signer certificate is not valid at {_iso(issued)} "
                f"({_iso(self._not_before)} .. {_iso(self._not_after)})"
            )
        card_end = day_start_timestamp(card.expires) + 86400
        if exp is not None:
            expires = int(utc(exp, "exp").timestamp())
            if expires > self._not_after:
                raise BadInputError("exp is after the signer certificate's notAfter")
            if expires > card_end:
                raise BadInputError("exp is after the end of the card's expiry date")
        else:
            expires = min(card_end, self._not_after)
            if self._validity is not None:
                expires = min(expires, issued + self._validity)
        if expires <= issued:
            raise BadInputError(
                f"credential would expire ({_iso(expires)}) before it is issued "
                f"({_iso(issued)}): the card or the signer certificate has expired"
            )
        if device_key is not None and not isinstance(device_key, DeviceKey):
            raise BadInputError("device_key must be an ecard.formats.cosekey.DeviceKey")
        if profile not in ("full", "counter"):
            raise BadInputError("profile must be 'full' or 'counter'")
        if profile == "counter" and device_key is None:
            raise BadInputError("a counter-profile card is issued bound to a device key")
        signed: Card | CounterCard = card
        nbf = None
        if profile == "counter":
            assert device_key is not None
            if cti is not None and cti != counter_cti(device_key):
                raise BadInputError("a counter-profile card's cti is derived from its device key")
            cti = counter_cti(device_key)
            signed = CounterCard.from_card(card)
            # the profile has no date of issue: a card not valid yet is not valid before nbf
            valid_from = day_start_timestamp(card.issued)
            nbf = valid_from if valid_from > issued else None
        cti = os.urandom(self._cti_size) if cti is None else cti
        # Claims(...) and IssuedCard(...) with every field given, without the frozen
        # dataclasses' one object.__setattr__ call per field (held equal by the tests)
        claims = _new_object(Claims)
        claims.__dict__.update(
            {CARD_KEY: signed}, iss=self.iss, iat=issued, exp=expires, cti=cti, nbf=nbf,
            cnf=device_key,
        )  # fmt: skip
        cose = self._sign1.build(encode_claims(claims))
        made = _new_object(IssuedCard)
        made.__dict__.update(
            card=card, cose=cose, text=qrtext.encode(cose), kid=self.kid, cti=cti,
            iat=_from_ts(issued, UTC), exp=_from_ts(expires, UTC),
        )  # fmt: skip
        return made

    def __repr__(self) -> str:
        return (
            f"Issuer(kid={self.kid.hex()}, alg={self.signer.algorithm.name}, "
            f"subject={self.certificate.subject.rfc4514_string()!r})"
        )


__all__ = ["DEFAULT_CTI_SIZE", "Issuer"]

"""Binding a card to a holder's device at issuance: the nonce, the proof of possession, the
bound card.

The issuer makes a fresh nonce (:func:`new_nonce`), the device signs it together with its
public key (an enrolment request, :mod:`ecard.formats.presentation`), and the issuer checks the
signature with the key carried (:func:`check_enrolment`) before it writes that key into the
card's ``cnf`` claim. Only the device's signature proves the device holds the key: a key copied
from another card, or one the requester does not hold, is refused. The check uses the neutral
algorithm registry (:mod:`ecard.crypto.algorithms`), not the verifier.

>>> from cryptography.hazmat.primitives.asymmetric import ec
>>> from ecard.formats.cose import assemble_sign1, sig_structure
>>> from ecard.formats.cosekey import DeviceKey
>>> from ecard.formats.presentation import enrolment_parts
>>> private = ec.generate_private_key(ec.SECP256R1())
>>> key = DeviceKey.from_public_key(private.public_key())
>>> nonce = new_nonce()
>>> protected, payload = enrolment_parts(key, nonce)
>>> request = assemble_sign1(protected, payload, key.alg.sign(private, sig_structure(protected, payload)))
>>> check_enrolment(request, nonce) == key
True
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ecard.card import Card
from ecard.errors import (
    BadHolderSignatureError,
    BadInputError,
    BadPresentationError,
    HolderAlgNotAllowedError,
)
from ecard.formats.cosekey import DEVICE_ALGORITHMS, DeviceKey
from ecard.formats.credential import IssuedCard
from ecard.formats.presentation import ENROLMENT_NONCE_SIZE, parse_enrolment
from ecard.signing.issuer import Issuer


def new_nonce() -> bytes:
    """A fresh random enrolment nonce (16 bytes): keep it until the device answers, once."""
    return os.urandom(ENROLMENT_NONCE_SIZE)


def check_enrolment(
    request: bytes, nonce: bytes, *, algorithms: Iterable[str] = DEVICE_ALGORITHMS
) -> DeviceKey:
    """The device key of an enrolment ``request`` that answers ``nonce``, after checking its
    proof of possession.

    Raises :class:`~ecard.errors.BadPresentationError` for a malformed request or another
    nonce, :class:`~ecard.errors.HolderAlgNotAllowedError` for a key outside ``algorithms``
    and :class:`~ecard.errors.BadHolderSignatureError` when the signature does not verify
    under the key the request carries.
    """
    parsed = parse_enrolment(bytes(request))
    if not hmac.compare_digest(parsed.nonce, bytes(nonce)):
        raise BadPresentationError("the enrolment request answers another nonce")
    if parsed.key.alg.name not in frozenset(algorithms):
        raise HolderAlgNotAllowedError(f"device key algorithm {parsed.key.alg.name}")
    if not parsed.key.verifier()(parsed.signature, parsed.to_be_signed()):
        raise BadHolderSignatureError("the enrolment request is not signed by the key it carries")
    return parsed.key


__all__ = ["check_enrolment", "issue_profiles", "new_nonce"]


def issue_profiles(
    issuer: Issuer,
    card: Card,
    enrolments: Mapping[str, tuple[bytes, bytes]],
    **issue_options: Any,
) -> dict[str, IssuedCard]:
    """Batch issuance of a card's profiles, each bound to its own device key.

    ``enrolments`` maps a profile (``"full"``, ``"counter"``) to ``(request, nonce)``: one
    enrolment request per profile, each answering its own nonce with a fresh device key, so
    that the credentials share no key and no ``cti`` and two counters cannot link them. The
    same key offered for two profiles is refused (:class:`~ecard.errors.BadInputError`).
    """
    keys = {
        profile: check_enrolment(request, nonce) for profile, (request, nonce) in enrolments.items()
    }
    if len(set(keys.values())) != len(keys):
        raise BadInputError("each profile needs its own device key (unlinkable credentials)")
    issued: dict[str, IssuedCard] = {}
    for profile, key in keys.items():
        if profile == "full":
            issued[profile] = issuer.issue(card, device_key=key, profile="full", **issue_options)
        elif profile == "counter":
            issued[profile] = issuer.issue(card, device_key=key, profile="counter", **issue_options)
        else:
            raise BadInputError(f"unknown profile {profile!r}")
    return issued

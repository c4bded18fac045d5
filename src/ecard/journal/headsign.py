"""Signing a journal head: the one part of the journal that needs a private key.

Contract: :func:`sign_head` signs the payload of :mod:`ecard.journal.heads` with a
:class:`~ecard.signing.signers.Signer` whose key is the certificate's, only while the
certificate is valid. It neither reads nor writes the database (that is
:meth:`ecard.journal.store.Journal.sign_head`). Verifying a journal never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509

from ecard.errors import BadCertificateError
from ecard.formats.cose import kid_for_certificate
from ecard.journal.heads import HEAD_TYPE, SignedHead, encode_head_payload
from ecard.journal.records import format_time
from ecard.signing.cose import build_sign1
from ecard.signing.signers import Signer, require_certified_key


def check_head_signer(
    signer: Signer, certificate: x509.Certificate, clock: Callable[[], datetime]
) -> tuple[bytes, datetime]:
    """``(kid, now)``: the ``kid`` of ``certificate`` and the time read from ``clock``, once
    ``signer`` is known to hold the certificate's key (:class:`~ecard.errors.BadKeyError`) and
    the certificate to be valid now (:class:`~ecard.errors.BadCertificateError`)."""
    require_certified_key(signer, certificate, "head-signing key")
    now = clock()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise BadCertificateError(
            f"the head-signing certificate is not valid at {format_time(now)}"
        )
    return kid_for_certificate(certificate), now


def sign_head(
    signer: Signer,
    kid: bytes,
    seq: int,
    record_hash: bytes,
    now: datetime,
    head_type: str = HEAD_TYPE,
) -> SignedHead:
    """A :class:`~ecard.journal.heads.SignedHead` of type ``head_type`` for record ``seq`` with
    ``record_hash``, signed at ``now`` (whole seconds) under ``kid`` (from
    :func:`check_head_signer`)."""
    signed_at = int(now.timestamp())
    payload = encode_head_payload(seq, record_hash, signed_at, head_type)
    cose = build_sign1(payload, signer, kid)
    return SignedHead(
        seq=seq,
        record_hash=record_hash,
        signed_at=datetime.fromtimestamp(signed_at, UTC),
        kid=kid,
        cose=cose,
    )


__all__ = ["check_head_signer", "sign_head"]

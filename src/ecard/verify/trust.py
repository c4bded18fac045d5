"""The trust store: the issuer (document-signer) certificates a verifier accepts, by ``kid``.

Everything costly is done once, when the store is built: DER hashing for the ``kid``, public
key loading through the algorithm registry, and the certificate's fitness to sign cards.
Looking a ``kid`` up during verification is a dictionary access.

>>> from ecard.signing.pki import create_root_ca, create_document_signer
>>> ds = create_document_signer(create_root_ca("Root"), "Signer")
>>> store = TrustStore([ds.certificate])
>>> store.lookup(ds.kid)[0].subject
'CN=Signer,C=CN'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ecard.errors import BadCertificateError, EcardError
from ecard.signing.algorithms import (
    ALGORITHMS,
    BoundVerifier,
    PublicKey,
    certificate_public_key,
)
from ecard.signing.cose import kid_for_certificate
from ecard.signing.pki import load_certificates, signing_unfitness

#: File endings read when a folder is given.
CERTIFICATE_SUFFIXES: Final = frozenset({".pem", ".crt", ".cer", ".der"})
#: Refuse absurd inputs before parsing them.
MAX_CERTIFICATE_FILE: Final = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One trusted document-signer certificate, prepared for fast verification.

    ``unfit`` is ``None`` when the certificate may sign cards, else the reason it may not
    (checked at verification time so the failure is reported as ``ISSUER_CERT_INVALID``).
    """

    kid: bytes
    certificate: x509.Certificate
    public_key: PublicKey
    subject: str
    not_before: datetime
    not_after: datetime
    unfit: str | None
    #: Verification functions for this key, by COSE algorithm id (only algorithms it fits).
    verifiers: Mapping[int, BoundVerifier]
    #: ``not_before`` / ``not_after`` as integer seconds since the epoch.
    not_before_ts: int
    not_after_ts: int

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> TrustedIssuer:
        """Prepare ``cert``; :class:`~ecard.errors.BadCertificateError` if its key is unusable."""
        key = certificate_public_key(cert)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        return cls(
            kid=kid_for_certificate(cert),
            certificate=cert,
            public_key=key,
            subject=cert.subject.rfc4514_string(),
            not_before=not_before,
            not_after=not_after,
            unfit=signing_unfitness(cert),
            verifiers=MappingProxyType(
                {a.cose_id: a.bind(key) for a in ALGORITHMS.values() if a.accepts_key(key)}
            ),
            not_before_ts=int(not_before.timestamp()),
            not_after_ts=int(not_after.timestamp()),
        )


class TrustStore:
    """Trusted issuer certificates indexed by ``kid``.

    Two certificates may share a ``kid`` (an 8-byte prefix can collide); :meth:`lookup`
    returns every candidate and the verifier tries each.
    """

    def __init__(self, certificates: Iterable[x509.Certificate] = ()) -> None:
        by_kid: dict[bytes, list[TrustedIssuer]] = {}
        seen: set[bytes] = set()
        for cert in certificates:
            entry = TrustedIssuer.from_certificate(cert)
            fingerprint = cert.fingerprint(hashes.SHA256())
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            by_kid.setdefault(entry.kid, []).append(entry)
        self._by_kid: dict[bytes, tuple[TrustedIssuer, ...]] = {
            k: tuple(v) for k, v in by_kid.items()
        }

    @classmethod
    def from_pem(cls, data: bytes) -> TrustStore:
        """Build from PEM (one or more certificates) or a single DER certificate."""
        return cls(load_certificates(data))

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike[str]]) -> TrustStore:
        """Build from certificate files and folders (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``).

        In a folder, PEM files holding no certificate (private keys, requests) are skipped; a
        named file must hold certificates.

        Raises :class:`~ecard.errors.BadCertificateError` naming the file that cannot be used,
        or if no certificate was found at all.
        """
        certs: list[x509.Certificate] = []
        for path in paths:
            p = Path(path)
            if p.is_dir():
                # a folder may also hold keys or CSRs: read the certificate files only
                for f in sorted(p.iterdir()):
                    if f.suffix.lower() in CERTIFICATE_SUFFIXES and f.is_file():
                        certs.extend(_read(f, skip_non_certificates=True))
            else:
                certs.extend(_read(p))
        if not certs:
            raise BadCertificateError("no trusted certificate found")
        try:
            return cls(certs)
        except EcardError as exc:
            raise BadCertificateError(exc.detail) from None

    def lookup(self, kid: bytes) -> tuple[TrustedIssuer, ...]:
        """Every trusted issuer with this ``kid`` (empty if none)."""
        return self._by_kid.get(kid, ())

    def __iter__(self) -> Iterator[TrustedIssuer]:
        for entries in self._by_kid.values():
            yield from entries

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_kid.values())

    def __repr__(self) -> str:
        return f"TrustStore({len(self)} issuer certificate(s))"


def _read(path: Path, *, skip_non_certificates: bool = False) -> list[x509.Certificate]:
    try:
        size = path.stat().st_size
        if size > MAX_CERTIFICATE_FILE:
            raise BadCertificateError(f"{path}: file too large ({size} bytes)")
        data = path.read_bytes()
    except OSError as exc:
        raise BadCertificateError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    if skip_non_certificates and b"-----BEGIN" in data and b"-----BEGIN CERTIFICATE" not in data:
        return []
    try:
        certs = load_certificates(data)
        for cert in certs:
            certificate_public_key(cert)
        return certs
    except BadCertificateError as exc:
        raise BadCertificateError(f"{path}: {exc.detail}") from None


__all__ = ["CERTIFICATE_SUFFIXES", "TrustStore", "TrustedIssuer"]

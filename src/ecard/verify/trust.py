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

import contextlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ecard._files import load_file
from ecard.crypto.algorithms import ALGORITHMS, BoundVerifier, PublicKey, certificate_public_key
from ecard.crypto.x509 import ECARD_SIGNING_EKU, load_certificates, signing_unfitness
from ecard.errors import (
    BadCertificateError,
    BadListError,
    EcardError,
    PathFailure,
    UnsupportedAlgorithmError,
)
from ecard.formats.cose import kid_for_certificate
from ecard.formats.lists import TRUST_LIST
from ecard.formats.trustlist import TrustListEntry, decode_trust_body
from ecard.verify.lists import ListState, SignedList, open_list

if TYPE_CHECKING:  # path validation is imported by whoever builds a validator
    from ecard.verify.paths import PathValidator, ValidatedPath

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
    #: The trust-list entry this signer came from (scope, retirement, compromise), if any.
    entry: TrustListEntry | None = None
    #: The validated certificate path (cached verdict), when the store validates paths.
    path: ValidatedPath | None = None
    retired_at_ts: int | None = None
    compromised_at_ts: int | None = None
    #: Why the certificate path failed, when that is what makes the issuer ``unfit``.
    unfit_reason: PathFailure | None = None

    @classmethod
    def from_certificate(
        cls,
        cert: x509.Certificate,
        *,
        entry: TrustListEntry | None = None,
        validator: PathValidator | None = None,
    ) -> TrustedIssuer:
        """Prepare ``cert``; :class:`~ecard.errors.BadCertificateError` if its key is unusable.

        With a ``validator`` the certificate's path is validated now, once; a failure makes
        the issuer unfit (reported as ``ISSUER_CERT_INVALID`` with the reason) rather than
        unknown, so a counter learns why.
        """
        key = certificate_public_key(cert)
        unfit = signing_unfitness(cert)
        path: ValidatedPath | None = None
        unfit_reason: PathFailure | None = None
        if validator is not None and unfit is None:
            try:
                path = validator.validate(
                    cert, chain=entry.chain if entry else (), eku=ECARD_SIGNING_EKU
                )
            except EcardError as exc:
                unfit = f"certificate path: {exc.detail}"
                unfit_reason = getattr(exc, "reason", None)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        return cls(
            kid=kid_for_certificate(cert),
            certificate=cert,
            public_key=key,
            subject=cert.subject.rfc4514_string(),
            not_before=not_before,
            not_after=not_after,
            unfit=unfit,
            unfit_reason=unfit_reason,
            verifiers=MappingProxyType(
                {a.cose_id: a.bind(key) for a in ALGORITHMS.values() if a.accepts_key(key)}
            ),
            not_before_ts=int(not_before.timestamp()),
            not_after_ts=int(not_after.timestamp()),
            entry=entry,
            path=path,
            retired_at_ts=_ts(entry.retired_at) if entry else None,
            compromised_at_ts=_ts(entry.compromised_at) if entry else None,
        )


def _ts(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp())


class TrustStore:
    """Trusted issuer certificates indexed by ``kid``.

    Built from plain certificates (each trusted as it is) or from a signed trust list
    (:meth:`from_trust_list`). Given a :class:`~ecard.verify.paths.PathValidator`, every
    signer's certificate path is validated once, here, and the verdict cached per signer.

    Two certificates may share a ``kid`` (an 8-byte prefix can collide); :meth:`lookup`
    returns every candidate and the verifier tries each.
    """

    def __init__(
        self,
        certificates: Iterable[x509.Certificate] = (),
        *,
        entries: Iterable[TrustListEntry] = (),
        validator: PathValidator | None = None,
        trust_list: SignedList | None = None,
    ) -> None:
        by_kid: dict[bytes, list[TrustedIssuer]] = {}
        seen: set[bytes] = set()
        unusable: list[tuple[str, str]] = []
        all_entries = [*(TrustListEntry(c) for c in certificates), *entries]
        for item in all_entries:
            cert = item.certificate
            fingerprint = cert.fingerprint(hashes.SHA256())
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            try:
                issuer = TrustedIssuer.from_certificate(
                    cert, entry=item if item.chain or _scoped(item) else None, validator=validator
                )
            except UnsupportedAlgorithmError as exc:  # e.g. SM2 where the platform has none
                unusable.append((cert.subject.rfc4514_string(), exc.detail))
                continue
            by_kid.setdefault(issuer.kid, []).append(issuer)
        self._by_kid: dict[bytes, tuple[TrustedIssuer, ...]] = {
            k: tuple(v) for k, v in by_kid.items()
        }
        #: Trusted certificates left out because this platform cannot verify their algorithm
        #: (an SM2 signer without SM2 support): ``(subject, reason)``. Their cards are
        #: ``UNSUPPORTED_ALG``; the other signers keep working.
        self.unusable: tuple[tuple[str, str], ...] = tuple(unusable)
        #: The signed trust list this store came from, if any (sequence, next update, signer).
        self.trust_list = trust_list
        #: The list's next update as an integer timestamp, for the per-scan staleness check.
        self.next_update_ts: int | None = trust_list.info.next_update if trust_list else None

    @classmethod
    def from_trust_list(
        cls,
        data: bytes,
        *,
        validator: PathValidator,
        state: ListState | None = None,
        algorithms: Collection[str] | None = None,
    ) -> TrustStore:
        """Open and authenticate a signed trust list and build the store from it.

        ``validator`` holds the roots (and CRLs) the list signer and every document signer must
        chain to. With a ``state``, a list older than one accepted before is refused
        (:class:`~ecard.errors.ListRollbackError`); the list is recorded only after every entry
        was loaded. ``algorithms`` limits what the list may be signed with (pass the verifier's
        ``Policy.algorithms``). Raises :class:`~ecard.errors.BadListError` for anything
        unauthentic.
        """
        signed = open_list(
            data, expected_type=TRUST_LIST, validator=validator, algorithms=algorithms
        )
        entries = decode_trust_body(signed.body)
        try:
            store = cls(entries=entries, validator=validator, trust_list=signed)
        except EcardError as exc:
            raise BadListError(f"trust list entry: {exc.detail}") from None
        if state is not None:
            state.accept(signed)
        return store

    @classmethod
    def from_pem(cls, data: bytes) -> TrustStore:
        """Build from PEM (one or more certificates) or a single DER certificate."""
        return cls(load_certificates(data))

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | os.PathLike[str]],
        *,
        validator: PathValidator | None = None,
    ) -> TrustStore:
        """Build from certificate files and folders (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``).

        In a folder, PEM files holding no certificate (private keys, requests) are skipped; a
        named file must hold certificates.

        A single path (``"certs/"``) is taken as one path, not as a sequence of one-letter
        paths; an empty path (``""``, an unset variable) is a :class:`ValueError`, never the
        current directory.

        Raises :class:`~ecard.errors.BadCertificateError` naming the file that cannot be used,
        or if no certificate was found at all.
        """
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        certs: list[x509.Certificate] = []
        for path in paths:
            if not os.fspath(path):
                raise ValueError("an empty path names no certificate (an unset variable?)")
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
            return cls(certs, validator=validator)
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


def _scoped(entry: TrustListEntry) -> bool:
    return any(
        v is not None
        for v in (entry.regions, entry.spec_versions, entry.retired_at, entry.compromised_at)
    )


def _read(path: Path, *, skip_non_certificates: bool = False) -> list[x509.Certificate]:
    def parse(data: bytes) -> list[x509.Certificate]:
        if (
            skip_non_certificates
            and b"-----BEGIN" in data
            and b"-----BEGIN CERTIFICATE" not in data
        ):
            return []
        certs = load_certificates(data)
        for cert in certs:
            # a key this platform cannot use (SM2 without support) is recorded by TrustStore
            with contextlib.suppress(UnsupportedAlgorithmError):
                certificate_public_key(cert)
        return certs

    return load_file(path, BadCertificateError, parse, max_size=MAX_CERTIFICATE_FILE)


__all__ = ["CERTIFICATE_SUFFIXES", "TrustStore", "TrustedIssuer"]

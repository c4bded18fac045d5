"""Certificate path validation (RFC 5280) for document-signer certificates, fully offline.

The hierarchy is ``root CA -> issuing CA -> document signer``. :class:`PathValidator` holds the
trusted roots, the known intermediate certificates and the CAs' CRLs (all supplied as data,
nothing is fetched) and checks a document signer's path with ``pyhanko-certvalidator``: name
chaining, signatures, validity periods, basic constraints and path length, CA key usage, the
signer's ``digitalSignature`` key usage and its e-card extended key usage, and revocation of
every certificate below the trust anchor by its issuer's CRL.

A successful check returns a :class:`ValidatedPath`, the *verdict* a verifier caches per
``kid``: the path, the window in which every certificate of the path is valid and the earliest
revocation time of any of them. Per scan, the verifier only asks
:meth:`ValidatedPath.covers_ts` whether the credential's ``iat`` lies inside (two integer
comparisons). Path validation itself is slow: about 4-5 ms per signer for a three-level ES256
path with small CRLs, plus about 10 us per entry of the issuing CA's CRL (the library scans CRLs
entry by entry in Python), measured with pyhanko-certvalidator 0.33 on CPython 3.11. It belongs
where a trust list, a certificate set or the CRLs are loaded (:meth:`PathValidator.validate_all`
for a whole list), never on the per-scan path. The library is async-only; the methods here are
synchronous and also work when called from inside a running event loop (they then run the
library in a worker thread).

Behaviour of pyhanko-certvalidator (0.33) this module relies on, each covered by a test:

* **Revocation mode.** Its default (``soft-fail``, and ``hard-fail`` too for certificates that
  name no CRL distribution point) accepts a certificate when no revocation data at all is
  supplied, even a revoked one. :class:`PathValidator` therefore uses ``require``: every
  certificate below the trust anchor needs a CRL from its issuer, else the path fails with
  ``"no revocation data"``. ``revocation="off"`` (tests, pilots without CRLs) skips revocation
  checking entirely and ignores the CRLs.
* **Revocation time.** With an explicit validation moment (always given here; without one
  the library treats any listed certificate as revoked whatever the date), a CRL entry
  revokes from its ``revocationDate`` on: validation at a moment before that date passes,
  after it fails (this module also fails at the instant itself). This module computes ``revoked_at`` itself (the earliest ``revocationDate`` or
  ``invalidityDate`` over the path, from CRLs whose signature verifies with the issuer's key)
  so the verdict can be reused for any ``iat``.
* **CRL freshness.** A CRL is only usable at moments between its ``thisUpdate`` and its
  ``nextUpdate``. A moment before ``thisUpdate`` ("CRL is too recent") is accepted here
  (``retroactive_revinfo``): a CRL issued now says nothing was revoked before now except what it
  lists, which is exactly what an offline verifier judging an older ``iat`` needs. Certificate
  *holds* that were later released are the one case this reading gets wrong; e-card CAs do not
  use holds. A moment after ``nextUpdate`` fails with ``"no revocation data"`` (stale CRL):
  with the default moment (now, clamped into the path's validity) that means a verifier
  whose CRLs are past their ``nextUpdate`` cannot validate paths until it gets fresh ones.
  :attr:`ValidatedPath.crl_next_update` says when the cached verdict's CRLs go stale.
* **Trust anchors** are not checked for validity by the library; this module adds the root's
  validity to the verdict's window and refuses a moment outside it.

Signatures: certificate and CRL signatures are checked by
:data:`ecard.crypto.x509validator.SIGNATURE_VALIDATOR`, handed to the library's
``ValidationContext``: SM2-with-SM3 (GM/T 0015, distinguishing ID ``1234567812345678``) is
verified over the system libcrypto, every other algorithm by the library's default validator
(cryptography underneath). So SM2 roots, CAs, document signers and CRLs validate like the
others, in any mix with ECDSA, EdDSA or RSA. A certificate signed with an algorithm neither
supports, or whose signature does not verify, fails with ``"broken chain"``. The signer's own
key is loaded elsewhere, through the algorithm registry.

Start-up: ``pyhanko_certvalidator`` (and ``asyncio`` under it) is imported when a path is first
validated, not when this module is: a verifier given trusted certificates and no roots imports
this module but never validates a path, and ``ecard verify --trust CERT`` starts without them.

>>> import datetime as dt
>>> from ecard.signing.crl import create_crl
>>> from ecard.signing.pki import create_root_ca, create_issuing_ca, create_document_signer
>>> root = create_root_ca("Root")
>>> ca = create_issuing_ca(root, "Province CA")
>>> ds = create_document_signer(ca, "Signer")
>>> validator = PathValidator([root.certificate], intermediates=[ca.certificate],
...                           crls=[create_crl(root), create_crl(ca)])
>>> path = validator.validate(ds.certificate)
>>> [c.subject.rfc4514_string() for c in path.certificates]
['CN=Signer,C=CN', 'CN=Province CA,C=CN', 'CN=Root,C=CN']
>>> path.covers(dt.datetime.now(dt.UTC)), path.revoked_at is None
(True, True)
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ecard._async import run_sync
from ecard._time import Clock, system_clock, utc
from ecard.crypto.crl import Revocation, find_revocation, load_crls
from ecard.crypto.x509 import ECARD_SIGNING_EKU
from ecard.crypto.x509sig import is_signed_by
from ecard.errors import BadCertificateError, EcardError, IssuerCertInvalidError, PathFailure

if TYPE_CHECKING:  # the library itself is imported when a path is first validated
    from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator import errors as pkix_errors
    from pyhanko_certvalidator.path import ValidationPath

#: How revocation is checked: ``"require"`` (every certificate below the root needs a CRL from
#: its issuer) or ``"off"`` (no revocation checking; for tests and pilots only).
RevocationMode = Literal["require", "off"]

#: Failure reasons start with one of these (then ``": "`` and details naming the certificate);
#: the error's ``reason`` is the :class:`~ecard.errors.PathFailure` of that word.
REASONS: Final = tuple(reason.value for reason in PathFailure)

#: Path building limits (:attr:`~ecard.errors.PathFailure.PATH_BUILDING_LIMIT` beyond them):
#: certificates a credential or list may bring with its path (the ecard hierarchy needs two),
#: CA certificates sharing one name (a CA re-keyed a few times), candidate paths tried, and
#: seconds spent on one path.
MAX_CHAIN_CERTIFICATES: Final = 4
MAX_SAME_NAME: Final = 4
MAX_CANDIDATE_PATHS: Final = 16
PATH_TIME_LIMIT: Final = 5.0

_ONE_SECOND: Final = timedelta(seconds=1)
_T = TypeVar("_T")


def _name(cert: x509.Certificate) -> str:
    return f"'{cert.subject.rfc4514_string()}'"


def _fmt(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ValidatedPath:
    """A validated certificate path: the cached verdict for one document signer.

    ``certificates`` runs from the document signer (leaf) to the trust anchor. ``valid_from``
    and ``valid_until`` are the intersection of every path certificate's validity;
    ``revoked_at`` is the earliest revocation (or invalidity) time of any certificate of the
    path found in the CRLs, ``None`` if none is revoked, with ``revocation_reason`` the CRL
    reason of that entry. ``crl_next_update`` is the earliest ``nextUpdate`` of the CRLs the
    verdict rests on (``None`` when revocation was not checked): after it the verdict should
    be renewed with fresh CRLs. ``validated_at`` is the moment the library checked the path at.
    ``crls`` are the CRLs the revocation verdict rests on (issued and signed by an issuer of
    the path); empty when revocation was not checked (``revocation="off"``).
    """

    certificates: tuple[x509.Certificate, ...]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revocation_reason: str | None = None
    crl_next_update: datetime | None = None
    validated_at: datetime | None = None
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    _from_ts: int = field(init=False, repr=False, compare=False)
    _until_ts: int = field(init=False, repr=False, compare=False)
    _revoked_ts: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # integer bounds so that ``covers_ts`` is exact for integer ``iat`` values
        from_ts = math.ceil(self.valid_from.timestamp())
        until_ts = math.floor(self.valid_until.timestamp())
        revoked_ts = (
            until_ts + 1 if self.revoked_at is None else math.ceil(self.revoked_at.timestamp())
        )
        object.__setattr__(self, "_from_ts", from_ts)
        object.__setattr__(self, "_until_ts", until_ts)
        object.__setattr__(self, "_revoked_ts", revoked_ts)

    @property
    def leaf(self) -> x509.Certificate:
        """The document-signer certificate."""
        return self.certificates[0]

    def covers(self, when: datetime) -> bool:
        """True if ``valid_from <= when <= valid_until`` and ``when`` is before ``revoked_at``.

        A naive ``when`` is a :class:`TypeError`.
        """
        when = utc(when, "when")
        if not self.valid_from <= when <= self.valid_until:
            return False
        return self.revoked_at is None or when < self.revoked_at

    def covers_ts(self, ts: int) -> bool:
        """:meth:`covers` for integer seconds since the epoch (a credential's ``iat``)."""
        return self._from_ts <= ts <= self._until_ts and ts < self._revoked_ts


@dataclass(frozen=True)
class _Cert:
    """One input certificate in both libraries' forms."""

    crypto: x509.Certificate
    asn1: asn1_x509.Certificate
    der: bytes


@dataclass(frozen=True)
class _Crl:
    crypto: x509.CertificateRevocationList
    asn1: asn1_crl.CertificateList


def _prepare_certificate(cert: x509.Certificate) -> _Cert:
    if not isinstance(cert, x509.Certificate):
        raise BadCertificateError(f"not a certificate: {type(cert).__name__}")
    der = cert.public_bytes(serialization.Encoding.DER)
    try:
        from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]

        parsed = asn1_x509.Certificate.load(der)
        # touch what validation reads, so a malformed certificate fails here and not later
        _ = (parsed.subject, parsed.issuer, parsed["tbs_certificate"]["validity"].native)
        _ = (parsed.critical_extensions, parsed.key_usage_value, parsed.basic_constraints_value)
        _ = parsed.extended_key_usage_value
        cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError...
        raise BadCertificateError(
            f"certificate {_safe_subject(cert)} cannot be parsed: {exc}"
        ) from None
    return _Cert(cert, parsed, der)


def _safe_subject(cert: x509.Certificate) -> str:
    try:
        return _name(cert)
    except ValueError:
        return "(unreadable subject)"


def _prepare_crl(crl: x509.CertificateRevocationList) -> _Crl:
    if not isinstance(crl, x509.CertificateRevocationList):
        raise BadCertificateError(f"not a CRL: {type(crl).__name__}")
    try:
        der = crl.public_bytes(serialization.Encoding.DER)
        from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]

        parsed = asn1_crl.CertificateList.load(der)
        _ = (parsed.issuer, parsed["tbs_cert_list"]["this_update"].native)
        _ = parsed.critical_extensions
        for entry in crl:  # every entry must parse (serial, date, extensions)
            _ = (entry.serial_number, entry.revocation_date_utc, entry.extensions)
        crl.last_update_utc, crl.next_update_utc  # noqa: B018
        crl.issuer, crl.extensions  # noqa: B018  (cryptography reads them lazily)
    except Exception as exc:
        raise BadCertificateError(f"CRL cannot be parsed: {exc}") from None
    return _Crl(crl, parsed)


class _Session:
    """One validate call (or batch): the certificates in play and a library context per moment.

    A context caches the CA certificates and CRLs it has validated, so signers validated at
    the same moment share that work.
    """

    def __init__(self, validator: PathValidator, extra: tuple[_Cert, ...]) -> None:
        self.validator = validator
        self.others = (*validator._intermediates, *extra)
        self.by_der = {**{c.der: c for c in extra}, **validator._by_der}
        self.now = utc(validator.clock(), "the path validator's clock")
        self._contexts: dict[datetime, ValidationContext] = {}
        #: why building paths over these certificates would be too costly, if it would
        self.limit = _pool_limit(extra, self.others)

    def context(self, moment: datetime) -> ValidationContext:
        context = self._contexts.get(moment)
        if context is None:
            context = self._contexts[moment] = self.validator._context(self.others, moment)
        return context


class PathValidator:
    """Validates document-signer certificate paths against trusted roots and the CAs' CRLs.

    ``roots`` are the trust anchors; ``intermediates`` the issuing-CA certificates known in
    advance (a credential's own ``chain`` can add more per call); ``crls`` the CRLs published
    by the CAs. Everything is parsed once here; :class:`~ecard.errors.BadCertificateError`
    if an input cannot be used. Build a new validator when the CRLs change.

    ``revocation="require"`` (default) demands a CRL from its issuer for every certificate
    below the trust anchor. ``revocation="off"`` checks no revocation at all and is meant for
    tests and pilots only.
    """

    def __init__(
        self,
        roots: Iterable[x509.Certificate],
        *,
        intermediates: Iterable[x509.Certificate] = (),
        crls: Iterable[x509.CertificateRevocationList] = (),
        revocation: RevocationMode = "require",
        clock: Clock = system_clock,
    ) -> None:
        if revocation not in ("require", "off"):
            raise ValueError(f"revocation must be 'require' or 'off', not {revocation!r}")
        self._revocation: RevocationMode = revocation
        #: The current instant: the default validation moment (a fixed one in tests and audits).
        self.clock = clock
        self._roots = tuple(_prepare_certificate(c) for c in roots)
        if not self._roots:
            raise BadCertificateError("no trusted root certificate")
        self._intermediates = tuple(_prepare_certificate(c) for c in intermediates)
        self._crls = tuple(_prepare_crl(c) for c in crls) if revocation == "require" else ()
        self._root_ders = frozenset(c.der for c in self._roots)
        self._by_der: dict[bytes, _Cert] = {c.der: c for c in (*self._intermediates, *self._roots)}
        # CRL signature checks, by (CRL index, issuer certificate DER)
        self._crl_signature_ok: dict[tuple[int, bytes], bool] = {}

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        """The trusted root certificates."""
        return tuple(c.crypto for c in self._roots)

    @property
    def revocation(self) -> RevocationMode:
        """The revocation mode, ``"require"`` or ``"off"``."""
        return self._revocation

    def validate(
        self,
        leaf: x509.Certificate,
        *,
        chain: Iterable[x509.Certificate] = (),
        eku: x509.ObjectIdentifier | None = ECARD_SIGNING_EKU,
        at: datetime | None = None,
    ) -> ValidatedPath:
        """Validate the path from ``leaf`` (a document signer) to a trusted root.

        ``chain`` adds intermediate certificates for this call. The leaf must have key usage
        ``digitalSignature`` and, unless ``eku`` is ``None``, the extended key usage ``eku``.

        ``at`` is the validation moment (aware; naive is a :class:`TypeError`). Given, every path certificate must be
        valid and unrevoked at ``at``. By default the moment is now, clamped into the path's
        validity window; if a path certificate was revoked before it, the moment moves to just
        before the revocation, so the verdict reports ``revoked_at`` and the caller decides
        (a verifier rejects any ``iat`` at or after it; a strict one refuses the signer).

        Every failure raises :class:`~ecard.errors.IssuerCertInvalidError` whose detail starts
        with one of :data:`REASONS`; unusable input raises
        :class:`~ecard.errors.BadCertificateError`.
        """
        moment = None if at is None else utc(at, "at")
        target = _prepare_certificate(leaf)
        extra = tuple(_prepare_certificate(c) for c in chain)
        self._check_usage(target, eku)
        session = _Session(self, extra)
        return run_sync(lambda: self._validate(session, target, moment))

    def validate_all(
        self,
        leaves: Iterable[x509.Certificate],
        *,
        chain: Iterable[x509.Certificate] = (),
        eku: x509.ObjectIdentifier | None = ECARD_SIGNING_EKU,
        at: datetime | None = None,
    ) -> list[ValidatedPath | EcardError]:
        """:meth:`validate` for many document signers at once, e.g. a whole trust list.

        Returns, in the order of ``leaves``, each signer's :class:`ValidatedPath` or the error
        :meth:`validate` would have raised for it. The library's per-moment state (validated
        CA certificates, checked CRLs) is shared, which makes a batch several times cheaper
        per signer than separate calls.
        """
        moment = None if at is None else utc(at, "at")
        extra = tuple(_prepare_certificate(c) for c in chain)
        session = _Session(self, extra)
        items = list(leaves)

        async def run_all() -> list[ValidatedPath | EcardError]:
            results: list[ValidatedPath | EcardError] = []
            for leaf in items:
                try:
                    target = _prepare_certificate(leaf)
                    self._check_usage(target, eku)
                    results.append(await self._validate(session, target, moment))
                except EcardError as exc:
                    results.append(exc)
            return results

        return run_sync(run_all)

    # -- usage -------------------------------------------------------------------------------

    @staticmethod
    def _check_usage(leaf: _Cert, eku: x509.ObjectIdentifier | None) -> None:
        from pyhanko_certvalidator import errors as pkix_errors
        from pyhanko_certvalidator.validate import validate_usage

        try:
            validate_usage(leaf.asn1, {"digital_signature"}, set(), False)
        except pkix_errors.InvalidCertificateError:
            raise _invalid(
                PathFailure.KEY_USAGE, f"{_name(leaf.crypto)} does not allow digitalSignature"
            ) from None
        if eku is None:
            return
        try:
            validate_usage(leaf.asn1, set(), {eku.dotted_string}, False)
        except pkix_errors.InvalidCertificateError:
            raise _invalid(
                PathFailure.EXTENDED_KEY_USAGE, f"{_name(leaf.crypto)} lacks {eku.dotted_string}"
            ) from None

    # -- the path ----------------------------------------------------------------------------

    def _context(self, others: Sequence[_Cert], moment: datetime) -> ValidationContext:
        from pyhanko_certvalidator import ValidationContext

        from ecard.crypto.x509validator import SIGNATURE_VALIDATOR

        require = self._revocation == "require"
        return ValidationContext(
            trust_roots=[c.asn1 for c in self._roots],  # a list, never None (= OS trust)
            other_certs=[c.asn1 for c in others],
            crls=[c.asn1 for c in self._crls],
            moment=moment,
            allow_fetching=False,
            revocation_mode="require" if require else "soft-fail",
            retroactive_revinfo=True,
            signature_validator=SIGNATURE_VALIDATOR,  # adds SM2-with-SM3
        )

    async def _validate(self, session: _Session, leaf: _Cert, at: datetime | None) -> ValidatedPath:
        import asyncio

        from pyhanko_certvalidator import errors as pkix_errors

        others = session.others
        by_der = {**session.by_der, leaf.der: leaf}
        if session.limit is not None:
            raise _invalid(PathFailure.PATH_BUILDING_LIMIT, session.limit)
        deadline = time.monotonic() + PATH_TIME_LIMIT
        try:
            context = session.context(at or session.now)
            candidates = await asyncio.wait_for(
                context.path_builder.async_build_paths(leaf.asn1), PATH_TIME_LIMIT
            )
        except TimeoutError:
            raise _invalid(
                PathFailure.PATH_BUILDING_LIMIT,
                f"no path for {_name(leaf.crypto)} within {PATH_TIME_LIMIT:g} s",
            ) from None
        except pkix_errors.PathBuildingError as exc:
            raise _invalid(*self._explain_no_path(leaf, others, exc)) from None
        except EcardError:
            raise
        except Exception as exc:  # anything else from asn1crypto / pyhanko
            raise _invalid(PathFailure.BROKEN_CHAIN, f"{_name(leaf.crypto)}: {exc}") from None
        if not candidates:  # pragma: no cover - the builder raises instead
            raise _invalid(PathFailure.BROKEN_CHAIN, f"no path for {_name(leaf.crypto)}")
        failures: list[IssuerCertInvalidError] = []
        for n, candidate in enumerate(candidates):
            if n >= MAX_CANDIDATE_PATHS or time.monotonic() > deadline:
                raise _invalid(
                    PathFailure.PATH_BUILDING_LIMIT,
                    f"{_name(leaf.crypto)}: tried {n} of {len(candidates)} candidate paths",
                )
            try:
                return await self._validate_candidate(session, candidate, by_der, at)
            except IssuerCertInvalidError as exc:
                failures.append(exc)
        raise most_telling(failures)

    async def _validate_candidate(
        self,
        session: _Session,
        candidate: ValidationPath,
        by_der: dict[bytes, _Cert],
        at: datetime | None,
    ) -> ValidatedPath:
        from pyhanko_certvalidator import errors as pkix_errors
        from pyhanko_certvalidator.validate import async_validate_path

        from_root: list[x509.Certificate] = []
        for parsed in candidate.iter_certs(include_root=True):
            known = by_der.get(parsed.dump())
            if known is None:  # pragma: no cover - the path is built from our own inputs
                raise _invalid(PathFailure.BROKEN_CHAIN, "path holds an unknown certificate")
            from_root.append(known.crypto)
        certs = tuple(reversed(from_root))  # leaf first
        latest_start = max(certs, key=lambda c: c.not_valid_before_utc)
        earliest_end = min(certs, key=lambda c: c.not_valid_after_utc)
        valid_from = latest_start.not_valid_before_utc
        valid_until = earliest_end.not_valid_after_utc
        if valid_from > valid_until:
            raise _invalid(
                PathFailure.EXPIRED,
                f"{_name(earliest_end)} expired {_fmt(valid_until)}, before "
                f"{_name(latest_start)} became valid {_fmt(valid_from)}",
            )
        revocation, next_update, used = self._revocation_status(certs)
        revoked_at = revocation.at if revocation else None

        if at is not None:
            moment = at
            if moment < valid_from:
                raise _invalid(
                    PathFailure.NOT_YET_VALID,
                    f"{_name(latest_start)} is not valid until {_fmt(valid_from)}",
                )
            if moment > valid_until:
                raise _invalid(
                    PathFailure.EXPIRED, f"{_name(earliest_end)} expired {_fmt(valid_until)}"
                )
            if revocation is not None and moment >= revocation.at:
                raise _invalid(PathFailure.REVOKED, _revoked_reason(revocation))
        else:
            moment = min(max(session.now, valid_from), valid_until)
            if revocation is not None and moment >= revocation.at:
                moment = revocation.at - _ONE_SECOND
                if moment < valid_from:
                    raise _invalid(
                        PathFailure.REVOKED,
                        _revoked_reason(revocation) + ", before the path became valid",
                    )

        for _attempt in range(len(certs) + 1):
            try:
                await async_validate_path(session.context(moment), candidate)
                break
            except pkix_errors.RevokedError as exc:
                # a revocation our own CRL reading missed (e.g. differently encoded names)
                when = utc(exc.revocation_dt, "revocation date")
                if revoked_at is None or when < revoked_at:
                    revoked_at = when
                    revocation = Revocation(
                        _failing_cert(exc, from_root), when, str(exc.reason.native), None
                    )
                if at is not None or when - _ONE_SECOND < valid_from:
                    raise _invalid(*_mapped_reason(exc, from_root)) from None
                moment = when - _ONE_SECOND
            except pkix_errors.PathError as exc:
                raise _invalid(PathFailure.BROKEN_CHAIN, str(exc)) from None
            except pkix_errors.ValidationError as exc:
                raise _invalid(*_mapped_reason(exc, from_root)) from None
            except EcardError:
                raise
            except Exception as exc:  # asn1crypto / pyhanko internals must not escape
                raise _invalid(
                    PathFailure.BROKEN_CHAIN, f"{_name(certs[0])}: {type(exc).__name__}: {exc}"
                ) from None
        else:  # pragma: no cover - each retry moves before one more revoked certificate
            raise _invalid(PathFailure.REVOKED, "path could not be validated before revocation")

        return ValidatedPath(
            certificates=certs,
            valid_from=valid_from,
            valid_until=valid_until,
            revoked_at=revoked_at,
            revocation_reason=revocation.reason if revocation else None,
            crl_next_update=next_update,
            validated_at=moment,
            crls=used,
        )

    def _explain_no_path(
        self, leaf: _Cert, others: Sequence[_Cert], exc: Exception
    ) -> tuple[PathFailure, str]:
        return _explain(leaf, others, self._roots, f"{exc}")

    # -- revocation --------------------------------------------------------------------------

    def _crl_signed_by(self, index: int, crl: _Crl, issuer: x509.Certificate) -> bool:
        key = (index, issuer.public_bytes(serialization.Encoding.DER))
        known = self._crl_signature_ok.get(key)
        if known is not None:
            return known
        # a CRL whose signature cannot be verified is not counted; the library, which uses the
        # same signature check, would not accept it either
        ok = crl.crypto.issuer == issuer.subject and is_signed_by(crl.crypto, issuer)
        self._crl_signature_ok[key] = ok
        return ok

    def _revocation_status(
        self, certs: tuple[x509.Certificate, ...]
    ) -> tuple[Revocation | None, datetime | None, tuple[x509.CertificateRevocationList, ...]]:
        """The earliest revocation of a path certificate, the CRLs' earliest nextUpdate and the
        CRLs consulted."""
        if self._revocation == "off":
            return None, None, ()
        used: list[x509.CertificateRevocationList] = []
        earliest: Revocation | None = None
        next_update: datetime | None = None
        for cert, issuer in itertools.pairwise(certs):  # the anchor is not checked
            freshest: datetime | None = None
            issuers = [
                crl.crypto
                for index, crl in enumerate(self._crls)
                if self._crl_signed_by(index, crl, issuer)
            ]
            for crl_next in (c.next_update_utc for c in issuers):
                if crl_next is not None and (freshest is None or crl_next > freshest):
                    freshest = crl_next
            used.extend(c for c in issuers if c not in used)
            found = find_revocation(cert, issuers)
            if found is not None and (earliest is None or found.at < earliest.at):
                earliest = found
            if freshest is not None and (next_update is None or freshest < next_update):
                next_update = freshest
        return earliest, next_update, tuple(used)


def _pool_limit(extra: Sequence[_Cert], pool: Sequence[_Cert]) -> str | None:
    """Why the certificates offered for path building exceed the limits, or ``None``.

    Building enumerates every ordering of certificates that could issue each other, so a few
    crafted look-alikes (one name, one key identifier, issuing each other) cost factorial
    time: eight of them took 43 s before these limits.
    """
    if len(extra) > MAX_CHAIN_CERTIFICATES:
        return f"{len(extra)} certificates offered with the path, at most {MAX_CHAIN_CERTIFICATES}"
    names = Counter(c.crypto.subject.public_bytes() for c in pool)
    alike = max(names.values(), default=0)
    if alike > MAX_SAME_NAME:
        return f"{alike} CA certificates share one name, at most {MAX_SAME_NAME}"
    return None


#: Which failure of several candidate paths is reported, most telling first: what happened to
#: the signer's own path (revoked, expired, not yet valid, no revocation data) before what is
#: wrong with a certificate's role (usages, CA flag, length), before the limits, and a broken
#: chain last (that is how a look-alike candidate whose signature does not verify fails).
FAILURE_PRECEDENCE: Final[tuple[PathFailure, ...]] = (
    PathFailure.REVOKED,
    PathFailure.EXPIRED,
    PathFailure.NOT_YET_VALID,
    PathFailure.NO_REVOCATION_DATA,
    PathFailure.KEY_USAGE,
    PathFailure.EXTENDED_KEY_USAGE,
    PathFailure.NOT_A_CA,
    PathFailure.PATH_LENGTH,
    PathFailure.PATH_BUILDING_LIMIT,
    PathFailure.UNTRUSTED_ROOT,
    PathFailure.BROKEN_CHAIN,
)


def most_telling(failures: Sequence[IssuerCertInvalidError]) -> IssuerCertInvalidError:
    """The failure to report of several candidate paths': the first of those whose typed
    ``reason`` comes first in :data:`FAILURE_PRECEDENCE` (a failure without a reason last);
    never chosen by its message text."""
    if not failures:
        raise ValueError("no failures to choose from")
    rank = {reason: n for n, reason in enumerate(FAILURE_PRECEDENCE)}
    return min(failures, key=lambda f: rank.get(f.reason, len(rank)) if f.reason else len(rank))


def _invalid(reason: PathFailure, rest: str) -> IssuerCertInvalidError:
    """The path error for ``reason``: its detail is ``"<reason>: <rest>"``, as always."""
    return IssuerCertInvalidError(f"{reason.value}: {rest}", reason=reason)


def _revoked_reason(revocation: Revocation) -> str:
    return (
        f"{_name(revocation.certificate)} revoked {_fmt(revocation.at)} "
        f"(reason: {revocation.reason})"
    )


_POSITION = re.compile(r"intermediate certificate (\d+)")


def _failing_cert(
    exc: pkix_errors.PathValidationError, from_root: Sequence[x509.Certificate]
) -> x509.Certificate:
    """The certificate a pyhanko error is about, by the position its message names."""
    if not getattr(exc, "is_ee_cert", False):
        match = _POSITION.search(str(exc))
        if match and 0 < int(match.group(1)) < len(from_root):
            return from_root[int(match.group(1))]
    return from_root[-1]


def _mapped_reason(
    exc: pkix_errors.ValidationError, from_root: Sequence[x509.Certificate]
) -> tuple[PathFailure, str]:
    """The :class:`~ecard.errors.PathFailure` and the rest of the detail (naming the
    certificate) for a pyhanko validation error."""
    from pyhanko_certvalidator import errors as pkix_errors

    message = str(exc)
    if isinstance(exc, pkix_errors.PathValidationError) and not exc.is_side_validation:
        who = _name(_failing_cert(exc, from_root))
    else:
        who = "a CRL issuer"
    if isinstance(exc, pkix_errors.RevokedError):
        return (
            PathFailure.REVOKED,
            f"{who} revoked {_fmt(utc(exc.revocation_dt, 'revocation date'))} "
            f"(reason: {exc.reason.native})",
        )
    if isinstance(exc, pkix_errors.ExpiredError):
        return PathFailure.EXPIRED, f"{who} expired {_fmt(utc(exc.expired_dt, 'expiry date'))}"
    if isinstance(exc, pkix_errors.NotYetValidError):
        return (
            PathFailure.NOT_YET_VALID,
            f"{who} is not valid until {_fmt(utc(exc.valid_from, 'validity start'))}",
        )
    if isinstance(exc, pkix_errors.StaleRevinfoError):
        return PathFailure.NO_REVOCATION_DATA, f"the CRL for {who} is stale ({message})"
    if isinstance(exc, pkix_errors.InsufficientRevinfoError):
        return PathFailure.NO_REVOCATION_DATA, f"{who}: {message}"
    if "is not a CA" in message:
        return PathFailure.NOT_A_CA, f"{who} issues certificates but is not a CA"
    if "maximum path length" in message:
        culprit = _path_length_culprit(from_root)
        if culprit is None:  # pragma: no cover - pyhanko and RFC 5280 agree on the culprit
            return PathFailure.PATH_LENGTH, message
        ca, constrainer, limit = culprit
        return (
            PathFailure.PATH_LENGTH,
            f"{_name(ca)} exceeds the path length constraint ({limit}) of {_name(constrainer)}",
        )
    if "not allowed to sign certificates" in message:
        return PathFailure.KEY_USAGE, f"{who} may not sign certificates (no keyCertSign)"
    return PathFailure.BROKEN_CHAIN, f"{who}: {message}"


def _path_length_culprit(
    from_root: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, x509.Certificate, int] | None:
    """The CA certificate beyond a path length constraint, the constraining CA, its limit."""
    remaining: int | None = None
    constrainer: x509.Certificate | None = None
    for cert in from_root[1:-1]:  # the intermediate CAs, from the top
        if cert.issuer != cert.subject:
            if remaining == 0 and constrainer is not None:
                limit = _path_length(constrainer)
                return cert, constrainer, 0 if limit is None else limit
            remaining = None if remaining is None else remaining - 1
        limit = _path_length(cert)
        if limit is not None and (remaining is None or limit < remaining):
            remaining, constrainer = limit, cert
    return None


def _path_length(cert: x509.Certificate) -> int | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except (x509.ExtensionNotFound, ValueError):
        return None


def _explain(
    leaf: _Cert, others: Sequence[_Cert], roots: Sequence[_Cert], fallback: str
) -> tuple[PathFailure, str]:
    """Why no path could be built: an untrusted root at the top, a missing issuer, or an issuer
    (by name) whose key did not sign."""
    root_ders = {c.der for c in roots}
    root_names = {c.crypto.subject for c in roots}
    pool: dict[x509.Name, list[_Cert]] = {}
    for c in others:
        pool.setdefault(c.crypto.subject, []).append(c)
    current = leaf
    seen = {leaf.der}
    while True:
        if current.crypto.issuer == current.crypto.subject:
            if current.der in root_ders:  # pragma: no cover - a path would have been built
                return PathFailure.BROKEN_CHAIN, fallback
            return (
                PathFailure.UNTRUSTED_ROOT,
                f"the chain of {_name(leaf.crypto)} ends at the self-signed "
                f"{_name(current.crypto)}, which is not a trusted root",
            )
        named = [c for c in pool.get(current.crypto.issuer, []) if c.der not in seen]
        # follow only an issuer whose key signed the certificate (all algorithms, SM2 too)
        issuers = [c for c in named if is_signed_by(current.crypto, c.crypto)]
        if not issuers:
            issuer = f"'{current.crypto.issuer.rfc4514_string()}'"
            if current.crypto.issuer in root_names:
                return (
                    PathFailure.UNTRUSTED_ROOT,
                    f"{_name(current.crypto)} names the trusted root {issuer} "
                    f"as its issuer but was not issued with that root's key",
                )
            if named:
                return (
                    PathFailure.BROKEN_CHAIN,
                    f"{_name(current.crypto)} names {issuer} as its issuer but "
                    f"was not signed with that certificate's key",
                )
            return (
                PathFailure.BROKEN_CHAIN,
                f"no certificate for {issuer}, the issuer of {_name(current.crypto)}",
            )
        current = issuers[0]
        seen.add(current.der)


__all__ = [
    "FAILURE_PRECEDENCE",
    "MAX_CANDIDATE_PATHS",
    "MAX_CHAIN_CERTIFICATES",
    "MAX_SAME_NAME",
    "PATH_TIME_LIMIT",
    "REASONS",
    "PathValidator",
    "RevocationMode",
    "ValidatedPath",
    "load_crls",
    "most_telling",
]

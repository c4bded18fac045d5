"""Certificate path validation: real three-level hierarchies, real CRLs, nothing mocked."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped, unused-ignore]
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pkix_errors
from tests.conftest import T0
from tests.pkitools import DAY, HOUR, Hierarchy, R, build, fails
from tests.pkitools import key_usage as ku
from tests.proc import run_ok

from ecard.crypto.algorithms import certificate_public_key
from ecard.crypto.crl import load_crl_file
from ecard.crypto.sm2 import Sm2PublicKey
from ecard.crypto.x509 import ECARD_SIGNING_EKU
from ecard.errors import BadCertificateError, IssuerCertInvalidError
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_root_ca,
)
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.verify.paths import PathValidator, ValidatedPath, load_crls


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    """A hierarchy around the fixed instant T0."""
    return build(T0)


@pytest.fixture(scope="module")
def live() -> Hierarchy:
    """A hierarchy around the real current time (for the default validation moment)."""
    return build(dt.datetime.now(dt.UTC), "Live")


@pytest.fixture(scope="module")
def fresh(h: Hierarchy) -> PathValidator:
    """Validator with CRLs issued at T0 - 1 day (usable up to T0 + 29 days)."""
    return h.validator(h.crls(T0 - DAY))


def issue(
    issuer: CertifiedKey,
    common_name: str,
    *,
    not_before: dt.datetime,
    days: int = 365,
    ca: bool = False,
    key_usage: dict[str, bool] | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
) -> CertifiedKey:
    """A certificate built directly with cryptography, for shapes pki.py refuses to make."""
    key = ec.generate_private_key(ec.SECP256R1())
    flags = key_usage if key_usage is not None else {"digital_signature": True}
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + days * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(ku(**flags), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            False,
        )
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return CertifiedKey(key=key, certificate=cert, chain=(issuer.certificate, *issuer.chain))


# -- the valid path ---------------------------------------------------------------------------


def test_valid_three_level_path(h: Hierarchy, fresh: PathValidator) -> None:
    path = fresh.validate(h.ds.certificate, at=T0 + HOUR)
    assert path.certificates == (h.ds.certificate, h.ca.certificate, h.root.certificate)
    assert path.leaf is h.ds.certificate
    # the window is the intersection: latest start (DS), earliest end (DS, 2 years)
    assert path.valid_from == h.ds.certificate.not_valid_before_utc == T0 - DAY
    assert path.valid_until == h.ds.certificate.not_valid_after_utc
    assert path.revoked_at is None and path.revocation_reason is None
    assert path.crl_next_update == T0 + 29 * DAY
    assert path.validated_at == T0 + HOUR
    assert path.covers(T0) and path.covers_ts(int(T0.timestamp()))
    assert not path.covers(T0 - 2 * DAY)


@pytest.mark.parametrize("algorithm", ["ES384", "EdDSA", "PS256"])
def test_valid_path_other_algorithms(algorithm: str) -> None:
    root = create_root_ca("Alg Root", algorithm=algorithm, not_before=T0 - 30 * DAY)
    ca = create_issuing_ca(root, "Alg CA", algorithm=algorithm, not_before=T0 - 20 * DAY)
    ds = create_document_signer(ca, "Alg DS", algorithm=algorithm, not_before=T0 - DAY)
    crls = [create_crl(root, this_update=T0 - DAY), create_crl(ca, this_update=T0 - DAY)]
    path = PathValidator([root.certificate], crls=crls).validate(
        ds.certificate, chain=[ca.certificate], at=T0
    )
    assert len(path.certificates) == 3


def test_intermediate_from_chain_argument(h: Hierarchy) -> None:
    validator = PathValidator([h.root.certificate], crls=h.crls(T0 - DAY))
    path = validator.validate(h.ds.certificate, chain=h.ds.chain, at=T0)
    assert path.certificates[1] == h.ca.certificate


def test_default_moment_is_now_inside_validity(live: Hierarchy) -> None:
    now = dt.datetime.now(dt.UTC)
    path = live.validator(live.crls(now - HOUR)).validate(live.ds.certificate)
    assert path.validated_at is not None
    assert abs(path.validated_at - now) < dt.timedelta(minutes=5)
    assert path.covers(now) and path.revoked_at is None


def test_default_moment_clamped_into_validity_of_an_expired_signer() -> None:
    """An expired signer still gets a verdict covering the credentials it signed in time."""
    now = dt.datetime.now(dt.UTC)
    old = build(now - 3 * 365 * DAY, "Old")  # DS valid until about a year ago
    path = old.validator(old.crls(now - HOUR)).validate(old.ds.certificate)
    assert path.validated_at == path.valid_until == old.ds.certificate.not_valid_after_utc
    assert not path.covers(now)
    assert path.covers(path.valid_until - DAY)


def test_validate_inside_running_event_loop(h: Hierarchy, fresh: PathValidator) -> None:
    async def main() -> ValidatedPath:
        asyncio.get_running_loop()  # really inside a loop
        return fresh.validate(h.ds.certificate, at=T0)

    assert asyncio.run(main()).leaf == h.ds.certificate


# -- validity ---------------------------------------------------------------------------------


def test_expired_signer(h: Hierarchy) -> None:
    after = h.ds.certificate.not_valid_after_utc + DAY
    # CRLs fresh at that moment, so only the expiry can fail
    detail = fails("expired", h.validator(h.crls(after - DAY)).validate, h.ds.certificate, at=after)
    assert "Test Signer" in detail
    # with stale CRLs too, the expiry is still the reason given
    assert fails("expired", h.validator(h.crls(T0)).validate, h.ds.certificate, at=after)


def test_signer_not_yet_valid(h: Hierarchy, fresh: PathValidator) -> None:
    detail = fails("not yet valid", fresh.validate, h.ds.certificate, at=T0 - 2 * DAY)
    assert "Test Signer" in detail


def test_window_is_intersection_of_all_path_certificates(h: Hierarchy) -> None:
    # an issuing CA valid one year only, a DS starting before the CA and outliving it
    ca = create_issuing_ca(h.root, "Short CA", not_before=T0 - 5 * DAY, days=365)
    ds = create_document_signer(ca, "Long DS", not_before=T0 - 10 * DAY, days=730)
    crls = [create_crl(h.root, this_update=T0 - DAY), create_crl(ca, this_update=T0 - DAY)]
    validator = PathValidator([h.root.certificate], intermediates=[ca.certificate], crls=crls)
    path = validator.validate(ds.certificate, at=T0)
    assert path.valid_from == ca.certificate.not_valid_before_utc == T0 - 5 * DAY
    assert path.valid_until == ca.certificate.not_valid_after_utc == T0 + 360 * DAY
    assert path.revoked_at is None
    start, end = int(path.valid_from.timestamp()), int(path.valid_until.timestamp())
    assert path.covers_ts(start) and not path.covers_ts(start - 1)
    assert path.covers_ts(end) and not path.covers_ts(end + 1)
    assert path.covers(path.valid_until) and not path.covers(
        path.valid_until + dt.timedelta(seconds=1)
    )
    # the DS is valid before the CA: "not yet valid" names the CA
    detail = fails("not yet valid", validator.validate, ds.certificate, at=T0 - 7 * DAY)
    assert "Short CA" in detail


def test_root_expiry_bounds_the_window() -> None:
    root = create_root_ca("Short Root", not_before=T0 - 30 * DAY, days=100)
    ca = create_issuing_ca(root, "CA under short root", not_before=T0 - 20 * DAY)
    ds = create_document_signer(ca, "DS under short root", not_before=T0 - DAY)
    crls = [create_crl(root, this_update=T0), create_crl(ca, this_update=T0)]
    validator = PathValidator([root.certificate], intermediates=[ca.certificate], crls=crls)
    path = validator.validate(ds.certificate, at=T0)
    assert path.valid_until == root.certificate.not_valid_after_utc
    detail = fails("expired", validator.validate, ds.certificate, at=T0 + 75 * DAY)
    assert "Short Root" in detail


def test_signer_starting_after_its_ca_expired(h: Hierarchy) -> None:
    ca = create_issuing_ca(h.root, "Brief CA", not_before=T0 - 20 * DAY, days=10)
    ds = create_document_signer(ca, "Late DS", not_before=T0, days=30)
    validator = PathValidator(
        [h.root.certificate],
        intermediates=[ca.certificate],
        crls=[create_crl(h.root, this_update=T0), create_crl(ca, this_update=T0 - 11 * DAY)],
    )
    detail = fails("expired", validator.validate, ds.certificate)
    assert "Brief CA" in detail and "Late DS" in detail


# -- revocation -------------------------------------------------------------------------------


def test_signer_revoked_by_ca_crl(h: Hierarchy) -> None:
    # the CRL naming the revocation is issued after it, as in real life
    validator = h.validator(h.crls(R + DAY, ca_revokes=(h.ds.certificate,)))
    # at a moment before the revocation date the path passes, with the revocation recorded
    path = validator.validate(h.ds.certificate, at=T0 + HOUR)
    assert path.revoked_at == R
    assert path.revocation_reason == "unspecified"
    assert path.covers(R - dt.timedelta(seconds=1)) and not path.covers(R)
    assert path.covers_ts(int(R.timestamp()) - 1) and not path.covers_ts(int(R.timestamp()))
    # at or after it, the path fails
    detail = fails("revoked", validator.validate, h.ds.certificate, at=R + 2 * DAY)
    assert "Test Signer" in detail
    fails("revoked", validator.validate, h.ds.certificate, at=R)


def test_issuing_ca_revoked_by_root_crl(h: Hierarchy) -> None:
    validator = h.validator(h.crls(R + DAY, root_revokes=(h.ca.certificate,)))
    detail = fails("revoked", validator.validate, h.ds.certificate, at=R + 2 * DAY)
    assert "Province CA" in detail
    path = validator.validate(h.ds.certificate, at=T0)
    assert path.revoked_at == R and not path.covers(R + HOUR)


def test_earliest_revocation_wins(h: Hierarchy) -> None:
    crls = [
        create_crl(h.root, [(h.ca.certificate, R + 5 * DAY)], this_update=R + 6 * DAY),
        create_crl(
            h.ca,
            [(h.ds.certificate.serial_number, R, x509.ReasonFlags.key_compromise)],
            this_update=R + 6 * DAY,
        ),
    ]
    path = h.validator(crls).validate(h.ds.certificate, at=T0)
    assert path.revoked_at == R and path.revocation_reason == "key_compromise"


def test_invalidity_date_moves_revocation_earlier(h: Hierarchy) -> None:
    compromised = T0 + 2 * DAY  # key known compromised before the revocation was recorded
    entry = (
        x509.RevokedCertificateBuilder()
        .serial_number(h.ds.certificate.serial_number)
        .revocation_date(R)
        .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), False)
        .add_extension(x509.InvalidityDate(compromised), False)
        .build()
    )
    ca_crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(h.ca.certificate.subject)
        .last_update(R + DAY)
        .next_update(R + 30 * DAY)
        .add_extension(x509.CRLNumber(2), False)
        .add_revoked_certificate(entry)
        .sign(h.ca.key, hashes.SHA256())
    )
    validator = h.validator([h.crls(R + DAY)[0], ca_crl])
    path = validator.validate(h.ds.certificate, at=T0)
    assert path.revoked_at == compromised and path.revocation_reason == "key_compromise"
    fails("revoked", validator.validate, h.ds.certificate, at=compromised + HOUR)


def test_default_moment_moves_before_a_revocation(live: Hierarchy) -> None:
    now = dt.datetime.now(dt.UTC)
    revoked = now - 6 * HOUR  # the signer became valid a day ago
    crls = live.crls(now - HOUR, ca_revokes=(live.ds.certificate,), when=revoked)
    path = live.validator(crls).validate(live.ds.certificate)
    assert path.revoked_at == revoked.replace(microsecond=0)
    assert path.validated_at is not None and path.validated_at < path.revoked_at
    assert not path.covers(now) and path.covers(revoked - HOUR)


def test_revoked_before_it_became_valid(live: Hierarchy) -> None:
    now = dt.datetime.now(dt.UTC)
    crls = live.crls(now - HOUR, ca_revokes=(live.ds.certificate,), when=now - 10 * DAY)
    detail = fails("revoked", live.validator(crls).validate, live.ds.certificate)
    assert "before the path became valid" in detail


def test_crl_signed_by_another_key_is_ignored(h: Hierarchy) -> None:
    impostor = create_issuing_ca(create_root_ca("Impostor Root"), "Test Province CA")
    forged = create_crl(impostor, [(h.ds.certificate, R)], this_update=T0 - DAY)
    assert forged.issuer == h.ca.certificate.subject
    path = h.validator([*h.crls(T0 - DAY), forged]).validate(h.ds.certificate, at=T0)
    assert path.revoked_at is None


def test_missing_crl_fails_with_require(h: Hierarchy) -> None:
    root_crl, _ca_crl = h.crls(T0 - DAY)
    detail = fails("no revocation data", h.validator([root_crl]).validate, h.ds.certificate, at=T0)
    assert "Test Signer" in detail
    fails("no revocation data", h.validator([]).validate, h.ds.certificate, at=T0)


def test_revocation_off_needs_no_crls(h: Hierarchy) -> None:
    validator = h.validator([], revocation="off")
    path = validator.validate(h.ds.certificate, at=T0)
    assert path.revoked_at is None and path.crl_next_update is None
    # "off" ignores CRLs entirely
    revoking = h.crls(T0, ca_revokes=(h.ds.certificate,), when=T0)
    assert h.validator(revoking, revocation="off").validate(h.ds.certificate, at=T0 + DAY)


def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def pyhanko_validate(
    h: Hierarchy, crls: list[x509.CertificateRevocationList], moment: dt.datetime, **kwargs: object
) -> None:
    """The library alone, in require mode, as PathValidator calls it (minus our options)."""
    context = ValidationContext(
        trust_roots=[asn1(h.root.certificate)],
        other_certs=[asn1(h.ca.certificate)],
        crls=[
            asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in crls
        ],
        moment=moment,
        revocation_mode="require",
        **kwargs,  # type: ignore[arg-type]
    )
    validator = CertificateValidator(asn1(h.ds.certificate), validation_context=context)
    asyncio.run(validator.async_validate_path())


def test_pyhanko_revocation_time_and_freshness_semantics(h: Hierarchy) -> None:
    """Pins the library behaviour the module docstring describes (catches upgrades)."""
    # a CRL (usable from T0 - 1d) listing the DS as revoked at R
    listed = h.crls(T0 - DAY, ca_revokes=(h.ds.certificate,))
    pyhanko_validate(h, listed, T0)  # before the revocation date: passes
    with pytest.raises(pkix_errors.RevokedError):
        pyhanko_validate(h, listed, R + DAY)
    # a moment before the CRL's thisUpdate: "too recent", unless retroactive_revinfo
    later = h.crls(R + DAY, ca_revokes=(h.ds.certificate,))
    with pytest.raises(pkix_errors.InsufficientRevinfoError, match="too recent"):
        pyhanko_validate(h, later, T0)
    pyhanko_validate(h, later, T0, retroactive_revinfo=True)
    # a moment after the CRL's nextUpdate: stale, retroactive or not
    with pytest.raises(pkix_errors.StaleRevinfoError):
        pyhanko_validate(h, h.crls(T0 - DAY, days=7), T0 + 8 * DAY, retroactive_revinfo=True)
    # the trust anchor's own validity is not checked
    root = create_root_ca("Short Root", not_before=T0 - 30 * DAY, days=100)
    ca = create_issuing_ca(root, "CA under short root", not_before=T0 - 20 * DAY)
    short = Hierarchy(root, ca, create_document_signer(ca, "DS", not_before=T0 - DAY))
    after_root = T0 + 75 * DAY
    pyhanko_validate(short, short.crls(after_root - DAY), after_root)


def test_soft_fail_trap_confirmed(h: Hierarchy) -> None:
    """pyhanko's default revocation mode accepts a revoked certificate when given no CRL."""
    for mode in ("soft-fail", "hard-fail"):
        context = ValidationContext(
            trust_roots=[asn1(h.root.certificate)],
            other_certs=[asn1(h.ca.certificate)],
            crls=[],
            moment=R + DAY,
            revocation_mode=mode,
        )
        validator = CertificateValidator(asn1(h.ds.certificate), validation_context=context)
        asyncio.run(validator.async_validate_path())  # passes: nothing says it is revoked
    # ours refuses the same situation
    fails("no revocation data", h.validator([]).validate, h.ds.certificate, at=R + DAY)


def test_stale_crl(h: Hierarchy) -> None:
    validator = h.validator(h.crls(T0 - DAY, days=7))
    assert validator.validate(h.ds.certificate, at=T0 + 5 * DAY)
    detail = fails("no revocation data", validator.validate, h.ds.certificate, at=T0 + 8 * DAY)
    assert "stale" in detail


def test_crl_issued_after_the_moment_is_accepted(h: Hierarchy) -> None:
    """A CRL from now speaks for earlier moments too (pyhanko alone says 'too recent')."""
    validator = h.validator(h.crls(T0 + 20 * DAY))
    path = validator.validate(h.ds.certificate, at=T0)
    assert path.crl_next_update == T0 + 50 * DAY


# -- structure --------------------------------------------------------------------------------


def test_signer_with_wrong_key_usage(h: Hierarchy, fresh: PathValidator) -> None:
    bad = issue(
        h.ca,
        "CertSign Signer",
        not_before=T0 - DAY,
        key_usage={"key_cert_sign": True},
        eku=[ECARD_SIGNING_EKU],
    )
    detail = fails("key usage", fresh.validate, bad.certificate, at=T0)
    assert "CertSign Signer" in detail


def test_signer_without_ecard_eku(h: Hierarchy, fresh: PathValidator) -> None:
    for eku in (None, [ExtendedKeyUsageOID.CODE_SIGNING]):
        plain = issue(h.ca, "Plain Signer", not_before=T0 - DAY, eku=eku)
        fails("extended key usage", fresh.validate, plain.certificate, at=T0)
        # the EKU requirement can be lifted
        assert fresh.validate(plain.certificate, at=T0, eku=None)
    # and another EKU demanded
    fails(
        "extended key usage",
        fresh.validate,
        h.ds.certificate,
        at=T0,
        eku=x509.ObjectIdentifier("1.2.3.4"),
    )


def test_untrusted_root(h: Hierarchy, fresh: PathValidator) -> None:
    other = build(T0, "Other")
    detail = fails(
        "untrusted root",
        fresh.validate,
        other.ds.certificate,
        chain=[other.ca.certificate, other.root.certificate],
        at=T0,
    )
    assert "Other Root CA" in detail
    # a self-signed certificate offered as the signer
    fails("untrusted root", fresh.validate, issue_self_signed(), at=T0)


def issue_self_signed() -> x509.Certificate:
    """A self-signed certificate fit to sign cards, in no trust list."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lone Signer")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - DAY)
        .not_valid_after(T0 + 365 * DAY)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ECARD_SIGNING_EKU]), False)
        .sign(key, hashes.SHA256())
    )


def test_root_with_trusted_name_but_other_key(h: Hierarchy, fresh: PathValidator) -> None:
    twin = build(T0, "Test")  # same names, other keys
    detail = fails(
        "untrusted root", fresh.validate, twin.ds.certificate, chain=[twin.ca.certificate], at=T0
    )
    assert "Test Root CA" in detail


def test_broken_chain_missing_intermediate(h: Hierarchy) -> None:
    validator = PathValidator([h.root.certificate], crls=h.crls(T0 - DAY))
    detail = fails("broken chain", validator.validate, h.ds.certificate, at=T0)
    assert "Test Province CA" in detail


def test_issuer_that_is_not_a_ca(h: Hierarchy) -> None:
    # basicConstraints CA:FALSE, but used to issue a document signer anyway
    not_ca = issue(
        h.root,
        "Not A CA",
        not_before=T0 - 20 * DAY,
        key_usage={"digital_signature": True, "key_cert_sign": True, "crl_sign": True},
    )
    ds = issue(not_ca, "DS under non-CA", not_before=T0 - DAY, eku=[ECARD_SIGNING_EKU])
    crls = [create_crl(h.root, this_update=T0 - DAY), create_crl(not_ca, this_update=T0 - DAY)]
    validator = PathValidator([h.root.certificate], intermediates=[not_ca.certificate], crls=crls)
    detail = fails("not a CA", validator.validate, ds.certificate, at=T0)
    assert "Not A CA" in detail


def test_ca_without_key_cert_sign(h: Hierarchy) -> None:
    weak = issue(
        h.root, "CRL-only CA", not_before=T0 - 20 * DAY, ca=True, key_usage={"crl_sign": True}
    )
    ds = issue(weak, "DS under CRL-only CA", not_before=T0 - DAY, eku=[ECARD_SIGNING_EKU])
    crls = [create_crl(h.root, this_update=T0 - DAY), create_crl(weak, this_update=T0 - DAY)]
    validator = PathValidator([h.root.certificate], intermediates=[weak.certificate], crls=crls)
    detail = fails("key usage", validator.validate, ds.certificate, at=T0)
    assert "CRL-only CA" in detail


def test_path_length_violation(h: Hierarchy) -> None:
    # the issuing CA has pathlen 0, yet issues another CA that issues the signer
    sub = create_issuing_ca(h.ca, "Sub CA", not_before=T0 - 10 * DAY)
    ds = create_document_signer(sub, "Deep Signer", not_before=T0 - DAY)
    crls = [*h.crls(T0 - DAY), create_crl(sub, this_update=T0 - DAY)]
    validator = PathValidator(
        [h.root.certificate], intermediates=[h.ca.certificate, sub.certificate], crls=crls
    )
    detail = fails("path length", validator.validate, ds.certificate, at=T0)
    assert "Sub CA" in detail


# -- inputs -----------------------------------------------------------------------------------


def test_unusable_inputs(h: Hierarchy) -> None:
    with pytest.raises(BadCertificateError):
        PathValidator([])
    with pytest.raises(BadCertificateError):
        PathValidator([h.root.certificate], crls=[h.root.certificate])  # type: ignore[list-item]
    with pytest.raises(BadCertificateError):
        PathValidator(["not a certificate"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="revocation"):
        PathValidator([h.root.certificate], revocation="soft-fail")  # type: ignore[arg-type]


def test_load_crls(h: Hierarchy) -> None:
    crls = h.crls(T0)
    pem = b"".join(crl_to_pem(c) for c in crls)
    assert load_crls(pem) == crls
    der = crls[0].public_bytes(serialization.Encoding.DER)
    assert load_crls(der) == [crls[0]]
    for junk in (b"junk", b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"):
        with pytest.raises(BadCertificateError):
            load_crls(junk)


def test_load_crl_file(h: Hierarchy, tmp_path: Path) -> None:
    crls = h.crls(T0)
    pem = tmp_path / "crls.pem"
    pem.write_bytes(b"".join(crl_to_pem(c) for c in crls))
    der = tmp_path / "root.crl"
    der.write_bytes(crls[0].public_bytes(serialization.Encoding.DER))
    assert load_crl_file(pem) == crls and load_crl_file(der) == [crls[0]]
    (tmp_path / "junk.crl").write_bytes(b"junk")
    with pytest.raises(BadCertificateError, match=r"junk\.crl"):
        load_crl_file(tmp_path / "junk.crl")
    with pytest.raises(BadCertificateError, match="cannot read"):
        load_crl_file(tmp_path / "missing.crl")


def test_create_crl_defaults(h: Hierarchy) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    crl = create_crl(h.ca, [(1234, T0, x509.ReasonFlags.superseded), (h.ds.certificate, T0)])
    assert crl.is_signature_valid(h.ca.certificate.public_key())  # type: ignore[arg-type]
    assert crl.last_update_utc >= before
    assert crl.next_update_utc == crl.last_update_utc + 7 * DAY
    entry = crl.get_revoked_certificate_by_serial_number(1234)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        is x509.ReasonFlags.superseded
    )
    assert crl.get_revoked_certificate_by_serial_number(h.ds.certificate.serial_number) is not None


def test_a_naive_moment_is_a_type_error(h: Hierarchy, fresh: PathValidator) -> None:
    """A naive datetime has no zone: refused where it is passed, never guessed to be UTC."""
    with pytest.raises(TypeError, match="at must be timezone-aware"):
        fresh.validate(h.ds.certificate, at=(T0 + HOUR).replace(tzinfo=None))
    path = fresh.validate(h.ds.certificate, at=T0 + HOUR)
    assert path.validated_at == T0 + HOUR
    with pytest.raises(TypeError, match="when must be timezone-aware"):
        path.covers(T0.replace(tzinfo=None))
    assert path.covers(T0)


# -- keys cryptography cannot load (SM2) ------------------------------------------------------


def _openssl(cwd: Path, *args: str) -> None:
    run_ok(["openssl", *args], cwd=cwd)


def test_sm2_signer_key_under_ecdsa_ca(h: Hierarchy, tmp_path: Path) -> None:
    """The path of an SM2 signer under an ECDSA CA (made by the openssl CLI) validates, and the
    registry loads its SM2 key."""
    (tmp_path / "ca.key").write_bytes(h.ca.key_pem())
    (tmp_path / "ca.pem").write_bytes(h.ca.certificate_pem())
    (tmp_path / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={ECARD_SIGNING_EKU.dotted_string}\n"
    )
    _openssl(tmp_path, "genpkey", "-algorithm", "SM2", "-out", "sm2.key")
    _openssl(
        tmp_path,
        "req",
        "-new",
        "-key",
        "sm2.key",
        "-subj",
        "/C=CN/CN=SM2 Signer",
        "-sm3",
        "-out",
        "sm2.csr",
    )
    _openssl(
        tmp_path, "x509", "-req", "-in", "sm2.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-set_serial", "4242", "-days", "30", "-sha256", "-extfile", "ext.cnf", "-out", "sm2.pem",
    )  # fmt: skip
    cert = x509.load_pem_x509_certificate((tmp_path / "sm2.pem").read_bytes())
    key = certificate_public_key(cert)  # cryptography cannot; the registry's SM2 backend can
    assert isinstance(key, Sm2PublicKey)
    assert (
        key.der() == Sm2PrivateKey.from_pem((tmp_path / "sm2.key").read_bytes()).public_key().der()
    )
    now = dt.datetime.now(dt.UTC)
    path = h.validator(h.crls(now - HOUR)).validate(cert, at=now)
    assert path.leaf == cert


def test_sm2_chain_signed_with_the_empty_id_is_refused(tmp_path: Path) -> None:
    """OpenSSL 3 signs SM2 certificates with an *empty* distinguishing ID unless told
    ``-sigopt distid:1234567812345678``; GM/T 0015 certificates use the default ID, and so do
    we, so such a chain is a "broken chain" (typed, no crash). The same chain made with the
    default ID validates (tests/test_sm2_pki.py)."""
    _openssl(tmp_path, "genpkey", "-algorithm", "SM2", "-out", "root.key")
    _openssl(
        tmp_path, "req", "-new", "-x509", "-key", "root.key", "-subj", "/C=CN/CN=SM2 Root", "-sm3",
        "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem",
    )  # fmt: skip
    (tmp_path / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={ECARD_SIGNING_EKU.dotted_string}\n"
    )
    _openssl(tmp_path, "genpkey", "-algorithm", "SM2", "-out", "ds.key")
    _openssl(
        tmp_path,
        "req",
        "-new",
        "-key",
        "ds.key",
        "-subj",
        "/C=CN/CN=SM2 DS",
        "-sm3",
        "-out",
        "ds.csr",
    )
    _openssl(
        tmp_path, "x509", "-req", "-in", "ds.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-set_serial", "7", "-days", "30", "-sm3", "-extfile", "ext.cnf", "-out", "ds.pem",
    )  # fmt: skip
    root = x509.load_pem_x509_certificate((tmp_path / "root.pem").read_bytes())
    ds = x509.load_pem_x509_certificate((tmp_path / "ds.pem").read_bytes())
    validator = PathValidator([root], revocation="off")
    detail = fails("broken chain", validator.validate, ds, at=dt.datetime.now(dt.UTC))
    assert "SM2 DS" in detail


# -- batches ----------------------------------------------------------------------------------


def test_validate_all_matches_validate(h: Hierarchy) -> None:
    others = [
        create_document_signer(h.ca, f"Batch Signer {i}", not_before=T0 - DAY) for i in range(3)
    ]
    plain = issue(h.ca, "Batch Plain", not_before=T0 - DAY)
    stranger = build(T0, "Stranger")
    validator = h.validator(h.crls(R + DAY, ca_revokes=(others[1].certificate,)))
    leaves = [
        h.ds.certificate,
        *(o.certificate for o in others),
        plain.certificate,
        stranger.ds.certificate,
    ]
    results = validator.validate_all(leaves, at=T0)
    assert len(results) == len(leaves)
    for leaf, result in zip(leaves, results, strict=True):
        try:
            single: ValidatedPath | IssuerCertInvalidError = validator.validate(leaf, at=T0)
        except IssuerCertInvalidError as exc:
            single = exc
        if isinstance(single, ValidatedPath):
            assert result == single
        else:
            assert isinstance(result, IssuerCertInvalidError) and result.detail == single.detail
    assert isinstance(results[2], ValidatedPath) and results[2].revoked_at == R
    assert isinstance(results[4], IssuerCertInvalidError)
    assert results[4].detail.startswith("extended key usage:")
    assert isinstance(results[5], IssuerCertInvalidError)
    assert results[5].detail.startswith("broken chain:")
    # after the revocation the revoked signer fails, the others still pass
    later = validator.validate_all(leaves[:4], at=R + 2 * DAY)
    assert [isinstance(r, ValidatedPath) for r in later] == [True, True, False, True]


@given(
    start=st.integers(0, 10_000),
    length=st.integers(0, 10_000),
    revoked=st.none() | st.integers(-100, 20_000),
    micro=st.integers(0, 999_999),
    probe=st.integers(-200, 20_200),
)
def test_covers_ts_agrees_with_covers(
    h: Hierarchy, start: int, length: int, revoked: int | None, micro: int, probe: int
) -> None:
    base = T0 + dt.timedelta(microseconds=micro)
    path = ValidatedPath(
        certificates=(h.ds.certificate,),
        valid_from=base + dt.timedelta(seconds=start),
        valid_until=base + dt.timedelta(seconds=start + length),
        revoked_at=None if revoked is None else base + dt.timedelta(seconds=revoked),
    )
    ts = int(T0.timestamp()) + probe
    assert path.covers_ts(ts) == path.covers(dt.datetime.fromtimestamp(ts, dt.UTC))

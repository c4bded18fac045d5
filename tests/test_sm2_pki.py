"""SM2 certificates and CRLs: our builders, path validation, mixed hierarchies, openssl interop.

Real SM2 keys (system libcrypto), real signatures, real path validation; the openssl CLI checks
what we make and makes chains we check. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import (
    algos,  # type: ignore[import-untyped, unused-ignore]
    keys,  # type: ignore[import-untyped, unused-ignore]
)
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from tests.conftest import T0
from tests.pkitools import DAY, Hierarchy, R, build, fails, key_usage

from ecard.card import Card
from ecard.cli import main, sample_card
from ecard.crypto.algorithms import (
    SM2_WITH_SM3_OID,
    certificate_public_key,
    certificate_spki,
    public_key_der,
)
from ecard.crypto.crl import load_crl_file, path_revocation
from ecard.crypto.sm2 import DEFAULT_ID, Sm2PublicKey, der_to_raw, raw_to_der
from ecard.crypto.sm2 import backend as sm2_module
from ecard.crypto.x509 import (
    ECARD_LIST_SIGNING_EKU,
    ECARD_SIGNING_EKU,
    key_identifier,
    load_certificate_file,
)
from ecard.crypto.x509sig import SIGNATURE_VALIDATOR, is_signed_by
from ecard.errors import BadKeyError, ErrorCode
from ecard.formats import qrtext
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    certify_end_entity,
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
    generate_private_key,
    private_key_to_pem,
)
from ecard.signing.signers import PrivateKey
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.signing.x509build import build_certificate, build_crl
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

ID_OPT = "distid:" + DEFAULT_ID.decode()
DER = serialization.Encoding.DER


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    """An all-SM2 hierarchy around T0."""
    return build(T0, "SM2", ("SM2", "SM2", "SM2"))


@pytest.fixture(scope="module")
def fresh(h: Hierarchy) -> PathValidator:
    return h.validator(h.crls(T0 - DAY))


def flip_last_byte(der: bytes) -> bytes:
    """The last byte of a certificate or CRL lies in its signature value."""
    return der[:-1] + bytes([der[-1] ^ 0x01])


def altered_cert(cert: x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(flip_last_byte(cert.public_bytes(DER)))


def altered_crl(crl: x509.CertificateRevocationList) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(flip_last_byte(crl.public_bytes(DER)))


def name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, cn),
        ]
    )


def issue(
    issuer: CertifiedKey,
    cn: str,
    *,
    not_before: dt.datetime,
    ca: bool,
    usage: x509.KeyUsage,
    eku: x509.ObjectIdentifier | None = None,
) -> CertifiedKey:
    """An SM2 certificate of a shape pki.py refuses to make, built directly."""
    key = Sm2PrivateKey.generate()
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.SubjectKeyIdentifier(key_identifier(key.public_key().der())), False),
        (
            x509.AuthorityKeyIdentifier(
                key_identifier(public_key_der(issuer.key.public_key())), None, None
            ),
            False,
        ),
        (x509.BasicConstraints(ca=ca, path_length=None), True),
        (usage, True),
    ]
    if eku is not None:
        exts.append((x509.ExtendedKeyUsage([eku]), False))
    cert = build_certificate(
        issuer_key=issuer.key,
        issuer_name=issuer.certificate.subject,
        subject_name=name(cn),
        subject_key=key.public_key(),
        serial_number=x509.random_serial_number(),
        not_before=not_before,
        not_after=not_before + 365 * DAY,
        extensions=exts,
    )
    return CertifiedKey(key=key, certificate=cert, chain=(issuer.certificate, *issuer.chain))


def openssl(cwd: Path, *args: str | Path) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"openssl {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout


def openssl_fails(cwd: Path, *args: str | Path) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0, f"openssl {' '.join(map(str, args))} unexpectedly succeeded"
    return done.stdout + done.stderr


# -- keys and certificates from pki.py --------------------------------------------------------


def test_generate_sm2_key_and_pem(tmp_path: Path) -> None:
    key = generate_private_key("SM2")
    assert isinstance(key, Sm2PrivateKey)
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = Sm2PrivateKey.from_pem(pem)
    assert again.public_key().der() == key.public_key().der()
    encrypted = private_key_to_pem(key, b"secret")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert Sm2PrivateKey.from_pem(encrypted, b"secret").public_key().der() == (
        key.public_key().der()
    )
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(encrypted, b"wrong")


def test_certified_key_pem(h: Hierarchy) -> None:
    loaded = Sm2PrivateKey.from_pem(h.ds.key_pem())
    assert loaded.public_key().der() == certificate_spki(h.ds.certificate)
    enc = h.ds.key_pem(b"pw")
    assert b"ENCRYPTED" in enc
    assert Sm2PrivateKey.from_pem(enc, b"pw").public_key().der() == loaded.public_key().der()


def _ext(
    cert: x509.Certificate, cls: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(cls)


@pytest.mark.parametrize("which", ["root", "ca", "ds"])
def test_sm2_certificate_profile(h: Hierarchy, which: str) -> None:
    holder: CertifiedKey = getattr(h, which)
    issuer = {"root": h.root, "ca": h.root, "ds": h.ca}[which]
    cert = holder.certificate
    assert cert.version is x509.Version.v3
    assert cert.signature_algorithm_oid.dotted_string == SM2_WITH_SM3_OID
    assert cert.serial_number > 0
    # the inner algorithm identifier is the outer one, without parameters
    parsed = asn1_x509.Certificate.load(cert.public_bytes(DER))
    assert parsed["tbs_certificate"]["signature"].dump() == parsed["signature_algorithm"].dump()
    assert parsed["signature_algorithm"].dump() == bytes.fromhex("300a06082a811ccf55018375")
    # the key is the holder's SM2 key, loaded through the registry
    pub = certificate_public_key(cert)
    assert isinstance(pub, Sm2PublicKey)
    assert pub.der() == public_key_der(holder.key.public_key())
    # SKI and AKI
    ski = _ext(cert, x509.SubjectKeyIdentifier)
    assert not ski.critical
    assert isinstance(ski.value, x509.SubjectKeyIdentifier)
    assert ski.value.digest == key_identifier(pub.der())
    if which != "root":
        aki = _ext(cert, x509.AuthorityKeyIdentifier).value
        assert isinstance(aki, x509.AuthorityKeyIdentifier)
        issuer_ski = _ext(issuer.certificate, x509.SubjectKeyIdentifier).value
        assert isinstance(issuer_ski, x509.SubjectKeyIdentifier)
        assert aki.key_identifier == issuer_ski.digest
        assert cert.issuer == issuer.certificate.subject
    else:
        assert cert.issuer == cert.subject
    bc = _ext(cert, x509.BasicConstraints)
    ku = _ext(cert, x509.KeyUsage)
    assert bc.critical and ku.critical
    assert isinstance(bc.value, x509.BasicConstraints)
    assert isinstance(ku.value, x509.KeyUsage)
    if which == "ds":
        assert not bc.value.ca
        assert ku.value.digital_signature and not ku.value.key_cert_sign
        eku = _ext(cert, x509.ExtendedKeyUsage).value
        assert isinstance(eku, x509.ExtendedKeyUsage)
        assert list(eku) == [ECARD_SIGNING_EKU]
        assert cert.not_valid_before_utc == (T0 - DAY).replace(microsecond=0)
        assert cert.not_valid_after_utc == cert.not_valid_before_utc + 730 * DAY
    else:
        assert bc.value.ca and bc.value.path_length == (None if which == "root" else 0)
        assert ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    # the signature is SM2 over the TBS bytes with the GM/T 0015 default ID, not another one
    issuer_key = issuer.key.public_key()
    assert isinstance(issuer_key, Sm2PublicKey)
    raw = der_to_raw(cert.signature)
    assert issuer_key.verify(raw, cert.tbs_certificate_bytes, uid=DEFAULT_ID)
    assert not issuer_key.verify(raw, cert.tbs_certificate_bytes, uid=b"")


def test_list_signer_and_end_entity_for_sm2(h: Hierarchy) -> None:
    lister = create_list_signer(h.ca, "SM2 List Signer", algorithm="SM2")
    eku = _ext(lister.certificate, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage) and list(eku) == [ECARD_LIST_SIGNING_EKU]
    assert is_signed_by(lister.certificate, h.ca.certificate)
    # an SM2 key whose private half is elsewhere, under an ES256 CA and under an SM2 CA
    outside = Sm2PrivateKey.generate().public_key()
    es_root = create_root_ca("ES256 Root")
    for ca in (es_root, h.ca):
        cert = certify_end_entity(ca, outside, "Outside SM2 Key", non_repudiation=True)
        assert certificate_spki(cert) == outside.der()
        assert is_signed_by(cert, ca.certificate)
        usage = _ext(cert, x509.KeyUsage).value
        assert isinstance(usage, x509.KeyUsage) and usage.content_commitment


# -- our builder against cryptography's ------------------------------------------------------


def _keys() -> list[PrivateKey]:
    return [
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        ed25519.Ed25519PrivateKey.generate(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ]


def test_key_identifier_matches_cryptography() -> None:
    for key in _keys():
        assert not isinstance(key, Sm2PrivateKey)
        pub = key.public_key()
        expected = x509.SubjectKeyIdentifier.from_public_key(pub).digest
        assert key_identifier(public_key_der(pub)) == expected


@pytest.mark.parametrize("index", range(4), ids=["ES256", "ES384", "Ed25519", "RSA"])
def test_builders_match_cryptography_byte_for_byte(index: int) -> None:
    """Same inputs, same TBS bytes: the asn1crypto builders write what cryptography writes."""
    key = _keys()[index]
    assert not isinstance(key, Sm2PrivateKey)
    digest = (
        None
        if isinstance(key, ed25519.Ed25519PrivateKey)
        else hashes.SHA384()
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256
        else hashes.SHA256()
    )
    subject = ec.generate_private_key(ec.SECP256R1()).public_key()
    start = dt.datetime(2026, 3, 1, 8, 0, 0, tzinfo=dt.UTC)
    end = dt.datetime(2051, 1, 1, tzinfo=dt.UTC)  # GeneralizedTime from 2050 on
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.SubjectKeyIdentifier.from_public_key(subject), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (key_usage(digital_signature=True), True),
        (x509.ExtendedKeyUsage([ECARD_SIGNING_EKU]), False),
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name("Subject"))
        .issuer_name(name("Issuer"))
        .public_key(subject)
        .serial_number(0x1234567890ABCDEF)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for ext, critical in exts:
        builder = builder.add_extension(ext, critical)
    theirs = builder.sign(key, digest)
    ours = build_certificate(
        issuer_key=key,
        issuer_name=name("Issuer"),
        subject_name=name("Subject"),
        subject_key=subject,
        serial_number=0x1234567890ABCDEF,
        not_before=start,
        not_after=end,
        extensions=exts,
    )
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    # cryptography checks our signature with the issuer's key
    issuer_cert = (
        x509.CertificateBuilder()
        .subject_name(name("Issuer"))
        .issuer_name(name("Issuer"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, digest)
    )
    ours.verify_directly_issued_by(issuer_cert)
    assert is_signed_by(ours, issuer_cert)
    assert not is_signed_by(altered_cert(ours), issuer_cert)

    # CRLs
    entries = [
        (7, R, [(x509.CRLReason(x509.ReasonFlags.key_compromise), False)]),
        (8, R + DAY, []),
    ]
    crl_exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.CRLNumber(5), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
    ]
    crl_builder = x509.CertificateRevocationListBuilder().issuer_name(name("Issuer"))
    crl_builder = crl_builder.last_update(start).next_update(start + 7 * DAY)
    for ext, critical in crl_exts:
        crl_builder = crl_builder.add_extension(ext, critical)
    for serial, when, entry_exts in entries:
        rb = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        for ext, critical in entry_exts:
            rb = rb.add_extension(ext, critical)
        crl_builder = crl_builder.add_revoked_certificate(rb.build())
    their_crl = crl_builder.sign(key, digest)
    our_crl = build_crl(
        issuer_key=key,
        issuer_name=name("Issuer"),
        this_update=start,
        next_update=start + 7 * DAY,
        entries=entries,
        extensions=crl_exts,
    )
    assert our_crl.tbs_certlist_bytes == their_crl.tbs_certlist_bytes
    pub = key.public_key()
    assert our_crl.is_signature_valid(pub)
    assert is_signed_by(our_crl, issuer_cert)
    assert not is_signed_by(altered_crl(our_crl), issuer_cert)


def test_empty_crl_and_crl_reason_entries(h: Hierarchy) -> None:
    empty = create_crl(h.ca, this_update=T0, days=3, number=9)
    assert len(empty) == 0
    assert empty.signature_algorithm_oid.dotted_string == SM2_WITH_SM3_OID
    assert empty.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 9
    assert empty.next_update_utc == T0 + 3 * DAY
    aki = empty.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = _ext(h.ca.certificate, x509.SubjectKeyIdentifier).value
    assert isinstance(ski, x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.digest
    crl = create_crl(
        h.ca,
        [
            (h.ds.certificate, R, x509.ReasonFlags.superseded),
            (12345, R + DAY),
            (777, R, x509.ReasonFlags.unspecified),
        ],
        this_update=T0,
    )
    entry = crl.get_revoked_certificate_by_serial_number(h.ds.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == R
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value
    assert reason.reason is x509.ReasonFlags.superseded
    plain = crl.get_revoked_certificate_by_serial_number(12345)
    assert plain is not None and len(plain.extensions) == 0
    unspecified = crl.get_revoked_certificate_by_serial_number(777)
    assert unspecified is not None and len(unspecified.extensions) == 0  # as cryptography path
    assert is_signed_by(crl, h.ca.certificate)
    assert not is_signed_by(crl, h.root.certificate)


# -- path validation --------------------------------------------------------------------------


def test_sm2_hierarchy_validates(h: Hierarchy, fresh: PathValidator) -> None:
    path = fresh.validate(h.ds.certificate, at=T0)
    assert path.certificates == (h.ds.certificate, h.ca.certificate, h.root.certificate)
    assert path.revoked_at is None
    assert path.crl_next_update == T0 + 29 * DAY
    assert path.valid_from == h.ds.certificate.not_valid_before_utc
    assert is_signed_by(h.ds.certificate, h.ca.certificate)
    assert is_signed_by(h.ca.certificate, h.root.certificate)
    assert is_signed_by(h.root.certificate, h.root.certificate)
    assert not is_signed_by(h.ds.certificate, h.root.certificate)


MIXES = [
    ("SM2", "SM2", "ES256"),
    ("ES256", "ES256", "SM2"),
    ("ES256", "SM2", "ES256"),
    ("SM2", "ES256", "SM2"),
    ("SM2", "EdDSA", "ES384"),
    ("PS256", "SM2", "EdDSA"),
]


@pytest.mark.parametrize("algs", MIXES, ids=["-".join(m) for m in MIXES])
def test_mixed_hierarchies(algs: tuple[str, str, str]) -> None:
    mixed = build(T0, "Mixed", algs)
    assert is_signed_by(mixed.ds.certificate, mixed.ca.certificate)
    assert is_signed_by(mixed.ca.certificate, mixed.root.certificate)
    assert not is_signed_by(mixed.ca.certificate, mixed.ds.certificate)
    validator = mixed.validator(
        mixed.crls(
            T0 - DAY, ca_revokes=(mixed.ds.certificate,), ca_reason=x509.ReasonFlags.key_compromise
        )
    )
    path = validator.validate(mixed.ds.certificate, at=T0)
    assert path.certificates[0] == mixed.ds.certificate
    assert path.revoked_at == R and path.revocation_reason == "key_compromise"
    fails("revoked", validator.validate, mixed.ds.certificate, at=R + DAY)
    # a broken signature anywhere in the mix is a broken chain
    broken = PathValidator(
        [mixed.root.certificate],
        intermediates=[altered_cert(mixed.ca.certificate)],
        crls=mixed.crls(T0 - DAY),
    )
    fails("broken chain", broken.validate, mixed.ds.certificate, at=T0)


def test_altered_signature_is_broken_chain(h: Hierarchy, fresh: PathValidator) -> None:
    detail = fails("broken chain", fresh.validate, altered_cert(h.ds.certificate), at=T0)
    assert "SM2 Signer" in detail and "signature" in detail
    forged_ca = PathValidator(
        [h.root.certificate],
        intermediates=[altered_cert(h.ca.certificate)],
        crls=h.crls(T0 - DAY),
    )
    detail = fails("broken chain", forged_ca.validate, h.ds.certificate, at=T0)
    assert "SM2 Province CA" in detail


def test_altered_tbs_is_broken_chain(h: Hierarchy, fresh: PathValidator) -> None:
    """Change the signed content (the serial number), keep the signature: a forgery."""
    parsed = asn1_x509.Certificate.load(h.ds.certificate.public_bytes(DER))
    parsed["tbs_certificate"]["serial_number"] = h.ds.certificate.serial_number + 1
    forged = x509.load_der_x509_certificate(parsed.dump(force=True))
    assert forged.signature == h.ds.certificate.signature
    assert not is_signed_by(forged, h.ca.certificate)
    fails("broken chain", fresh.validate, forged, at=T0)


def test_signed_by_impostor_key_with_the_right_names(h: Hierarchy, fresh: PathValidator) -> None:
    """A CA with the real CA's name but its own SM2 key issues a signer."""
    impostor = CertifiedKey(
        key=Sm2PrivateKey.generate(), certificate=h.ca.certificate, chain=h.ca.chain
    )
    fake = create_document_signer(impostor, "SM2 Signer", algorithm="SM2", not_before=T0 - DAY)
    assert not is_signed_by(fake.certificate, h.ca.certificate)
    fails("broken chain", fresh.validate, fake.certificate, at=T0)


def test_revoked_signer_by_sm2_crl(h: Hierarchy) -> None:
    validator = h.validator(
        h.crls(T0 - DAY, ca_revokes=(h.ds.certificate,), ca_reason=x509.ReasonFlags.key_compromise)
    )
    path = validator.validate(h.ds.certificate, at=T0)
    assert path.revoked_at == R
    assert path.revocation_reason == "key_compromise"
    assert not path.covers(R) and path.covers(R - DAY)
    detail = fails("revoked", validator.validate, h.ds.certificate, at=R + DAY)
    assert "SM2 Signer" in detail and "key_compromise" in detail


def test_revoked_ca_by_sm2_root_crl(h: Hierarchy) -> None:
    validator = h.validator(
        h.crls(
            T0 - DAY, root_revokes=(h.ca.certificate,), root_reason=x509.ReasonFlags.ca_compromise
        )
    )
    assert validator.validate(h.ds.certificate, at=T0).revoked_at == R
    detail = fails("revoked", validator.validate, h.ds.certificate, at=R + DAY)
    assert "SM2 Province CA" in detail and "ca_compromise" in detail


def test_crl_with_bad_sm2_signature_is_not_counted(h: Hierarchy) -> None:
    good = h.crls(T0 - DAY)
    revoking = create_crl(h.ca, [(h.ds.certificate, R)], this_update=T0 - DAY, days=30)
    forged = altered_crl(revoking)
    assert is_signed_by(revoking, h.ca.certificate)
    assert not is_signed_by(forged, h.ca.certificate)
    # alongside valid CRLs, the forged revocation is not believed
    path = h.validator([*good, forged]).validate(h.ds.certificate, at=T0)
    assert path.revoked_at is None
    # the genuine one is
    assert h.validator([*good, revoking]).validate(h.ds.certificate, at=T0).revoked_at == R
    # alone, the forged CRL is no revocation data at all
    fails("no revocation data", h.validator([good[0], forged]).validate, h.ds.certificate, at=T0)


def test_crl_from_impostor_sm2_key_is_not_counted(h: Hierarchy) -> None:
    impostor = CertifiedKey(
        key=Sm2PrivateKey.generate(), certificate=h.ca.certificate, chain=h.ca.chain
    )
    fake = create_crl(impostor, [(h.ds.certificate, R)], this_update=T0 - DAY, days=30)
    assert fake.issuer == h.ca.certificate.subject
    assert not is_signed_by(fake, h.ca.certificate)
    path = h.validator([*h.crls(T0 - DAY), fake]).validate(h.ds.certificate, at=T0)
    assert path.revoked_at is None


def test_stale_and_missing_sm2_crls(h: Hierarchy) -> None:
    validator = h.validator(h.crls(T0 - DAY, days=7))
    assert validator.validate(h.ds.certificate, at=T0 + 5 * DAY)
    detail = fails("no revocation data", validator.validate, h.ds.certificate, at=T0 + 8 * DAY)
    assert "stale" in detail
    only_root = h.validator(h.crls(T0 - DAY)[:1])
    fails("no revocation data", only_root.validate, h.ds.certificate, at=T0)


def test_expired_and_not_yet_valid(h: Hierarchy, fresh: PathValidator) -> None:
    detail = fails("expired", fresh.validate, h.ds.certificate, at=T0 + 800 * DAY)
    assert "SM2 Signer" in detail
    detail = fails("not yet valid", fresh.validate, h.ds.certificate, at=T0 - 2 * DAY)
    assert "SM2 Signer" in detail


def test_untrusted_sm2_root(h: Hierarchy, fresh: PathValidator) -> None:
    other = build(T0, "Other", ("SM2", "SM2", "SM2"))
    detail = fails(
        "untrusted root",
        fresh.validate,
        other.ds.certificate,
        chain=[other.ca.certificate, other.root.certificate],
        at=T0,
    )
    assert "Other Root CA" in detail
    twin = build(T0, "SM2", ("SM2", "SM2", "SM2"))  # same names, other keys
    fails("untrusted root", fresh.validate, twin.ds.certificate, chain=[twin.ca.certificate], at=T0)


def _validator_with(h: Hierarchy, ca: CertifiedKey) -> PathValidator:
    crls = [create_crl(h.root, this_update=T0 - DAY), create_crl(ca, this_update=T0 - DAY)]
    return PathValidator([h.root.certificate], intermediates=[ca.certificate], crls=crls)


def test_sm2_ca_without_key_cert_sign(h: Hierarchy) -> None:
    weak = issue(
        h.root, "CRL-only CA", not_before=T0 - 20 * DAY, ca=True, usage=key_usage(crl_sign=True)
    )
    ds = create_document_signer(weak, "DS under CRL-only CA", algorithm="SM2", not_before=T0 - DAY)
    detail = fails("key usage", _validator_with(h, weak).validate, ds.certificate, at=T0)
    assert "CRL-only CA" in detail


def test_sm2_issuer_that_is_not_a_ca(h: Hierarchy) -> None:
    not_ca = issue(
        h.root,
        "Not A CA",
        not_before=T0 - 20 * DAY,
        ca=False,
        usage=key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
    )
    ds = create_document_signer(not_ca, "DS under non-CA", algorithm="SM2", not_before=T0 - DAY)
    detail = fails("not a CA", _validator_with(h, not_ca).validate, ds.certificate, at=T0)
    assert "Not A CA" in detail


def test_sm2_leaf_usage(h: Hierarchy, fresh: PathValidator) -> None:
    cert_sign = issue(
        h.ca,
        "CertSign Signer",
        not_before=T0 - DAY,
        ca=False,
        usage=key_usage(key_cert_sign=True),
        eku=ECARD_SIGNING_EKU,
    )
    fails("key usage", fresh.validate, cert_sign.certificate, at=T0)
    no_eku = issue(
        h.ca, "No EKU", not_before=T0 - DAY, ca=False, usage=key_usage(digital_signature=True)
    )
    fails("extended key usage", fresh.validate, no_eku.certificate, at=T0)
    assert fresh.validate(no_eku.certificate, at=T0, eku=None)
    lister = create_list_signer(h.ca, "SM2 Lister", algorithm="SM2", not_before=T0 - DAY)
    fails("extended key usage", fresh.validate, lister.certificate, at=T0)
    assert fresh.validate(lister.certificate, at=T0, eku=ECARD_LIST_SIGNING_EKU)


def test_sm2_path_length(h: Hierarchy) -> None:
    sub = create_issuing_ca(h.ca, "SM2 Sub CA", algorithm="SM2", not_before=T0 - 10 * DAY)
    ds = create_document_signer(sub, "Deep Signer", algorithm="SM2", not_before=T0 - DAY)
    crls = [*h.crls(T0 - DAY), create_crl(sub, this_update=T0 - DAY)]
    validator = PathValidator(
        [h.root.certificate], intermediates=[h.ca.certificate, sub.certificate], crls=crls
    )
    detail = fails("path length", validator.validate, ds.certificate, at=T0)
    assert "SM2 Sub CA" in detail


def test_signature_validator_refuses_mismatches(h: Hierarchy) -> None:
    """SM2-with-SM3 needs an SM2 key, and an SM2 key signs only with SM2-with-SM3."""

    data = b"tbs"
    sm2_alg = algos.SignedDigestAlgorithm({"algorithm": SM2_WITH_SM3_OID})
    ecdsa_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    assert isinstance(h.ds.key, Sm2PrivateKey)
    sig = h.ds.key.sign(data)

    sm2_info = keys.PublicKeyInfo.load(h.ds.key.public_key().der())
    SIGNATURE_VALIDATOR.validate_signature(raw_to_der(sig), data, sm2_info, sm2_alg)
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(raw_to_der(sig), data + b"!", sm2_info, sm2_alg)
    with pytest.raises(InvalidSignature):  # same signature under another algorithm name
        SIGNATURE_VALIDATOR.validate_signature(raw_to_der(sig), data, sm2_info, ecdsa_alg)
    with pytest.raises(InvalidSignature):  # garbage instead of DER
        SIGNATURE_VALIDATOR.validate_signature(b"\x01\x02", data, sm2_info, sm2_alg)
    p256 = ec.generate_private_key(ec.SECP256R1())
    p256_info = keys.PublicKeyInfo.load(public_key_der(p256.public_key()))
    ecdsa_sig = p256.sign(data, ec.ECDSA(hashes.SHA256()))
    SIGNATURE_VALIDATOR.validate_signature(ecdsa_sig, data, p256_info, ecdsa_alg)  # delegated
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(ecdsa_sig, data, p256_info, sm2_alg)


def test_audit_crl_revocation_checks_sm2_signatures(h: Hierarchy) -> None:

    path = [h.ds.certificate, h.ca.certificate, h.root.certificate]
    genuine = create_crl(h.ca, [(h.ds.certificate, R)], this_update=T0)
    found = path_revocation(path, [genuine])
    assert found is not None and found.at == R
    assert path_revocation(path, [altered_crl(genuine)]) is None


def test_sm2_card_verifies_end_to_end_under_sm2_hierarchy(h: Hierarchy, card: Card) -> None:
    """A card signed by an SM2 signer whose SM2 path, with SM2 CRLs, the trust store checks."""
    issuer = Issuer(h.ds.signer(), h.ds.certificate)
    before = issuer.issue(card, iat=T0 + DAY, exp=T0 + 30 * DAY)
    after = issuer.issue(card, iat=R + DAY, exp=T0 + 30 * DAY)
    crls = h.crls(
        T0 - DAY, ca_revokes=(h.ds.certificate,), ca_reason=x509.ReasonFlags.key_compromise
    )
    store = TrustStore([h.ds.certificate], validator=h.validator(crls))
    verifier = Verifier(store, Policy(clock=lambda: R + 2 * DAY))
    ok = verifier.verify(before.text)
    assert ok.code is ErrorCode.OK, ok.detail
    assert ok.alg == "SM2"
    late = verifier.verify(after.text)  # issued after the signer's revocation
    assert late.code is ErrorCode.ISSUER_CERT_INVALID
    assert "revoked" in late.detail, late.detail
    # a signer whose SM2 path is broken is unfit: its cards are refused with the reason
    broken = TrustStore(
        [h.ds.certificate],
        validator=PathValidator(
            [h.root.certificate], intermediates=[altered_cert(h.ca.certificate)], crls=crls
        ),
    )
    refused = Verifier(broken, Policy(clock=lambda: T0 + 2 * DAY)).verify(before.text)
    assert refused.code is ErrorCode.ISSUER_CERT_INVALID
    assert "broken chain" in refused.detail


# -- openssl interop --------------------------------------------------------------------------


def _write(tmp_path: Path, h: Hierarchy, crl: x509.CertificateRevocationList) -> None:
    (tmp_path / "root.pem").write_bytes(h.root.certificate_pem())
    (tmp_path / "ca.pem").write_bytes(h.ca.certificate_pem())
    (tmp_path / "ds.pem").write_bytes(h.ds.certificate_pem())
    (tmp_path / "ca.crl").write_bytes(crl_to_pem(crl))


def test_openssl_reads_our_sm2_certificates_and_crl(h: Hierarchy, tmp_path: Path) -> None:
    crl = create_crl(h.ca, [(h.ds.certificate, R, x509.ReasonFlags.key_compromise)], number=4)
    _write(tmp_path, h, crl)
    text = openssl(tmp_path, "x509", "-in", "ds.pem", "-noout", "-text")
    assert "Signature Algorithm: SM2-with-SM3" in text
    assert "ASN1 OID: SM2" in text
    assert ECARD_SIGNING_EKU.dotted_string in text
    text = openssl(tmp_path, "crl", "-in", "ca.crl", "-noout", "-text")
    assert "Signature Algorithm: SM2-with-SM3" in text
    assert "Key Compromise" in text
    assert f"{h.ds.certificate.serial_number:X}" in text.replace(":", "").upper()


def test_openssl_verify_accepts_our_sm2_chain(h: Hierarchy, tmp_path: Path) -> None:
    """OpenSSL 3 takes ``-vfyopt distid:`` for the target certificate's signature only
    (openssl/openssl#23471), so the chain is checked one link at a time, each link with the
    GM/T 0015 ID."""
    _write(tmp_path, h, create_crl(h.ca))
    when = str(int((T0 + DAY).timestamp()))
    common = ["-attime", when, "-vfyopt", ID_OPT]
    assert "ca.pem: OK" in openssl(tmp_path, "verify", *common, "-CAfile", "root.pem", "ca.pem")
    out = openssl(tmp_path, "verify", *common, "-partial_chain", "-CAfile", "ca.pem", "ds.pem")
    assert "ds.pem: OK" in out
    # openssl really checks the signature: with another ID, or with a flipped bit, it fails
    other_id = ["-attime", when, "-vfyopt", "distid:ALICE123@YAHOO.COM"]
    fails_out = openssl_fails(tmp_path, "verify", *other_id, "-CAfile", "root.pem", "ca.pem")
    assert "signature failure" in fails_out
    (tmp_path / "bad.pem").write_bytes(
        altered_cert(h.ca.certificate).public_bytes(serialization.Encoding.PEM)
    )
    openssl_fails(tmp_path, "verify", *common, "-CAfile", "root.pem", "bad.pem")


def _pkeyutl_verify(tmp_path: Path, issuer: x509.Certificate, tbs: bytes, sig: bytes) -> bool:
    key = certificate_public_key(issuer)
    assert isinstance(key, Sm2PublicKey)
    (tmp_path / "issuer.pub").write_bytes(key.pem())
    (tmp_path / "tbs.der").write_bytes(tbs)
    (tmp_path / "sig.der").write_bytes(sig)
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "issuer.pub", "-rawin",
         "-digest", "sm3", "-pkeyopt", ID_OPT, "-in", "tbs.der", "-sigfile", "sig.der"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode == 0 and "Signature Verified Successfully" in done.stdout


def test_openssl_verifies_our_crl_and_root_signatures(h: Hierarchy, tmp_path: Path) -> None:
    """``openssl crl -verify`` and ``-check_ss_sig`` cannot be given the SM2 ID in OpenSSL 3.0
    (they verify with an empty ID), so the CRL's and the root's signatures are checked with
    ``openssl pkeyutl`` over the TBS bytes, with the GM/T 0015 ID."""
    crl = create_crl(h.ca, [(h.ds.certificate, R)], this_update=T0)
    assert _pkeyutl_verify(tmp_path, h.ca.certificate, crl.tbs_certlist_bytes, crl.signature)
    assert _pkeyutl_verify(
        tmp_path, h.root.certificate, h.root.certificate.tbs_certificate_bytes,
        h.root.certificate.signature,
    )  # fmt: skip
    bad = altered_crl(crl)
    assert not _pkeyutl_verify(tmp_path, h.ca.certificate, bad.tbs_certlist_bytes, bad.signature)
    assert not _pkeyutl_verify(tmp_path, h.root.certificate, crl.tbs_certlist_bytes, crl.signature)


_CA_CNF = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
database = {p}index.txt
crlnumber = {p}crlnumber
serial = {p}serial
new_certs_dir = .
default_md = sm3
policy = pol
unique_subject = no
[ pol ]
countryName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_ds ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = {eku}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl_chain(tmp_path: Path, distid: str) -> None:
    """root -> CA -> DS made by ``openssl ca`` signing with the SM2 ID ``distid``, with CRLs;
    DS revoked (keyCompromise) now."""
    sigopts = ["-sigopt", f"distid:{distid}"]
    vfy = ["-vfyopt", f"distid:{distid}"]  # the CSRs' signatures
    for prefix, serial in (("root-", "1000"), ("ca-", "2000")):
        (tmp_path / f"{prefix}ca.cnf").write_text(
            _CA_CNF.format(p=prefix, eku=ECARD_SIGNING_EKU.dotted_string)
        )
        (tmp_path / f"{prefix}index.txt").write_text("")
        (tmp_path / f"{prefix}crlnumber").write_text("01\n")
        (tmp_path / f"{prefix}serial").write_text(serial + "\n")
    now = dt.datetime.now(dt.UTC)

    def stamp(when: dt.datetime) -> str:
        return when.strftime("%Y%m%d%H%M%SZ")

    def run(*args: str) -> None:
        openssl(tmp_path, *args)

    for who in ("root", "ca", "ds"):
        run("genpkey", "-algorithm", "SM2", "-out", f"{who}.key")
        cn = {"root": "OpenSSL SM2 Root", "ca": "OpenSSL SM2 CA", "ds": "OpenSSL SM2 Signer"}
        run("req", "-new", "-key", f"{who}.key", "-subj", f"/C=CN/CN={cn[who]}", "-sm3",
            *sigopts, "-out", f"{who}.csr")  # fmt: skip
    run("ca", "-batch", "-config", "root-ca.cnf", "-selfsign", "-in", "root.csr",
        "-keyfile", "root.key", "-startdate", stamp(now - 30 * DAY),
        "-enddate", stamp(now + 3650 * DAY), "-extensions", "v3_ca", *sigopts, *vfy,
        "-notext", "-out", "root.pem")  # fmt: skip
    run("ca", "-batch", "-config", "root-ca.cnf", "-in", "ca.csr", "-cert", "root.pem",
        "-keyfile", "root.key", "-startdate", stamp(now - 20 * DAY),
        "-enddate", stamp(now + 1000 * DAY), "-extensions", "v3_ca", *sigopts, *vfy,
        "-notext", "-out", "ca.pem")  # fmt: skip
    run("ca", "-batch", "-config", "ca-ca.cnf", "-in", "ds.csr", "-cert", "ca.pem",
        "-keyfile", "ca.key", "-startdate", stamp(now - DAY), "-enddate", stamp(now + 300 * DAY),
        "-extensions", "v3_ds", *sigopts, *vfy, "-notext", "-out", "ds.pem")  # fmt: skip
    run("ca", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
        "-revoke", "ds.pem", "-crl_reason", "keyCompromise")  # fmt: skip
    for who in ("root", "ca"):
        run("ca", "-config", f"{who}-ca.cnf", "-gencrl", "-cert", f"{who}.pem",
            "-keyfile", f"{who}.key", *sigopts, "-crldays", "30", "-out", f"{who}.crl")  # fmt: skip


def test_we_validate_an_openssl_made_sm2_chain(tmp_path: Path) -> None:

    _openssl_chain(tmp_path, DEFAULT_ID.decode())
    (root,) = load_certificate_file(tmp_path / "root.pem")
    (ca,) = load_certificate_file(tmp_path / "ca.pem")
    (ds,) = load_certificate_file(tmp_path / "ds.pem")
    crls = [*load_crl_file(tmp_path / "root.crl"), *load_crl_file(tmp_path / "ca.crl")]
    assert all(c.signature_algorithm_oid.dotted_string == SM2_WITH_SM3_OID for c in crls)
    assert is_signed_by(ds, ca) and is_signed_by(ca, root) and is_signed_by(root, root)
    assert is_signed_by(crls[1], ca) and not is_signed_by(crls[1], root)
    validator = PathValidator([root], intermediates=[ca], crls=crls)
    path = validator.validate(ds)  # default moment: just before the revocation
    assert path.certificates == (ds, ca, root)
    entry = crls[1].get_revoked_certificate_by_serial_number(ds.serial_number)
    assert entry is not None
    assert path.revoked_at == entry.revocation_date_utc
    assert path.revocation_reason == "key_compromise"
    assert path.crl_next_update == min(c.next_update_utc for c in crls if c.next_update_utc)
    assert path.revoked_at is not None
    fails("revoked", validator.validate, ds, at=path.revoked_at + DAY)
    # the root's CRL alone is not enough, and an altered CRL does not count
    fails(
        "no revocation data", PathValidator([root], intermediates=[ca], crls=crls[:1]).validate, ds
    )
    fails(
        "no revocation data",
        PathValidator([root], intermediates=[ca], crls=[crls[0], altered_crl(crls[1])]).validate,
        ds,
    )


def test_openssl_chain_with_another_sm2_id_is_refused(tmp_path: Path) -> None:
    """GM/T 0015 signs certificates with the ID ``1234567812345678``; a chain signed with any
    other ID (OpenSSL 3's own default is the empty ID) does not verify here: a broken chain."""
    _openssl_chain(tmp_path, "ALICE123@YAHOO.COM")

    (root,) = load_certificate_file(tmp_path / "root.pem")
    (ca,) = load_certificate_file(tmp_path / "ca.pem")
    (ds,) = load_certificate_file(tmp_path / "ds.pem")
    parsed = asn1_x509.Certificate.load(ds.public_bytes(DER))
    ca_key = certificate_public_key(ca)
    assert isinstance(ca_key, Sm2PublicKey)
    raw = der_to_raw(parsed["signature_value"].native)
    assert ca_key.verify(raw, ds.tbs_certificate_bytes, uid=b"ALICE123@YAHOO.COM")
    assert not is_signed_by(ds, ca)
    crls = [*load_crl_file(tmp_path / "root.crl"), *load_crl_file(tmp_path / "ca.crl")]
    assert not is_signed_by(crls[1], ca)
    validator = PathValidator([root], intermediates=[ca], revocation="off")
    fails("broken chain", validator.validate, ds)


def test_a_counter_without_sm2_keeps_verifying_everything_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A platform with neither SM2 in libcrypto nor gmalg (simulated): a mixed trust list still
    loads, ES256 cards still verify, SM2 cards are UNSUPPORTED_ALG naming the fix, and the
    left-out signer is reported, not silently dropped."""
    root = create_root_ca("Mixed Root", not_before=T0 - 30 * DAY)
    es = create_document_signer(root, "ES256 Signer", not_before=T0 - DAY)
    sm = create_document_signer(root, "SM2 Signer", algorithm="SM2", not_before=T0 - DAY)
    card = sample_card(T0.date())
    es_text = Issuer(es.signer(), es.certificate, clock=lambda: T0).issue(card).text
    sm_text = Issuer(sm.signer(), sm.certificate, clock=lambda: T0).issue(card).text
    for name, made in (("es", es), ("sm", sm)):
        (tmp_path / f"{name}.pem").write_bytes(made.certificate_pem())

    monkeypatch.setattr(sm2_module, "_load", lambda: "libcrypto without SM2 (simulated)")
    monkeypatch.setattr(sm2_module, "_load_gmalg", lambda: "gmalg is not installed (simulated)")
    store = TrustStore([es.certificate, sm.certificate])
    assert len(store) == 1 and [s for s, _ in store.unusable] == ["CN=SM2 Signer,C=CN"]
    assert "ecard[sm]" in store.unusable[0][1]
    verifier = Verifier(store)
    now = T0 + dt.timedelta(hours=1)
    assert verifier.verify(es_text, now=now).code is ErrorCode.OK
    result = verifier.verify(sm_text, now=now)
    assert result.code is ErrorCode.UNSUPPORTED_ALG and result.card is None
    assert "not available on this platform" in (result.detail or "")
    assert "ecard[sm]" in (result.detail or "")
    # the command line says which signer it left out
    assert main(["verify", "--trust", str(tmp_path), "--now", now.isoformat(), es_text]) == 0
    assert "left out" in capsys.readouterr().err


def test_verify_only_platform_verifies_sm2_cards_with_gmalg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libcrypto without SM2 but the ``sm`` extra (gmalg) installed (simulated): SM2 paths and
    cards still verify, through gmalg, and a changed card is still refused."""
    now = dt.datetime.now(dt.UTC)
    live = build(now, "Live", ("SM2", "SM2", "SM2"))
    card = sample_card(now.date())
    text = Issuer(live.ds.signer(), live.ds.certificate, clock=lambda: now).issue(card).text
    crls = live.crls(now - DAY)  # signed while libcrypto still signs
    monkeypatch.setattr(sm2_module, "_load", lambda: "libcrypto without SM2 (simulated)")
    store = TrustStore([live.ds.certificate], validator=live.validator(crls))
    (issuer,) = store
    assert store.unusable == () and issuer.unfit is None and issuer.path is not None
    assert isinstance(issuer.public_key, Sm2PublicKey) and issuer.public_key.backend == "gmalg"
    verifier = Verifier(store)
    result = verifier.verify(text, now=now + dt.timedelta(minutes=1))
    assert result.code is ErrorCode.OK and result.card == card
    cose = qrtext.decode(text)
    flipped = qrtext.encode(cose[:-1] + bytes([cose[-1] ^ 1]))  # last byte of the signature
    assert verifier.verify(flipped, now=now).code is ErrorCode.BAD_SIGNATURE
    with pytest.raises(BadKeyError, match="signing"):
        live.ds.signer().sign(b"x")

"""Path building is bounded: certificates crafted to look like each other's issuers (one name,
one key identifier, issuing each other) cost factorial time to enumerate. Before the limits,
a list whose x5chain carried eight of them took 43 s to refuse (seven: 6 s); now it is refused
at once with the reason ``path building limit``."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from tests.conftest import T0

from ecard.crypto.x509 import ECARD_LIST_SIGNING_EKU
from ecard.errors import BadListError, IssuerCertInvalidError, ListStage, PathFailure
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate
from ecard.formats.lists import TRUST_LIST, ListInfo, encode_list
from ecard.signing.cose import build_sign1
from ecard.signing.pki import create_root_ca
from ecard.signing.signers import KeySigner
from ecard.verify.lists import open_list
from ecard.verify.paths import MAX_SAME_NAME, PathValidator

NB, NA = T0 - dt.timedelta(days=30), T0 + dt.timedelta(days=300)


def _look_alikes(
    k: int,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, list[x509.Certificate]]:
    """``k`` CA certificates named alike with one key, each issuing the others, and a leaf."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loop CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    cas = [
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1000 + i)
        .not_valid_before(NB)
        .not_valid_after(NA)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(ski, False)
        .add_extension(aki, False)
        .sign(key, hashes.SHA256())
        for i in range(k)
    ]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Leaf")]))
        .issuer_name(name)
        .public_key(leaf_key.public_key())
        .serial_number(7)
        .not_valid_before(NB)
        .not_valid_after(NA)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .add_extension(x509.ExtendedKeyUsage([ECARD_LIST_SIGNING_EKU]), False)
        .add_extension(aki, False)
        .sign(key, hashes.SHA256())
    )
    return leaf_key, leaf, cas


@pytest.fixture(scope="module")
def validator() -> PathValidator:
    return PathValidator([create_root_ca("Real Root", not_before=NB).certificate], revocation="off")


def test_a_list_with_look_alike_issuers_is_refused_quickly(validator: PathValidator) -> None:
    leaf_key, leaf, cas = _look_alikes(8)
    data = build_sign1(
        encode_list(ListInfo(TRUST_LIST, 1, int(T0.timestamp()), int(T0.timestamp()) + 86400), {}),
        KeySigner(leaf_key),
        kid_for_certificate(leaf),
        extra_headers={HEADER_X5CHAIN: [c.public_bytes(Encoding.DER) for c in (leaf, *cas)]},
    )
    start = time.monotonic()
    with pytest.raises(BadListError) as info:
        open_list(data, expected_type=TRUST_LIST, validator=validator)
    assert time.monotonic() - start < 2
    assert info.value.stage is ListStage.SIGNER_PATH
    assert info.value.reason is PathFailure.PATH_BUILDING_LIMIT


def test_too_many_alike_configured_cas_are_refused_quickly() -> None:
    _, leaf, cas = _look_alikes(MAX_SAME_NAME + 4)
    root = create_root_ca("Real Root", not_before=NB).certificate
    validator = PathValidator([root], intermediates=cas, revocation="off")
    start = time.monotonic()
    with pytest.raises(IssuerCertInvalidError) as info:
        validator.validate(leaf, eku=ECARD_LIST_SIGNING_EKU, at=T0)
    assert time.monotonic() - start < 2
    assert info.value.reason is PathFailure.PATH_BUILDING_LIMIT


def test_within_the_limits_the_verdict_is_unchanged(validator: PathValidator) -> None:
    _, leaf, cas = _look_alikes(3)
    with pytest.raises(IssuerCertInvalidError) as info:
        validator.validate(leaf, chain=cas, eku=ECARD_LIST_SIGNING_EKU, at=T0)
    assert info.value.reason is PathFailure.UNTRUSTED_ROOT

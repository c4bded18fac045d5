"""Unit tests: algorithm registry, COSE_Sign1, signers, PKI helpers, issuer."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import pickle

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from tests.conftest import T0, fixed_clock

from ecard.card import Card, day_start
from ecard.crypto import algorithms as algs
from ecard.crypto.x509 import ECARD_SIGNING_EKU, load_certificates
from ecard.errors import (
    AlgKeyMismatchError,
    BadCertificateError,
    BadCoseError,
    BadInputError,
    BadKeyError,
    UnsupportedAlgorithmError,
)
from ecard.formats import cbor
from ecard.formats.cose import kid_for_certificate, parse_sign1, sig_structure
from ecard.formats.cwt import decode_claims
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_document_signer, create_issuing_ca
from ecard.signing.signers import KeySigner, Signer, load_private_key
from ecard.verify.trust import TrustStore

# --- registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cose_id", "size"),
    [("ES256", -7, 64), ("ES384", -35, 96), ("EdDSA", -8, 64), ("PS256", -37, None)],
)
def test_registry_entries(name: str, cose_id: int, size: int | None) -> None:
    alg = algs.get_algorithm(name)
    assert alg is algs.get_algorithm(cose_id) is algs.get_algorithm(name.lower())
    assert alg.cose_id == cose_id and alg.signature_size == size


@pytest.mark.parametrize("bad", [-36, 0, True, "RS256", "", None, 3.5])
def test_unknown_algorithms(bad: object) -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        algs.get_algorithm(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ["ES256", "ES384", "EdDSA", "PS256"])
def test_sign_verify_each_algorithm(alg: str, signers: dict[str, CertifiedKey]) -> None:
    a = algs.get_algorithm(alg)
    key = signers[alg].key
    sig = a.sign(key, b"message")
    if a.signature_size:
        assert len(sig) == a.signature_size
    pub = signers[alg].certificate.public_key()
    assert a.verify(pub, sig, b"message")  # type: ignore[arg-type]
    assert not a.verify(pub, sig, b"messagE")  # type: ignore[arg-type]
    assert not a.verify(pub, sig[:-1], b"message")  # type: ignore[arg-type]


def test_ecdsa_signature_is_raw_r_s(ds: CertifiedKey) -> None:
    """COSE wants r || s, left-padded; check against the DER the key would emit."""
    a = algs.ES256
    assert isinstance(a, algs.EcdsaAlgorithm)
    pub = ds.certificate.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    for _ in range(20):  # some r or s will be short and need padding
        raw = a.sign(ds.key, b"m")
        der = ds.key.sign(b"m", ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        r, s = decode_dss_signature(der)
        assert len(a.from_der_signature(der)) == 64
        assert a.from_der_signature(der) == r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert a.verify(pub, raw, b"m")


def test_algorithm_key_mismatch(signers: dict[str, CertifiedKey]) -> None:
    with pytest.raises(AlgKeyMismatchError):
        algs.ES256.sign(signers["EdDSA"].key, b"x")
    with pytest.raises(AlgKeyMismatchError):
        algs.EDDSA.verify(signers["ES256"].certificate.public_key(), b"\0" * 64, b"x")  # type: ignore[arg-type]
    small_rsa = rsa.generate_private_key(65537, 1024)
    assert not algs.PS256.accepts_key(small_rsa)
    assert algs.algorithm_for_key(signers["ES384"].key) is algs.ES384


# --- COSE ---------------------------------------------------------------------------------------


def test_sig_structure_matches_generic_cbor() -> None:
    for prot, payload in [(b"", b""), (b"\xa1\x01\x26", b"x" * 23), (b"p" * 300, b"q" * 70000)]:
        assert sig_structure(prot, payload) == cbor.encode(["Signature1", prot, b"", payload])
    assert sig_structure(b"a", b"b", b"aad") == cbor.encode(["Signature1", b"a", b"aad", b"b"])


def test_kid_is_sha256_prefix_of_certificate_der(ds: CertifiedKey) -> None:
    der = ds.certificate.public_bytes(serialization.Encoding.DER)
    assert kid_for_certificate(ds.certificate) == hashlib.sha256(der).digest()[:8] == ds.kid


def test_issued_cose_has_alg_and_kid_protected_only(
    issuer: Issuer, card: Card, ds: CertifiedKey
) -> None:
    cose = issuer.issue(card).cose
    assert cose[0] == 0xD2  # tag 18
    msg = parse_sign1(cose)
    assert (msg.alg, msg.kid) == (-7, ds.kid)
    tag = cbor.decode(cose, allowed_tags=frozenset({18}))
    assert tag.value[1] == {}  # empty unprotected header
    assert cbor.decode(tag.value[0]) == {1: -7, 4: ds.kid}


def test_parse_rejects_oversized_messages() -> None:
    with pytest.raises(BadCoseError):
        parse_sign1(b"\xd2" + b"\0" * 9000)


# --- signers --------------------------------------------------------------------------------------


def test_key_signer_never_shows_the_key(ds: CertifiedKey) -> None:
    signer = ds.signer()
    pem = ds.key_pem().decode()
    secret = ds.key.private_numbers().private_value  # type: ignore[union-attr]
    for shown in (repr(signer), str(signer), repr(ds), str(ds)):
        assert "PRIVATE" not in shown and str(secret) not in shown and hex(secret)[2:] not in shown
        assert pem[40:80] not in shown
    with pytest.raises(TypeError, match="KeySigner cannot be pickled: it holds a private key"):
        pickle.dumps(signer)
    assert isinstance(signer, Signer)


def test_load_private_key_errors_do_not_echo_input(ds: CertifiedKey) -> None:
    pem = ds.key_pem(password=b"pw")
    assert load_private_key(pem, password=b"pw") is not None
    for data, pw in [(pem, None), (pem, b"wrong"), (b"garbage", None), (ds.key_pem()[:100], None)]:
        with pytest.raises(BadKeyError) as err:
            load_private_key(data, password=pw)
        assert "PRIVATE KEY" not in str(err.value) and "garbage" not in str(err.value)
    with pytest.raises(BadKeyError):
        KeySigner.from_file("/nonexistent/key.pem")


def test_unsupported_key_type() -> None:
    x448 = serialization.load_pem_private_key(
        b"-----BEGIN PRIVATE KEY-----\nMEYCAQAwBQYDK2VvBDoEOBwM5n8iRVFU5Ba5/C/3G0NIdN0fY12Ubh7eOF4s1oiO\nJLSoQXvLnZDCsPuaY6AFCLbJfdoSDoOa\n-----END PRIVATE KEY-----\n",
        password=None,
    )
    with pytest.raises(BadKeyError):
        KeySigner(x448)  # type: ignore[arg-type]


# --- PKI --------------------------------------------------------------------------------------------


def test_hierarchy_extensions(root: CertifiedKey) -> None:
    ca = create_issuing_ca(root, "Beijing CA")
    ds = create_document_signer(ca, "Beijing Signer 1")
    assert ds.chain == (ca.certificate, root.certificate)
    bc = ds.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = ds.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    eku = ds.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ECARD_SIGNING_EKU in eku
    assert (
        ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
        == 0
    )
    # each certificate is really signed by its issuer
    ds.certificate.verify_directly_issued_by(ca.certificate)
    ca.certificate.verify_directly_issued_by(root.certificate)
    root.certificate.verify_directly_issued_by(root.certificate)


def test_load_certificates_pem_and_der(ds: CertifiedKey, root: CertifiedKey) -> None:
    pem = ds.certificate_pem() + root.certificate_pem()
    assert load_certificates(pem) == [ds.certificate, root.certificate]
    der = ds.certificate.public_bytes(serialization.Encoding.DER)
    assert load_certificates(der) == [ds.certificate]
    for junk in (
        b"",
        b"junk",
        der[:50],
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ):
        with pytest.raises(BadCertificateError):
            load_certificates(junk)


# --- issuer -----------------------------------------------------------------------------------------


def test_issuer_refuses_a_key_that_is_not_the_certificates(
    signers: dict[str, CertifiedKey],
) -> None:
    other = KeySigner(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(BadKeyError):
        Issuer(other, signers["ES256"].certificate)


def test_issuer_refuses_a_ca_key_usage(root: CertifiedKey) -> None:
    with pytest.raises(BadCertificateError):
        Issuer(root.signer(), root.certificate)


def test_issuer_default_expiry_is_clamped(ds: CertifiedKey, card: Card) -> None:
    issued = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0)).issue(card)
    assert issued.iat == T0
    assert issued.exp == ds.certificate.not_valid_after_utc.replace(
        microsecond=0
    )  # card outlives cert
    short = Issuer(
        ds.signer(), ds.certificate, clock=fixed_clock(T0), validity=dt.timedelta(days=1)
    )
    assert short.issue(card).exp == T0 + dt.timedelta(days=1)
    soon = card.model_copy(update={"expires": dt.date(2026, 3, 10)})
    assert Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0)).issue(soon).exp == day_start(
        dt.date(2026, 3, 11)
    )
    assert soon.valid_until == dt.datetime(2026, 3, 10, 16, 0, tzinfo=dt.UTC)
    with pytest.raises(BadInputError):  # an explicit exp may not outlive the card
        Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0)).issue(
            soon, exp=dt.datetime(2026, 3, 12, tzinfo=dt.UTC)
        )


def test_issuer_claims_content(issuer: Issuer, card: Card) -> None:
    issued = issuer.issue(card, cti=b"\x42" * 12)
    claims = decode_claims(parse_sign1(issued.cose).payload)
    assert claims.card == card and claims.cti == b"\x42" * 12 and claims.iss == "CN"
    assert claims.iat == int(T0.timestamp())
    assert len(issuer.issue(card).cti) == 8
    assert issuer.issue(card).cti != issuer.issue(card).cti


def test_issuer_errors(ds: CertifiedKey, card: Card) -> None:
    issuer = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))
    with pytest.raises(BadCertificateError):  # before the certificate's notBefore
        issuer.issue(card, iat=T0 - dt.timedelta(days=5))
    with pytest.raises(BadInputError):
        issuer.issue(card, exp=T0 - dt.timedelta(days=1))
    with pytest.raises(BadInputError):
        issuer.issue(card, exp=T0 + dt.timedelta(days=3650))  # after notAfter
    with pytest.raises(TypeError, match="iat must be timezone-aware"):
        issuer.issue(card, iat=dt.datetime(2026, 3, 1))  # naive
    expired_card = card.model_copy(
        update={"issued": dt.date(2010, 1, 1), "expires": dt.date(2020, 1, 1)}
    )
    with pytest.raises(BadInputError):
        issuer.issue(expired_card)
    with pytest.raises(BadInputError):
        Issuer(ds.signer(), ds.certificate, cti_size=4)


def test_issuer_with_ed25519_is_deterministic(root: CertifiedKey, card: Card) -> None:
    s = create_document_signer(
        root, "Ed Signer", algorithm="EdDSA", not_before=T0 - dt.timedelta(days=1)
    )
    i = Issuer(s.signer(), s.certificate, clock=fixed_clock(T0))
    assert i.issue(card, cti=b"\1" * 8).text == i.issue(card, cti=b"\1" * 8).text
    assert isinstance(s.key, ed25519.Ed25519PrivateKey)


# --- trust store ------------------------------------------------------------------------------------


def test_trust_store_lookup_and_dedup(signers: dict[str, CertifiedKey]) -> None:
    certs = [s.certificate for s in signers.values()]
    store = TrustStore(certs + certs)
    assert len(store) == len(signers) == 5  # one per algorithm, duplicates folded
    for s in signers.values():
        (entry,) = store.lookup(s.kid)
        assert entry.certificate == s.certificate and entry.unfit is None
    assert store.lookup(b"\0" * 8) == ()


def test_trust_store_from_paths(
    tmp_path, signers: dict[str, CertifiedKey], root: CertifiedKey
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.pem").write_bytes(signers["ES256"].certificate_pem())
    (tmp_path / "b.der").write_bytes(
        signers["EdDSA"].certificate.public_bytes(serialization.Encoding.DER)
    )
    (tmp_path / "key.pem").write_bytes(signers["ES256"].key_pem())  # skipped in a folder
    (tmp_path / "notes.txt").write_text("ignored")
    store = TrustStore.from_paths([tmp_path])
    assert len(store) == 2
    with pytest.raises(BadCertificateError):
        TrustStore.from_paths([tmp_path / "key.pem"])  # a named file must hold certificates
    with pytest.raises(BadCertificateError):
        TrustStore.from_paths([tmp_path / "missing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadCertificateError):
        TrustStore.from_paths([empty])
    with pytest.raises(BadCertificateError):
        TrustStore.from_pem(b"nonsense")


@pytest.mark.parametrize("serial", [0, -5])
def test_certificates_with_a_non_positive_serial_are_refused(
    root: CertifiedKey, serial: int
) -> None:
    """cryptography only warns (and will refuse later): refused now, whatever the version."""
    import warnings

    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
    from cryptography.hazmat.primitives.serialization import Encoding

    from ecard.crypto.x509 import load_certificates, load_der_certificate
    from ecard.errors import BadCertificateError

    parsed = asn1_x509.Certificate.load(root.certificate.public_bytes(Encoding.DER))
    parsed["tbs_certificate"]["serial_number"] = serial
    der = parsed.dump(force=True)
    pem = (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for load, data in (
            (load_der_certificate, der),
            (load_certificates, der),
            (load_certificates, pem),
        ):
            with pytest.raises(BadCertificateError, match="serial number is not positive"):
                load(data)


# --- prepared signing (the issue path) --------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 23, 24, 255, 256, 65535, 65536])
@pytest.mark.parametrize("extra", [None, {33: b"\x30\x03\x02\x01\x00"}])
def test_a_sign1_template_gives_build_sign1s_bytes(
    signers: dict[str, CertifiedKey], size: int, extra: dict[int, bytes] | None
) -> None:
    """Ed25519 is deterministic: the template's message is build_sign1's, byte for byte, for
    payloads whose length heads take every CBOR size (0, 1, 2, 4 bytes of argument)."""
    from ecard.signing.cose import Sign1Template, build_sign1

    s = signers["EdDSA"]
    kid = kid_for_certificate(s.certificate)
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    template = Sign1Template(s.signer(), kid, extra_headers=extra)
    message = template.build(payload)
    assert message == build_sign1(payload, s.signer(), kid, extra_headers=extra)
    parsed = parse_sign1(message, max_size=1 << 20)
    assert (parsed.payload, parsed.kid, parsed.protected) == (payload, kid, template.protected)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "PS256", "SM2"])
def test_a_sign1_template_signs_what_verifies(signers: dict[str, CertifiedKey], alg: str) -> None:
    """Randomised algorithms: the message parses as build_sign1's would, and its signature
    verifies over the Sig_structure, and fails over another payload."""
    from ecard.signing.cose import Sign1Template, build_sign1

    s = signers[alg]
    kid = kid_for_certificate(s.certificate)
    algorithm = algs.get_algorithm(alg)
    verify = algorithm.bind(algs.certificate_public_key(s.certificate))
    template = Sign1Template(s.signer(), kid)
    ours = parse_sign1(template.build(b"\xa1\x01\x02"))
    theirs = parse_sign1(build_sign1(b"\xa1\x01\x02", s.signer(), kid))
    assert (ours.protected, ours.payload, ours.alg) == (
        theirs.protected,
        theirs.payload,
        theirs.alg,
    )
    assert verify(ours.signature, ours.to_be_signed())
    assert not verify(ours.signature, sig_structure(ours.protected, b"\xa1\x01\x03"))


def test_a_bound_ecdsa_signer_checks_the_key_once_and_signs_like_sign(ds: CertifiedKey) -> None:
    key = ds.key
    es256 = algs.get_algorithm("ES256")
    sign = es256.bind_signer(key)
    verify = es256.bind(key.public_key())  # type: ignore[union-attr]
    signature = sign(b"data")
    assert len(signature) == 64 and verify(signature, b"data")
    assert not verify(signature, b"datA")
    with pytest.raises(AlgKeyMismatchError):
        algs.get_algorithm("ES384").bind_signer(key)
    with pytest.raises(AlgKeyMismatchError):
        es256.bind_signer(ed25519.Ed25519PrivateKey.generate())


def test_the_issuer_signs_under_its_prebuilt_header(issuer: Issuer, card: Card) -> None:
    """The protected header an issuer made once is the one each credential carries."""
    msg = parse_sign1(issuer.issue(card, iat=T0).cose)
    assert msg.protected == cbor.encode({1: issuer.signer.algorithm.cose_id, 4: issuer.kid})


def test_an_issued_card_is_the_dataclass_its_fields_make(ds: CertifiedKey, card: Card) -> None:
    """``Issuer.issue`` fills its result and the claims it signs without the dataclasses'
    ``__init__`` (one ``object.__setattr__`` per field costs microseconds an issue): the result
    is equal, field for field, to ``IssuedCard(...)`` of the same values, frozen as that one is,
    and the signed claims are those of ``Claims(...)``."""
    import dataclasses

    from ecard.formats.credential import IssuedCard
    from ecard.formats.cwt import Claims, encode_claims

    issuer = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))
    issued = issuer.issue(card)
    fields = {f.name: getattr(issued, f.name) for f in dataclasses.fields(IssuedCard)}
    made = IssuedCard(**fields)
    assert issued == made and hash(issued) == hash(made) and vars(issued) == vars(made)
    assert issued.iat == T0.replace(microsecond=0) and issued.iat.tzinfo is dt.UTC
    with pytest.raises(dataclasses.FrozenInstanceError):
        issued.text = "EC1:"  # type: ignore[misc]
    payload = parse_sign1(issued.cose).payload
    claims = decode_claims(payload)
    expected = Claims(
        iss=issuer.iss, iat=int(T0.timestamp()), exp=claims.exp, cti=issued.cti, card=card
    )
    assert claims == expected
    assert payload == encode_claims(expected)

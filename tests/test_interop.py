"""Interoperability: ecard against independent implementations and published vectors.

Nothing here is mocked and no ecard code is used to check ecard code where an independent
implementation exists:

* Base45: the ``base45`` package (RFC 9285) and the RFC's own examples;
* CBOR: ``cbor2`` (decoding our output, building ``Sig_structure`` bytes, canonical encoding);
* COSE / CWT: ``cwt`` (python-cwt) and ``pycose``, both verifying what we sign and signing what
  we verify. pycose's ECDSA runs on the pure-Python ``ecdsa`` package, so its verdicts do not
  even share OpenSSL with ours;
* zlib: the standard library;
* published vectors: RFC 9285 §4.3/§4.4, RFC 8392 A.3, cose-wg/Examples Sign1 and ECDSA
  (``tests/vectors/``, see the README there).

The public COSE vectors all carry ``kid`` in the *unprotected* header, which ecard's profile
rejects (BAD_COSE), so they are checked at the COSE layer: our ``sig_structure`` plus our
algorithm objects must verify them byte for byte, and our ``parse_sign1`` must refuse them.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Any

import base45 as base45_ref
import cbor2
import cwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st
from pycose.algorithms import EdDSA, Es256, Es384, Ps256
from pycose.headers import KID, Algorithm
from pycose.keys import CoseKey, EC2Key, OKPKey, RSAKey
from pycose.keys.curves import P256, P384, Ed25519
from pycose.messages import Sign1Message
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.crypto.algorithms import ES256, get_algorithm
from ecard.errors import (
    BadCoseError,
    ErrorCode,
    FormatError,
    UnsupportedAlgorithmError,
)
from ecard.formats import base45, cbor, qrtext
from ecard.formats.cose import kid_for_certificate, parse_sign1, sig_structure
from ecard.formats.credential import IssuedCard
from ecard.formats.cwt import CLAIM_CARD, Claims, encode_claims
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, private_key_to_pem
from ecard.verify.verifier import Verifier

VECTORS = Path(__file__).parent / "vectors"
ALGS = ("ES256", "ES384", "EdDSA", "PS256")
COSE_IDS = {"ES256": -7, "ES384": -35, "EdDSA": -8, "PS256": -37}
PYCOSE_ALGS: dict[str, Any] = {"ES256": Es256, "ES384": Es384, "EdDSA": EdDSA, "PS256": Ps256}


# --------------------------------------------------------------------------------------------
# Helpers (independent of ecard: hashlib, cryptography, cbor2, base45, zlib only)


def _independent_kid(cert: Any) -> bytes:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _public_pem(signer: CertifiedKey) -> bytes:
    return signer.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _foreign_qr_decode(text: str) -> bytes:
    """What any other verifier would do: strip the prefix, Base45, inflate if zlib."""
    assert text.startswith("EC1:")
    data = base45_ref.b45decode(text[4:])
    if data[0] == 0x78:
        data = zlib.decompress(data)
    return data


def _expected_signature_size(signer: CertifiedKey) -> int:
    key = signer.certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 2 * ((key.curve.key_size + 7) // 8)
    if isinstance(key, rsa.RSAPublicKey):
        return (key.key_size + 7) // 8
    assert isinstance(key, ed25519.Ed25519PublicKey)
    return 64


def _pycose_public_key(signer: CertifiedKey) -> Any:
    """A pycose key built field by field from the certificate's public key."""
    key = signer.certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        nums = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": P256, "secp384r1": P384}[key.curve.name]
        return EC2Key(crv=crv, x=nums.x.to_bytes(size, "big"), y=nums.y.to_bytes(size, "big"))
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return OKPKey(crv=Ed25519, x=raw)
    assert isinstance(key, rsa.RSAPublicKey)
    nums = key.public_numbers()
    return RSAKey(
        n=nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"),
        e=nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"),
    )


def _flip_last_signature_bit(cose: bytes) -> bytes:
    """The same message with one bit of the signature flipped, re-encoded by cbor2."""
    msg = cbor2.loads(cose)
    protected, unprotected, payload, signature = msg.value
    bad = signature[:-1] + bytes((signature[-1] ^ 0x01,))
    return cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, bad]))


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def issued(signers: dict[str, CertifiedKey], card: Card) -> dict[str, IssuedCard]:
    """One credential per algorithm, issued at T0 by ecard."""
    return {
        alg: Issuer(s.signer(), s.certificate, clock=fixed_clock(T0)).issue(card)
        for alg, s in signers.items()
    }


# --------------------------------------------------------------------------------------------
# 1. Our QR text, read by independent libraries


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("compress", [None, True, False])
def test_qr_text_decoded_by_base45_zlib_cbor2(
    alg: str,
    compress: bool | None,
    issued: dict[str, IssuedCard],
    signers: dict[str, CertifiedKey],
    card: Card,
) -> None:
    ic, signer = issued[alg], signers[alg]
    text = ic.text if compress is None else qrtext.encode(ic.cose, compress=compress)
    raw = base45_ref.b45decode(text[4:])
    if compress is True:
        assert raw[0] == 0x78  # the usual zlib CMF: deflate, 32 KiB window
    elif compress is False:
        assert raw[0] == 0xD2
    cose = _foreign_qr_decode(text)
    assert cose == ic.cose

    msg = cbor2.loads(cose)
    assert isinstance(msg, cbor2.CBORTag)
    assert msg.tag == 18
    assert isinstance(msg.value, list)
    assert len(msg.value) == 4
    protected, unprotected, payload, signature = msg.value
    assert isinstance(protected, bytes)
    assert unprotected == {}
    assert isinstance(payload, bytes)
    assert isinstance(signature, bytes)
    assert len(signature) == _expected_signature_size(signer)

    headers = cbor2.loads(protected)
    kid = _independent_kid(signer.certificate)
    assert headers == {1: COSE_IDS[alg], 4: kid}
    assert kid == ic.kid == kid_for_certificate(signer.certificate)

    claims = cbor2.loads(payload)
    assert set(claims) == {1, 4, 6, 7, CLAIM_CARD}
    assert claims[1] == "CN"
    assert type(claims[6]) is int
    assert type(claims[4]) is int
    assert claims[6] == int(T0.timestamp()) == int(ic.iat.timestamp())
    assert claims[4] == int(ic.exp.timestamp())
    assert claims[6] < claims[4] <= signer.certificate.not_valid_after_utc.timestamp()
    assert type(claims[7]) is bytes
    assert claims[7] == ic.cti
    assert len(claims[7]) == 8
    assert claims[CLAIM_CARD] == card.to_claim()
    assert Card.from_claim(claims[CLAIM_CARD]) == card


def test_qr_text_picks_the_shorter_form_as_zlib_and_base45_would(
    issued: dict[str, IssuedCard],
) -> None:
    for ic in issued.values():
        plain = ic.cose
        # the documented writing settings: level 9, 32 KiB window, memLevel 4 (docs/format.md)
        packer = zlib.compressobj(9, zlib.DEFLATED, 15, 4)
        packed = packer.compress(plain) + packer.flush()
        shorter = packed if len(packed) < len(plain) else plain
        assert ic.text == "EC1:" + base45_ref.b45encode(shorter).decode("ascii")


def test_es256_signature_is_raw_r_s_over_cbor2_sig_structure(
    issued: dict[str, IssuedCard], signers: dict[str, CertifiedKey]
) -> None:
    """r||s and Sig_structure re-derived with cbor2 and plain cryptography (not our registry)."""
    protected, _, payload, signature = cbor2.loads(issued["ES256"].cose).value
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    public_key = signers["ES256"].certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der, tbs, ec.ECDSA(hashes.SHA256()))  # raises if it does not verify


# --------------------------------------------------------------------------------------------
# 2. Our COSE_Sign1 verified by python-cwt


@pytest.mark.parametrize("alg", ALGS)
def test_cwt_verifies_our_credential(
    alg: str, issued: dict[str, IssuedCard], signers: dict[str, CertifiedKey], card: Card
) -> None:
    ic, signer = issued[alg], signers[alg]
    key = cwt.COSEKey.from_pem(_public_pem(signer), alg=alg, kid=ic.kid)
    assert key.alg == COSE_IDS[alg]

    # Full CWT decode: signature, kid match and cwt's own exp/nbf check against the real clock
    # (the fixture credential runs from T0 = 2026-03-01 to the signer's notAfter, 2028-02-29).
    claims = cwt.decode(ic.cose, key)
    assert claims[CLAIM_CARD] == card.to_claim()
    assert claims[6] == int(T0.timestamp())
    assert claims[7] == ic.cti

    # The COSE layer, independent of any clock, with the headers cwt saw.
    protected, unprotected, payload = cwt.COSE.new(verify_kid=True).decode_with_headers(
        ic.cose, key
    )
    assert protected == {1: COSE_IDS[alg], 4: ic.kid}
    assert unprotected == {}
    assert cbor2.loads(payload)[CLAIM_CARD] == card.to_claim()


@pytest.mark.parametrize("alg", ALGS)
def test_cwt_rejects_our_credential_with_a_flipped_signature_bit(
    alg: str, issued: dict[str, IssuedCard], signers: dict[str, CertifiedKey]
) -> None:
    key = cwt.COSEKey.from_pem(_public_pem(signers[alg]), alg=alg, kid=issued[alg].kid)
    with pytest.raises(cwt.VerifyError):
        cwt.COSE.new().decode(_flip_last_signature_bit(issued[alg].cose), key)


def test_cwt_accepts_certificate_pem_as_key(
    issued: dict[str, IssuedCard], signers: dict[str, CertifiedKey]
) -> None:
    ic = issued["ES256"]
    key = cwt.COSEKey.from_pem(signers["ES256"].certificate_pem(), kid=ic.kid)
    assert cwt.COSE.new().decode(ic.cose, key) == cbor2.loads(ic.cose).value[2]


# --------------------------------------------------------------------------------------------
# 3. Our COSE_Sign1 verified by pycose


@pytest.mark.parametrize("alg", ALGS)
def test_pycose_verifies_our_credential(
    alg: str, issued: dict[str, IssuedCard], signers: dict[str, CertifiedKey], card: Card
) -> None:
    ic = issued[alg]
    msg = Sign1Message.decode(ic.cose)
    assert msg.phdr == {Algorithm: PYCOSE_ALGS[alg], KID: ic.kid}
    assert msg.uhdr == {}
    msg.key = _pycose_public_key(signers[alg])
    assert msg.verify_signature() is True
    assert cbor2.loads(msg.payload)[CLAIM_CARD] == card.to_claim()

    tampered = Sign1Message.decode(_flip_last_signature_bit(ic.cose))
    tampered.key = _pycose_public_key(signers[alg])
    assert tampered.verify_signature() is False


# --------------------------------------------------------------------------------------------
# 4. The other direction: cwt and pycose sign, ecard verifies


def _foreign_claims(card: Card, cti: bytes) -> bytes:
    """Claims encoded by cbor2 in a foreign, non-canonical key order (iss, iat, exp, cti, card).

    Our writer sorts keys; our reader must not insist on it (RFC 8949 §4.2 only binds encoders).
    """
    iat = int(T0.timestamp())
    claims = {1: "CN", 6: iat, 4: iat + 30 * 86400, 7: cti, CLAIM_CARD: card.to_claim()}
    payload = cbor2.dumps(claims)
    assert payload != cbor2.dumps(claims, canonical=True)  # really out of order
    return payload


def _check_foreign_message(
    cose: bytes, alg: str, kid: bytes, card: Card, cti: bytes, verifier: Verifier
) -> None:
    # The foreign encoder really put alg and kid in the protected bucket, and nothing else.
    msg = cbor2.loads(cose)
    assert isinstance(msg, cbor2.CBORTag)
    assert msg.tag == 18
    assert cbor2.loads(msg.value[0]) == {1: COSE_IDS[alg], 4: kid}
    assert msg.value[1] == {}

    result = verifier.verify(qrtext.encode(cose))
    assert result.code is ErrorCode.OK, result.detail
    assert result.valid
    assert result.card == card
    assert result.kid == kid
    assert result.alg == alg
    assert result.cti == cti

    # And a forgery of the same message is refused.
    bad = verifier.verify(qrtext.encode(_flip_last_signature_bit(cose)))
    assert bad.code is ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("header_order", ["alg-kid", "kid-alg"])
def test_message_signed_by_cwt_verifies_in_ecard(
    alg: str,
    header_order: str,
    signers: dict[str, CertifiedKey],
    card: Card,
    verifier: Verifier,
) -> None:
    signer = signers[alg]
    kid = kid_for_certificate(signer.certificate)
    cti = os.urandom(16)
    key = cwt.COSEKey.from_pem(private_key_to_pem(signer.key), alg=alg, kid=kid)
    protected = {1: COSE_IDS[alg], 4: kid}
    if header_order == "kid-alg":  # a protected map that is not in deterministic order
        protected = {4: kid, 1: COSE_IDS[alg]}
    # COSE.new() has alg/kid auto-inclusion off: with it on (cwt.encode_and_sign's default)
    # cwt would add kid to the unprotected bucket, which ecard rightly rejects.
    cose = cwt.COSE.new().encode_and_sign(
        _foreign_claims(card, cti), key, protected=protected, unprotected={}
    )
    if header_order == "kid-alg":
        assert cbor2.loads(cose).value[0][:2] == b"\xa2\x04"
    _check_foreign_message(cose, alg, kid, card, cti, verifier)


@pytest.mark.parametrize("alg", ALGS)
def test_message_signed_by_pycose_verifies_in_ecard(
    alg: str, signers: dict[str, CertifiedKey], card: Card, verifier: Verifier
) -> None:
    signer = signers[alg]
    kid = kid_for_certificate(signer.certificate)
    cti = os.urandom(12)
    msg = Sign1Message(
        phdr={Algorithm: PYCOSE_ALGS[alg], KID: kid},
        uhdr={},
        payload=_foreign_claims(card, cti),
    )
    msg.key = CoseKey.from_pem_private_key(private_key_to_pem(signer.key).decode("ascii"))
    cose = msg.encode(tag=True)
    _check_foreign_message(cose, alg, kid, card, cti, verifier)


def test_cwt_default_cwt_encoder_puts_kid_unprotected_and_ecard_says_bad_cose(
    signers: dict[str, CertifiedKey], card: Card, verifier: Verifier
) -> None:
    """cwt's high-level CWT API auto-includes kid *unprotected*: a BAD_COSE, never an OK."""
    signer = signers["ES256"]
    kid = kid_for_certificate(signer.certificate)
    key = cwt.COSEKey.from_pem(private_key_to_pem(signer.key), kid=kid)
    iat = int(T0.timestamp())
    claims = {1: "CN", 4: iat + 86400, 5: iat, 6: iat, 7: b"\x05" * 8, CLAIM_CARD: card.to_claim()}
    cose = cwt.encode_and_sign(claims, key)
    msg = cbor2.loads(cose)
    assert msg.value[1] == {4: kid}
    assert verifier.verify(qrtext.encode(cose)).code is ErrorCode.BAD_COSE


# --------------------------------------------------------------------------------------------
# 5. Published vectors, byte for byte

# RFC 9285 §4.3 (encoding) and §4.4 (decoding) examples.
RFC9285_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC9285_EXAMPLES)
def test_rfc9285_examples(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data
    # The independent implementation agrees on the same vectors.
    assert base45_ref.b45encode(data).decode("ascii") == text
    assert base45_ref.b45decode(text) == data


def test_base45_agrees_with_base45_package_on_our_credentials(
    issued: dict[str, IssuedCard],
) -> None:
    for ic in issued.values():
        for data in (ic.cose, zlib.compress(ic.cose, 9), ic.cose[:-1]):
            ours = base45.encode(data)
            assert ours == base45_ref.b45encode(data).decode("ascii")
            assert base45.decode(ours) == base45_ref.b45decode(ours) == data


@pytest.fixture(scope="module")
def rfc8392() -> dict[str, Any]:
    return json.loads((VECTORS / "rfc8392_a3.json").read_text(encoding="utf-8"))


def _p256_key(x_hex: str, y_hex: str) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicNumbers(
        int(x_hex, 16), int(y_hex, 16), ec.SECP256R1()
    ).public_key()


def test_rfc8392_a3_sig_structure_and_es256(rfc8392: dict[str, Any]) -> None:
    cose = bytes.fromhex(rfc8392["cose_sign1_hex"])
    msg = cbor2.loads(cose)
    assert msg.tag == 18
    protected, unprotected, payload, signature = msg.value
    assert protected == bytes.fromhex("a10126")
    assert unprotected == {4: b"AsymmetricECDSA256"}

    tbs = sig_structure(protected, payload)
    assert tbs == cbor2.dumps(["Signature1", protected, b"", payload])
    assert tbs == bytes.fromhex(rfc8392["sig_structure_hex"])

    key = _p256_key(rfc8392["key"]["x_hex"], rfc8392["key"]["y_hex"])
    assert ES256.verify(key, signature, tbs) is True
    assert get_algorithm(cbor2.loads(protected)[1]) is ES256

    flipped_payload = bytearray(payload)
    flipped_payload[10] ^= 0x01
    assert ES256.verify(key, signature, sig_structure(protected, bytes(flipped_payload))) is False
    flipped_sig = bytearray(signature)
    flipped_sig[0] ^= 0x80
    assert ES256.verify(key, bytes(flipped_sig), tbs) is False

    claims = cbor2.loads(payload)
    for label, value in rfc8392["expected_claims_by_label"].items():
        expected = bytes.fromhex(value["hex"]) if isinstance(value, dict) else value
        assert claims[int(label)] == expected
    # Our strict CBOR reader reads the RFC's payload the same way.
    assert cbor.decode(payload) == claims


def test_rfc8392_a3_rejected_by_our_profile(rfc8392: dict[str, Any]) -> None:
    with pytest.raises(BadCoseError, match="protected"):
        parse_sign1(bytes.fromhex(rfc8392["cose_sign1_hex"]))


def test_rfc8392_a3_through_the_full_verifier_is_bad_cose(
    rfc8392: dict[str, Any], verifier: Verifier
) -> None:
    text = qrtext.encode(bytes.fromhex(rfc8392["cose_sign1_hex"]))
    assert verifier.verify(text).code is ErrorCode.BAD_COSE


def _cose_wg() -> list[dict[str, Any]]:
    data = json.loads((VECTORS / "cose_wg_sign1.json").read_text(encoding="utf-8"))
    return data["vectors"]


COSE_WG = {v["name"]: v for v in _cose_wg()}


def _wire(vector: dict[str, Any]) -> tuple[list[int], bytes, dict[Any, Any], bytes, bytes]:
    """(tags outermost first, protected bstr, unprotected, payload, signature), via cbor2."""
    item = cbor2.loads(bytes.fromhex(vector["output_cbor_hex"]))
    tags = []
    while isinstance(item, cbor2.CBORTag):
        tags.append(item.tag)
        item = item.value
    protected, unprotected, payload, signature = item
    return tags, protected, unprotected, payload, signature


def _vector_key(vector: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[vector["key"]["crv"]]
    return ec.EllipticCurvePublicNumbers(
        int(vector["key"]["x_hex"], 16), int(vector["key"]["y_hex"], 16), curve
    ).public_key()


def _our_cose_layer_verdict(vector: dict[str, Any]) -> bool:
    """Would ecard's algorithm objects accept the signature over the bytes as transported?"""
    _, protected, _, payload, signature = _wire(vector)
    alg = get_algorithm(cbor2.loads(protected)[1])
    aad = bytes.fromhex(vector["external_aad_hex"])
    return alg.verify(_vector_key(vector), signature, sig_structure(protected, payload, aad))


SUPPORTED_WG = [n for n, v in COSE_WG.items() if v["alg"] in ("ES256", "ES384")]


@pytest.mark.parametrize("name", SUPPORTED_WG)
def test_cose_wg_sig_structure_matches_cbor2_and_suite(name: str) -> None:
    vector = COSE_WG[name]
    _, protected, _, payload, _ = _wire(vector)
    aad = bytes.fromhex(vector["external_aad_hex"])
    ours = sig_structure(protected, payload, aad)
    assert ours == cbor2.dumps(["Signature1", protected, aad, payload])
    assert ours == bytes.fromhex(vector["checks"]["sig_structure_from_wire_hex"])
    if vector["checks"]["sig_structure_from_wire_equals_intermediate"]:
        assert ours == bytes.fromhex(vector["intermediate_ToBeSign_hex"])


# The COSE-layer verdict for each vector: does the signature verify over the wire bytes?
# pass vectors verify (sign-pass-01 is special, below); fail vectors fail on the signature,
# except sign-fail-01 whose only defect is its tag (998), so the structure check must catch it.
WG_SIGNATURE_VERDICT = {
    "sign-pass-02": True,
    "sign-pass-03": True,
    "sign-fail-01": True,
    "sign-fail-02": False,
    "sign-fail-06": False,
    "sign-fail-07": False,
    "ecdsa-sig-01": True,
    "ecdsa-sig-02": True,
}


@pytest.mark.parametrize(("name", "verdict"), sorted(WG_SIGNATURE_VERDICT.items()))
def test_cose_wg_signature_verdicts(name: str, verdict: bool) -> None:
    vector = COSE_WG[name]
    assert _our_cose_layer_verdict(vector) is verdict
    # The suite's own ToBeSign always verifies: our ECDSA reads the raw r||s correctly.
    alg = get_algorithm(vector["alg"])
    signature = _wire(vector)[4]
    tbs = bytes.fromhex(vector["intermediate_ToBeSign_hex"])
    assert alg.verify(_vector_key(vector), signature, tbs) is True


def test_cose_wg_sign_pass_02_needs_its_external_aad() -> None:
    vector = COSE_WG["sign-pass-02"]
    _, protected, _, payload, signature = _wire(vector)
    key = _vector_key(vector)
    aad = bytes.fromhex(vector["external_aad_hex"])
    assert aad
    assert ES256.verify(key, signature, sig_structure(protected, payload, aad)) is True
    assert ES256.verify(key, signature, sig_structure(protected, payload)) is False


def test_cose_wg_sign_pass_01_empty_protected_map() -> None:
    """sign-pass-01 sends protected = h'A0' (an empty map) but was signed over h''.

    RFC 9052 §3 lets a sender encode empty protected headers either way and has the recipient
    treat both as h'' in the Sig_structure; pycose and cwt do so. ecard never needs this: its
    profile requires alg and kid in the protected header, so an empty one is BAD_COSE anyway.
    """
    vector = COSE_WG["sign-pass-01"]
    _, protected, unprotected, payload, signature = _wire(vector)
    key = _vector_key(vector)
    assert protected == b"\xa0"
    assert unprotected == {1: -7, 4: b"11"}
    assert ES256.verify(key, signature, sig_structure(protected, payload)) is False
    normalised = sig_structure(b"", payload)
    assert normalised == bytes.fromhex(vector["intermediate_ToBeSign_hex"])
    assert ES256.verify(key, signature, normalised) is True

    pycose_msg = Sign1Message.decode(bytes.fromhex(vector["output_cbor_hex"]))
    pycose_msg.key = EC2Key(
        crv=P256, x=bytes.fromhex(vector["key"]["x_hex"]), y=bytes.fromhex(vector["key"]["y_hex"])
    )
    assert pycose_msg.verify_signature() is True


@pytest.mark.parametrize("name", ["sign-fail-03", "sign-fail-04"])
def test_cose_wg_unknown_alg_is_unsupported(name: str) -> None:
    vector = COSE_WG[name]
    _, protected, _, payload, signature = _wire(vector)
    alg = cbor2.loads(protected)[1]
    assert alg in (-999, "unknown")
    with pytest.raises(UnsupportedAlgorithmError):
        get_algorithm(alg)
    # Even read as the ES256 it was signed with, the altered protected bucket breaks it.
    assert ES256.verify(_vector_key(vector), signature, sig_structure(protected, payload)) is False


@pytest.mark.parametrize("name", ["ecdsa-sig-03", "ecdsa-sig-04"])
def test_cose_wg_es512_is_not_supported(name: str) -> None:
    vector = COSE_WG[name]
    _, protected, _, _, _ = _wire(vector)
    assert cbor2.loads(protected)[1] == -36
    with pytest.raises(UnsupportedAlgorithmError):
        get_algorithm(-36)
    with pytest.raises(UnsupportedAlgorithmError):
        get_algorithm("ES512")


@pytest.mark.parametrize("name", list(COSE_WG))
def test_cose_wg_vectors_rejected_by_parse_sign1_as_bad_cose(name: str) -> None:
    with pytest.raises(BadCoseError):
        parse_sign1(bytes.fromhex(COSE_WG[name]["output_cbor_hex"]))


@pytest.mark.parametrize("name", list(COSE_WG))
def test_cose_wg_vectors_never_verify_in_ecard(name: str, verifier: Verifier) -> None:
    """Whatever the exact code, every public vector is refused before any trust decision."""
    with pytest.raises(FormatError):
        parse_sign1(bytes.fromhex(COSE_WG[name]["output_cbor_hex"]))
    result = verifier.verify(qrtext.encode(bytes.fromhex(COSE_WG[name]["output_cbor_hex"])))
    assert not result.valid
    assert result.code in (ErrorCode.BAD_COSE, ErrorCode.BAD_CBOR)


@pytest.mark.parametrize("name", ["sign-pass-02", "sign-fail-02", "ecdsa-sig-01", "ecdsa-sig-02"])
def test_cose_wg_our_verdict_agrees_with_pycose(name: str) -> None:
    vector = COSE_WG[name]
    msg = Sign1Message.decode(bytes.fromhex(vector["output_cbor_hex"]))
    msg.external_aad = bytes.fromhex(vector["external_aad_hex"])
    crv = {"P-256": P256, "P-384": P384}[vector["key"]["crv"]]
    msg.key = EC2Key(
        crv=crv, x=bytes.fromhex(vector["key"]["x_hex"]), y=bytes.fromhex(vector["key"]["y_hex"])
    )
    assert msg.verify_signature() is _our_cose_layer_verdict(vector)


# --------------------------------------------------------------------------------------------
# 6. Deterministic encoding against cbor2


def test_claims_encoding_equals_cbor2_canonical(card: Card, issued: dict[str, IssuedCard]) -> None:
    """For our claims every key pair compares the same way in RFC 7049 §3.9 (length first,
    what cbor2's ``canonical=True`` implements) and RFC 8949 §4.2.1 (bytewise): the keys
    1, 4, 5, 6, 7 are one byte each and -65537 (0x3a00010000) is both longer and bytewise
    larger. So cbor2 must produce exactly our bytes."""
    iat = int(T0.timestamp())
    claims = Claims(iss="CN", iat=iat, exp=iat + 86400, cti=b"\x01" * 8, card=card, nbf=iat)
    value = {1: "CN", 4: iat + 86400, 5: iat, 6: iat, 7: b"\x01" * 8, CLAIM_CARD: card.to_claim()}
    assert encode_claims(claims) == cbor2.dumps(value, canonical=True)
    assert cbor.encode(card.to_claim()) == cbor2.dumps(card.to_claim(), canonical=True)
    for ic in issued.values():
        protected, _, payload, _ = cbor2.loads(ic.cose).value
        assert payload == cbor2.dumps(cbor2.loads(payload), canonical=True)
        assert protected == cbor2.dumps(cbor2.loads(protected), canonical=True)


_values = st.recursive(
    st.integers(-(2**64), 2**64 - 1)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.booleans()
    | st.none(),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=10,
)


@given(
    m=st.one_of(
        st.dictionaries(st.integers(0, 23), _values, max_size=8),  # all 1-byte uint keys
        st.dictionaries(st.integers(-24, -1), _values, max_size=8),  # all 1-byte nint keys
        st.dictionaries(st.integers(24, 255), _values, max_size=8),  # all 2-byte uint keys
        st.dictionaries(st.integers(256, 65535), _values, max_size=8),  # all 3-byte uint keys
    )
)
def test_same_length_keys_encode_like_cbor2_canonical(m: dict[int, Any]) -> None:
    ours = cbor.encode(m)
    assert ours == cbor2.dumps(m, canonical=True)
    assert cbor2.loads(ours) == m


def test_rfc8949_bytewise_order_not_rfc7049_length_first() -> None:
    """Where the two "canonical" orders disagree, ours is RFC 8949 §4.2.1.

    100 encodes as 0x18 0x64 (two bytes) and -1 as 0x20 (one byte). RFC 7049 §3.9 sorts
    shorter keys first, so -1 comes first; that is what cbor2's ``canonical=True`` writes.
    RFC 8949 §4.2.1 (core deterministic encoding, which the design brief fixes) sorts by the
    bytes themselves, and 0x18 < 0x20, so 100 comes first. Both encodings decode to the same
    map, and our strict reader accepts either order (it does not require sorted keys).
    """
    value = {-1: 2, 100: 1}
    ours = cbor.encode(value)
    length_first = cbor2.dumps(value, canonical=True)
    assert ours == bytes.fromhex("a21864012002")  # {100: 1, -1: 2}
    assert length_first == bytes.fromhex("a22002186401")  # {-1: 2, 100: 1}
    assert ours != length_first
    assert cbor2.loads(ours) == cbor2.loads(length_first) == value
    assert cbor.decode(ours) == cbor.decode(length_first) == value

    # The same with a third key of each length class: 10 (0x0a) < 100 (0x1864) < -1 (0x20).
    mixed = {-1: 0, 100: 0, 10: 0}
    assert list(cbor2.loads(cbor.encode(mixed))) == [10, 100, -1]
    assert list(cbor2.loads(cbor2.dumps(mixed, canonical=True))) == [10, -1, 100]

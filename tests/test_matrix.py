"""The failure matrix: one or more cases per result code, modelled on the EU DCC test list.

Each case builds a real credential (real keys, real signatures) with exactly one thing wrong
and checks the verifier answers the expected code, with no exception and no card.

The whole matrix runs once per document-signer algorithm in :data:`DS_ALGS` (ES256 and SM2):
``ctx.ds`` is that algorithm's signer and every forged header names its algorithm. A case whose
expected code depends on the algorithm says so with :class:`ByAlg`, which carries the reason.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from tests.conftest import T0, fixed_clock
from tests.forge import claims_map, der_signature, sign1, to_text

from ecard.card import Card, CardStatus
from ecard.crypto.algorithms import SM2_COSE_ID, get_algorithm
from ecard.crypto.sm2 import DEFAULT_ID, SM2_ORDER
from ecard.errors import ErrorCode
from ecard.formats import base45, cbor
from ecard.formats.cose import sig_structure
from ecard.formats.cwt import CLAIM_CARD
from ecard.signing.pki import CertifiedKey, create_document_signer, create_root_ca
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

IAT = int(T0.timestamp())
EXP = IAT + 30 * 86400

#: The document-signer algorithms the whole matrix runs for.
DS_ALGS = ("ES256", "SM2")
#: Every algorithm with an "ok-<alg>" case.
ALL_ALGS = ("ES256", "ES384", "EdDSA", "PS256", "SM2")
#: Group order n of each document signer's curve (r and s must lie in [1, n-1]).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ORDERS = {"ES256": P256_ORDER, "SM2": SM2_ORDER}
#: The other 64-byte-signature EC algorithm: labelling a credential with it is a key mismatch.
SIBLING = {"ES256": "SM2", "SM2": "ES256"}


@dataclass
class Ctx:
    alg: str
    ds: CertifiedKey
    signers: dict[str, CertifiedKey]
    card: Card
    outsider: CertifiedKey
    alg_id: int = field(init=False)
    order: int = field(init=False)

    def __post_init__(self) -> None:
        self.alg_id = get_algorithm(self.alg).cose_id
        self.order = ORDERS[self.alg]

    def payload(self, **kw: object) -> bytes:
        return cbor.encode(claims_map(self.card, iat=IAT, exp=EXP, **kw))  # type: ignore[arg-type]

    def valid(self, **kw: object) -> bytes:
        return sign1(self.ds, self.payload(**kw))


@pytest.fixture(scope="module", params=DS_ALGS)
def ctx(request: pytest.FixtureRequest, signers: dict[str, CertifiedKey], card: Card) -> Ctx:
    alg: str = request.param
    outsider_root = create_root_ca(
        "Outsider Root", algorithm=alg, not_before=T0 - dt.timedelta(days=10)
    )
    outsider = create_document_signer(
        outsider_root, "Outsider Signer", algorithm=alg, not_before=T0 - dt.timedelta(days=1)
    )
    return Ctx(alg=alg, ds=signers[alg], signers=signers, card=card, outsider=outsider)


@dataclass(frozen=True)
class ByAlg:
    """An expected code that depends on the document signer's algorithm, and why."""

    codes: dict[str, ErrorCode]
    why: str

    def __post_init__(self) -> None:
        assert set(self.codes) == set(DS_ALGS), self.codes
        assert self.why


Expected = ErrorCode | ByAlg


def expected_for(expected: Expected, alg: str) -> ErrorCode:
    return expected.codes[alg] if isinstance(expected, ByAlg) else expected


def _bomb() -> str:
    return "EC1:" + base45.encode(zlib.compress(b"\0" * 1_000_000, 9))


def _dup_key_claims(c: Ctx) -> str:
    # a claims map with key 6 (iat) twice: written by hand, no encoder would produce it
    body = cbor.encode(claims_map(c.card, iat=IAT, exp=EXP))
    assert body[0] == 0xA5
    dup = bytes([0xA6]) + body[1:] + b"\x06\x1a" + (IAT + 1).to_bytes(4, "big")
    return to_text(sign1(c.ds, dup))


Case = tuple[str, Callable[[Ctx], str], Expected]

CASES: list[Case] = [
    # --- OK, every algorithm
    *[
        (
            f"ok-{alg}",
            (lambda a: lambda c: to_text(sign1(c.signers[a], c.payload())))(alg),
            ErrorCode.OK,
        )
        for alg in ALL_ALGS
    ],
    ("ok-compressed", lambda c: to_text(c.valid(), compress=True), ErrorCode.OK),
    (
        "ok-high-s",
        lambda c: to_text(_high_s(c)),
        ByAlg(
            {"ES256": ErrorCode.OK, "SM2": ErrorCode.BAD_SIGNATURE},
            "ECDSA signatures are malleable: (r, n - s) verifies too, and is accepted (as every "
            "COSE stack does) because it cannot change what was signed. SM2 is not: its check "
            "uses t = r + s mod n, so (r, n - s) is simply a wrong signature",
        ),
    ),
    # --- prefix (DCC: EXPECTEDUNPREFIX)
    ("prefix-missing", lambda c: to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    ("prefix-hc1", lambda c: "HC1:" + to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    ("prefix-lowercase", lambda c: "ec1:" + to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    # --- what scanners and files add around a code is removed, nothing inside it
    ("scan-leading-space", lambda c: " " + to_text(c.valid()), ErrorCode.OK),
    ("scan-bom", lambda c: "\ufeff" + to_text(c.valid()), ErrorCode.OK),
    ("scan-crlf", lambda c: to_text(c.valid()) + "\r\n", ErrorCode.OK),
    ("scan-cr-only", lambda c: to_text(c.valid()) + "\r", ErrorCode.OK),
    ("scan-trailing-blanks", lambda c: to_text(c.valid()) + " \t", ErrorCode.OK),
    ("prefix-space-inside", lambda c: "EC1 :" + to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    ("prefix-bom-inside", lambda c: "EC1:\ufeff" + to_text(c.valid())[4:], ErrorCode.BAD_BASE45),
    ("empty-text", lambda c: "", ErrorCode.BAD_PREFIX),
    # EC2: is the presentation prefix: a card's bytes under it are no presentation
    ("prefix-ec2", lambda c: "EC2:" + to_text(c.valid())[4:], ErrorCode.BAD_PRESENTATION),
    ("prefix-ec3", lambda c: "EC3:" + to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    ("prefix-semicolon", lambda c: "EC1;" + to_text(c.valid())[4:], ErrorCode.BAD_PREFIX),
    # --- Base45 (DCC: EXPECTEDB45DECODE)
    (
        "b45-lowercase",
        lambda c: to_text(c.valid())[:10] + "a" + to_text(c.valid())[11:],
        ErrorCode.BAD_BASE45,
    ),
    # a text cut short (3k + 1 valid characters) is a scan to repeat, not a forgery
    ("b45-length-mod3", lambda c: to_text(c.valid()) + "A", ErrorCode.TRUNCATED),
    ("scan-cut-short-mod3", lambda c: to_text(c.valid())[:-2], ErrorCode.TRUNCATED),
    ("b45-length-mod3-bad-char", lambda c: to_text(c.valid()) + "a", ErrorCode.BAD_BASE45),
    ("b45-triple-overflow", lambda c: to_text(c.valid()) + "GGW", ErrorCode.BAD_BASE45),
    ("b45-empty", lambda c: "EC1:", ErrorCode.BAD_BASE45),
    ("b45-pair-overflow", lambda c: to_text(c.valid()) + "::", ErrorCode.BAD_BASE45),
    (
        "b45-newline-inside",
        lambda c: to_text(c.valid())[:20] + "\n" + to_text(c.valid())[20:],
        ErrorCode.BAD_BASE45,
    ),
    # --- compression (DCC: EXPECTEDCOMPRESSION)
    (
        "zlib-truncated",
        lambda c: "EC1:" + base45.encode(zlib.compress(c.valid(), 9)[:-6]),
        ErrorCode.TRUNCATED,
    ),
    (
        "zlib-trailing",
        lambda c: "EC1:" + base45.encode(zlib.compress(c.valid(), 9) + b"xx"),
        ErrorCode.BAD_COMPRESSION,
    ),
    ("zlib-bomb", lambda c: _bomb(), ErrorCode.BAD_COMPRESSION),
    (
        "zlib-bad-header",
        lambda c: "EC1:" + base45.encode(b"\x78\x00" + zlib.compress(c.valid())[2:]),
        ErrorCode.BAD_COMPRESSION,
    ),
    # --- CBOR
    ("cbor-garbage", lambda c: to_text(b"\xd2\xff\xff\xff"), ErrorCode.BAD_CBOR),
    ("cbor-trailing-bytes", lambda c: to_text(c.valid() + b"\x00"), ErrorCode.BAD_CBOR),
    ("cbor-truncated", lambda c: to_text(c.valid()[:-1]), ErrorCode.TRUNCATED),
    ("cbor-cut-in-half", lambda c: to_text(c.valid()[: len(c.valid()) // 2]), ErrorCode.TRUNCATED),
    # a declared length no message can have is forged, not cut short
    (
        "cbor-deep-nesting",
        lambda c: to_text(b"\xd2" + b"\x81" * 1000 + b"\x00"),
        ErrorCode.BAD_CBOR,
    ),
    (
        "cbor-huge-length",
        lambda c: to_text(b"\xd2\x84\x5b" + b"\x7f" + b"\xff" * 7),
        ErrorCode.BAD_CBOR,
    ),
    (
        "cbor-indefinite-array",
        lambda c: to_text(b"\xd2\x9f" + c.valid()[2:] + b"\xff"),
        ErrorCode.BAD_CBOR,
    ),
    (
        "cbor-payload-not-cbor",
        lambda c: to_text(sign1(c.ds, b"\xff\xfe not cbor")),
        ErrorCode.BAD_CBOR,
    ),
    ("cbor-claims-duplicate-key", _dup_key_claims, ErrorCode.BAD_CBOR),
    ("cbor-float-iat", lambda c: to_text(sign1(c.ds, _float_iat(c))), ErrorCode.BAD_CBOR),
    (
        "cbor-protected-duplicate-kid",
        lambda c: to_text(
            sign1(
                c.ds,
                c.payload(),
                protected=b"\xa3\x01" + cbor.encode(c.alg_id) + (b"\x04\x48" + c.ds.kid) * 2,
            )
        ),
        ErrorCode.BAD_CBOR,
    ),
    # --- COSE structure (DCC: tags, kid placement)
    ("cose-untagged", lambda c: to_text(sign1(c.ds, c.payload(), tag=None)), ErrorCode.BAD_COSE),
    (
        "cose-cwt-tag-61",
        lambda c: to_text(
            cbor.encode(cbor.Tag(61, cbor.decode(c.valid(), allowed_tags=frozenset({18}))))
        ),
        ErrorCode.BAD_COSE,
    ),
    ("cose-sign-tag-98", lambda c: to_text(sign1(c.ds, c.payload(), tag=98)), ErrorCode.BAD_COSE),
    (
        "cose-array-3",
        lambda c: to_text(
            cbor.encode(
                cbor.Tag(18, cbor.decode(c.valid(), allowed_tags=frozenset({18})).value[:3])
            )
        ),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-kid-unprotected-only",
        lambda c: to_text(sign1(c.ds, c.payload(), kid=None, unprotected={4: c.ds.kid})),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-kid-both-headers",
        lambda c: to_text(sign1(c.ds, c.payload(), unprotected={4: c.ds.kid})),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-alg-unprotected",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=None, unprotected={1: c.alg_id})),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-crit-unknown",
        lambda c: to_text(sign1(c.ds, c.payload(), protected_extra={2: [99], 99: 1})),
        ErrorCode.BAD_COSE,
    ),
    ("cose-no-kid", lambda c: to_text(sign1(c.ds, c.payload(), kid=None)), ErrorCode.BAD_COSE),
    ("cose-kid-text", lambda c: to_text(sign1(c.ds, c.payload(), kid="abc")), ErrorCode.BAD_COSE),
    ("cose-no-alg", lambda c: to_text(sign1(c.ds, c.payload(), alg=None)), ErrorCode.BAD_COSE),
    (
        "cose-detached-payload",
        lambda c: to_text(
            cbor.encode(
                cbor.Tag(18, [cbor.encode({1: c.alg_id, 4: c.ds.kid}), {}, None, b"\0" * 64])
            )
        ),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-protected-empty-map",
        lambda c: to_text(sign1(c.ds, c.payload(), protected=b"\xa0")),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-signature-not-bytes",
        lambda c: to_text(
            cbor.encode(
                cbor.Tag(18, [cbor.encode({1: c.alg_id, 4: c.ds.kid}), {}, c.payload(), "sig"])
            )
        ),
        ErrorCode.BAD_COSE,
    ),
    (
        "cose-protected-not-map",
        lambda c: to_text(sign1(c.ds, c.payload(), protected=cbor.encode([1, 2]))),
        ErrorCode.BAD_COSE,
    ),
    # --- algorithms
    (
        "alg-unknown-id",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=-999)),
        ErrorCode.UNSUPPORTED_ALG,
    ),
    (
        "alg-text",
        lambda c: to_text(sign1(c.ds, c.payload(), alg="ES256")),
        ErrorCode.UNSUPPORTED_ALG,
    ),
    (
        "alg-es256-on-ed25519-key",
        lambda c: to_text(sign1(c.signers["EdDSA"], c.payload(), alg=-7, signature=b"\1" * 64)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-es384-on-ds-key",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=-35, signature=b"\1" * 96)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-eddsa-on-ds-key",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=-8, signature=b"\1" * 64)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-ps256-on-ds-key",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=-37, signature=b"\1" * 256)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    # A P-256 key's genuine signature labelled SM2, and an SM2 key's labelled ES256: same
    # signature size, both "EC", but the label must match the key's curve.
    (
        "alg-sibling-on-ds-key-genuine-sig",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=get_algorithm(SIBLING[c.alg]).cose_id)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-sm2-on-p256-key",
        lambda c: to_text(sign1(c.signers["ES256"], c.payload(), alg=SM2_COSE_ID)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-es256-on-sm2-key",
        lambda c: to_text(sign1(c.signers["SM2"], c.payload(), alg=-7)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-sm2-on-ed25519-key",
        lambda c: to_text(
            sign1(c.signers["EdDSA"], c.payload(), alg=SM2_COSE_ID, signature=b"\1" * 64)
        ),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-sm2-on-rsa-key",
        lambda c: to_text(
            sign1(c.signers["PS256"], c.payload(), alg=SM2_COSE_ID, signature=b"\1" * 64)
        ),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    (
        "alg-es512-unsupported",
        lambda c: to_text(sign1(c.ds, c.payload(), alg=-36, signature=b"\1" * 132)),
        ErrorCode.UNSUPPORTED_ALG,
    ),
    (
        "alg-eddsa-on-rsa-key",
        lambda c: to_text(sign1(c.signers["PS256"], c.payload(), alg=-8, signature=b"\1" * 64)),
        ErrorCode.ALG_KEY_MISMATCH,
    ),
    # --- trust
    (
        "kid-untrusted-signer",
        lambda c: to_text(sign1(c.outsider, c.payload())),
        ErrorCode.UNKNOWN_KID,
    ),
    (
        "kid-random",
        lambda c: to_text(sign1(c.ds, c.payload(), kid=b"\x00" * 8)),
        ErrorCode.UNKNOWN_KID,
    ),
    ("kid-empty", lambda c: to_text(sign1(c.ds, c.payload(), kid=b"")), ErrorCode.UNKNOWN_KID),
    # --- signatures (DCC: DER vs raw)
    (
        "sig-der-encoded",
        lambda c: to_text(der_signature(c.ds, c.payload())),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-other-key-trusted-kid",
        lambda c: to_text(sign1(c.ds, c.payload(), sign_key=c.outsider.key)),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-zero",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=b"\0" * 64)),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-empty",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=b"")),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-truncated",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=sign1_sig(c)[:63])),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-r-zero",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=bytes(32) + sign1_sig(c)[32:])),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-s-zero",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=sign1_sig(c)[:32] + bytes(32))),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-r-ge-n",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=b"\xff" * 32 + sign1_sig(c)[32:])),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-s-ge-n",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=sign1_sig(c)[:32] + b"\xff" * 32)),
        ErrorCode.BAD_SIGNATURE,
    ),
    # r = n or s = n exactly, with the order of the signer's own curve (P-256 or sm2p256v1):
    # the smallest out-of-range value, which a mod-n reduction would turn into 0.
    (
        "sig-r-eq-n",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=_int32(c.order) + sign1_sig(c)[32:])),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-s-eq-n",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=sign1_sig(c)[:32] + _int32(c.order))),
        ErrorCode.BAD_SIGNATURE,
    ),
    # A genuine r with s = n - r: for SM2 t = (r + s) mod n = 0, which GB/T 32918.2 rejects
    # explicitly; for ECDSA it is just a wrong s.
    ("sig-r-plus-s-eq-n", lambda c: to_text(_r_plus_s_n(c)), ErrorCode.BAD_SIGNATURE),
    # (r + n, s) or (r, s + n) is not a case: for a genuine r or s it almost never fits the
    # 32 bytes the COSE encoding gives each half (2**256 - n is about 2**224 for both curves).
    (
        "sig-65-bytes",
        lambda c: to_text(sign1(c.ds, c.payload(), signature=sign1_sig(c) + b"\0")),
        ErrorCode.BAD_SIGNATURE,
    ),
    (
        "sig-protected-reordered",
        lambda c: to_text(_protected_reordered(c)),
        ErrorCode.BAD_SIGNATURE,
    ),
    ("sig-payload-swapped", lambda c: to_text(_swap_payload(c)), ErrorCode.BAD_SIGNATURE),
    (
        "sig-protected-alg-changed",
        lambda c: to_text(_protected_changed(c)),
        ErrorCode.BAD_SIGNATURE,
    ),
    # --- claims (schema)
    (
        "claims-missing-cti",
        lambda c: to_text(sign1(c.ds, c.payload(drop=(7,)))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-missing-card",
        lambda c: to_text(sign1(c.ds, c.payload(drop=(CLAIM_CARD,)))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-unknown-claim",
        lambda c: to_text(sign1(c.ds, c.payload(extra={2: "sub"}))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-exp-before-iat",
        lambda c: to_text(sign1(c.ds, cbor.encode(claims_map(c.card, iat=IAT, exp=IAT - 1)))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-iat-bool",
        lambda c: to_text(sign1(c.ds, c.payload(extra={6: True}))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-cti-short",
        lambda c: to_text(sign1(c.ds, c.payload(cti=b"\1"))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-not-a-map",
        lambda c: to_text(sign1(c.ds, cbor.encode([1, 2, 3]))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-card-unknown-field",
        lambda c: to_text(sign1(c.ds, c.payload(extra={CLAIM_CARD: {**c.card.to_claim(), 99: 1}}))),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-card-bad-birthdate",
        lambda c: to_text(
            sign1(c.ds, c.payload(extra={CLAIM_CARD: {**c.card.to_claim(), 2: 11010519491331002}}))
        ),
        ErrorCode.BAD_CLAIMS,
    ),
    (
        "claims-card-expires-before-issued",
        lambda c: to_text(
            sign1(c.ds, c.payload(extra={CLAIM_CARD: {**c.card.to_claim(), 7: 100}}))
        ),
        ErrorCode.BAD_CLAIMS,
    ),
    # --- issuer certificate covers the credential
    (
        "cert-not-valid-at-iat",
        lambda c: to_text(
            sign1(c.ds, cbor.encode(claims_map(c.card, iat=IAT - 3 * 86400, exp=EXP)))
        ),
        ErrorCode.ISSUER_CERT_INVALID,
    ),
    (
        "cert-exp-after-notafter",
        lambda c: to_text(
            sign1(c.ds, cbor.encode(claims_map(c.card, iat=IAT, exp=IAT + 800 * 86400)))
        ),
        ErrorCode.ISSUER_CERT_INVALID,
    ),
    # --- clock (DCC: EXPECTEDEXPIRATIONCHECK)
    (
        "clock-before-iat",
        lambda c: to_text(sign1(c.ds, cbor.encode(claims_map(c.card, iat=IAT + 7200, exp=EXP)))),
        ErrorCode.NOT_YET_VALID,
    ),
    (
        "clock-before-nbf",
        lambda c: to_text(sign1(c.ds, c.payload(extra={5: IAT + 86400}))),
        ErrorCode.NOT_YET_VALID,
    ),
    (
        "clock-after-exp",
        lambda c: to_text(
            sign1(c.ds, cbor.encode(claims_map(c.card, iat=IAT - 3600, exp=IAT + 60)))
        ),
        ErrorCode.EXPIRED,
    ),
    # --- the card's own dates bind whatever exp says
    (
        "card-expired-before-exp",
        lambda c: to_text(
            sign1(
                c.ds,
                c.payload(
                    extra={CLAIM_CARD: {**c.card.to_claim(), 7: _days(dt.date(2026, 3, 1)) - 1}}
                ),
            )
        ),
        ErrorCode.CARD_EXPIRED,
    ),
    (
        "card-issued-in-future",
        lambda c: to_text(
            sign1(
                c.ds,
                c.payload(extra={CLAIM_CARD: {**c.card.to_claim(), 6: _days(dt.date(2026, 3, 3))}}),
            )
        ),
        ErrorCode.NOT_YET_VALID,
    ),
    # --- card status
    (
        "card-suspended",
        lambda c: to_text(
            sign1(
                c.ds,
                c.payload(extra={CLAIM_CARD: {**c.card.to_claim(), 8: int(CardStatus.SUSPENDED)}}),
            )
        ),
        ErrorCode.CARD_INACTIVE,
    ),
]


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def sign1_sig(c: Ctx) -> bytes:
    value = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    sig: bytes = value[3]
    return sig


def _swap_payload(c: Ctx) -> bytes:
    """A genuine signature moved onto a different (also well-formed) payload."""
    genuine = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    other = cbor.encode(claims_map(c.card, iat=IAT, exp=EXP, cti=b"\2" * 8))
    return cbor.encode(cbor.Tag(18, [genuine[0], {}, other, genuine[3]]))


def _int32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _high_s(c: Ctx) -> bytes:
    """A genuine signature (r, s) rewritten to (r, n - s), n the order of the signer's curve."""
    genuine = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    r, s_ = genuine[3][:32], int.from_bytes(genuine[3][32:], "big")
    genuine[3] = r + _int32(c.order - s_)
    return cbor.encode(cbor.Tag(18, genuine))


def _r_plus_s_n(c: Ctx) -> bytes:
    """A genuine r with s replaced by n - r."""
    genuine = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    r = int.from_bytes(genuine[3][:32], "big")
    genuine[3] = _int32(r) + _int32(c.order - r)
    return cbor.encode(cbor.Tag(18, genuine))


def _protected_reordered(c: Ctx) -> bytes:
    """Same header content, other key order: different bytes, so the signature breaks."""
    genuine = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    prot = b"\xa2\x04\x48" + c.ds.kid + b"\x01" + cbor.encode(c.alg_id)
    assert cbor.decode(prot) == cbor.decode(genuine[0]) and prot != genuine[0]
    return cbor.encode(cbor.Tag(18, [prot, {}, genuine[2], genuine[3]]))


def _protected_changed(c: Ctx) -> bytes:
    """Protected header rewritten (an extra label) after signing: the signature covers it."""
    genuine = cbor.decode(c.valid(), allowed_tags=frozenset({18})).value
    prot = cbor.encode({1: c.alg_id, 4: c.ds.kid, 3: 0})
    return cbor.encode(cbor.Tag(18, [prot, {}, genuine[2], genuine[3]]))


def _float_iat(c: Ctx) -> bytes:
    """Claims whose iat is a float64 (RFC 8392 allows it; this profile does not)."""
    body = cbor.encode(claims_map(c.card, iat=IAT, exp=EXP, extra={6: 0}))
    idx = body.index(b"\x06\x00")
    return body[:idx] + b"\x06\xfb" + struct.pack(">d", float(IAT)) + body[idx + 2 :]


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_failure_matrix(
    name: str, build: Callable[[Ctx], str], expected: Expected, ctx: Ctx, verifier: Verifier
) -> None:
    text = build(ctx)
    result = verifier.verify(text)
    why = f" [{ctx.alg}: {expected.why}]" if isinstance(expected, ByAlg) else ""
    expected = expected_for(expected, ctx.alg)
    assert result.code is expected, f"{name}/{ctx.alg}: got {result.code} ({result.detail}){why}"
    assert result.valid is (expected is ErrorCode.OK)
    if expected is ErrorCode.OK:
        assert result.card == ctx.card
    else:
        assert result.card is None
        assert result.detail, "every failure explains itself"
        assert "internal error" not in result.detail


def test_every_pipeline_code_is_covered() -> None:
    """Every code a credential can get has a failing case somewhere: here, or (for what needs a
    trust list or a revocation list) in tests/test_trustlist.py."""
    covered = {expected_for(c[2], alg) for c in CASES for alg in DS_ALGS}
    with_lists = {  # tested in tests/test_trustlist.py
        ErrorCode.REVOKED,
        ErrorCode.ISSUER_NOT_AUTHORISED,
        ErrorCode.TRUST_LIST_STALE,
        ErrorCode.REVOCATION_LIST_STALE,
    }
    with_presentations = {  # tested in tests/test_presentation.py (PRESENTATION_CODES)
        ErrorCode.BOUND_CARD_AS_PLAIN,
        ErrorCode.BINDING_REQUIRED,
        ErrorCode.HOLDER_ALG_NOT_ALLOWED,
        ErrorCode.BAD_HOLDER_SIGNATURE,
        ErrorCode.STALE_PRESENTATION,
        ErrorCode.AUDIENCE_MISMATCH,
        ErrorCode.CHALLENGE_MISMATCH,
        ErrorCode.REPLAYED,
        ErrorCode.PROFILE_NOT_ACCEPTED,
    }
    around = {"BAD_IMAGE", "BAD_KEY", "BAD_CERTIFICATE", "BAD_INPUT", "BAD_LIST", "LIST_ROLLBACK"}
    around |= {"REPLAY_CACHE_UNUSABLE"}
    pipeline = {c for c in ErrorCode if c.name not in around}
    missing = pipeline - covered - with_lists - with_presentations
    assert not missing, sorted(missing)


def test_policy_disallowed_algorithm(ctx: Ctx, trust: TrustStore) -> None:
    """A policy accepting only the signer's algorithm refuses every other, SM2/ES256 included."""
    strict = Verifier(
        trust,
        Policy(algorithms=frozenset({ctx.alg}), clock=fixed_clock(T0 + dt.timedelta(hours=1))),
    )
    assert strict.verify(to_text(sign1(ctx.ds, ctx.payload()))).code is ErrorCode.OK
    for other in ("EdDSA", SIBLING[ctx.alg]):
        result = strict.verify(to_text(sign1(ctx.signers[other], ctx.payload())))
        assert result.code is ErrorCode.UNSUPPORTED_ALG, other
        assert "policy" in result.detail


def test_clock_skew_boundaries(ctx: Ctx, trust: TrustStore) -> None:
    text = to_text(ctx.valid())
    skew = dt.timedelta(minutes=5)

    def at(when: dt.datetime) -> ErrorCode:
        return Verifier(trust, Policy(clock_skew=skew)).verify(text, now=when).code

    iat = dt.datetime.fromtimestamp(IAT, dt.UTC)
    exp = dt.datetime.fromtimestamp(EXP, dt.UTC)
    assert at(iat - skew) is ErrorCode.OK
    assert at(iat - skew - dt.timedelta(seconds=1)) is ErrorCode.NOT_YET_VALID
    assert at(exp + skew - dt.timedelta(seconds=1)) is ErrorCode.OK
    assert at(exp + skew) is ErrorCode.EXPIRED


@pytest.mark.parametrize("alg", DS_ALGS)
def test_unfit_certificates_are_reported(root: CertifiedKey, card: Card, alg: str) -> None:
    """A CA certificate used as a document signer is refused even with a valid signature."""
    if alg != "ES256":  # the shared root is ES256; make a root CA of the other algorithm
        root = create_root_ca(
            f"Test Root CA {alg}", algorithm=alg, not_before=T0 - dt.timedelta(days=30)
        )
    payload = cbor.encode(claims_map(card, iat=IAT, exp=EXP))
    text = to_text(sign1(root, payload))
    v = Verifier(
        TrustStore([root.certificate]), Policy(clock=fixed_clock(T0 + dt.timedelta(hours=1)))
    )
    result = v.verify(text)
    assert result.code is ErrorCode.ISSUER_CERT_INVALID
    assert "CA certificate" in result.detail


def test_sm2_signature_binds_the_distinguishing_id(
    signers: dict[str, CertifiedKey], card: Card, verifier: Verifier
) -> None:
    """SM2 hashes Z_A (from the signer's ID) with the message: a genuine signature made with
    any ID but the fixed 1234567812345678 -- e.g. the empty ID OpenSSL 3 uses when none is
    set -- is BAD_SIGNATURE, never accepted."""
    ds = signers["SM2"]
    assert isinstance(ds.key, Sm2PrivateKey)
    payload = cbor.encode(claims_map(card, iat=IAT, exp=EXP))
    prot = cbor.encode({1: SM2_COSE_ID, 4: ds.kid})
    tbs = sig_structure(prot, payload)
    for uid, expected in (
        (DEFAULT_ID, ErrorCode.OK),
        (b"", ErrorCode.BAD_SIGNATURE),
        (b"ALICE123@YAHOO.COM", ErrorCode.BAD_SIGNATURE),
        (DEFAULT_ID + b"\0", ErrorCode.BAD_SIGNATURE),
    ):
        text = to_text(sign1(ds, payload, protected=prot, signature=ds.key.sign(tbs, uid=uid)))
        result = verifier.verify(text)
        assert result.code is expected, (uid, result.detail)

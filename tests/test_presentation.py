"""Device-bound cards and EC2: presentations: the failure matrix of every holder code, both
directions of each check, replay across processes, interop (pycose, cbor2) and the CDDL schema.
Real keys throughout (conftest signers; device keys P-256, Ed25519 and SM2)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import cbor2
import pycddl
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.algorithms import Es256
from pycose.headers import Algorithm as AlgHeader
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message as PycoseSign1
from tests.conftest import T0, fixed_clock

from ecard.card import Card, day_start_timestamp
from ecard.countercard import CounterCard, compact_mask
from ecard.errors import BadKeyError, BadPresentationError, EcardError, ErrorCode
from ecard.formats import base45, cbor, qrtext
from ecard.formats import cwt as cwt_module
from ecard.formats import presentation as presentation_module
from ecard.formats.cose import assemble_sign1, kid_for_certificate, parse_sign1, sig_structure
from ecard.formats.cosekey import DeviceKey, encode_cnf, parse_cnf, parse_cose_key
from ecard.formats.cwt import decode_claims
from ecard.formats.presentation import PURPOSES as PURPOSES_ALL
from ecard.formats.presentation import (
    decode_text,
    encode_text,
    parse_presentation,
    presentation_payload,
    presentation_protected,
)
from ecard.holder.keys import DeviceSigner, SoftwareDeviceKey
from ecard.holder.wallet import REFRESH_SECONDS, HolderClock, Presenter, enrolment_request
from ecard.signing.binding import check_enrolment, issue_profiles, new_nonce
from ecard.signing.cose import build_sign1
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.signing.signers import KeySigner
from ecard.signing.sm2 import Sm2PrivateKey
from ecard.verify import replay as replay_module
from ecard.verify.policy import MINIMUM_SCOPE, Policy
from ecard.verify.replay import ReplayCache
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

NOW = T0 + dt.timedelta(hours=1)
NOW_TS = int(NOW.timestamp())
ROOT = Path(__file__).resolve().parents[1]
CDDL = (ROOT / "docs" / "cddl" / "presentation.cddl").read_text()
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

#: Every code this file proves (tests/test_matrix.py counts on it).
PRESENTATION_CODES = {
    ErrorCode.BOUND_CARD_AS_PLAIN,
    ErrorCode.BINDING_REQUIRED,
    ErrorCode.BAD_PRESENTATION,
    ErrorCode.HOLDER_ALG_NOT_ALLOWED,
    ErrorCode.BAD_HOLDER_SIGNATURE,
    ErrorCode.STALE_PRESENTATION,
    ErrorCode.AUDIENCE_MISMATCH,
    ErrorCode.CHALLENGE_MISMATCH,
    ErrorCode.REPLAYED,
    ErrorCode.REPLAY_CACHE_UNUSABLE,
    ErrorCode.PROFILE_NOT_ACCEPTED,
}


def device(alg: str) -> DeviceSigner:
    if alg == "SM2":
        return KeySigner(Sm2PrivateKey.generate())
    return SoftwareDeviceKey.generate(alg)


@pytest.fixture(scope="module")
def devices() -> dict[str, DeviceSigner]:
    return {alg: device(alg) for alg in ("ES256", "EdDSA", "SM2")}


def enrol(issuer: Issuer, card: Card, signer: DeviceSigner, **kw: object) -> str:
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(signer, nonce), nonce)
    return issuer.issue(card, device_key=key, **kw).text  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bound(issuer: Issuer, card: Card, devices: dict[str, DeviceSigner]) -> dict[str, str]:
    return {alg: enrol(issuer, card, signer) for alg, signer in devices.items()}


def verifier_for(trust: TrustStore, cache: ReplayCache | None = None, **policy: object) -> Verifier:
    return Verifier(
        trust,
        Policy(clock=fixed_clock(NOW), **policy),
        replay_cache=cache,  # type: ignore[arg-type]
    )


def present(
    card_text: str, signer: DeviceSigner, purpose: str = "pharmacy", *, offset: int = 0, **kw: str
) -> str:
    clock = HolderClock(NOW_TS + offset, lambda: 0.0)
    return Presenter(card_text, signer, clock).present(purpose, **kw)


def resign(
    text: str,
    signer: DeviceSigner | None = None,
    *,
    protected: bytes | None = None,
    payload: bytes | None = None,
    signature: bytes | None = None,
) -> str:
    """The presentation with parts replaced (and re-signed by ``signer`` when given)."""
    p = parse_presentation(decode_text(text))
    prot = p.protected if protected is None else protected
    pay = p.payload if payload is None else payload
    sig = p.signature if signature is None else signature
    if signer is not None:
        sig = signer.sign(sig_structure(prot, pay))
    return encode_text(assemble_sign1(prot, pay, sig))


def schema(rule: str) -> pycddl.Schema:
    return pycddl.Schema(f"start = {rule}\n{CDDL}")


def check_cddl(raw: bytes) -> None:
    """Validate a presentation against docs/cddl/presentation.cddl, layer by layer."""
    schema("ec2-presentation").validate_cbor(raw)
    outer = cbor2.loads(raw).value
    schema("kbt-protected").validate_cbor(outer[0])
    schema("kbt-payload").validate_cbor(outer[2])
    card = cbor2.loads(outer[0])[13]
    schema("bound-card").validate_cbor(card)
    inner = cbor2.loads(card).value
    schema("card-protected").validate_cbor(inner[0])
    schema("bound-claims").validate_cbor(inner[2])


def test_cddl_rejects_what_the_parser_rejects(
    bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    raw = decode_text(present(bound["ES256"], devices["ES256"]))
    outer = cbor2.loads(raw).value
    with pytest.raises(pycddl.ValidationError):
        schema("kbt-payload").validate_cbor(cbor2.dumps({3: "bank", 6: NOW_TS}))
    with pytest.raises(pycddl.ValidationError):
        schema("kbt-protected").validate_cbor(cbor2.dumps({**cbor2.loads(outer[0]), 4: b"k"}))
    card = cbor2.loads(cbor2.loads(outer[0])[13]).value
    claims = cbor2.loads(card[2])
    with pytest.raises(pycddl.ValidationError):
        schema("bound-claims").validate_cbor(cbor2.dumps({**claims, 8: {1: {1: 2, -1: 1}}}))


# -- COSE_Key and cnf -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "SM2"])
def test_cose_key_round_trip(devices: dict[str, DeviceSigner], alg: str) -> None:
    key = DeviceKey.from_public_key(devices[alg].public_key())
    assert key.alg.name == alg
    assert parse_cose_key(cbor.decode(key.encoded())) == key
    assert parse_cnf({1: key.to_cose_key()}) == key


def _p256() -> dict[int, object]:
    return DeviceKey.from_public_key(
        ec.generate_private_key(ec.SECP256R1()).public_key()
    ).to_cose_key()


def _x_off_curve() -> bytes:
    """An x with no point on P-256 (x^3 - 3x + b is not a square)."""
    for x in range(2, 200):
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b"\x02" + x.to_bytes(32, "big")
            )
        except ValueError:
            return x.to_bytes(32, "big")
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda k: {**k, 2: b"kid"}, "not allowed"),
        (lambda k: {**k, -4: b"\x01" * 32}, "private key"),
        (lambda k: {**k, 3: -8}, "does not fit"),
        (lambda k: {**k, 3: -7}, None),  # an alg that fits is accepted
        (lambda k: {**k, -1: 2}, "not a device key type"),
        (lambda k: {**k, 1: 1}, "not a device key type"),
        (lambda k: {**k, -2: k[-2][:31]}, "32-byte"),
        (lambda k: {**k, -2: _x_off_curve()}, "not on the curve"),
        (lambda k: {**k, -3: b"\x00" * 32}, "not on the curve"),
        (lambda k: {**k, -1: True}, "integer kty"),
        (lambda k: [k], "must be a map"),
    ],
)
def test_cose_key_parsing_is_strict(
    change: Callable[[dict[int, object]], object], why: str | None
) -> None:
    changed = change(_p256())
    if why is None:
        assert parse_cose_key(changed).alg.name == "ES256"
        return
    with pytest.raises(BadKeyError, match=why):
        parse_cose_key(changed)


def test_uncompressed_y_is_read() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    key = parse_cose_key(
        {1: 2, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )
    assert key == DeviceKey.from_public_key(private.public_key())


def test_cnf_must_hold_only_a_cose_key() -> None:
    with pytest.raises(BadKeyError, match="cnf"):
        parse_cnf({1: _p256(), 3: b"kid"})


# -- enrolment (proof of possession) ----------------------------------------------------------


def test_enrolment_checks_possession(devices: dict[str, DeviceSigner]) -> None:
    signer = devices["ES256"]
    nonce = new_nonce()
    request = enrolment_request(signer, nonce)
    assert check_enrolment(request, nonce) == DeviceKey.from_public_key(signer.public_key())
    with pytest.raises(BadPresentationError, match="another nonce"):
        check_enrolment(request, new_nonce())
    # a key the requester does not hold: its COSE_Key with another device's signature
    thief = enrolment_request(devices["EdDSA"], nonce)
    forged = cbor2.loads(request).value
    forged[3] = cbor2.loads(thief).value[3]
    with pytest.raises(EcardError) as err:
        check_enrolment(cbor2.dumps(cbor2.CBORTag(18, forged)), nonce)
    assert err.value.code is ErrorCode.BAD_HOLDER_SIGNATURE
    with pytest.raises(EcardError) as err:
        check_enrolment(request, nonce, algorithms={"EdDSA"})
    assert err.value.code is ErrorCode.HOLDER_ALG_NOT_ALLOWED


# -- EC1 and binding --------------------------------------------------------------------------


@pytest.mark.parametrize("require", [False, True])
def test_a_bound_card_is_never_accepted_as_ec1(
    trust: TrustStore, bound: dict[str, str], require: bool
) -> None:
    result = verifier_for(trust, require_binding=require).verify(bound["ES256"])
    assert result.code is ErrorCode.BOUND_CARD_AS_PLAIN
    assert result.card is None


def test_binding_required_is_the_policy_s(trust: TrustStore, issuer: Issuer, card: Card) -> None:
    plain = issuer.issue(card).text
    assert verifier_for(trust).verify(plain).code is ErrorCode.OK
    assert (
        verifier_for(trust, require_binding=True).verify(plain).code is ErrorCode.BINDING_REQUIRED
    )


# -- presentations that verify ----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "SM2"])
def test_presentation_verifies(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner], card: Card, alg: str
) -> None:
    text = present(bound[alg], devices[alg], "pharmacy")
    assert text.startswith("EC2:")
    result = verifier_for(trust, require_binding=True).verify(text)
    assert result.code is ErrorCode.OK, result.detail
    assert result.card == card
    assert result.purpose == "pharmacy"
    assert result.to_dict()["purpose"] == "pharmacy"
    check_cddl(decode_text(text))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-90, ErrorCode.OK),
        (-91, ErrorCode.STALE_PRESENTATION),
        (30, ErrorCode.OK),
        (31, ErrorCode.STALE_PRESENTATION),
    ],
)
def test_iat_window_both_sides(
    trust: TrustStore,
    bound: dict[str, str],
    devices: dict[str, DeviceSigner],
    offset: int,
    expected: ErrorCode,
) -> None:
    text = present(bound["ES256"], devices["ES256"], offset=offset)
    assert verifier_for(trust).verify(text).code is expected


def test_window_is_configurable(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    text = present(bound["ES256"], devices["ES256"], offset=-20)
    narrow = verifier_for(trust, presentation_max_age=dt.timedelta(seconds=10))
    assert narrow.verify(text).code is ErrorCode.STALE_PRESENTATION
    with pytest.raises(ValueError, match="presentation_max_age"):
        Policy(presentation_max_age=dt.timedelta(hours=1))


def test_presentation_before_the_card_was_issued(
    trust: TrustStore, ds: CertifiedKey, card: Card, devices: dict[str, DeviceSigner]
) -> None:
    late = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(NOW - dt.timedelta(seconds=10)))
    text = enrol(late, card, devices["ES256"])
    assert (
        verifier_for(trust).verify(present(text, devices["ES256"], offset=-5)).code is ErrorCode.OK
    )
    result = verifier_for(trust).verify(present(text, devices["ES256"], offset=-20))
    assert result.code is ErrorCode.STALE_PRESENTATION
    assert "card's iat" in result.detail


def test_inner_card_failures_keep_their_codes(
    trust: TrustStore, issuer: Issuer, card: Card, devices: dict[str, DeviceSigner]
) -> None:
    signer = devices["ES256"]
    short = enrol(issuer, card, signer, exp=T0 + dt.timedelta(minutes=30))
    assert verifier_for(trust).verify(present(short, signer)).code is ErrorCode.EXPIRED
    good = enrol(issuer, card, signer)
    cose = bytearray(qrtext.decode(good))
    cose[-1] ^= 1  # the issuer's signature: the device signs over a forged card
    text = resign(present(good, signer), signer, protected=presentation_protected(-7, bytes(cose)))
    assert verifier_for(trust).verify(text).code is ErrorCode.BAD_SIGNATURE


def test_wrong_device_algorithm(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    text = present(bound["ES256"], devices["ES256"])
    only_sm2 = verifier_for(trust, holder_algorithms=frozenset({"SM2"}))
    assert only_sm2.verify(text).code is ErrorCode.HOLDER_ALG_NOT_ALLOWED
    assert (
        verifier_for(trust, holder_algorithms=frozenset({"ES256"})).verify(text).code
        is ErrorCode.OK
    )


def test_header_alg_must_be_the_bound_key_s(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    card_cose = parse_presentation(decode_text(present(bound["ES256"], devices["ES256"]))).card
    text = resign(
        present(bound["ES256"], devices["ES256"]),
        devices["EdDSA"],
        protected=presentation_protected(-8, card_cose),
    )
    result = verifier_for(trust).verify(text)
    assert result.code is ErrorCode.BAD_HOLDER_SIGNATURE
    assert "alg" in result.detail


def test_signature_stripped_or_replaced(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner], ds: CertifiedKey
) -> None:
    text = present(bound["ES256"], devices["ES256"])
    for forged in (
        resign(text, signature=b""),
        resign(text, signature=b"\x00" * 64),
        resign(text, ds.signer()),  # the issuer's key signs the same bytes: not the device's
    ):
        assert verifier_for(trust).verify(forged).code is ErrorCode.BAD_HOLDER_SIGNATURE


def test_card_issued_to_another_device(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    other = SoftwareDeviceKey.generate("ES256")
    text = resign(present(bound["ES256"], devices["ES256"]), other)
    assert verifier_for(trust).verify(text).code is ErrorCode.BAD_HOLDER_SIGNATURE
    with pytest.raises(BadKeyError, match="another device key"):
        Presenter(bound["ES256"], other, HolderClock(NOW_TS, lambda: 0.0))


def test_unbound_card_inside_a_presentation(
    trust: TrustStore, issuer: Issuer, card: Card, devices: dict[str, DeviceSigner]
) -> None:
    plain = qrtext.decode(issuer.issue(card).text)
    signer = devices["ES256"]
    protected = presentation_protected(-7, plain)
    payload = presentation_payload("pharmacy", NOW_TS)
    text = encode_text(
        assemble_sign1(protected, payload, signer.sign(sig_structure(protected, payload)))
    )
    result = verifier_for(trust).verify(text)
    assert result.code is ErrorCode.BAD_PRESENTATION
    assert "not bound" in result.detail


def test_audience(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    text = present(bound["ES256"], devices["ES256"], "identity")
    pharmacy_only = verifier_for(trust, purposes=frozenset({"pharmacy"}))
    assert pharmacy_only.verify(text).code is ErrorCode.AUDIENCE_MISMATCH
    assert verifier_for(trust, purposes=frozenset({"identity"})).verify(text).code is ErrorCode.OK
    unknown = resign(text, devices["ES256"], payload=cbor.encode({3: "bank", 6: NOW_TS}))
    assert verifier_for(trust).verify(unknown).code is ErrorCode.BAD_PRESENTATION


def test_challenge(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    v = verifier_for(trust)
    card, signer = bound["ES256"], devices["ES256"]
    code = v.new_challenge()
    assert len(code) == 6 and code.isdigit()
    assert v.verify(present(card, signer), challenge=code).code is ErrorCode.CHALLENGE_MISMATCH
    wrong = "999999" if code != "999999" else "000000"
    assert v.verify(present(card, signer, challenge=wrong, offset=-1), challenge=code).code is (
        ErrorCode.CHALLENGE_MISMATCH
    )
    assert (
        v.verify(present(card, signer, challenge=code, offset=-2), challenge=code).code
        is ErrorCode.OK
    )
    # consumed: a fresh presentation answering the same challenge is refused
    again = present(card, signer, challenge=code, offset=-3)
    assert v.verify(again, challenge=code).code is ErrorCode.CHALLENGE_MISMATCH
    # a challenge the counter did not ask for
    assert v.verify(present(card, signer, challenge="123456", offset=-4)).code is (
        ErrorCode.CHALLENGE_MISMATCH
    )
    # a challenge of another counter PC
    theirs = verifier_for(trust).new_challenge()
    mine = v.new_challenge()
    assert (
        v.verify(present(card, signer, challenge=theirs, offset=-5), challenge=mine).code
        is (ErrorCode.CHALLENGE_MISMATCH)
        or theirs == mine
    )


def test_replay_detected_also_after_s_to_n_minus_s(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    text = present(bound["ES256"], devices["ES256"])
    v = verifier_for(trust)
    assert v.verify(text).code is ErrorCode.OK
    assert v.verify(text).code is ErrorCode.REPLAYED
    sig = parse_presentation(decode_text(text)).signature
    s = int.from_bytes(sig[32:], "big")
    twin = resign(text, signature=sig[:32] + (P256_ORDER - s).to_bytes(32, "big"))
    assert twin != text
    assert verifier_for(trust).verify(twin).code is ErrorCode.OK  # a valid, different text
    assert v.verify(twin).code is ErrorCode.REPLAYED
    # what the unprotected header carries decides nothing either: it must be empty
    raw = cbor2.loads(decode_text(text)).value
    raw[1] = {99: 1}
    assert (
        v.verify(encode_text(cbor2.dumps(cbor2.CBORTag(18, raw)))).code
        is ErrorCode.BAD_PRESENTATION
    )


_OTHER_PROCESS = textwrap.dedent(
    """
    import datetime as dt, sys
    from cryptography import x509
    from ecard.verify.policy import MINIMUM_SCOPE, Policy
    from ecard.verify.replay import ReplayCache
    from ecard.verify.trust import TrustStore
    from ecard.verify.verifier import Verifier
    cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
    now = dt.datetime.fromtimestamp(int(sys.argv[3]), dt.UTC)
    v = Verifier(TrustStore([cert]), Policy(clock=lambda: now), replay_cache=ReplayCache(sys.argv[2]))
    print(v.verify(sys.argv[4]).code.value)
    """
)


def test_two_processes_share_the_replay_cache(
    tmp_path: Path,
    trust: TrustStore,
    bound: dict[str, str],
    devices: dict[str, DeviceSigner],
    ds: CertifiedKey,
) -> None:
    cert = tmp_path / "ds.pem"
    cert.write_bytes(ds.certificate.public_bytes(Encoding.PEM))
    db = tmp_path / "replay.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def start(text: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _OTHER_PROCESS, str(cert), str(db), str(NOW_TS), text],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        return proc

    # one process accepts; the others, starting at the same time on a new file, see the replay
    text = present(bound["ES256"], devices["ES256"])
    procs = [start(text) for _ in range(4)]
    done = [p.communicate(timeout=120) for p in procs]
    outs = sorted(out.strip() for out, _ in done)
    assert outs == ["OK", "REPLAYED", "REPLAYED", "REPLAYED"], [err for _, err in done]
    # and this process, on the same file, too
    assert verifier_for(trust, ReplayCache(db)).verify(text).code is ErrorCode.REPLAYED
    fresh = present(bound["ES256"], devices["ES256"], offset=-1)
    assert verifier_for(trust, ReplayCache(db)).verify(fresh).code is ErrorCode.OK


def test_replay_cache_expires_and_caps(
    trust: TrustStore,
    bound: dict[str, str],
    devices: dict[str, DeviceSigner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = ReplayCache()
    assert cache.record(b"k" * 32, expires=NOW_TS + 10, now=NOW_TS)
    assert not cache.record(b"k" * 32, expires=NOW_TS + 10, now=NOW_TS + 9)
    assert cache.record(b"k" * 32, expires=NOW_TS + 30, now=NOW_TS + 10)  # expired, dropped
    monkeypatch.setattr(replay_module, "MAX_ENTRIES", 1)
    result = verifier_for(trust, cache).verify(present(bound["ES256"], devices["ES256"]))
    assert result.code is ErrorCode.REPLAY_CACHE_UNUSABLE


def test_replay_cache_unusable_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(EcardError) as err:
        ReplayCache(tmp_path / "dir")
    assert err.value.code is ErrorCode.REPLAY_CACHE_UNUSABLE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b[: len(b) // 2],
        lambda b: b"\x78" + b[1:],
        lambda b: b"\xd8\x3d" + b,
    ],
)
def test_hostile_bytes(
    trust: TrustStore,
    bound: dict[str, str],
    devices: dict[str, DeviceSigner],
    mangle: Callable[[bytes], bytes],
) -> None:
    raw = decode_text(present(bound["ES256"], devices["ES256"]))
    result = verifier_for(trust).verify("EC2:" + base45.encode(mangle(raw)))
    assert not result.valid
    assert "internal error" not in result.detail


def test_compressed_presentation_is_refused(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    raw = decode_text(present(bound["ES256"], devices["ES256"]))
    packed = qrtext.encode(raw, compress=True)[4:]
    assert verifier_for(trust).verify("EC2:" + packed).code is ErrorCode.BAD_PRESENTATION


def test_every_prefix_of_a_presentation_is_a_typed_refusal(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    text = present(bound["ES256"], devices["ES256"])
    v = verifier_for(trust)
    for end in range(0, len(text), 7):
        result = v.verify(text[:end])
        assert not result.valid and "internal error" not in result.detail, end


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.data())
def test_any_one_byte_change_is_refused_with_a_code(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner], data: st.DataObject
) -> None:
    raw = bytearray(decode_text(present(bound["ES256"], devices["ES256"])))
    at = data.draw(st.integers(0, len(raw) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != raw[at]))
    raw[at] = value
    result = verifier_for(trust).verify("EC2:" + base45.encode(bytes(raw)))
    assert not result.valid
    assert isinstance(result.code, ErrorCode)
    assert "internal error" not in result.detail


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    offset=st.integers(-90, 30),
    alg=st.sampled_from(["ES256", "EdDSA", "SM2"]),
    purpose=st.sampled_from(["identity", "treatment", "pharmacy", "payment"]),
)
def test_any_valid_presentation_in_the_window_verifies(
    trust: TrustStore,
    bound: dict[str, str],
    devices: dict[str, DeviceSigner],
    offset: int,
    alg: str,
    purpose: str,
) -> None:
    text = present(bound[alg], devices[alg], purpose, offset=offset)
    assert verifier_for(trust, require_binding=True).verify(text).code is ErrorCode.OK


def test_every_presentation_code_is_proved() -> None:
    """The codes above each have a failing case in this file (the tests name them)."""
    source = Path(__file__).read_text()
    for code in PRESENTATION_CODES:
        assert source.count(f"ErrorCode.{code.name}") >= 2, code


# -- interop ----------------------------------------------------------------------------------


def test_pycose_verifies_presentation_and_card_with_the_cnf_key(
    bound: dict[str, str], devices: dict[str, DeviceSigner], ds: CertifiedKey
) -> None:
    text = present(bound["ES256"], devices["ES256"], challenge="4711")
    raw = decode_text(text)
    outer = cbor2.loads(raw)
    assert outer.tag == 18
    protected = cbor2.loads(outer.value[0])
    assert set(protected) == {1, 13} and protected[1] == -7
    card_cose = protected[13]
    claims = cbor2.loads(cbor2.loads(card_cose).value[2])
    cose_key = claims[8][1]
    assert cose_key[-3] in (True, False)  # compressed: pycose wants y, decompress with cryptography
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), bytes([3 if cose_key[-3] else 2]) + cose_key[-2]
    )
    y = public.public_numbers().y.to_bytes(32, "big")
    msg = PycoseSign1.decode(raw)
    msg.key = EC2Key(crv=P256, x=cose_key[-2], y=y)
    assert msg.verify_signature()
    payload = cbor2.loads(msg.payload)
    assert payload == {3: "pharmacy", 6: NOW_TS, 39: b"4711"}
    inner = PycoseSign1.decode(card_cose)
    nums = ds.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    inner.key = EC2Key(crv=P256, x=nums.x.to_bytes(32, "big"), y=nums.y.to_bytes(32, "big"))
    assert inner.verify_signature()
    # and a tampered payload does not verify under the cnf key
    msg.payload = cbor2.dumps({3: "identity", 6: NOW_TS, 39: b"4711"})
    assert not msg.verify_signature()


def test_presentation_signed_by_pycose_verifies_here(
    trust: TrustStore, issuer: Issuer, card: Card
) -> None:
    """The other direction: an independent implementation signs the presentation (with the
    device's key), ecard verifies it."""

    signer = SoftwareDeviceKey.generate("ES256")
    card_cose = qrtext.decode(enrol(issuer, card, signer))
    private = signer._key  # the test's own key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    n = private.private_numbers()
    key = EC2Key(
        crv=P256,
        x=n.public_numbers.x.to_bytes(32, "big"),
        y=n.public_numbers.y.to_bytes(32, "big"),
        d=n.private_value.to_bytes(32, "big"),
    )
    msg = PycoseSign1(
        phdr={AlgHeader: Es256, 13: card_cose},
        payload=cbor2.dumps({3: "treatment", 6: NOW_TS}),
    )
    msg.key = key
    text = "EC2:" + base45.encode(msg.encode(tag=True))
    assert verifier_for(trust).verify(text).code is ErrorCode.OK


# -- holder side ------------------------------------------------------------------------------


def test_key_file_is_encrypted(tmp_path: Path) -> None:
    key = SoftwareDeviceKey.generate("EdDSA")
    path = tmp_path / "device.pem"
    key.save(path, b"passphrase")
    assert b"ENCRYPTED" in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0
    assert SoftwareDeviceKey.load(path, b"passphrase").device_key == key.device_key
    with pytest.raises(BadKeyError, match="passphrase"):
        SoftwareDeviceKey.load(path, b"wrong")
    with pytest.raises(BadKeyError):
        key.private_pem(b"")
    assert "PRIVATE" not in repr(key)


def test_clock_uses_the_server_offset_and_monotonic_time() -> None:
    ticks = [1000.0]
    clock = HolderClock.synced(NOW, lambda: ticks[0])
    assert clock.now() == NOW_TS
    ticks[0] += 42.5
    assert clock.now() == NOW_TS + 42


def test_presenter_re_signs_every_period(
    trust: TrustStore, bound: dict[str, str], devices: dict[str, DeviceSigner]
) -> None:
    ticks = [0.0]
    presenter = Presenter(
        bound["ES256"], devices["ES256"], HolderClock(NOW_TS - 60, lambda: ticks[0])
    )
    first, left = presenter.current("pharmacy")
    assert left == REFRESH_SECONDS
    ticks[0] = REFRESH_SECONDS - 1.0
    assert presenter.current("pharmacy") == (first, 1)
    ticks[0] = float(REFRESH_SECONDS)
    second, left = presenter.current("pharmacy")
    assert second != first and left == REFRESH_SECONDS
    assert presenter.current("identity")[0] != second  # another purpose: signed anew
    v = verifier_for(trust)
    assert v.verify(first).code is ErrorCode.OK
    assert v.verify(second).code is ErrorCode.OK


# -- purpose profiles -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profiles(issuer: Issuer, card: Card) -> dict[str, tuple[str, DeviceSigner]]:
    """A batch: the full card and its counter profile, each bound to its own device key."""
    devices = {"full": SoftwareDeviceKey.generate("ES256"), "counter": SoftwareDeviceKey.generate()}
    enrolments = {}
    for profile, signer in devices.items():
        nonce = new_nonce()
        enrolments[profile] = (enrolment_request(signer, nonce), nonce)
    issued = issue_profiles(issuer, card, enrolments)
    assert issued["full"].cti != issued["counter"].cti  # unlinkable: no shared id or key
    return {p: (issued[p].text, devices[p]) for p in devices}


def test_pharmacy_never_receives_the_id_number(
    trust: TrustStore, profiles: dict[str, tuple[str, DeviceSigner]], card: Card
) -> None:
    text, signer = profiles["counter"]
    live = present(text, signer, "pharmacy")
    raw = decode_text(live)
    ssn = card.holder.ssn
    assert card.holder.name.encode() not in raw
    assert ssn[:17].encode() not in raw and int(ssn[:17]).to_bytes(8, "big") not in raw
    result = verifier_for(trust, profiles=MINIMUM_SCOPE).verify(live)
    assert result.code is ErrorCode.OK, result.detail
    assert isinstance(result.card, CounterCard)
    assert result.card.masked_name == card.holder.masked_name
    shown = result.to_json()
    assert ssn not in shown and card.holder.name not in shown and "ssn" not in shown
    assert result.to_dict()["card"]["card_number"] == card.card_number


@pytest.mark.parametrize(
    ("profile", "purpose", "expected"),
    [
        ("full", "identity", ErrorCode.OK),
        ("full", "pharmacy", ErrorCode.PROFILE_NOT_ACCEPTED),
        ("counter", "pharmacy", ErrorCode.OK),
        ("counter", "treatment", ErrorCode.OK),
        ("counter", "identity", ErrorCode.PROFILE_NOT_ACCEPTED),
    ],
)
def test_minimum_scope_policy(
    trust: TrustStore,
    profiles: dict[str, tuple[str, DeviceSigner]],
    profile: str,
    purpose: str,
    expected: ErrorCode,
) -> None:
    text, signer = profiles[profile]
    live = present(text, signer, purpose)
    assert verifier_for(trust, profiles=MINIMUM_SCOPE).verify(live).code is expected
    assert verifier_for(trust).verify(live).code is ErrorCode.OK  # the default takes both


def test_a_counter_profile_is_always_bound(
    trust: TrustStore,
    issuer: Issuer,
    card: Card,
    ds: CertifiedKey,
    profiles: dict[str, tuple[str, DeviceSigner]],
) -> None:
    with pytest.raises(EcardError, match="bound"):
        issuer.issue(card, profile="counter")
    # a genuinely signed counter claim without cnf is refused by the reader
    counter = CounterCard.from_card(card)
    payload = cbor.encode({1: "CN", 4: NOW_TS + 3600, 6: NOW_TS - 60, -65539: counter.to_claim()})
    text = qrtext.encode(build_sign1(payload, ds.signer(), kid_for_certificate(ds.certificate)))
    assert verifier_for(trust).verify(text).code is ErrorCode.BAD_CLAIMS
    # and a counter card shown as EC1: is a bound card shown as EC1:
    assert verifier_for(trust).verify(profiles["counter"][0]).code is ErrorCode.BOUND_CARD_AS_PLAIN


def test_counter_claim_is_strict(card: Card) -> None:
    claim = CounterCard.from_card(card).to_claim()
    assert CounterCard.from_claim(claim) == CounterCard.from_card(card)
    days = (card.expires - dt.date(1970, 1, 1)).days
    assert claim == ["张*丰", card.card_number, int(card.region), days, 1]
    older = CounterCard.from_card(card.model_copy(update={"spec_version": "2.00"}))
    assert older.to_claim()[5:] == [200] and CounterCard.from_claim(older.to_claim()) == older
    for bad in (
        {1: claim[0], 3: claim[1]},  # a map (the old layout) is not the counter claim
        [*claim[:1], 11010519491231002, *claim[1:]],  # no ID number in a counter profile
        [card.holder.name, *claim[1:]],  # the full name is not a masked name
        ["欧**娜", *claim[1:]],  # a masked run is one '*' (the name's length is not told)
        claim[:4],
        [*claim, 300],  # the default specification is written by leaving it out
        [claim[0], claim[1], "110105", *claim[3:]],
        [claim[0], claim[1].lower(), *claim[2:]],  # not canonical
        [*claim[:3], -1, claim[4]],
    ):
        with pytest.raises(ValueError):
            CounterCard.from_claim(bad)


def test_counter_presentation_validates_against_the_cddl(
    profiles: dict[str, tuple[str, DeviceSigner]],
) -> None:
    text, signer = profiles["counter"]
    raw = decode_text(present(text, signer, "pharmacy"))
    schema("ec2-presentation").validate_cbor(raw)
    card = cbor2.loads(cbor2.loads(cbor2.loads(raw).value[0])[13]).value
    schema("counter-claims").validate_cbor(card[2])
    with pytest.raises(pycddl.ValidationError):
        schema("bound-claims").validate_cbor(card[2])
    claims = cbor2.loads(card[2])
    with pytest.raises(pycddl.ValidationError):
        schema("counter-claims").validate_cbor(cbor2.dumps({**claims, 7: bytes(16)}))


def test_compact_masked_names() -> None:
    assert compact_mask("张*丰") == "张*丰"
    assert compact_mask("欧**娜") == "欧*娜"
    assert compact_mask("Z**** S******") == "Z* S*"
    assert compact_mask("买*提·艾*") == "买*提·艾*"


def test_counter_credential_id_is_its_device_key_thumbprint(
    trust: TrustStore, issuer: Issuer, card: Card, ds: CertifiedKey
) -> None:
    signer = SoftwareDeviceKey.generate()
    issued = issuer.issue(card, device_key=signer.device_key, profile="counter", iat=NOW)
    assert issued.cti == signer.device_key.thumbprint[:16]
    claims = decode_claims(parse_sign1(issued.cose).payload)
    assert claims.cti == issued.cti and 7 not in cbor.decode(parse_sign1(issued.cose).payload)
    with pytest.raises(EcardError, match="derived"):
        issuer.issue(card, device_key=signer.device_key, profile="counter", cti=bytes(16))
    # a counter credential that carries a cti anyway is refused, so each has one encoding
    counter = CounterCard.from_card(card).to_claim()
    cnf = encode_cnf(signer.device_key)
    payload = cbor.encode(
        {1: "CN", 4: NOW_TS + 3600, 6: NOW_TS - 60, 7: issued.cti, 8: cnf, -65539: counter}
    )
    text = qrtext.encode(build_sign1(payload, ds.signer(), kid_for_certificate(ds.certificate)))
    protected = presentation_protected(signer.algorithm.cose_id, qrtext.decode(text))
    payload = presentation_payload("pharmacy", NOW_TS)
    signature = signer.sign(sig_structure(protected, payload))
    live = encode_text(assemble_sign1(protected, payload, signature))
    result = verifier_for(trust).verify(live)
    assert result.code is ErrorCode.BAD_CLAIMS and "cti" in (result.detail or "")


def test_counter_profile_of_a_card_not_yet_valid_waits_for_its_first_day(
    trust: TrustStore, issuer: Issuer, card: Card
) -> None:
    """The profile has no date of issue: the issuer writes the card's first day as nbf."""
    later = card.model_copy(update={"issued": NOW.date() + dt.timedelta(days=2)})
    signer = SoftwareDeviceKey.generate()
    issued = issuer.issue(later, device_key=signer.device_key, profile="counter", iat=NOW)
    claims = decode_claims(parse_sign1(issued.cose).payload)
    assert claims.nbf == day_start_timestamp(later.issued)
    live = present(issued.text, signer, "pharmacy")
    assert verifier_for(trust).verify(live).code is ErrorCode.NOT_YET_VALID


def test_profiles_need_their_own_keys(issuer: Issuer, card: Card) -> None:
    signer = SoftwareDeviceKey.generate()
    n1, n2 = new_nonce(), new_nonce()
    with pytest.raises(EcardError, match="own device key"):
        issue_profiles(
            issuer,
            card,
            {
                "full": (enrolment_request(signer, n1), n1),
                "counter": (enrolment_request(signer, n2), n2),
            },
        )


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "SM2"])
@pytest.mark.parametrize("challenge", [None, "123456"])
def test_presentation_fast_path_reads_what_the_general_parser_reads(
    bound: dict[str, str], devices: dict[str, DeviceSigner], alg: str, challenge: str | None
) -> None:
    kw = {} if challenge is None else {"challenge": challenge}
    raw = decode_text(present(bound[alg], devices[alg], **kw))
    fast = presentation_module._parse_common(raw)
    assert fast is not None
    # the general path alone (the fast one declines a non-bytes buffer)
    assert fast == parse_presentation_general(raw)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_presentation_fast_path_agrees_on_every_changed_byte(
    bound: dict[str, str], devices: dict[str, DeviceSigner], data: st.DataObject
) -> None:
    raw = bytearray(decode_text(present(bound["ES256"], devices["ES256"], challenge="42")))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    changed = bytes(raw)
    try:
        fast = presentation_module._parse_common(changed)
    except EcardError as exc:
        fast_error: object = exc.code
        fast = None
    else:
        fast_error = None
    try:
        general: object = parse_presentation_general(changed)
    except EcardError as exc:
        general = exc.code
    if fast is not None:
        assert fast == general
    elif fast_error is not None:
        assert fast_error == general


def parse_presentation_general(raw: bytes) -> object:
    """What parse_presentation gives through the general path only."""
    return parse_presentation(bytearray(raw))  # type: ignore[arg-type]


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "SM2"])
def test_bound_claims_fast_path_reads_what_the_strict_decoder_reads(
    bound: dict[str, str], alg: str
) -> None:
    payload = parse_sign1(qrtext.decode(bound[alg])).payload
    fast = cwt_module._decode_bound(payload)
    assert fast is not None and fast == cbor.decode(payload, max_depth=4)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_bound_claims_fast_path_agrees_on_every_changed_byte(
    bound: dict[str, str], data: st.DataObject
) -> None:
    raw = bytearray(
        parse_sign1(qrtext.decode(bound[data.draw(st.sampled_from(["ES256", "SM2"]))])).payload
    )
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    changed = bytes(raw)
    fast = cwt_module._decode_bound(changed)
    if fast is not None:
        assert fast == cbor.decode(changed, max_depth=4)


def test_counter_policy_is_the_new_deployment_preset() -> None:
    policy = Policy.counter(purposes={"pharmacy", "treatment"})
    assert policy.require_binding and policy.purposes == {"pharmacy", "treatment"}
    assert dict(policy.profiles) == dict(MINIMUM_SCOPE)
    assert Policy.counter(purposes="pharmacy").purposes == {"pharmacy"}
    # other fields as for Policy(), and any of them set on purpose
    narrow = Policy.counter(purposes={"identity"}, presentation_max_age=dt.timedelta(seconds=30))
    assert narrow.presentation_max_age == dt.timedelta(seconds=30)
    with pytest.raises(ValueError, match="purposes"):
        Policy.counter(purposes=())
    with pytest.raises(ValueError):
        Policy.counter(purposes={"bank"})
    # the fixed EC1 contract: Policy() itself is unchanged
    assert not Policy().require_binding and Policy().purposes == PURPOSES_ALL


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_one_byte_change_of_a_counter_presentation_is_refused_with_a_code(
    trust: TrustStore, profiles: dict[str, tuple[str, DeviceSigner]], data: st.DataObject
) -> None:
    text, signer = profiles["counter"]
    raw = bytearray(decode_text(present(text, signer, "pharmacy")))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] = data.draw(st.integers(0, 255).filter(lambda v: v != raw[at]))
    result = verifier_for(trust).verify("EC2:" + base45.encode(bytes(raw)))
    assert not result.valid
    assert isinstance(result.code, ErrorCode)
    assert "internal error" not in (result.detail or "")

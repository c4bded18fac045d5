"""PKCS#11 signing against a real token (SoftHSM2), and the library-wide private-key leak scan.

The session fixture runs ``scripts/softhsm-setup.sh`` on a fresh token directory (it installs
SoftHSM2 with apt-get if it is missing). If SoftHSM2 or python-pkcs11 cannot be had, these tests
FAIL; they never skip: CI installs both.

Keys are generated on the token, never imported: what the tests show is what a deployment gets.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import logging
import os
import pickle
import shlex
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pkcs11  # a missing python-pkcs11 fails the module loudly: CI installs ecard[hsm]
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from tests.conftest import T0, fixed_clock
from tests.proc import explain, run_ok

import ecard
from ecard.card import Card
from ecard.crypto import pkcs11 as hsm_mod
from ecard.crypto.algorithms import get_algorithm
from ecard.crypto.x509 import ECARD_LIST_SIGNING_EKU, signing_unfitness
from ecard.errors import AlgKeyMismatchError, BadKeyError, EcardError, ErrorCode
from ecard.formats import qrtext
from ecard.formats.cose import parse_sign1
from ecard.formats.trustlist import TrustListEntry
from ecard.holder.keys import DeviceSigner, token_device_key
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.publish.revocation import revoke
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.issuer import Issuer
from ecard.signing.pkcs11 import Pkcs11Signer, generate_key
from ecard.signing.pki import (
    CertifiedKey,
    certify_end_entity,
    create_document_signer,
    private_key_to_pem,
)
from ecard.signing.revocation import sign_revocation_list
from ecard.signing.signers import KeySigner, load_private_key, load_private_key_file
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "softhsm-setup.sh"
ALGS = ("ES256", "ES384", "EdDSA", "PS256")
DAY = dt.timedelta(days=1)
WRONG_PIN = "wrong-pin-90817"


# --- the token --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hsm:
    module: str
    token: str
    pin: str
    conf: str
    directory: Path
    stdout: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": self.conf, "ECARD_SOFTHSM_DIR": str(self.directory)}


def run_setup(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ECARD_SOFTHSM_DIR": str(directory)}
    return subprocess.run(
        ["bash", str(SETUP)], env=env, capture_output=True, text=True, timeout=900, check=False
    )


def parse_exports(stdout: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] == "export" and len(words) == 2, f"not an export line: {line!r}"
        name, _, value = words[1].partition("=")
        out[name] = value
    return out


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    directory = tmp_path_factory.mktemp("softhsm")
    proc = run_setup(directory)
    if proc.returncode != 0:
        pytest.fail(
            "scripts/softhsm-setup.sh failed: the PKCS#11 tests need SoftHSM2 (CI installs it)\n"
            f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}",
            pytrace=False,
        )
    env = parse_exports(proc.stdout)
    assert {
        "SOFTHSM2_CONF",
        "ECARD_PKCS11_MODULE",
        "ECARD_PKCS11_TOKEN",
        "ECARD_PKCS11_PIN",
    } <= set(env), proc.stdout
    with pytest.MonkeyPatch.context() as mp:
        # SoftHSM2 reads its configuration when the module is initialised in this process
        mp.setenv("SOFTHSM2_CONF", env["SOFTHSM2_CONF"])
        yield Hsm(
            module=env["ECARD_PKCS11_MODULE"],
            token=env["ECARD_PKCS11_TOKEN"],
            pin=env["ECARD_PKCS11_PIN"],
            conf=env["SOFTHSM2_CONF"],
            directory=directory,
            stdout=proc.stdout,
        )


@pytest.fixture(scope="session")
def hsm_signers(hsm: Hsm) -> Iterator[dict[str, Pkcs11Signer]]:
    """One document-signer key per algorithm, generated on the token."""
    made = {
        alg: generate_key(
            hsm.module, token_label=hsm.token, pin=hsm.pin, key_label=f"ds-{alg}", algorithm=alg
        )
        for alg in ALGS
    }
    yield made
    for s in made.values():
        s.close()


@pytest.fixture(scope="session")
def hsm_certs(
    root: CertifiedKey, hsm_signers: dict[str, Pkcs11Signer]
) -> dict[str, x509.Certificate]:
    return {
        alg: certify_end_entity(
            root, s.public_key(), f"HSM Signer {alg}", not_before=T0 - DAY, days=730
        )
        for alg, s in hsm_signers.items()
    }


def open_signer(hsm: Hsm, **kw: object) -> Pkcs11Signer:
    args: dict[str, object] = {"token_label": hsm.token, "pin": hsm.pin, **kw}
    return Pkcs11Signer.open(hsm.module, **args)  # type: ignore[arg-type]


def all_texts(exc: BaseException) -> str:
    """Everything an error could show: message in both languages, repr, args, traceback."""
    parts = [str(exc), repr(exc), *map(str, exc.args)]
    if isinstance(exc, EcardError):
        parts += [exc.detail, exc.message("en"), exc.message("zh")]
    parts += traceback.format_exception(exc)
    return "\n".join(parts)


def assert_typed_error(exc: BaseException) -> None:
    """An ecard error, not a python-pkcs11 one, and none chained into its traceback."""
    assert isinstance(exc, EcardError)
    assert not isinstance(exc, pkcs11.PKCS11Error)
    assert exc.__cause__ is None and exc.__suppress_context__
    assert "pkcs11.exceptions" not in "".join(traceback.format_exception(exc))


# --- setup script -----------------------------------------------------------------------------


def test_setup_script_is_idempotent(hsm: Hsm) -> None:
    again = run_setup(hsm.directory)
    assert again.returncode == 0, again.stderr
    assert again.stdout == hsm.stdout
    assert "already initialised" in again.stderr
    slots = run_ok(["softhsm2-util", "--show-slots"], env=hsm.env()).stdout
    labels = [ln.split(":", 1)[1].strip() for ln in slots.splitlines() if "Label:" in ln]
    assert labels.count(hsm.token) == 1
    assert Path(hsm.conf).parent == hsm.directory.resolve()
    assert Path(hsm.module).is_file() and Path(hsm.module).name == "libsofthsm2.so"
    assert "TEST ONLY" in hsm.stdout


def test_default_token_directory_is_gitignored() -> None:
    lines = (ROOT / ".gitignore").read_text().split()
    assert any(ln.strip("/") == ".softhsm" for ln in lines)


# --- keys stay on the token -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_generated_key_is_sensitive_and_not_extractable(
    hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer], alg: str
) -> None:
    signer = hsm_signers[alg]
    assert signer.algorithm is get_algorithm(alg)
    assert signer.sole_control
    assert signer.key_label == f"ds-{alg}" and signer.key_id and len(signer.key_id) == 16
    A = pkcs11.Attribute
    token = pkcs11.lib(os.path.realpath(hsm.module)).get_token(token_label=hsm.token)
    # a session without a PIN: it shares this process's login (PKCS#11 logs in applications)
    with token.open(rw=True) as session:
        priv = session.get_key(pkcs11.ObjectClass.PRIVATE_KEY, label=f"ds-{alg}")
        assert priv[A.TOKEN] and priv[A.PRIVATE] and priv[A.SIGN]
        assert priv[A.SENSITIVE] and priv[A.ALWAYS_SENSITIVE]
        assert not priv[A.EXTRACTABLE] and priv[A.NEVER_EXTRACTABLE]
        assert not priv[A.DECRYPT] and not priv[A.UNWRAP] and not priv[A.DERIVE]
        secret_attrs = (
            [A.PRIVATE_EXPONENT, A.PRIME_1, A.PRIME_2, A.EXPONENT_1, A.COEFFICIENT]
            if alg == "PS256"
            else [A.VALUE]
        )
        for attr in secret_attrs:
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                priv[attr]
        # nor can it be wrapped out under a key we hold
        kek = session.generate_key(pkcs11.KeyType.AES, 256, store=False)
        with pytest.raises(pkcs11.PKCS11Error) as wrapped:
            kek.wrap_key(priv, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)  # type: ignore[attr-defined]
        assert type(wrapped.value).__name__ in {"KeyUnextractable", "KeyNotWrappable"}


# --- the proof: a card signed in the HSM verifies with the normal verifier ----------------------


@pytest.mark.parametrize("alg", ALGS)
def test_card_signed_in_hsm_verifies(
    hsm_signers: dict[str, Pkcs11Signer],
    hsm_certs: dict[str, x509.Certificate],
    card: Card,
    alg: str,
) -> None:
    signer, cert = hsm_signers[alg], hsm_certs[alg]
    issued = ecard.Issuer(signer, cert, clock=fixed_clock(T0)).issue(card)
    verifier = ecard.Verifier(
        ecard.TrustStore([cert]),
        ecard.Policy(clock=fixed_clock(T0 + dt.timedelta(hours=1))),
    )
    result = verifier.verify(issued.text)
    assert result.valid, result
    assert result.code is ErrorCode.OK
    assert result.card == card
    msg = parse_sign1(qrtext.decode(issued.text))
    assert msg.alg == get_algorithm(alg).cose_id
    # and a flipped signature bit is caught
    cose = bytearray(issued.cose)
    cose[-1] ^= 1
    assert verifier.verify(qrtext.encode(bytes(cose))).code is ErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("alg", ALGS)
def test_signatures_verify_independently_with_cryptography(
    hsm_signers: dict[str, Pkcs11Signer], alg: str
) -> None:
    signer = hsm_signers[alg]
    public = signer.public_key()
    for data in (b"", b"x", os.urandom(1000), os.urandom(70_000)):
        sig = signer.sign(data)
        if isinstance(public, ec.EllipticCurvePublicKey):
            n = (public.curve.key_size + 7) // 8
            assert len(sig) == 2 * n
            der = encode_dss_signature(
                int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big")
            )
            h = hashes.SHA256() if n == 32 else hashes.SHA384()
            public.verify(der, data, ec.ECDSA(h))
            with pytest.raises(InvalidSignature):
                public.verify(der, data + b"!", ec.ECDSA(h))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            assert len(sig) == 64
            public.verify(sig, data)
            assert sig == signer.sign(data)  # Ed25519 is deterministic
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            assert public.key_size == 3072 and len(sig) == 384
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            public.verify(sig, data, pss, hashes.SHA256())
            with pytest.raises(InvalidSignature):
                public.verify(sig, data + b"!", pss, hashes.SHA256())


def test_certificate_profile_matches_pki(
    root: CertifiedKey, hsm_signers: dict[str, Pkcs11Signer], hsm_certs: dict[str, x509.Certificate]
) -> None:
    cert = hsm_certs["ES256"]
    reference = create_document_signer(root, "Reference", not_before=T0 - DAY).certificate
    for ext_type in (x509.BasicConstraints, x509.KeyUsage, x509.ExtendedKeyUsage):
        ours = cert.extensions.get_extension_for_class(ext_type)
        theirs = reference.extensions.get_extension_for_class(ext_type)
        assert (ours.value, ours.critical) == (theirs.value, theirs.critical)
    assert [e.oid for e in cert.extensions] == [e.oid for e in reference.extensions]
    assert cert.issuer == root.certificate.subject
    assert signing_unfitness(cert) is None
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(der, spki) == hsm_signers[
        "ES256"
    ].public_key().public_bytes(der, spki)
    root_key = root.certificate.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    root_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    listed = certify_end_entity(
        root, hsm_signers["EdDSA"].public_key(), "HSM List Signer", eku=ECARD_LIST_SIGNING_EKU
    )
    eku = listed.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ECARD_LIST_SIGNING_EKU]
    with pytest.raises(BadKeyError):
        certify_end_entity(root, b"not a key", "X")  # type: ignore[arg-type]


# --- trust lists and revocation lists signed in the HSM ----------------------------------------


def test_trust_and_revocation_lists_signed_in_hsm(
    hsm: Hsm,
    root: CertifiedKey,
    hsm_signers: dict[str, Pkcs11Signer],
    hsm_certs: dict[str, x509.Certificate],
    card: Card,
) -> None:
    ds, ds_cert = hsm_signers["ES256"], hsm_certs["ES256"]
    with generate_key(
        hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="list-signer", algorithm="EdDSA"
    ) as tl:
        tl_cert = certify_end_entity(
            root,
            tl.public_key(),
            "HSM List Signer",
            not_before=T0 - DAY,
            eku=ECARD_LIST_SIGNING_EKU,
        )
        validator = PathValidator([root.certificate], revocation="off")
        signed_tl = sign_trust_list(
            [TrustListEntry(ds_cert, regions=frozenset({"110000"}))],
            sequence=1,
            issued_at=T0,
            next_update=T0 + 7 * DAY,
            signer=tl,
            certificate=tl_cert,
        )
        store = TrustStore.from_trust_list(signed_tl, validator=validator)
        issuer = Issuer(ds, ds_cert, clock=fixed_clock(T0))
        keep, gone = issuer.issue(card), issuer.issue(card)
        signed_rl = sign_revocation_list(
            [(gone.kid, gone.cti)],
            sequence=1,
            issued_at=T0,
            next_update=T0 + DAY,
            signer=tl,
            certificate=tl_cert,
        )
        revocations = RevocationList.load(signed_rl, validator=validator)
        policy = Policy(clock=fixed_clock(T0 + dt.timedelta(hours=1)))
        verifier = Verifier(store, policy, revocations=revocations)
        assert verifier.verify(keep.text).code is ErrorCode.OK
        assert verifier.verify(gone.text).code is ErrorCode.REVOKED
        # the everyday `revoke` path reads the signer's own list back with the HSM public key
        nxt = revoke(
            signed_rl, [(keep.kid, keep.cti)], signer=tl, certificate=tl_cert, issued_at=T0
        )
        both = RevocationList.load(nxt, validator=validator)
        assert both.sequence == 2
        v2 = Verifier(store, policy, revocations=both)
        assert v2.verify(keep.text).code is ErrorCode.REVOKED


# --- errors -----------------------------------------------------------------------------------


def test_wrong_pin_is_a_bad_key_error_without_the_pin(
    hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]
) -> None:
    # the token is logged in by this process already: the PIN is checked against the login's
    calls: list[Callable[[], object]] = [
        lambda: open_signer(hsm, pin=WRONG_PIN, key_label="ds-ES256"),
        lambda: generate_key(
            hsm.module, token_label=hsm.token, pin=WRONG_PIN, key_label="never-made"
        ),
    ]
    for call in calls:
        with pytest.raises(BadKeyError, match="PIN incorrect") as info:
            call()
        assert_typed_error(info.value)
        text = all_texts(info.value)
        assert WRONG_PIN not in text and hsm.pin not in text
    assert hsm_signers["ES256"].sign(b"still logged in")


LIFECYCLE = r"""
import json, os, sys
from ecard.errors import BadKeyError
from ecard.signing.pkcs11 import Pkcs11Signer
M, T, PIN, WRONG = sys.argv[1:5]
out = {}
def attempt(pin, label="ds-ES256"):
    try:
        Pkcs11Signer.open(M, token_label=T, pin=pin, key_label=label)
    except BadKeyError as e:
        return [str(e), repr(e), e.message("zh"), type(e.__cause__).__name__]
    return None
out["fresh_wrong_pin"] = attempt(WRONG)            # no login yet: the token itself says no
a = Pkcs11Signer.open(M, token_label=T, pin=PIN, key_label="ds-ES256")
b = Pkcs11Signer.open(M, token_label=T, pin=PIN, key_label="ds-EdDSA")
out["shared_wrong_pin"] = attempt(WRONG)           # logged in: the PIN is still checked
out["missing_key"] = attempt(PIN, "no-such-key")
out["pub"] = a.public_key().public_bytes(
    __import__("cryptography").hazmat.primitives.serialization.Encoding.PEM,
    __import__("cryptography").hazmat.primitives.serialization.PublicFormat.SubjectPublicKeyInfo,
).decode()
a.close(); a.close()
out["b_after_a_closed"] = b.sign(b"after").hex()   # closing one signer does not log out others
try:
    a.sign(b"x")
except BadKeyError as e:
    out["closed"] = str(e)
with Pkcs11Signer.open(M, token_label=T, pin=PIN, key_label="ds-ES256") as c:
    out["sig"] = c.sign(b"from another process").hex()
b.close()
out["relogin_wrong_pin"] = attempt(WRONG)          # everything closed: logged out again
with Pkcs11Signer.open(M, token_label=T, pin=PIN, key_label="ds-ES256") as d:
    out["relogin"] = len(d.sign(b"again"))
print(json.dumps(out))
"""


def test_keys_persist_logins_are_shared_and_closed(
    hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]
) -> None:
    """In a fresh process: the token keys are there, a wrong PIN is refused by the token and
    by the shared login, closing one signer leaves the others working, the last one logs out."""
    proc = subprocess.run(
        [sys.executable, "-c", LIFECYCLE, hsm.module, hsm.token, hsm.pin, WRONG_PIN],
        env=hsm.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("fresh_wrong_pin", "shared_wrong_pin", "relogin_wrong_pin"):
        assert out[key] is not None, key
        assert "PIN incorrect" in out[key][0]
        assert out[key][3] == "NoneType"  # no chained cause
        assert all(WRONG_PIN not in t and hsm.pin not in t for t in out[key])
    assert "no private key labelled 'no-such-key'" in out["missing_key"][0]
    assert "closed" in out["closed"]
    assert out["relogin"] == 64
    public = serialization.load_pem_public_key(out["pub"].encode())
    assert public == hsm_signers["ES256"].public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert get_algorithm("ES256").verify(public, bytes.fromhex(out["sig"]), b"from another process")
    eddsa = hsm_signers["EdDSA"].public_key()
    assert get_algorithm("EdDSA").verify(eddsa, bytes.fromhex(out["b_after_a_closed"]), b"after")
    assert proc.stderr == ""


def test_missing_things_are_bad_key_errors(hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"key_label": "no-such-key"}, "no private key labelled 'no-such-key'"),
        ({"key_id": b"\x00" * 16}, "no private key with id 00000000"),
        (
            {"key_label": "ds-ES256", "key_id": b"\x01"},
            "no private key labelled 'ds-ES256' with id 01",
        ),
        ({}, "give key_label or key_id"),
        ({"key_label": ""}, "key_label must be a non-empty string"),
        ({"token_label": "no-such-token", "key_label": "x"}, "token 'no-such-token'"),
    ]
    for kw, needle in cases:
        with pytest.raises(BadKeyError) as info:
            open_signer(hsm, **kw)
        assert needle in info.value.detail, (kw, info.value.detail)
        assert_typed_error(info.value)
        assert hsm.pin not in all_texts(info.value)
    with pytest.raises(BadKeyError, match="not found") as missing:
        Pkcs11Signer.open("/nonexistent/libnothing.so", token_label="t", pin=hsm.pin, key_label="k")
    assert hsm.pin not in all_texts(missing.value)
    with pytest.raises(BadKeyError, match="cannot load PKCS#11 module"):
        Pkcs11Signer.open(sys.executable, token_label="t", pin="0000", key_label="k")
    # by id alone
    signer = hsm_signers["EdDSA"]
    assert signer.key_id is not None
    with open_signer(hsm, key_id=signer.key_id) as by_id:
        assert by_id.key_label == "ds-EdDSA" and by_id.public_key() == signer.public_key()
    # an algorithm that does not fit the key
    with pytest.raises(AlgKeyMismatchError):
        open_signer(hsm, key_label="ds-ES256", algorithm="ES384")
    with pytest.raises(AlgKeyMismatchError):
        open_signer(hsm, key_label="ds-PS256", algorithm="EdDSA")
    # a label already in use is not generated twice
    with pytest.raises(BadKeyError, match="already exists"):
        generate_key(hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="ds-ES256")


def test_without_python_pkcs11_the_error_says_what_to_install(
    hsm: Hsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pkcs11", None)  # makes `import pkcs11` fail
    calls: list[Callable[[], object]] = [
        lambda: open_signer(hsm, key_label="ds-ES256"),
        lambda: generate_key(hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="x"),
    ]
    for call in calls:
        with pytest.raises(BadKeyError, match=r"pip install 'ecard\[hsm\]'") as info:
            call()
        assert_typed_error(info.value)


# --- repr, pickling, closing, threads ---------------------------------------------------------


def test_repr_shows_only_public_facts(hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]) -> None:
    from ecard.signing.signers import public_key_fingerprint

    for alg, signer in hsm_signers.items():
        fp = public_key_fingerprint(signer.public_key())
        assert repr(signer) == (
            f"Pkcs11Signer(algorithm={alg}, token={hsm.token!r}, key_label='ds-{alg}', "
            f"public_key_sha256={fp})"
        )
        assert str(signer) == repr(signer)
        assert hsm.pin not in repr(signer)
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(signer)
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            copy.copy(signer)
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            copy.deepcopy(signer)
    with pytest.raises(TypeError, match=r"Pkcs11Signer\.open"):
        Pkcs11Signer()
    assert isinstance(hsm_signers["ES256"], ecard.Signer)


def test_close_and_context_manager(hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]) -> None:
    with open_signer(hsm, key_label="ds-ES384") as s:
        assert not s.closed
        assert len(s.sign(b"data")) == 96
    assert s.closed
    with pytest.raises(BadKeyError, match="closed"):
        s.sign(b"data")
    s.close()  # idempotent
    assert len(hsm_signers["ES384"].sign(b"data")) == 96  # the shared login lives on
    with pytest.raises(TypeError, match="data must be bytes"):
        hsm_signers["ES256"].sign("text")  # type: ignore[arg-type, unused-ignore]


def test_concurrent_signing_from_threads(hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer]) -> None:
    stop = threading.Event()
    churn_errors: list[BaseException] = []

    def churn() -> None:  # opens and closes signers on the same token meanwhile
        try:
            while not stop.is_set():
                with open_signer(hsm, key_label="ds-EdDSA") as s:
                    s.sign(b"churn")
        except BaseException as exc:  # pragma: no cover - reported below
            churn_errors.append(exc)

    def work(i: int) -> tuple[str, bytes, bytes]:
        alg = ("ES256", "EdDSA", "ES384")[i % 3]
        data = f"message {i}".encode() * (i % 7 + 1)
        return alg, data, hsm_signers[alg].sign(data)

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(240)))
    finally:
        stop.set()
        churner.join()
    assert not churn_errors
    for alg, data, sig in results:
        assert get_algorithm(alg).verify(hsm_signers[alg].public_key(), sig, data)


def test_ecdsa_signature_normalisation() -> None:
    es256 = get_algorithm("ES256")
    n = 32
    r, s = 5, 2**255 + 7
    want = r.to_bytes(n, "big") + s.to_bytes(n, "big")
    assert hsm_mod._cose_signature(es256, want) == want
    assert hsm_mod._cose_signature(es256, encode_dss_signature(r, s)) == want
    short = (r.to_bytes(n, "big").lstrip(b"\0").rjust(31, b"\0")) + s.to_bytes(n, "big")[1:]
    assert len(short) == 62
    assert hsm_mod._cose_signature(es256, short) == r.to_bytes(n, "big") + s.to_bytes(n, "big")[
        1:
    ].rjust(n, b"\0")
    with pytest.raises(BadKeyError):
        hsm_mod._cose_signature(es256, b"\x01" * 65)


# --- library-wide: no private key material in reprs, errors or logs ----------------------------


def _hex_forms(value: int, size: int) -> list[str]:
    h = format(value, "x")
    padded = value.to_bytes(size, "big").hex()
    return [h, h.upper(), padded, padded.upper()]


def secret_forms(key: object) -> list[str]:
    """Text forms of a private key's secrets: PEM/DER body, scalars in hex, decimal, base64."""
    forms: list[str] = []
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        values = [(key.private_numbers().private_value, size)]
    elif isinstance(key, rsa.RSAPrivateKey):
        pn = key.private_numbers()
        size = (key.key_size + 7) // 8
        values = [(v, size) for v in (pn.d, pn.p, pn.q, pn.dmp1, pn.dmq1, pn.iqmp)]
    else:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        values = [(int.from_bytes(raw, "big"), 32)]
    for value, size in values:
        forms += _hex_forms(value, size)
        forms.append(str(value))
        forms.append(base64.b64encode(value.to_bytes(size, "big")).decode())
    assert isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    )
    pem = private_key_to_pem(key)
    forms += [ln.decode() for ln in pem.splitlines() if not ln.startswith(b"-----")]
    return forms


def assert_no_secret(text: str, secrets: list[str], what: str) -> None:
    for s in secrets:
        for i in range(0, max(1, len(s) - 20 + 1), 4):  # any 20-character window
            window = s[i : i + 20]
            assert window not in text, f"{what} leaks private key material"


@pytest.mark.parametrize("alg", ALGS)
def test_no_private_key_material_anywhere(
    alg: str,
    root: CertifiedKey,
    signers: dict[str, CertifiedKey],
    hsm: Hsm,
    hsm_signers: dict[str, Pkcs11Signer],
    tmp_path: Path,
    card: Card,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    ck = signers[alg]
    secrets = secret_forms(ck.key)
    password = b"correct horse battery staple 42"
    encrypted = ck.key_pem(password)
    enc_body = [ln.decode() for ln in encrypted.splitlines() if not ln.startswith(b"-----")]
    plain = ck.key_pem()
    bad = [*secrets, *enc_body, password.decode(), hsm.pin, WRONG_PIN]

    texts: dict[str, str] = {
        "KeySigner": repr(ck.signer()) + str(ck.signer()),
        "KeySigner(from_pem)": repr(KeySigner.from_pem(encrypted, password=password)),
        "CertifiedKey": repr(ck) + str(ck),
        "Issuer": repr(Issuer(ck.signer(), ck.certificate)),
        "Pkcs11Signer": repr(hsm_signers[alg]) + str(hsm_signers[alg]),
        "Issuer(HSM)": repr(
            Issuer(
                hsm_signers[alg],
                certify_end_entity(
                    root, hsm_signers[alg].public_key(), "Leak test", not_before=T0 - DAY
                ),
                clock=fixed_clock(T0),
            )
        ),
        "IssuedCard": repr(Issuer(ck.signer(), ck.certificate, clock=fixed_clock(T0)).issue(card)),
    }
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(encrypted)
    broken = bytearray(plain)
    broken[len(broken) // 2] = ord("!")  # not Base64
    failures: list[Callable[[], object]] = [
        lambda: load_private_key(encrypted, password=b"wrong password"),
        lambda: load_private_key(encrypted),
        lambda: load_private_key(plain, password=password),
        lambda: load_private_key(bytes(broken)),
        lambda: load_private_key(plain[: len(plain) // 2]),
        lambda: load_private_key(plain.replace(b"PRIVATE KEY", b"PUBLIC KEY")),
        lambda: KeySigner.from_pem(encrypted, password=b"wrong password"),
        lambda: KeySigner.from_file(key_file, password=b"wrong password"),
        lambda: load_private_key_file(key_file),
        lambda: KeySigner(ck.key, "ES384" if alg != "ES384" else "ES256"),
        lambda: Issuer(ck.signer(), signers["ES256" if alg != "ES256" else "ES384"].certificate),
    ]
    for i, call in enumerate(failures):
        with pytest.raises(EcardError) as info:
            call()
        texts[f"error {i}"] = all_texts(info.value)

    # the command line, with a wrong password for an encrypted key
    from ecard.cli import main

    card_file = tmp_path / "card.json"
    card_file.write_text(card.model_dump_json())
    cert_file = tmp_path / "cert.pem"
    cert_file.write_bytes(ck.certificate_pem())
    os.environ["ECARD_LEAK_TEST_PASSWORD"] = "wrong password"
    try:
        status = main(
            [
                "issue",
                str(card_file),
                "--key",
                str(key_file),
                "--key-password-env",
                "ECARD_LEAK_TEST_PASSWORD",
                "--cert",
                str(cert_file),
            ]
        )
    finally:
        del os.environ["ECARD_LEAK_TEST_PASSWORD"]
    assert status != 0
    captured = capsys.readouterr()
    texts["cli"] = captured.out + captured.err
    assert "BAD_KEY" in texts["cli"]

    texts["logs"] = "\n".join(r.getMessage() for r in caplog.records)
    for what, text in texts.items():
        assert_no_secret(text, bad, what)
    # the scan itself works: it would have caught the key
    with pytest.raises(AssertionError):
        assert_no_secret(plain.decode(), bad, "the PEM itself")


def test_command_line_issues_with_a_key_in_the_token(
    hsm: Hsm, root: CertifiedKey, hsm_signers: dict[str, Pkcs11Signer], tmp_path: Path
) -> None:
    """`ecard issue --pkcs11-module ...`: the key stays in the token, the card verifies.

    `ecard issue` takes no clock: it issues at the real time, and `ecard verify` here checks at
    the real time too. The certificate therefore spans a century from T0 instead of the
    fixtures' two years, which would make this test fail from 2028 on."""
    from ecard.cli import sample_card

    cert = tmp_path / "ds.pem"
    century = certify_end_entity(
        root, hsm_signers["ES256"].public_key(), "HSM Signer ES256 (CLI)",
        not_before=T0 - DAY, days=100 * 365,
    )  # fmt: skip
    cert.write_bytes(century.public_bytes(serialization.Encoding.PEM))
    card = tmp_path / "card.json"
    card.write_text(sample_card().model_dump_json())
    env = {**hsm.env(), "ECARD_TEST_PIN": hsm.pin}
    base = [sys.executable, "-m", "ecard.cli"]
    hsm_args = [
        "--pkcs11-module",
        hsm.module,
        "--token",
        hsm.token,
        "--key-label",
        "ds-ES256",
        "--pin-env",
        "ECARD_TEST_PIN",
    ]
    issued = subprocess.run(
        [*base, "issue", *hsm_args, "--cert", str(cert), str(card)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert issued.returncode == 0, explain(issued)
    checked = subprocess.run(
        [*base, "verify", "--json", "--trust", str(cert), issued.stdout.strip()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0 and json.loads(checked.stdout)["code"] == "OK", explain(checked)
    wrong = subprocess.run(
        [*base, "issue", *hsm_args, "--cert", str(cert), str(card)],
        env={**env, "ECARD_TEST_PIN": "wrong-pin-000"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 1 and "[BAD_KEY]" in wrong.stderr, explain(wrong)
    assert "wrong-pin-000" not in wrong.stderr and "Traceback" not in wrong.stderr


# --- key sources ------------------------------------------------------------------------------


def test_key_source_of_a_token_key_pickles_and_opens(
    hsm: Hsm, hsm_signers: dict[str, Pkcs11Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_keysource import signs_with

    from ecard.signing.keysource import Pkcs11Key

    pin_env = "ECARD_TEST_KEYSOURCE_PIN"
    source = Pkcs11Key(hsm.module, hsm.token, "ds-PS256", pin_env, "PS256")
    blob = pickle.dumps(source)
    assert hsm.pin.encode() not in blob and hsm.pin not in repr(source)
    copy = pickle.loads(blob)
    assert copy == source
    monkeypatch.delenv(pin_env, raising=False)
    with pytest.raises(EcardError, match=f"{pin_env} is not set"):
        copy.open()
    monkeypatch.setenv(pin_env, hsm.pin)
    public = hsm_signers["PS256"].public_key()
    signs_with(
        copy,
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    monkeypatch.setenv(pin_env, WRONG_PIN)
    with pytest.raises(BadKeyError) as info:
        copy.open()
    assert WRONG_PIN not in str(info.value)


def test_a_device_key_on_the_token_binds_and_presents(
    hsm: Hsm, ds: CertifiedKey, card: Card, trust: TrustStore
) -> None:
    """The holder's key in a token (a phone's secure element stand-in): enrolled with proof of
    possession, it signs presentations that verify, and a re-opened handle signs too."""
    device = token_device_key(
        hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="device-1", generate=True
    )
    assert isinstance(device, DeviceSigner)
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(device, nonce), nonce)
    issuer = Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))
    bound = issuer.issue(card, device_key=key)
    now = T0 + dt.timedelta(hours=1)
    verifier = Verifier(trust, Policy(clock=fixed_clock(now), require_binding=True))
    clock = HolderClock(now.timestamp(), lambda: 0.0)
    assert verifier.verify(Presenter(bound.text, device, clock).present("identity")).valid
    again = token_device_key(hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="device-1")
    live = Presenter(bound.text, again, clock).present("treatment")
    assert verifier.verify(live).code.value == "OK"
    with pytest.raises(BadKeyError, match="ES256 or EdDSA"):
        token_device_key(
            hsm.module, token_label=hsm.token, pin=hsm.pin, key_label="x", algorithm="PS256"
        )

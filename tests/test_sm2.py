"""SM2 with SM3 through the system libcrypto: round trips, rejections, openssl CLI interop, KAT."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ecard.errors import BadKeyError
from ecard.signing.sm2 import (
    DEFAULT_ID,
    SIGNATURE_SIZE,
    Sm2PrivateKey,
    Sm2PublicKey,
    der_to_raw,
    raw_to_der,
    sm2_available,
)

pytestmark = pytest.mark.skipif(not sm2_available(), reason="libcrypto without SM2/SM3")

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")

MSG = b"electronic social security card \xe7\xa4\xbe\xe4\xbf\x9d"

# GB/T 32918.5-2017 Annex A (also GM/T 0003.5): signature over "message digest" with
# ID 1234567812345678. Private key d_A = 3945208F...F7C5B8 (not needed to verify).
KAT_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
KAT_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
KAT_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
KAT_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
# SubjectPublicKeyInfo prefix: id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


@pytest.fixture(scope="module")
def key() -> Sm2PrivateKey:
    return Sm2PrivateKey.generate()


def openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=False)


def test_round_trip(key: Sm2PrivateKey) -> None:
    sig = key.sign(MSG)
    assert len(sig) == SIGNATURE_SIZE
    pub = key.public_key()
    assert pub.verify(sig, MSG)
    assert pub.verify(sig, MSG, uid=DEFAULT_ID)
    # SM2 signing is randomised
    assert key.sign(MSG) != sig


def test_empty_message(key: Sm2PrivateKey) -> None:
    assert key.public_key().verify(key.sign(b""), b"")


def test_wrong_uid_rejected(key: Sm2PrivateKey) -> None:
    pub = key.public_key()
    sig = key.sign(MSG)
    assert not pub.verify(sig, MSG, uid=b"ALICE123@YAHOO.COM")
    assert not pub.verify(sig, MSG, uid=b"")


def test_empty_uid_is_its_own_id(key: Sm2PrivateKey) -> None:
    pub = key.public_key()
    sig = key.sign(MSG, uid=b"")
    assert pub.verify(sig, MSG, uid=b"")
    assert not pub.verify(sig, MSG)  # the default ID must really be set, not left empty


def test_tampered_rejected(key: Sm2PrivateKey) -> None:
    pub = key.public_key()
    sig = key.sign(MSG)
    assert not pub.verify(sig, MSG + b"!")
    assert not pub.verify(sig, b"x" + MSG[1:])
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert not pub.verify(flipped, MSG)
    assert not pub.verify(sig[:-1], MSG)
    assert not pub.verify(b"\x00" * 64, MSG)
    assert not pub.verify(b"\xff" * 64, MSG)


def test_other_key_rejected(key: Sm2PrivateKey) -> None:
    other = Sm2PrivateKey.generate()
    assert not other.public_key().verify(key.sign(MSG), MSG)


def test_pem_round_trip(key: Sm2PrivateKey) -> None:
    pem = key.private_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = Sm2PrivateKey.from_pem(pem)
    assert again.public_key().der() == key.public_key().der()
    assert key.public_key().verify(again.sign(MSG), MSG)

    pub = key.public_key()
    assert pub.pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert Sm2PublicKey.from_pem(pub.pem()).der() == pub.der()
    assert Sm2PublicKey.from_der(pub.der()).der() == pub.der()
    assert pub.der().startswith(SPKI_PREFIX)


def test_der_conversion() -> None:
    raw = bytes.fromhex(KAT_R + KAT_S)
    assert der_to_raw(raw_to_der(raw)) == raw
    small = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    assert raw_to_der(small) == bytes.fromhex("3006020101020102")
    assert der_to_raw(bytes.fromhex("3006020101020102")) == small
    with pytest.raises(ValueError):
        raw_to_der(raw[:-1])
    with pytest.raises(ValueError):
        der_to_raw(bytes.fromhex("3006020100020102"))  # r = 0


def test_known_answer_gbt32918() -> None:
    pub = Sm2PublicKey.from_der(SPKI_PREFIX + bytes.fromhex(KAT_X + KAT_Y))
    sig = bytes.fromhex(KAT_R + KAT_S)
    assert pub.verify(sig, b"message digest")
    assert pub.verify(sig, b"message digest", uid=b"1234567812345678")
    assert not pub.verify(sig, b"message digesT")
    assert not pub.verify(sig, b"message digest", uid=b"")


def test_bad_keys_rejected() -> None:
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(b"not a key")
    with pytest.raises(BadKeyError):
        Sm2PublicKey.from_der(b"\x30\x00")
    with pytest.raises(BadKeyError):
        Sm2PublicKey.from_pem(b"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")
    p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(BadKeyError, match="not an SM2 key"):
        Sm2PrivateKey.from_pem(
            p256.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
    with pytest.raises(BadKeyError, match="not an SM2 key"):
        Sm2PublicKey.from_der(
            p256.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )


def test_close(key: Sm2PrivateKey) -> None:
    k = Sm2PrivateKey.from_pem(key.private_pem())
    with k:
        k.sign(MSG)
    with pytest.raises(BadKeyError, match="closed"):
        k.sign(MSG)
    k.close()  # idempotent


def test_threads(key: Sm2PrivateKey) -> None:
    pub = key.public_key()
    failures: list[int] = []

    def work(i: int) -> None:
        for j in range(50):
            data = f"{i}-{j}".encode()
            if not pub.verify(key.sign(data), data):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@needs_openssl
def test_openssl_genpkey_key_loads(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.pem"
    assert openssl("genpkey", "-algorithm", "SM2", "-out", keyfile).returncode == 0
    k = Sm2PrivateKey.from_pem(keyfile.read_bytes())
    assert k.public_key().verify(k.sign(MSG), MSG)

    enc = tmp_path / "enc.pem"
    res = openssl("pkey", "-in", keyfile, "-aes256", "-passout", "pass:s3cret", "-out", enc)
    assert res.returncode == 0
    k2 = Sm2PrivateKey.from_pem(enc.read_bytes(), password=b"s3cret")
    assert k2.public_key().der() == k.public_key().der()
    with pytest.raises(BadKeyError, match="password"):
        Sm2PrivateKey.from_pem(enc.read_bytes())  # must not prompt on the terminal
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(enc.read_bytes(), password=b"wrong")


@needs_openssl
def test_openssl_verifies_ours(key: Sm2PrivateKey, tmp_path: Path) -> None:
    (tmp_path / "pub.pem").write_bytes(key.public_key().pem())
    (tmp_path / "msg").write_bytes(MSG)
    (tmp_path / "sig.der").write_bytes(raw_to_der(key.sign(MSG)))
    args = ["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin"]
    args += ["-inkey", str(tmp_path / "pub.pem"), "-in", str(tmp_path / "msg")]
    args += ["-sigfile", str(tmp_path / "sig.der")]
    res = openssl(*args, "-pkeyopt", "distid:1234567812345678")
    assert res.returncode == 0, res.stderr
    assert b"Signature Verified Successfully" in res.stdout
    # and openssl rejects it under another ID
    assert openssl(*args, "-pkeyopt", "distid:ALICE123@YAHOO.COM").returncode != 0


@needs_openssl
def test_we_verify_openssl(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.pem"
    assert openssl("genpkey", "-algorithm", "SM2", "-out", keyfile).returncode == 0
    (tmp_path / "msg").write_bytes(MSG)
    res = openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678",
        "-inkey", keyfile, "-in", tmp_path / "msg", "-out", tmp_path / "sig.der",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    pub = Sm2PrivateKey.from_pem(keyfile.read_bytes()).public_key()
    raw = der_to_raw((tmp_path / "sig.der").read_bytes())
    assert pub.verify(raw, MSG)
    assert not pub.verify(raw, MSG, uid=b"")
    assert not pub.verify(raw, MSG + b"x")

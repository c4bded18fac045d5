"""SM2 with SM3 through the system libcrypto: round trips, rejections, openssl CLI interop, KATs
from GB/T 32918, cross-checks with gmalg (an independent pure-Python SM2), encrypted key export,
and the gmalg verify-only fallback used when libcrypto has no SM2."""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from tests.proc import explain

from ecard.crypto.sm2 import (
    DEFAULT_ID,
    SIGNATURE_SIZE,
    SM2P256V1,
    Sm2Curve,
    Sm2PublicKey,
    compute_z,
    der_to_raw,
    raw_to_der,
    sm2_available,
    sm2_verify_available,
)
from ecard.crypto.sm2 import backend as sm2
from ecard.errors import BadKeyError
from ecard.signing.sm2 import Sm2PrivateKey

MSG = b"electronic social security card \xe7\xa4\xbe\xe4\xbf\x9d"

# GB/T 32918.5-2017 Annex A (also GM/T 0003.5): signature over "message digest" with
# ID 1234567812345678. Private key d_A = 3945208F...F7C5B8 (not needed to verify).
KAT_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
KAT_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
KAT_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
KAT_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
# The rest of Annex A: d_A and the nonce k (both as in OpenSSL's test/sm2_internal_test.c),
# Z_A and e = SM3(Z_A || M) as printed in the standard (OpenSSL's test does not list them).
KAT_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
KAT_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
KAT_Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
KAT_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
# SubjectPublicKeyInfo prefix: id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
# The same, for a compressed point (02/03 || x).
SPKI_PREFIX_COMPRESSED = bytes.fromhex("3039301306072a8648ce3d020106082a811ccf5501822d032200")

# GB/T 32918.2-2016 worked example (also GM/T 0003.2-2012 and draft-shen-sm2-ecdsa-02) on the
# 256-bit *example* prime curve, not sm2p256v1. Curve, d_A, k, r and s as in OpenSSL's
# test/sm2_internal_test.c (sm2_sig_test); P_A = [d_A]G, Z_A and e as printed in the standard.
EXAMPLE_CURVE = Sm2Curve(
    name="GB/T 32918 Fp-256 example curve",
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
EX_ID = b"ALICE123@YAHOO.COM"
EX_MSG = b"message digest"
EX_D = 0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263
EX_X = "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
EX_Y = "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857"
EX_Z = "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
EX_E = "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76"
EX_K = 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F
EX_R = "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
EX_S = "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def gmalg_core(curve: Sm2Curve = SM2P256V1, k: int | None = None) -> Any:
    """gmalg's SM2 core on ``curve``; with ``k``, its "random" nonce is always ``k``."""
    from gmalg import SM3
    from gmalg.ellipticcurve import ECDLP
    from gmalg.sm2 import SM2Core

    ecdlp = ECDLP(curve.p, curve.a, curve.b, (curve.gx, curve.gy), curve.n)
    rnd: Callable[[int], int] | None = None if k is None else (lambda _bits: k)
    return SM2Core(ecdlp, SM3(), rnd)


def point_of(key: Sm2PublicKey | Sm2PrivateKey) -> tuple[int, int]:
    pub = key.public_key() if isinstance(key, Sm2PrivateKey) else key
    pt = pub.public_point()
    return int.from_bytes(pt[1:33], "big"), int.from_bytes(pt[33:], "big")


def private_scalar(key: Sm2PrivateKey) -> int:
    """d of our key, read from its PKCS#8 PEM with asn1crypto."""
    der = base64.b64decode(b"".join(key.private_pem().splitlines()[1:-1]))
    info = asn1_keys.PrivateKeyInfo.load(der)
    assert info["private_key_algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
    d: int = info["private_key"].parsed["private_key"].native
    return d


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
    with pytest.raises(ValueError, match="SM2 raw signature must be 64 bytes, not 63"):
        raw_to_der(raw[:-1])
    with pytest.raises(ValueError, match="SM2 signature component out of range"):
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


def test_openssl_genpkey_key_loads(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.pem"
    res = openssl("genpkey", "-algorithm", "SM2", "-out", keyfile)
    assert res.returncode == 0, explain(res)
    k = Sm2PrivateKey.from_pem(keyfile.read_bytes())
    assert k.public_key().verify(k.sign(MSG), MSG)

    enc = tmp_path / "enc.pem"
    res = openssl("pkey", "-in", keyfile, "-aes256", "-passout", "pass:s3cret", "-out", enc)
    assert res.returncode == 0, explain(res)
    k2 = Sm2PrivateKey.from_pem(enc.read_bytes(), password=b"s3cret")
    assert k2.public_key().der() == k.public_key().der()
    with pytest.raises(BadKeyError, match="password"):
        Sm2PrivateKey.from_pem(enc.read_bytes())  # must not prompt on the terminal
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(enc.read_bytes(), password=b"wrong")


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


def test_we_verify_openssl(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.pem"
    res = openssl("genpkey", "-algorithm", "SM2", "-out", keyfile)
    assert res.returncode == 0, explain(res)
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


# --- official vectors, byte for byte -------------------------------------------------------


def test_z_gbt32918_2_example_curve() -> None:
    point = bytes.fromhex("04" + EX_X + EX_Y)
    z = compute_z(point, uid=EX_ID, curve=EXAMPLE_CURVE)
    assert z.hex().upper() == EX_Z
    assert sm3(z + EX_MSG).hex().upper() == EX_E
    # the ID, the curve and the point all enter Z
    assert compute_z(point, uid=DEFAULT_ID, curve=EXAMPLE_CURVE).hex().upper() != EX_Z
    assert compute_z(point, uid=EX_ID + b" ", curve=EXAMPLE_CURVE).hex().upper() != EX_Z
    with pytest.raises(BadKeyError, match="not on the curve"):
        compute_z(point, uid=EX_ID)  # that point is not on sm2p256v1
    # compressed form of the same point gives the same Z (p = 3 mod 4 on this curve)
    odd = int(EX_Y, 16) & 1
    compressed = bytes([2 + odd]) + bytes.fromhex(EX_X)
    assert compute_z(compressed, uid=EX_ID, curve=EXAMPLE_CURVE) == z


def test_signature_gbt32918_2_example_curve_with_gmalg() -> None:
    # libcrypto (OpenSSL 3.0) cannot hold an SM2 key on this curve: its SM2 key manager
    # refuses any group but sm2p256v1. gmalg, with the curve passed in, checks the vector.
    core = gmalg_core(EXAMPLE_CURVE)
    pub = (int(EX_X, 16), int(EX_Y, 16))
    assert core.generate_pk(EX_D) == pub  # P_A = [d_A]G as printed
    z = compute_z(bytes.fromhex("04" + EX_X + EX_Y), uid=EX_ID, curve=EXAMPLE_CURVE)
    assert core.entity_info(EX_ID, pub) == z  # gmalg's Z_A is ours
    r, s = int(EX_R, 16), int(EX_S, 16)
    assert core.verify(EX_MSG, r, s, EX_ID, pub)
    assert not core.verify(EX_MSG, r, s, DEFAULT_ID, pub)
    assert not core.verify(EX_MSG + b"!", r, s, EX_ID, pub)
    assert not core.verify(EX_MSG, r, s ^ 1, EX_ID, pub)
    # with the standard's nonce k, gmalg reproduces the standard's (r, s)
    assert gmalg_core(EXAMPLE_CURVE, k=EX_K).sign(EX_MSG, EX_D, EX_ID, pub) == (r, s)


def test_z_gbt32918_5_annex_a() -> None:
    pub = Sm2PublicKey.from_der(SPKI_PREFIX + bytes.fromhex(KAT_X + KAT_Y))
    assert pub.public_point() == bytes.fromhex("04" + KAT_X + KAT_Y)
    z = compute_z(pub)
    assert z.hex().upper() == KAT_Z
    assert compute_z(pub, uid=b"1234567812345678") == z
    assert compute_z(pub.public_point()) == z
    assert compute_z(pub.public_point(), curve=SM2P256V1) == z
    assert sm3(z + b"message digest").hex().upper() == KAT_E
    assert compute_z(pub, uid=b"") != z
    with pytest.raises(
        ValueError, match="an Sm2PublicKey is on sm2p256v1; pass the point for another curve"
    ):
        compute_z(pub, curve=EXAMPLE_CURVE)  # an Sm2PublicKey is on sm2p256v1
    # and libcrypto, which hashes its own Z_A, agrees with the standard's signature
    assert pub.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest")


def test_gmalg_reproduces_annex_a() -> None:
    pub = (int(KAT_X, 16), int(KAT_Y, 16))
    core = gmalg_core(k=KAT_K)
    assert core.generate_pk(KAT_D) == pub
    assert core.entity_info(DEFAULT_ID, pub).hex().upper() == KAT_Z
    r, s = core.sign(b"message digest", KAT_D, DEFAULT_ID, pub)
    assert (r, s) == (int(KAT_R, 16), int(KAT_S, 16))


def test_compute_z_rejects_bad_points() -> None:
    good = bytes.fromhex("04" + KAT_X + KAT_Y)
    off_curve = good[:-1] + bytes([good[-1] ^ 1])
    for bad in (off_curve, good[:-1], b"", b"\x00", b"\x05" + good[1:], b"\x02" + b"\xff" * 32):
        with pytest.raises(BadKeyError):
            compute_z(bad)
    with pytest.raises(ValueError, match="SM2 distinguishing ID longer than 8191 bytes"):
        compute_z(good, uid=b"x" * 8192)


def test_compute_z_matches_gmalg(key: Sm2PrivateKey) -> None:
    keys = [key.public_key(), Sm2PrivateKey.generate().public_key()]
    for pub in keys:
        for uid in (DEFAULT_ID, b"", b"ALICE123@YAHOO.COM", b"\x00\xff" * 300):
            assert compute_z(pub, uid=uid) == gmalg_core().entity_info(uid, point_of(pub))


def test_public_point(key: Sm2PrivateKey) -> None:
    pub = key.public_key()
    point = pub.public_point()
    assert len(point) == 65 and point[0] == 4
    assert pub.der() == SPKI_PREFIX[:-1] + point


def test_compressed_public_key(backend: str) -> None:
    # a key given with a compressed point: same point, verifies the same
    x, y = int(KAT_X, 16), int(KAT_Y, 16)
    compressed = SPKI_PREFIX_COMPRESSED + bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    kat = Sm2PublicKey.from_der(compressed)
    assert kat.backend == backend
    assert kat.public_point() == bytes.fromhex("04" + KAT_X + KAT_Y)
    assert kat.der() == compressed
    assert kat.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest")
    # the other parity byte names the point (x, p - y): another key
    wrong_parity = SPKI_PREFIX_COMPRESSED + bytes([3 - (y & 1)]) + x.to_bytes(32, "big")
    other = Sm2PublicKey.from_der(wrong_parity)
    assert other.public_point() == SM2P256V1.encode_point(x, SM2P256V1.p - y)
    assert not other.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest")
    assert compute_z(other) != compute_z(kat)


# --- cross-checks with gmalg ---------------------------------------------------------------


@pytest.mark.parametrize("uid", [DEFAULT_ID, b"ALICE123@YAHOO.COM", "社保卡".encode()])
def test_gmalg_verifies_ours(key: Sm2PrivateKey, uid: bytes) -> None:
    from gmalg import SM2

    sig = key.sign(MSG, uid=uid)
    point = key.public_key().public_point()
    assert SM2(pk=point, uid=uid).verify(MSG, sig[:32], sig[32:])
    assert not SM2(pk=point, uid=uid).verify(MSG + b"!", sig[:32], sig[32:])
    assert not SM2(pk=point, uid=uid + b"x").verify(MSG, sig[:32], sig[32:])
    # gmalg's SM2 class refuses an empty ID; its core takes one
    assert not gmalg_core().verify(MSG, *map(_int, (sig[:32], sig[32:])), b"", point_of(key))


def test_gmalg_verifies_ours_empty_id(key: Sm2PrivateKey) -> None:
    sig = key.sign(MSG, uid=b"")
    r, s = _int(sig[:32]), _int(sig[32:])
    pub = point_of(key)
    assert gmalg_core().verify(MSG, r, s, b"", pub)
    assert not gmalg_core().verify(MSG, r, s, DEFAULT_ID, pub)


@pytest.mark.parametrize("uid", [DEFAULT_ID, b"ALICE123@YAHOO.COM", b""])
def test_we_verify_gmalg(uid: bytes) -> None:
    core = gmalg_core()
    d, pub_point = core.generate_keypair()
    r, s = core.sign(MSG, d, uid, pub_point)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    pub = Sm2PublicKey.from_der(SPKI_PREFIX[:-1] + SM2P256V1.encode_point(*pub_point))
    assert pub.verify(sig, MSG, uid=uid)
    assert not pub.verify(sig, MSG + b"!", uid=uid)
    assert not pub.verify(sig, MSG, uid=uid + b"x")
    assert not pub.verify(sig, MSG, uid=b"" if uid else DEFAULT_ID)
    if uid:  # the public SM2 class, which needs a non-empty ID, with bytes in and out
        from gmalg import SM2

        signer = SM2(sk=d.to_bytes(32, "big"), uid=uid)
        rb, sb = signer.sign(MSG)  # minimal-length big-endian: left-pad to 32 bytes each
        assert pub.verify(rb.rjust(32, b"\0") + sb.rjust(32, b"\0"), MSG, uid=uid)


def test_gmalg_signs_with_our_key(key: Sm2PrivateKey) -> None:
    d = private_scalar(key)
    core = gmalg_core()
    assert core.generate_pk(d) == point_of(key)
    r, s = core.sign(MSG, d, DEFAULT_ID, point_of(key))
    assert key.public_key().verify(r.to_bytes(32, "big") + s.to_bytes(32, "big"), MSG)


def _int(b: bytes) -> int:
    return int.from_bytes(b, "big")


# --- encrypted private key export ----------------------------------------------------------


def test_encrypted_pem_round_trip(key: Sm2PrivateKey) -> None:
    pem = key.private_pem(password=b"s3cret")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert key.private_pem(password=b"s3cret") != pem  # fresh salt and IV
    again = Sm2PrivateKey.from_pem(pem, password=b"s3cret")
    assert again.public_key().der() == key.public_key().der()
    assert key.public_key().verify(again.sign(MSG), MSG)
    # PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    alg = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
    assert alg["algorithm"].native == "pbes2"
    assert (alg.kdf, alg.kdf_hmac) == ("pbkdf2", "sha256")
    assert (alg.encryption_cipher, alg.encryption_mode, alg.key_length) == ("aes", "cbc", 32)
    # without password it is plain PKCS#8, as before
    assert key.private_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key.private_pem(None).startswith(b"-----BEGIN PRIVATE KEY-----")


def test_encrypted_pem_wrong_or_missing_password(key: Sm2PrivateKey) -> None:
    pem = key.private_pem(password=b"s3cret")
    with pytest.raises(BadKeyError, match="password"):
        Sm2PrivateKey.from_pem(pem)  # an error, never a terminal prompt
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(pem, password=b"s3creT")
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_pem(pem, password=b"")
    with pytest.raises(ValueError, match="empty password"):
        key.private_pem(password=b"")


def test_openssl_reads_our_encrypted_key(key: Sm2PrivateKey, tmp_path: Path) -> None:
    enc = tmp_path / "enc.pem"
    enc.write_bytes(key.private_pem(password=b"pa ss\xc3\xa9"))
    res = openssl("pkey", "-in", enc, "-passin", "file:" + str(_write(tmp_path, b"pa ss\xc3\xa9")),
                  "-pubout")  # fmt: skip
    assert res.returncode == 0, explain(res)
    assert res.stdout == key.public_key().pem()
    res = openssl("pkey", "-in", enc, "-passin", "pass:wrong", "-pubout")
    assert res.returncode != 0, explain(res)
    # and the plain pass: form
    enc2 = tmp_path / "enc2.pem"
    enc2.write_bytes(key.private_pem(password=b"s3cret"))
    res = openssl("pkey", "-in", enc2, "-passin", "pass:s3cret", "-pubout")
    assert res.returncode == 0, explain(res)
    assert res.stdout == key.public_key().pem()
    # and what openssl decrypts is our private key: it signs, we verify
    (tmp_path / "msg").write_bytes(MSG)
    res = openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
        "-inkey", enc2, "-passin", "pass:s3cret", "-in", tmp_path / "msg",
        "-out", tmp_path / "sig.der",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert key.public_key().verify(der_to_raw((tmp_path / "sig.der").read_bytes()), MSG)


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "pass.txt"
    path.write_bytes(data + b"\n")
    return path


# --- strict SubjectPublicKeyInfo parsing, on both backends ---------------------------------


@pytest.fixture
def gmalg_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the module believe the platform libcrypto has no SM2 (gmalg, if installed, stays)."""
    monkeypatch.setattr(sm2, "_load", lambda: "libcrypto without SM2 (simulated by the test)")


@pytest.fixture(params=["libcrypto", "gmalg"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a test with libcrypto, then again with the gmalg fallback."""
    if request.param == "gmalg":
        request.getfixturevalue("gmalg_only")
    return str(request.param)


def test_public_key_parsing_strict(backend: str) -> None:
    good = SPKI_PREFIX + bytes.fromhex(KAT_X + KAT_Y)
    pub = Sm2PublicKey.from_der(good)
    assert pub.backend == backend
    assert pub.der() == good
    assert pub.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest")
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert good[26] == 4 and int(KAT_Y, 16) & 1  # y is odd: the right hybrid form is 07
    bad = [
        ("not an SM2 key", p256.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)),
        ("not on the curve", good[:-1] + bytes([good[-1] ^ 1])),
        ("trailing data", good + b"\x00"),
        ("BER, not DER", bytes.fromhex("308159") + good[2:]),  # length 0x59 in long form
        ("truncated", good[:-1]),
        ("malformed SubjectPublicKeyInfo", b"\x30\x00"),
        ("infinity", bytes.fromhex("3019301306072a8648ce3d020106082a811ccf5501822d03020000")),
        ("parity", good[:26] + b"\x06" + good[27:]),
        ("malformed EC point", good[:26] + b"\x05" + good[27:]),
    ]
    for reason, der in bad:
        with pytest.raises(BadKeyError, match=reason):
            Sm2PublicKey.from_der(der)
    assert Sm2PublicKey.from_der(good[:26] + b"\x07" + good[27:]).public_point() == good[26:]
    with pytest.raises(BadKeyError):
        Sm2PublicKey.from_pem(b"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")
    with pytest.raises(BadKeyError):
        Sm2PublicKey.from_pem(b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")
    with pytest.raises(BadKeyError):
        Sm2PublicKey.from_pem(pub.pem().replace(b"PUBLIC KEY", b"PRIVATE KEY"))
    assert Sm2PublicKey.from_pem(b"comment line\n" + pub.pem()).der() == good


# --- the verify-only fallback: libcrypto without SM2, gmalg installed ----------------------


def test_fallback_verifies_real_signatures(
    key: Sm2PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # made by libcrypto before it "disappears"
    lib_pub = key.public_key()
    der, pem, point = lib_pub.der(), lib_pub.pem(), lib_pub.public_point()
    sig_default = key.sign(MSG)
    sig_custom = key.sign(MSG, uid=b"ALICE123@YAHOO.COM")
    sig_empty = key.sign(MSG, uid=b"")
    sig_long = key.sign(MSG, uid=b"u" * 4095)
    assert sm2_verify_available()

    monkeypatch.setattr(sm2, "_load", lambda: "libcrypto without SM2 (simulated by the test)")
    assert not sm2_available()
    assert sm2_verify_available()

    pub = Sm2PublicKey.from_der(der)
    assert pub.backend == "gmalg"
    assert Sm2PublicKey.from_pem(pem).backend == "gmalg"
    assert pub.der() == der and pub.pem() == pem and pub.public_point() == point
    assert compute_z(pub) == compute_z(point)

    assert pub.verify(sig_default, MSG)
    assert pub.verify(sig_custom, MSG, uid=b"ALICE123@YAHOO.COM")
    assert pub.verify(sig_empty, MSG, uid=b"")
    assert pub.verify(sig_long, MSG, uid=b"u" * 4095)
    # tampering and wrong IDs are rejected
    assert not pub.verify(sig_default, MSG + b"!")
    assert not pub.verify(bytes([sig_default[0] ^ 1]) + sig_default[1:], MSG)
    assert not pub.verify(sig_default[:-1], MSG)
    assert not pub.verify(b"\x00" * 64, MSG)
    assert not pub.verify(b"\xff" * 64, MSG)
    assert not pub.verify(sig_default, MSG, uid=b"ALICE123@YAHOO.COM")
    assert not pub.verify(sig_default, MSG, uid=b"")
    assert not pub.verify(sig_custom, MSG)
    assert not pub.verify(sig_empty, MSG)
    kat = Sm2PublicKey.from_der(SPKI_PREFIX + bytes.fromhex(KAT_X + KAT_Y))
    assert not kat.verify(sig_default, MSG)  # another key
    # the standard's example
    assert kat.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest")
    assert not kat.verify(bytes.fromhex(KAT_R + KAT_S), b"message digest", uid=b"")
    # gmalg cannot hash IDs of 4096 bytes or more: an error, not a silent False
    with pytest.raises(BadKeyError, match="4096"):
        pub.verify(sig_long, MSG, uid=b"u" * 4096)
    with pub:
        pass
    with pytest.raises(BadKeyError, match="closed"):
        pub.verify(sig_default, MSG)


def test_fallback_cannot_sign(key: Sm2PrivateKey, gmalg_only: None) -> None:
    pem = b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"
    for action in (
        Sm2PrivateKey.generate,
        lambda: Sm2PrivateKey.from_pem(pem),
        lambda: key.sign(MSG),
        lambda: key.private_pem(),
    ):
        with pytest.raises(BadKeyError, match="OpenSSL 3 libcrypto with SM2") as err:
            action()
        assert "only to verify" in str(err.value)


def test_no_backend_at_all(key: Sm2PrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    der, pem = key.public_key().der(), key.public_key().pem()
    monkeypatch.setattr(sm2, "_load", lambda: "libcrypto without SM2 (simulated by the test)")
    monkeypatch.setattr(sm2, "_load_gmalg", lambda: "gmalg is not installed (simulated)")
    assert not sm2_available()
    assert not sm2_verify_available()
    for action in (
        lambda: Sm2PublicKey.from_der(der),
        lambda: Sm2PublicKey.from_pem(pem),
        lambda: Sm2PublicKey.from_pem(b"garbage"),
        Sm2PrivateKey.generate,
        lambda: Sm2PrivateKey.from_pem(key.private_pem()),
        lambda: key.sign(MSG),
    ):
        with pytest.raises(BadKeyError) as err:
            action()
        message = str(err.value)
        assert "OpenSSL 3 libcrypto with SM2" in message, message
        assert "pip install 'ecard[sm]'" in message, message
    # Z_A needs only SM3, which cryptography has
    assert compute_z(bytes.fromhex("04" + KAT_X + KAT_Y)).hex().upper() == KAT_Z


def test_fallback_threads(key: Sm2PrivateKey, gmalg_only: None) -> None:
    pub = Sm2PublicKey.from_der(SPKI_PREFIX + bytes.fromhex(KAT_X + KAT_Y))
    sig = bytes.fromhex(KAT_R + KAT_S)
    failures: list[int] = []

    def work(i: int) -> None:
        for _ in range(3):
            if not pub.verify(sig, b"message digest") or pub.verify(sig, b"message digesT"):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_private_key_der_round_trip_and_openssl_reads_it(tmp_path: Path) -> None:
    key = Sm2PrivateKey.generate()
    plain = key.private_der()
    again = Sm2PrivateKey.from_der(plain)
    assert again.public_key().der() == key.public_key().der()
    assert key.public_key().verify(again.sign(b"m"), b"m")
    secret = key.private_der(password=b"pw 1")
    assert secret != plain and b"pw 1" not in secret
    assert (
        Sm2PrivateKey.from_der(secret, password=b"pw 1").public_key().der()
        == key.public_key().der()
    )
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_der(secret, password=b"pw 2")
    with pytest.raises(BadKeyError):
        Sm2PrivateKey.from_der(secret)
    for junk in (b"", b"\x30", b"\x02\x01\x00", plain + b"\x00", plain[:-1]):
        with pytest.raises(BadKeyError):
            Sm2PrivateKey.from_der(junk)
    (tmp_path / "k.der").write_bytes(secret)
    res = openssl("pkey", "-inform", "DER", "-in", tmp_path / "k.der", "-passin", "pass:pw 1",
                  "-pubout", "-outform", "DER")  # fmt: skip
    assert res.returncode == 0, explain(res)
    out = res.stdout
    assert out == key.public_key().der()


def test_is_sm2_spki(key: Sm2PrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from ecard.crypto.sm2 import is_sm2_spki

    der = key.public_key().der()
    p256 = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert is_sm2_spki(der)
    for other in (p256, der + b"\x00", der[:-1], b"", b"\x30", b"not DER at all"):
        assert not is_sm2_spki(other)

"""SM2 device keys on the holder's side: created, stored encrypted and used by ``ecard.holder``
through the neutral :mod:`ecard.crypto.sm2.private` (never the issuing side); an SM2-bound
card's presentation verifies; the ``openssl`` command (an independent SM2) checks a device
signature; ``ecard wallet create --alg sm2`` makes a wallet whose live codes verify."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.cli import main
from ecard.crypto.sm2 import raw_to_der
from ecard.crypto.sm2.private import Sm2PrivateKey
from ecard.errors import BadKeyError, ErrorCode
from ecard.formats.presentation import decode_text, parse_presentation
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.issuer import Issuer
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

NOW = T0 + dt.timedelta(hours=1)
PASS_ENV = "ECARD_TEST_SM2_WALLET_PASSPHRASE"


@pytest.fixture(scope="module")
def device() -> SoftwareDeviceKey:
    return SoftwareDeviceKey.generate("SM2")


def test_sm2_device_key_file_round_trip(device: SoftwareDeviceKey, tmp_path: Path) -> None:
    path = tmp_path / "device-key.pem"
    device.save(path, b"correct horse")
    text = path.read_bytes()
    assert text.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = SoftwareDeviceKey.load(path, b"correct horse")
    assert again.algorithm.name == "SM2" and again.device_key == device.device_key
    with pytest.raises(BadKeyError, match="passphrase"):
        SoftwareDeviceKey.load(path, b"wrong horse")
    # an unencrypted SM2 key file is refused, as the other key types' are never written
    plain = tmp_path / "plain.pem"
    plain.write_bytes(Sm2PrivateKey.generate().private_pem())
    with pytest.raises(BadKeyError, match="not encrypted"):
        SoftwareDeviceKey.load(plain, b"correct horse")
    with pytest.raises(BadKeyError, match="passphrase"):
        device.private_pem(b"")


@pytest.mark.parametrize("profile", ["full", "counter"])
def test_sm2_bound_card_presentation_verifies(
    device: SoftwareDeviceKey, issuer: Issuer, card: Card, trust: TrustStore, profile: str
) -> None:
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(device, nonce), nonce)
    assert key.alg.name == "SM2"
    bound = issuer.issue(card, device_key=key, iat=T0, profile=profile)  # type: ignore[arg-type]
    clock = HolderClock(NOW.timestamp(), lambda: 0.0)
    text = Presenter(bound.text, device, clock).present("pharmacy")
    verifier = Verifier(trust, Policy(clock=fixed_clock(NOW)))
    result = verifier.verify(text)
    assert result.code is ErrorCode.OK, result.detail
    assert verifier.verify(text).code is ErrorCode.REPLAYED
    # another SM2 device cannot present this card
    other = SoftwareDeviceKey.generate("SM2")
    with pytest.raises(BadKeyError, match="another device key"):
        Presenter(bound.text, other, clock)


def test_openssl_checks_a_device_signature(
    device: SoftwareDeviceKey, issuer: Issuer, card: Card, tmp_path: Path
) -> None:
    key = device.device_key
    bound = issuer.issue(card, device_key=key, iat=T0)
    text = Presenter(bound.text, device, HolderClock(NOW.timestamp(), lambda: 0.0)).present(
        "identity"
    )
    p = parse_presentation(decode_text(text))
    public = key.key
    assert hasattr(public, "pem")
    (tmp_path / "pub.pem").write_bytes(public.pem())  # type: ignore[union-attr]
    (tmp_path / "tbs").write_bytes(p.to_be_signed())
    (tmp_path / "sig.der").write_bytes(raw_to_der(p.signature))
    args = ["openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin"]
    args += ["-inkey", str(tmp_path / "pub.pem"), "-in", str(tmp_path / "tbs")]
    args += ["-sigfile", str(tmp_path / "sig.der"), "-pkeyopt", "distid:1234567812345678"]
    res = subprocess.run(args, capture_output=True, check=False)
    assert res.returncode == 0, res.stderr
    assert b"Signature Verified Successfully" in res.stdout
    # and openssl refuses the signature over other bytes
    (tmp_path / "tbs").write_bytes(p.to_be_signed() + b"\x00")
    assert subprocess.run(args, capture_output=True, check=False).returncode != 0


def test_holder_process_loads_no_issuing_module(tmp_path: Path) -> None:
    """A phone that creates, stores and signs with an SM2 device key loads no signing code."""
    code = (
        "import sys, json\n"
        "from ecard.holder.keys import SoftwareDeviceKey\n"
        "k = SoftwareDeviceKey.generate('SM2')\n"
        f"k.save({str(tmp_path / 'k.pem')!r}, b'pw')\n"
        f"k = SoftwareDeviceKey.load({str(tmp_path / 'k.pem')!r}, b'pw')\n"
        "assert len(k.sign(b'data')) == 64\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('ecard.signing', "
        "'ecard.verify')))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_wallet_create_alg_sm2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    demo = tmp_path / "demo"
    assert main(["demo", "--out", str(demo)]) == 0
    w = tmp_path / "w"
    base = ["--wallet", str(w), "--passphrase-env", PASS_ENV]
    assert main(["wallet", "create", *base, "--alg", "sm2"]) == 0
    assert "SM2 device key" in capsys.readouterr().out
    enrol = ["wallet", "enrol", *base, "--card", str(demo / "card.json")]
    enrol += ["--key", str(demo / "issuer-key.pem"), "--cert", str(demo / "issuer-cert.pem")]
    assert main(enrol) == 0
    capsys.readouterr()
    assert main(["wallet", "present", *base, "--purpose", "pharmacy", "--once"]) == 0
    live = capsys.readouterr().out.strip()
    assert parse_presentation(decode_text(live)).alg == -65538
    cert = str(demo / "issuer-cert.pem")
    assert main(["verify", "--trust", cert, "--json", "--require-binding", live]) == 0
    assert json.loads(capsys.readouterr().out)["code"] == "OK"
    with pytest.raises(SystemExit):
        main(["wallet", "create", *base, "--alg", "rsa", "--force"])


def test_sm2_key_from_its_point_is_the_key_from_its_der() -> None:
    """How a counter loads an SM2 device key from a COSE_Key (EVP_PKEY_fromdata)."""
    from ecard.crypto.sm2 import SM2P256V1, Sm2PublicKey

    private = Sm2PrivateKey.generate()
    public = private.public_key()
    point = public.public_point()
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    key = Sm2PublicKey.from_point(x, y)
    assert key.der() == public.der() and key.public_point() == point
    signature = private.sign(b"presentation")
    assert key.verify(signature, b"presentation") and not key.verify(signature, b"other")
    assert Sm2PublicKey.from_der(key.der()).verify(signature, b"presentation")
    with pytest.raises(BadKeyError, match="not on the curve"):
        Sm2PublicKey.from_point(x, (y + 1) % SM2P256V1.p)

"""``ecard wallet`` and the holder-binding options of ``ecard verify``, driven as a pilot drives
them: a demo issuer, a wallet folder, live codes verified against a shared replay cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from ecard.cli import main

ROOT = Path(__file__).resolve().parents[1]
PASS_ENV = "ECARD_TEST_WALLET_PASSPHRASE"


@pytest.fixture(scope="module")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wallet-demo")
    assert main(["demo", "--out", str(out)]) == 0
    mp = pytest.MonkeyPatch()
    mp.setenv(PASS_ENV, "a long wallet passphrase")
    w = out / "wallet"
    try:
        assert main(["wallet", "create", "--wallet", str(w), "--passphrase-env", PASS_ENV]) == 0
        enrol = ["wallet", "enrol", "--wallet", str(w), "--passphrase-env", PASS_ENV]
        enrol += ["--card", str(out / "card.json"), "--key", str(out / "issuer-key.pem")]
        assert main([*enrol, "--cert", str(out / "issuer-cert.pem")]) == 0
    finally:
        mp.undo()
    return w


def present(wallet: Path, capsys: pytest.CaptureFixture[str], purpose: str, *extra: str) -> str:
    capsys.readouterr()
    code = main(
        ["wallet", "present", "--wallet", str(wallet), "--passphrase-env", PASS_ENV,
         "--purpose", purpose, "--once", *extra]
    )  # fmt: skip
    assert code == 0
    return capsys.readouterr().out.strip()


def verify(
    wallet: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    cert = wallet.parent / "issuer-cert.pem"
    code = main(["verify", "--trust", str(cert), "--json", *args])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_live_code_verifies_once(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    text = present(wallet, capsys, "pharmacy")
    assert text.startswith("EC2:")
    cache = str(tmp_path / "replay.sqlite")
    code, [result] = verify(wallet, capsys, "--replay-cache", cache, "--require-binding", text)
    assert code == 0 and result["code"] == "OK" and result["purpose"] == "pharmacy"
    code, [result] = verify(wallet, capsys, "--replay-cache", cache, text)
    assert code == 1 and result["code"] == "REPLAYED"
    # the bound card alone is refused, whatever the policy
    card = (wallet / "card.txt").read_text().strip()
    code, [result] = verify(wallet, capsys, card)
    assert code == 1 and result["code"] == "BOUND_CARD_AS_PLAIN"
    # a plain card under --require-binding
    plain = (wallet.parent / "card.txt").read_text().strip()
    code, [result] = verify(wallet, capsys, "--require-binding", plain)
    assert result["code"] == "BINDING_REQUIRED"
    code, [result] = verify(wallet, capsys, plain)
    assert result["code"] == "OK"


def test_purpose_and_challenge(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    cache = str(tmp_path / "replay.sqlite")
    cert = str(wallet.parent / "issuer-cert.pem")
    capsys.readouterr()
    assert main(["verify", "--trust", cert, "--replay-cache", cache, "--new-challenge"]) == 0
    challenge = capsys.readouterr().out.strip()
    assert len(challenge) == 6 and challenge.isdigit()
    text = present(wallet, capsys, "identity", "--challenge", challenge)
    _, [result] = verify(wallet, capsys, "--replay-cache", cache, "--purpose", "pharmacy",
                         "--challenge", challenge, text)  # fmt: skip
    assert result["code"] == "AUDIENCE_MISMATCH"
    _, [result] = verify(wallet, capsys, "--replay-cache", cache, "--purpose", "identity",
                         "--challenge", challenge, text)  # fmt: skip
    assert result["code"] == "OK"
    # another presentation (another purpose: the same second and purpose would be the same
    # signed content, a replay) answering the consumed challenge
    again = present(wallet, capsys, "treatment", "--challenge", challenge)
    _, [result] = verify(wallet, capsys, "--replay-cache", cache, "--challenge", challenge, again)
    assert result["code"] == "CHALLENGE_MISMATCH"  # consumed


def test_challenge_shown_before_each_scan(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Scanner mode as a subprocess: the counter shows a code, the holder's phone answers it."""
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    cert = str(wallet.parent / "issuer-cert.pem")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecard.cli", "verify", "--trust", cert, "--challenge", "--oneline"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None and proc.stdout is not None
    line = proc.stderr.readline()
    assert "type this code in the app" in line, line
    challenge = line.rsplit(":", 1)[1].strip()
    proc.stdin.write(present(wallet, capsys, "treatment", "--challenge", challenge) + "\n")
    proc.stdin.flush()
    first = proc.stdout.readline()
    proc.stdin.write(present(wallet, capsys, "payment", "--challenge", challenge) + "\n")
    proc.stdin.close()
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    assert first.startswith("OK "), first
    assert rest.startswith("CHALLENGE_MISMATCH"), rest  # the next scan has a new code


def test_png_is_read_back(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    png = tmp_path / "live.png"
    text = present(wallet, capsys, "payment", "--png", str(png))
    # QR codes only: once, on a random content, zxing reported a second symbol of another format
    [read] = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert read.text == text


def test_usage_errors(
    wallet: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASS_ENV, raising=False)
    code = main(["wallet", "present", "--wallet", str(wallet), "--passphrase-env", PASS_ENV,
                 "--purpose", "pharmacy", "--once"])  # fmt: skip
    assert code == 2
    assert PASS_ENV in capsys.readouterr().err
    monkeypatch.setenv(PASS_ENV, "wrong")
    code = main(["wallet", "present", "--wallet", str(wallet), "--passphrase-env", PASS_ENV,
                 "--purpose", "pharmacy", "--once", "--lang", "zh"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "密钥不可用" in err and "Traceback" not in err
    cert = str(wallet.parent / "issuer-cert.pem")
    assert main(["verify", "--trust", cert, "--challenge", "--", "EC2:X"]) == 2


def test_counter_profile_wallet_at_a_minimum_scope_pharmacy(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A second wallet (its own key) holds the counter profile; a minimum-scope pharmacy takes
    it and refuses the full card; the JSON it prints has no ID number."""
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    demo = wallet.parent
    w2 = tmp_path / "wallet-pharmacy"
    assert main(["wallet", "create", "--wallet", str(w2), "--passphrase-env", PASS_ENV]) == 0
    enrol = ["wallet", "enrol", "--wallet", str(w2), "--passphrase-env", PASS_ENV, "--profile"]
    enrol += ["counter", "--card", str(demo / "card.json"), "--key", str(demo / "issuer-key.pem")]
    assert main([*enrol, "--cert", str(demo / "issuer-cert.pem")]) == 0
    counter = present(w2, capsys, "pharmacy")
    full = present(wallet, capsys, "pharmacy")
    _, [result] = verify(wallet, capsys, "--minimum-scope", full)
    assert result["code"] == "PROFILE_NOT_ACCEPTED"
    capsys.readouterr()
    cert = str(demo / "issuer-cert.pem")
    assert main(["verify", "--trust", cert, "--json", "--minimum-scope", counter]) == 0
    shown = capsys.readouterr().out
    result = json.loads(shown)
    assert result["code"] == "OK" and result["card"]["masked_name"] == "张*丰"
    assert "11010519491231002X" not in shown and "张三丰" not in shown


def test_counter_preset_for_new_deployments(
    wallet: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``--counter --purpose P`` is Policy.counter: binding required and minimum scope."""
    monkeypatch.setenv(PASS_ENV, "a long wallet passphrase")
    plain = (wallet.parent / "card.txt").read_text().strip()
    _, [result] = verify(wallet, capsys, "--counter", "--purpose", "identity", plain)
    assert result["code"] == "BINDING_REQUIRED"
    # the full card (this wallet's) is for identity checks only
    live = present(wallet, capsys, "pharmacy")
    _, [result] = verify(wallet, capsys, "--counter", "--purpose", "pharmacy", live)
    assert result["code"] == "PROFILE_NOT_ACCEPTED"
    live = present(wallet, capsys, "treatment")
    _, [result] = verify(wallet, capsys, "--counter", "--purpose", "pharmacy", live)
    assert result["code"] == "AUDIENCE_MISMATCH"
    live = present(wallet, capsys, "identity")
    _, [result] = verify(wallet, capsys, "--counter", "--purpose", "identity", live)
    assert result["code"] == "OK"
    capsys.readouterr()
    cert = str(wallet.parent / "issuer-cert.pem")
    assert main(["verify", "--trust", cert, "--counter", plain]) == 2
    assert "--purpose" in capsys.readouterr().err

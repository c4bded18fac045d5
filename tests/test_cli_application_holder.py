"""``ecard application`` on the holder's side, in-process through ``ecard.cli.main`` on a
SQLite store with real keys and a fixed ``--now``: the online channel with the liveness step
and the automatic review, a card issued without a bearer credential, the PIN (from the
environment or standard input, never argv), the query, enrolment with request files made by
``ecard wallet``, the bound card verified at a counter that requires binding, then REVOKED
after a loss report; lapsing temporary losses and the event chain check."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import pytest
from tests.conftest import T0
from tests.test_cli_application import KEY_HEX, NAME, RESIDENT, ecard

from ecard.signing.pki import CertifiedKey, create_list_signer

PIN = "138205"


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(hours=1, minutes=minutes)).isoformat()


@pytest.fixture
def site(
    tmp_path: Path, root: CertifiedKey, ds: CertifiedKey, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("ECARD_PSEUDONYM_KEY", KEY_HEX)
    monkeypatch.setenv("ECARD_WALLET_PASSPHRASE", "correct horse battery")
    lists = create_list_signer(root, "Holder Lists", not_before=T0 - dt.timedelta(days=30))
    for name, ck in (("ds", ds), ("lists", lists), ("root", root)):
        (tmp_path / f"{name}-key.pem").write_bytes(ck.key_pem())
        (tmp_path / f"{name}-cert.pem").write_bytes(ck.certificate_pem())
    form = {
        "document_type": 1,
        "document_number": RESIDENT,
        "name": NAME,
        "phone": "13800138000",
        "region": "110105",
        "consents": ["personal_information", "id_photo"],
    }
    (tmp_path / "form.json").write_text(json.dumps(form, ensure_ascii=False))
    (tmp_path / "evidence.bin").write_bytes(b"liveness evidence")
    return tmp_path


def run(site: Path, capsys: pytest.CaptureFixture[str], minutes: float, *args: object) -> dict:  # type: ignore[type-arg]
    db = ["--db", f"sqlite:///{site / 'w.db'}", "--now", at(minutes)]
    status, out, err = ecard(["application", *args, *db], capsys)
    assert PIN not in out + err
    body = json.loads(out) if out.strip() else {}
    body["_status"] = status
    return body  # type: ignore[no-any-return]


def code(site: Path, application: str) -> str:
    return str(json.loads((site / "box" / f"{application}.json").read_text())["code"])


def test_online_to_bound_card_to_revoked(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = site
    issuer = ["--key", d / "ds-key.pem", "--cert", d / "ds-cert.pem"]
    signer = ["--list-key", d / "lists-key.pem", "--list-cert", d / "lists-cert.pem"]
    box = ["--outbox", d / "box"]
    app = run(d, capsys, 0, "submit", d / "form.json", "--channel", "online")["application"]
    assert run(d, capsys, 0, "send-code", app, *box)["_status"] == 0
    assert run(d, capsys, 1, "check-code", app, "--code", code(d, app))["_status"] == 0
    # the liveness port's verdict: a failure is refused with its code, a pass recorded
    failed = run(
        d, capsys, 2, "liveness", app, "--evidence", d / "evidence.bin", "--verdict", "fail"
    )
    assert failed["_status"] == 1 and failed["workflow_code"] == "LIVENESS_FAILED"
    assert run(d, capsys, 2, "review-online", app)["workflow_code"] == "WRONG_STEP"
    assert run(d, capsys, 2, "liveness", app, "--evidence", d / "evidence.bin")["_status"] == 0
    assert run(d, capsys, 3, "review-online", app)["state"] == "approved"
    issued = run(d, capsys, 4, "issue", app, "--require-binding", *issuer)
    assert issued["_status"] == 0 and issued["text"] is None and issued["state"] == "normal"
    card = issued["card_number"]

    # the PIN never on argv: the environment, or standard input
    monkeypatch.delenv("ECARD_PIN", raising=False)
    status, _, err = ecard(
        ["application", "set-pin", card, "--db", f"sqlite:///{d / 'w.db'}"], capsys
    )
    assert status == 2 and "ECARD_PIN" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("123456\n"))
    weak = run(d, capsys, 5, "set-pin", card, "--pin-stdin")
    assert weak["_status"] == 1 and weak["workflow_code"] == "PIN_WEAK"
    monkeypatch.setenv("ECARD_PIN", PIN)
    assert run(d, capsys, 5, "set-pin", card)["pin_set"] is True

    # the query: a code to the card's phone and the PIN
    assert run(d, capsys, 6, "send-card-code", card, *box)["_status"] == 0
    shown = run(d, capsys, 6, "query", card, "--code", code(d, app))
    assert shown["card_state"] == "normal" and RESIDENT not in json.dumps(shown)
    assert shown["masked"]["card_number"] == card[:2] + "*****" + card[-2:]

    # enrolment: challenge → wallet request files → bound credentials → wallets
    assert run(d, capsys, 8, "send-card-code", card, *box)["_status"] == 0
    nonces = run(d, capsys, 8, "enrolment-challenge", card, "--code", code(d, app))["nonces"]
    assert set(nonces) == {"full", "counter"}
    requests = []
    for profile, nonce in nonces.items():
        wallet = d / f"wallet-{profile}"
        assert ecard(["wallet", "create", "--wallet", wallet], capsys)[0] == 0
        req = [
            "wallet",
            "request",
            "--wallet",
            wallet,
            "--nonce",
            nonce,
            "--out",
            d / f"{profile}.req",
        ]
        assert ecard(req, capsys)[0] == 0
        requests += ["--request", f"{profile}={d / f'{profile}.req'}"]
    enrolled = run(
        d, capsys, 9, "enrol", card, *requests, "--out-dir", d / "creds", *issuer, *signer
    )
    assert enrolled["_status"] == 0, enrolled
    assert set(enrolled["credentials"]) == {"full", "counter"}
    again = run(d, capsys, 9, "enrol", card, *requests, *issuer, *signer)
    assert again["_status"] == 1 and again["workflow_code"] == "ENROL_NONCE_USED"
    verify = ["verify", "--json", "--require-binding", "--trust", d / "ds-cert.pem"]
    for profile, purpose in (("full", "identity"), ("counter", "pharmacy")):
        wallet = d / f"wallet-{profile}"
        accept = ["wallet", "accept", "--wallet", wallet, "--card", d / "creds" / f"{profile}.txt"]
        assert ecard([*accept, "--server-time", at(10)], capsys)[0] == 0
        status, live, _ = ecard(["wallet", "present", "--wallet", wallet, "--purpose", purpose,
                                 "--once"], capsys)  # fmt: skip
        assert status == 0 and live.startswith("EC2:")
        status, out, _ = ecard([*verify, "--now", at(10), live.strip()], capsys)
        assert status == 0 and json.loads(out)["code"] == "OK", out
    # another wallet's key cannot take that card
    other = d / "wallet-other"
    ecard(["wallet", "create", "--wallet", other], capsys)
    status, _, err = ecard(["wallet", "accept", "--wallet", other, "--card", d / "creds" / "full.txt"],
                           capsys)  # fmt: skip
    assert status == 1 and "another device key" in err

    # a loss report: the next list makes the same wallet's next code REVOKED
    assert run(d, capsys, 11, "report-loss", card, *signer)["card_state"] == "temporary_loss"
    assert run(d, capsys, 11, "publish-revocations", "--out", d / "r.ecrl")["_status"] == 0
    status, live, _ = ecard(["wallet", "present", "--wallet", d / "wallet-full", "--purpose",
                             "identity", "--once"], capsys)  # fmt: skip
    lists = ["--root", d / "root-cert.pem", "--revocation-list", d / "r.ecrl"]
    status, out, _ = ecard([*verify, *lists, "--now", at(11), live.strip()], capsys)
    assert status == 1 and json.loads(out)["code"] == "REVOKED", out

    # the scheduler: the temporary loss lapses after its days; the event chain holds
    assert run(d, capsys, 12, "lapse-temporary-losses", *signer)["lapsed"] == 0
    days = 11 * 24 * 60
    assert run(d, capsys, days, "lapse-temporary-losses", *signer)["lapsed"] == 1
    short = run(d, capsys, days, "lapse-temporary-losses", "--temporary-loss-days", "3")
    assert short == {"_status": 2}  # a usage error: 5..15 days
    chain = run(d, capsys, days, "verify-events")
    assert chain["_status"] == 0 and chain["events"] == 16 and len(chain["head"]) == 64
    # its head signed by the list signer, kept outside the database, checked back
    kept = run(d, capsys, days, "sign-events-head", "--out", d / "head.cose", *signer)
    assert kept["events"] == 16 and kept["head"] == chain["head"]
    held = ["--checkpoint", d / "head.cose", "--checkpoint-cert", d / "lists-cert.pem"]
    assert run(d, capsys, days, "verify-events", *held)["checkpoints"] == 1
    assert run(d, capsys, days, "verify-events", *held[:2]) == {"_status": 2}  # no cert
    other = ["--checkpoint", d / "head.cose", "--checkpoint-cert", d / "ds-cert.pem"]
    refused = run(d, capsys, days, "verify-events", *other)
    assert refused["_status"] == 1 and refused["workflow_code"] == "CHECKPOINT_INVALID"

    # an event edited behind the workflow's back: exit 1, the first broken event named
    db = sqlite3.connect(d / "w.db")
    with db:
        db.execute("UPDATE events SET actor = 'clerk:evil' WHERE id = 3")
    db.close()
    broken = run(d, capsys, days, "verify-events")
    assert broken["_status"] == 1 and broken["workflow_code"] == "EVENTS_TAMPERED"
    assert "event 3" in broken["message"]

"""``ecard application``: the whole workflow from a terminal on a SQLite store, driven in-process
through ``ecard.cli.main`` with real keys and certificates and a fixed ``--now``; the card it
prints verifies with ``ecard verify``, and after a loss report the list it publishes makes the
counter say REVOKED. Refusals are typed, carry their workflow code and never a traceback, a
document number or a name."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import T0

from ecard.cli import main
from ecard.signing.pki import CertifiedKey, create_list_signer

RESIDENT = "11010519491231002X"
NAME = "张三丰"
KEY_HEX = "5f" * 32
NOW = (T0 + dt.timedelta(hours=1)).isoformat()


def ecard(args: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if args[0] == "application":  # a valid card, verified, shows its holder; nothing else does
        assert RESIDENT not in out + err and NAME not in out + err
    return status, out, err


@pytest.fixture
def site(
    tmp_path: Path, root: CertifiedKey, ds: CertifiedKey, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A folder with the issuer's and the list signer's keys, the root, and a form."""
    monkeypatch.setenv("ECARD_PSEUDONYM_KEY", KEY_HEX)
    lists = create_list_signer(root, "Window Lists", not_before=T0 - dt.timedelta(days=30))
    for name, ck in (("ds", ds), ("lists", lists), ("root", root)):
        (tmp_path / f"{name}-key.pem").write_bytes(ck.key_pem())
        (tmp_path / f"{name}-cert.pem").write_bytes(ck.certificate_pem())
    form = {
        "document_type": 1,
        "document_number": RESIDENT,
        "name": NAME,
        "phone": "13800138000",
        "region": "110105",
        "consents": ["personal_information"],
    }
    (tmp_path / "form.json").write_text(json.dumps(form, ensure_ascii=False))
    return tmp_path


def _db(site: Path) -> list[object]:
    return ["--db", f"sqlite:///{site / 'w.db'}", "--now", NOW]


def _submit(site: Path, capsys: pytest.CaptureFixture[str], form: str = "form.json") -> str:
    status, out, _ = ecard(
        ["application", "submit", site / form, "--actor", "clerk-a", *_db(site)], capsys
    )
    assert status == 0, out
    body = json.loads(out)
    assert body["ok"] and body["state"] == "submitted"
    return str(body["application"])


def test_window_to_card_to_revoked(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, db = site, _db(site)
    app = _submit(site, capsys)
    # the code goes to the outbox folder; the applicant reads it there
    status, out, _ = ecard(["application", "send-code", app, "--outbox", d / "box", *db], capsys)
    assert status == 0
    outbox = Path(json.loads(out)["outbox"])
    message = json.loads(outbox.read_text())
    assert message["application"] == app and message["to"].endswith("8000")
    assert (outbox.stat().st_mode & 0o077) == 0
    status, out, _ = ecard(
        ["application", "check-code", app, "--code", message["code"], *db], capsys
    )
    assert status == 0 and json.loads(out)["phone_verified"] is True
    # a second clerk approves
    review = ["application", "review", app, "approve", "--reviewer", "clerk-b", *db]
    assert ecard(review, capsys)[0] == 0
    issuer = ["--key", d / "ds-key.pem", "--cert", d / "ds-cert.pem"]
    journal = ["--journal", d / "journal.db"]
    status, out, _ = ecard(["application", "issue", app, *issuer, *journal, *db], capsys)
    assert status == 0, out
    issued = json.loads(out)
    card, text = issued["card_number"], issued["text"]
    assert issued["state"] == "normal" and text.startswith("EC1:")
    verify = ["verify", "--json", "--now", NOW, "--trust", d / "ds-cert.pem", text]
    status, out, _ = ecard(verify, capsys)
    assert status == 0 and json.loads(out)["valid"] is True, out
    assert json.loads(out)["card"]["holder"]["ssn"] == RESIDENT
    status, out, _ = ecard(["application", "status", "--card", card, *db], capsys)
    assert json.loads(out)["card_state"] == "normal" and json.loads(out)["state"] == "issued"
    # a loss report signs the next revocation list; published, the counter says REVOKED
    signer = ["--list-key", d / "lists-key.pem", "--list-cert", d / "lists-cert.pem"]
    # without the list signer: a usage error, and the card is left as it was
    status, _, err = ecard(["application", "report-loss", card, *db], capsys)
    assert status == 2 and "--list-key" in err
    status, out, _ = ecard(["application", "status", "--card", card, *db], capsys)
    assert json.loads(out)["card_state"] == "normal"
    status, out, _ = ecard(["application", "report-loss", card, *signer, *journal, *db], capsys)
    assert status == 0 and json.loads(out)["card_state"] == "temporary_loss"
    # the journal holds the card (found by the holder's document) and the list, intact
    assert ecard(["journal", "verify", d / "journal.db"], capsys)[0] == 0
    show = ["journal", "show", d / "journal.db", "--holder", RESIDENT]
    status, out, _ = ecard([*show, "--pseudonym-key-env", "ECARD_PSEUDONYM_KEY"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["credential_id"] for r in records] == [issued["cti"]], out
    publish = ["application", "publish-revocations", "--out", d / "r.ecrl", *db]
    status, out, _ = ecard(publish, capsys)
    assert status == 0 and json.loads(out)["bytes"] > 0
    # the list file is not replaced without --force (a usage error)
    assert ecard(publish, capsys)[0] == 2
    assert ecard([*publish, "--force"], capsys)[0] == 0
    revoked = [*verify[:-1], "--root", d / "root-cert.pem", "--revocation-list", d / "r.ecrl"]
    status, out, _ = ecard([*revoked, text], capsys)
    assert status == 1 and json.loads(out)["code"] == "REVOKED", out
    # a status change of a card that cannot make it, with its code
    status, out, err = ecard(["application", "lift", card, *signer, *db], capsys)
    assert status == 0 and json.loads(out)["card_state"] == "normal"
    status, out, err = ecard(["application", "unfreeze", card, *signer, *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "TRANSITION_REFUSED"
    assert "[TRANSITION_REFUSED]" in err
    # a replacement: the old card listed, a new credential that verifies
    replace = ["application", "replace", card, "--reason", "damaged", *issuer, *signer, *db]
    status, out, _ = ecard(replace, capsys)
    assert status == 0, out
    new = json.loads(out)
    assert new["new_card_number"] != card and new["text"].startswith("EC1:")
    assert ecard([*verify[:-1], new["text"]], capsys)[0] == 0


def test_refusals_are_typed(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(site)
    app = _submit(site, capsys)
    # a rejection without a reason
    status, out, err = ecard(
        ["application", "review", app, "reject", "--reviewer", "clerk-b", *db], capsys
    )
    assert status == 1 and json.loads(out)["workflow_code"] == "REASON_REQUIRED"
    assert err.startswith("ecard: error [BAD_INPUT]") and "[REASON_REQUIRED] a reason is" in err
    # the clerk who submitted may not decide
    status, out, _ = ecard(
        ["application", "review", app, "approve", "--reviewer", "clerk-a", *db], capsys
    )
    assert status == 1 and json.loads(out)["workflow_code"] == "OWN_CASE"
    # issue before approval: the wrong step (the keys are not needed to say so)
    issuer = ["--key", site / "ds-key.pem", "--cert", site / "ds-cert.pem"]
    status, out, _ = ecard(["application", "issue", app, *issuer, *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "WRONG_STEP"
    # an unknown application
    status, out, _ = ecard(["application", "status", "--application", "nope", *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "NOT_FOUND"
    # a wrong code is counted and refused
    ecard(["application", "send-code", app, "--outbox", site / "box", *db], capsys)
    status, out, _ = ecard(["application", "check-code", app, "--code", "12345", *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "CODE_FORMAT"
    # a bad document number: its problem, never the number
    form = json.loads((site / "form.json").read_text())
    form["document_number"] = RESIDENT[:-1] + "1"
    (site / "bad.json").write_text(json.dumps(form, ensure_ascii=False))
    status, out, err = ecard(["application", "submit", site / "bad.json", *db], capsys)
    assert status == 1 and json.loads(out)["problem"] == "DOCUMENT_CHECK_CHARACTER"
    # a form that is not one
    (site / "list.json").write_text("[1, 2]")
    status, out, _ = ecard(["application", "submit", site / "list.json", *db], capsys)
    assert status == 1 and "not a JSON object" in json.loads(out)["message"]
    form.pop("phone")
    (site / "short.json").write_text(json.dumps(form, ensure_ascii=False))
    status, out, _ = ecard(["application", "submit", site / "short.json", *db], capsys)
    assert status == 1 and "phone is missing" in json.loads(out)["message"]
    # an outbox that cannot be written: refused, and no code kept as sent (no resend wait)
    other = _submit(site, capsys)
    (site / "file").write_text("")
    send = ["application", "send-code", other, *db, "--outbox"]
    status, out, _ = ecard([*send, site / "file"], capsys)
    assert status == 1 and "workflow_code" not in json.loads(out), out
    assert ecard([*send, site / "box"], capsys)[0] == 0
    # a store that cannot be opened, a pseudonym key that is not hex
    status, out, err = ecard(["application", "status", "--card", "X", "--db", "nosuch://x"], capsys)
    assert status == 1 and "cannot open the workflow store" in err
    monkeypatch.setenv("NOT_HEX", "zz" * 32)
    status, out, err = ecard(
        ["application", "submit", site / "form.json", "--pseudonym-key-env", "NOT_HEX", *db], capsys
    )
    assert status == 1 and json.loads(out)["error"] == "BAD_KEY"
    # usage errors: exit 2
    assert ecard(["application", "review", app, "maybe", "--reviewer", "x", *db], capsys)[0] == 2
    assert ecard(["application", "status", *db], capsys)[0] == 2


def test_a_refusal_in_chinese(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _db(site)
    app = _submit(site, capsys)
    status, out, err = ecard(
        ["application", "review", app, "approve", "--reviewer", "clerk-a", "--lang", "zh", *db],
        capsys,
    )
    assert status == 1
    assert json.loads(out)["message"] == "[OWN_CASE] 不得审核本人经办或本人的申请"
    assert "不得审核本人经办或本人的申请" in err


def test_a_missing_pseudonym_key_says_how_to_make_one(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECARD_PSEUDONYM_KEY")
    status, out, err = ecard(["application", "submit", site / "form.json", *_db(site)], capsys)
    assert status == 1 and "ECARD_PSEUDONYM_KEY" in err and "token_hex" in err
    assert json.loads(out)["ok"] is False


def test_sealed_then_activated_then_cancelled(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, db = site, _db(site)
    app = _submit(site, capsys)
    assert ecard(["application", "review", app, "approve", "--reviewer", "b", *db], capsys)[0] == 0
    issuer = ["--key", d / "ds-key.pem", "--cert", d / "ds-cert.pem"]
    status, out, _ = ecard(["application", "issue", app, "--sealed", *issuer, *db], capsys)
    sealed = json.loads(out)
    assert status == 0 and sealed["state"] == "sealed" and sealed["text"] is None
    # a second card for the same person and region is refused
    again = _submit(site, capsys)
    assert (
        ecard(["application", "review", again, "approve", "--reviewer", "b", *db], capsys)[0] == 0
    )
    status, out, _ = ecard(["application", "issue", again, *issuer, *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "ACTIVE_CARD_EXISTS"
    card = sealed["card_number"]
    status, out, _ = ecard(["application", "activate", card, *issuer, *db], capsys)
    active = json.loads(out)
    assert status == 0 and active["card_state"] == "normal"
    verify = ["verify", "--json", "--now", NOW, "--trust", d / "ds-cert.pem", active["text"]]
    assert ecard(verify, capsys)[0] == 0
    signer = ["--list-key", d / "lists-key.pem", "--list-cert", d / "lists-cert.pem"]
    status, out, _ = ecard(["application", "cancel", card, *signer, *db], capsys)
    assert status == 1 and json.loads(out)["workflow_code"] == "REASON_REQUIRED"
    cancel = ["application", "cancel", card, "--reason", "emigrated", *signer, *db]
    status, out, _ = ecard(cancel, capsys)
    assert status == 0 and json.loads(out)["card_state"] == "cancelled"


_WITHOUT_EXTRA = """
import sys
for name in ("phonenumbers", "sqlalchemy", "alembic"):
    sys.modules[name] = None  # the optional extra 'workflow' not installed
from ecard.cli import main
status = main(["application", "status", "--card", "X"])
sys.exit(status)
"""


def test_the_other_commands_run_without_the_workflow_extra(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "ECARD_PSEUDONYM_KEY": KEY_HEX}
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "pip install 'ecard[workflow]'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["ok"] is False

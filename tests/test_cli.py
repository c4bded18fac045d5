"""The ``ecard`` command, driven as users drive it: in-process for speed, as a subprocess
where the process boundary matters (exit codes, scanner mode, the README's own command)."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.proc import explain

from ecard.card import Card
from ecard.cli import main

ROOT = Path(__file__).resolve().parents[1]
ECARD = [sys.executable, "-m", "ecard.cli"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


def run(
    args: list[str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ECARD, *args], input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def test_demo_writes_every_file(demo_dir: Path) -> None:
    for name in (
        "card.json",
        "card.txt",
        "card.png",
        "card.svg",
        "issuer-cert.pem",
        "issuer-key.pem",
        "root-cert.pem",
    ):
        assert (demo_dir / name).stat().st_size > 0, name
    card = Card.model_validate_json((demo_dir / "card.json").read_text())
    assert card.holder.name == "张三丰"
    text = (demo_dir / "card.txt").read_text()
    assert text.endswith("\n") and text.count("\n") == 1 and text.startswith("EC1:")
    assert (demo_dir / "card.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct((demo_dir / "issuer-key.pem").stat().st_mode & 0o777) == oct(0o600)


def test_readme_quick_start_demo_command_runs(tmp_path: Path) -> None:
    """The first Quick start command, exactly as the README has it (plus an output folder)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README needs a '## Quick start' section with a ```sh block"
    commands = [
        line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")
    ]
    assert len(commands) == 2, commands
    demo_cmd = commands[0].split()
    assert demo_cmd[:3] == ["python3", "dev.py", "demo"]
    proc = subprocess.run(
        [sys.executable, *demo_cmd[1:], "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[VALID]" in proc.stdout
    assert (tmp_path / "card.txt").exists()
    assert "python3 dev.py test" in commands[1]


def test_verify_text_argument(demo_dir: Path) -> None:
    text = (demo_dir / "card.txt").read_text().strip()
    proc = run(["verify", "--trust", str(demo_dir / "issuer-cert.pem"), text])
    assert proc.returncode == 0, proc.stderr
    assert "[VALID]" in proc.stdout
    assert "110105********002X" in proc.stdout  # masked by default
    assert "11010519491231002X" not in proc.stdout
    assert "Traceback" not in proc.stderr


def test_verify_json_stdin_lines(demo_dir: Path) -> None:
    text = (demo_dir / "card.txt").read_text().strip()
    stdin = f"{text}\r\n\nHC1:XYZ\ngarbage \x00 \u00e9\n{text}\n"
    proc = run(["verify", "--json", "--trust", str(demo_dir), "--lang", "zh"], stdin=stdin)
    assert proc.returncode == 1, explain(proc)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["code"] for r in lines] == ["OK", "BAD_PREFIX", "BAD_PREFIX", "OK"]
    assert lines[0]["valid"] is True and lines[0]["card"]["holder"]["name"] == "张三丰"
    assert lines[0]["message"] == "电子社保卡有效"
    assert re.fullmatch(r"[0-9a-f]{16}", lines[0]["kid"])
    assert lines[1]["valid"] is False and lines[1]["card"] is None
    assert "Traceback" not in proc.stderr


def test_verify_all_valid_exits_zero(demo_dir: Path) -> None:
    text = (demo_dir / "card.txt").read_text()
    proc = run(["verify", "--json", "--trust", str(demo_dir / "issuer-cert.pem")], stdin=text * 3)
    assert proc.returncode == 0, explain(proc)
    assert len(proc.stdout.splitlines()) == 3


def test_scanner_mode_answers_each_line_as_it_arrives(demo_dir: Path) -> None:
    """A USB scanner types a code and Enter; the answer must come before the next scan."""
    text = (demo_dir / "card.txt").read_text().strip()
    proc = subprocess.Popen(
        [*ECARD, "verify", "--json", "--trust", str(demo_dir / "issuer-cert.pem")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdin and proc.stdout
    lines: queue.Queue[str] = queue.Queue()
    # a reader thread, so that a missing answer fails the test instead of hanging the suite
    reader = threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout], daemon=True)
    reader.start()
    try:
        for expected in ("OK", "BAD_BASE45", "OK"):
            line = text if expected == "OK" else "EC1:abc"
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            try:
                answer = json.loads(lines.get(timeout=30))  # this line's answer, before the next
            except queue.Empty:
                proc.kill()
                assert proc.stderr
                pytest.fail(
                    f"no answer within 30 s to the scanned line {line[:20]!r}...; "
                    f"stderr:\n{proc.stderr.read()}",
                    pytrace=False,
                )
            assert answer["code"] == expected
        proc.stdin.close()
        assert proc.wait(timeout=30) == 1
    finally:
        proc.kill()


def test_verify_image(demo_dir: Path) -> None:
    proc = run(
        [
            "verify",
            "--json",
            "--trust",
            str(demo_dir / "issuer-cert.pem"),
            "--image",
            str(demo_dir / "card.png"),
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["code"] == "OK"
    bad = run(
        [
            "verify",
            "--json",
            "--trust",
            str(demo_dir / "issuer-cert.pem"),
            "--image",
            str(demo_dir / "card.json"),
        ]
    )
    assert bad.returncode == 1, explain(bad)
    assert json.loads(bad.stdout)["code"] == "BAD_IMAGE"


def test_verify_now_option(demo_dir: Path) -> None:
    text = (demo_dir / "card.txt").read_text().strip()
    trust = ["--trust", str(demo_dir / "issuer-cert.pem")]
    past = run(["verify", "--json", *trust, "--now", "2020-01-01T00:00:00+08:00", text])
    assert json.loads(past.stdout)["code"] == "NOT_YET_VALID"
    future = run(["verify", "--json", *trust, "--now", "2099-01-01T00:00:00Z", text])
    assert json.loads(future.stdout)["code"] == "CARD_EXPIRED"  # the demo card ends long before
    naive = run(["verify", *trust, "--now", "2026-01-01T00:00:00", text])
    assert naive.returncode == 2 and "time zone" in naive.stderr, explain(naive)


def test_untrusted_issuer(demo_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["demo", "--out", str(other)]) == 0
    text = (demo_dir / "card.txt").read_text().strip()
    proc = run(["verify", "--json", "--trust", str(other / "issuer-cert.pem"), text])
    assert proc.returncode == 1, explain(proc)
    assert json.loads(proc.stdout)["code"] == "UNKNOWN_KID"


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],  # --trust missing
        ["verify", "--trust"],
        ["frobnicate"],
        [],
        ["issue", "card.json"],  # --key/--cert missing
        ["verify", "--trust", "x", "--lang", "fr", "EC1:"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    proc = run(args)
    assert proc.returncode == 2, proc.stderr
    assert "usage" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_bad_files_are_typed_errors(demo_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    cases = [
        (["verify", "--trust", str(tmp_path / "missing.pem"), "EC1:"], "BAD_CERTIFICATE"),
        (["verify", "--trust", str(junk), "EC1:"], "BAD_CERTIFICATE"),
        (
            [
                "issue",
                "--key",
                str(junk),
                "--cert",
                str(demo_dir / "issuer-cert.pem"),
                str(demo_dir / "card.json"),
            ],
            "BAD_KEY",
        ),
        (
            [
                "issue",
                "--key",
                str(demo_dir / "issuer-key.pem"),
                "--cert",
                str(demo_dir / "issuer-cert.pem"),
                str(junk),
            ],
            "BAD_INPUT",
        ),
        (
            [
                "issue",
                "--key",
                str(demo_dir / "issuer-key.pem"),
                "--cert",
                str(demo_dir / "root-cert.pem"),
                str(demo_dir / "card.json"),
            ],
            "BAD_KEY",
        ),
        (
            [
                "issue",
                "--key",
                str(demo_dir / "issuer-key.pem"),
                "--cert",
                str(demo_dir / "issuer-cert.pem"),
                "--alg",
                "EdDSA",
                str(demo_dir / "card.json"),
            ],
            "ALG_KEY_MISMATCH",
        ),
    ]
    for args, code in cases:
        proc = run(args)
        # a verifier whose trust is unusable cannot run (3); a command that issues fails (1)
        assert proc.returncode == (3 if args[0] == "verify" else 1), (args, proc.stderr)
        assert f"[{code}]" in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "PRIVATE KEY" not in proc.stderr


def test_issue_then_verify(demo_dir: Path, tmp_path: Path) -> None:
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    proc = run(
        [
            "issue",
            "--key",
            str(demo_dir / "issuer-key.pem"),
            "--cert",
            str(demo_dir / "issuer-cert.pem"),
            "--png",
            str(png),
            "--svg",
            str(svg),
            "--level",
            "M",
            str(demo_dir / "card.json"),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.strip()
    assert text.startswith("EC1:") and "\n" not in text
    assert png.read_bytes()[:4] == b"\x89PNG" and "<svg" in svg.read_text()
    check = run(["verify", "--json", "--trust", str(demo_dir / "issuer-cert.pem"), text])
    assert json.loads(check.stdout)["code"] == "OK"


def test_pki_commands_build_a_working_hierarchy(tmp_path: Path, demo_dir: Path) -> None:
    env_pw = {"ECARD_TEST_PW": "correct horse"}
    os.environ.update(env_pw)
    try:
        assert main(["pki", "root", "--out", str(tmp_path), "--cn", "Pilot Root"]) == 0
        assert (
            main(
                [
                    "pki",
                    "ca",
                    "--out",
                    str(tmp_path),
                    "--cn",
                    "Pilot Beijing CA",
                    "--ca-cert",
                    str(tmp_path / "root-cert.pem"),
                    "--ca-key",
                    str(tmp_path / "root-key.pem"),
                    "--key-password-env",
                    "ECARD_TEST_PW",
                ]
            )
            == 0
        )
        assert b"ENCRYPTED" in (tmp_path / "ca-key.pem").read_bytes()
        assert (
            main(
                [
                    "pki",
                    "signer",
                    "--out",
                    str(tmp_path),
                    "--cn",
                    "Pilot Signer 1",
                    "--alg",
                    "EdDSA",
                    "--ca-cert",
                    str(tmp_path / "ca-cert.pem"),
                    "--ca-key",
                    str(tmp_path / "ca-key.pem"),
                    "--ca-key-password-env",
                    "ECARD_TEST_PW",
                ]
            )
            == 0
        )
    finally:
        os.environ.pop("ECARD_TEST_PW")
    chain = (tmp_path / "signer-chain.pem").read_text()
    # signer + issuing CA; the root is the trust anchor and is not repeated in chains
    assert chain.count("BEGIN CERTIFICATE") == 2
    proc = run(
        [
            "issue",
            "--key",
            str(tmp_path / "signer-key.pem"),
            "--cert",
            str(tmp_path / "signer-cert.pem"),
            str(demo_dir / "card.json"),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    check = run(
        ["verify", "--json", "--trust", str(tmp_path / "signer-cert.pem"), proc.stdout.strip()]
    )
    result = json.loads(check.stdout)
    assert result["code"] == "OK" and result["alg"] == "EdDSA"
    assert "Pilot Signer 1" in result["issuer"]


def test_inspect_is_labelled_unverified(demo_dir: Path) -> None:
    text = (demo_dir / "card.txt").read_text().strip()
    proc = run(["inspect", text])
    assert proc.returncode == 0, explain(proc)
    info = json.loads(proc.stdout)
    assert "UNVERIFIED" in info["WARNING"]
    assert info["alg"] == -7 and info["alg_name"] == "ES256: ECDSA P-256 with SHA-256"
    assert len(info["kid"]) == 16
    bad = run(["inspect", "EC1:%%%"])
    assert bad.returncode == 1 and "[BAD_BASE45]" in bad.stderr and "Traceback" not in bad.stderr, (
        explain(bad)
    )


def test_trust_lifecycle_from_the_command_line(tmp_path: Path, demo_dir: Path) -> None:
    """Pilot PKI, signed trust list with scope, CRLs, verification with rollback state,
    revocation: all through `ecard`, as docs/trust.md describes."""
    d = tmp_path

    def ok(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = run(args, stdin=stdin)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    ok(["pki", "root", "--out", str(d), "--cn", "Pilot Root"])
    ok(
        [
            "pki",
            "ca",
            "--out",
            str(d),
            "--cn",
            "Beijing CA",
            "--ca-cert",
            str(d / "root-cert.pem"),
            "--ca-key",
            str(d / "root-key.pem"),
        ]
    )
    ok(
        [
            "pki",
            "signer",
            "--out",
            str(d),
            "--cn",
            "Beijing Signer",
            "--ca-cert",
            str(d / "ca-cert.pem"),
            "--ca-key",
            str(d / "ca-key.pem"),
        ]
    )
    ok(
        [
            "pki",
            "list-signer",
            "--out",
            str(d),
            "--cn",
            "List Signer",
            "--ca-cert",
            str(d / "root-cert.pem"),
            "--ca-key",
            str(d / "root-key.pem"),
        ]
    )
    ok(
        [
            "pki",
            "crl",
            "--out",
            str(d / "root.crl"),
            "--ca-cert",
            str(d / "root-cert.pem"),
            "--ca-key",
            str(d / "root-key.pem"),
        ]
    )
    ok(
        [
            "pki",
            "crl",
            "--out",
            str(d / "ca.crl"),
            "--ca-cert",
            str(d / "ca-cert.pem"),
            "--ca-key",
            str(d / "ca-key.pem"),
        ]
    )
    ok(
        [
            "trust",
            "build",
            "--out",
            str(d / "manifest.json"),
            "--chain",
            str(d / "ca-cert.pem"),
            "--region",
            "110000",
            str(d / "signer-cert.pem"),
        ]
    )
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["signers"][0]["regions"] == ["110000"]
    ok(
        [
            "trust",
            "sign",
            "--key",
            str(d / "list-signer-key.pem"),
            "--cert",
            str(d / "list-signer-cert.pem"),
            "--out",
            str(d / "v1.ectl"),
            str(d / "manifest.json"),
        ]
    )
    lists = [
        "--root",
        str(d / "root-cert.pem"),
        "--crl",
        str(d / "root.crl"),
        "--crl",
        str(d / "ca.crl"),
        "--state",
        str(d / "state.json"),
    ]
    shown = json.loads(ok(["trust", "show", str(d / "v1.ectl")]).stdout)
    assert shown["sequence"] == 1 and "UNVERIFIED" in shown["WARNING"]
    assert "usable" in ok(["trust", "verify", *lists, str(d / "v1.ectl")]).stdout

    text = ok(
        [
            "issue",
            "--key",
            str(d / "signer-key.pem"),
            "--cert",
            str(d / "signer-cert.pem"),
            str(demo_dir / "card.json"),
        ]
    ).stdout.strip()
    verify = ["verify", "--json", "--trust-list", str(d / "v1.ectl"), *lists]
    assert json.loads(ok([*verify, text]).stdout)["code"] == "OK"

    # a card for another province signed by the Beijing signer: not authorised
    gd = Card.model_validate_json((demo_dir / "card.json").read_text()).model_copy(
        update={"region": "440304"}
    )
    (d / "gd.json").write_text(gd.model_dump_json())
    gd_text = ok(
        [
            "issue",
            "--key",
            str(d / "signer-key.pem"),
            "--cert",
            str(d / "signer-cert.pem"),
            str(d / "gd.json"),
        ]
    ).stdout.strip()
    assert json.loads(run([*verify, gd_text]).stdout)["code"] == "ISSUER_NOT_AUTHORISED"

    # revoke the first card: a signed revocation list, then REVOKED at the counter
    ok(
        [
            "revoke",
            "--text",
            text,
            "--key",
            str(d / "list-signer-key.pem"),
            "--cert",
            str(d / "list-signer-cert.pem"),
            "--out",
            str(d / "r1.ecrl"),
        ]
    )
    revoked = run([*verify, "--revocation-list", str(d / "r1.ecrl"), text])
    assert revoked.returncode == 1 and json.loads(revoked.stdout)["code"] == "REVOKED", explain(
        revoked
    )

    # a newer trust list is accepted; going back to the older one is refused
    manifest["sequence"] = 2
    (d / "manifest.json").write_text(json.dumps(manifest))
    ok(
        [
            "trust",
            "sign",
            "--key",
            str(d / "list-signer-key.pem"),
            "--cert",
            str(d / "list-signer-cert.pem"),
            "--out",
            str(d / "v2.ectl"),
            str(d / "manifest.json"),
        ]
    )
    ok(["trust", "verify", *lists, str(d / "v2.ectl")])
    back = run(["trust", "verify", *lists, str(d / "v1.ectl")])
    assert (
        back.returncode == 1 and "[LIST_ROLLBACK]" in back.stderr and "Traceback" not in back.stderr
    )

    # the signer's certificate revoked by its CA: the path no longer covers new cards
    ok(
        [
            "pki",
            "crl",
            "--out",
            str(d / "ca.crl"),
            "--number",
            "2",
            "--revoke",
            str(d / "signer-cert.pem"),
            "--revoked-at",
            "2020-01-01T00:00:00Z",
            "--ca-cert",
            str(d / "ca-cert.pem"),
            "--ca-key",
            str(d / "ca-key.pem"),
        ]
    )
    verify_v2 = ["verify", "--json", "--trust-list", str(d / "v2.ectl"), *lists]
    out = json.loads(run([*verify_v2, text]).stdout)
    assert out["code"] == "ISSUER_CERT_INVALID" and "revoked" in out["message"], out


def test_journal_from_the_command_line(tmp_path: Path, demo_dir: Path) -> None:
    """Issuance recorded before release, head signed, auditor verifies; tampering is found."""
    import sqlite3

    db = tmp_path / "journal.db"
    env = {**os.environ, "ECARD_PSEUDO_KEY": "00" * 32}
    key, cert = str(demo_dir / "issuer-key.pem"), str(demo_dir / "issuer-cert.pem")
    journal = ["--journal", str(db), "--operator", "window-7"]

    def ecard(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ECARD, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
        )

    for _ in range(3):
        proc = ecard(
            [
                "issue",
                "--key",
                key,
                "--cert",
                cert,
                *journal,
                "--pseudonym-key-env",
                "ECARD_PSEUDO_KEY",
                str(demo_dir / "card.json"),
            ]
        )
        assert proc.returncode == 0, proc.stderr
    missing = ecard(["issue", "--key", key, "--cert", cert, *journal, str(demo_dir / "card.json")])
    assert missing.returncode == 1 and "pseudonym" in missing.stderr and not missing.stdout, (
        explain(missing)
    )
    assert (
        ecard(
            ["journal", "sign-head", str(db), "--key", key, "--cert", cert, "--out", str(tmp_path)]
        ).returncode
        == 0
    )
    ok = ecard(["journal", "verify", "--json", "--key-cert", cert, str(db)])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    raw = db.read_bytes()
    assert b"11010519491231002" not in raw and "张三丰".encode() not in raw
    shown = ecard(
        [
            "journal",
            "show",
            "--holder",
            "11010519491231002X",
            "--pseudonym-key-env",
            "ECARD_PSEUDO_KEY",
            str(db),
        ]
    )
    assert len(shown.stdout.splitlines()) == 3
    with sqlite3.connect(db) as conn:  # an insider edits a record behind the journal's back
        triggers = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE journal_records SET operator = 'someone-else' WHERE seq = 2")
    bad = ecard(["journal", "verify", "--json", "--key-cert", cert, str(db)])
    assert bad.returncode == 1, explain(bad)
    assert any(f["seq"] == 2 for f in json.loads(bad.stdout)["findings"])


def test_pdf_command_writes_a_signed_card(tmp_path: Path, demo_dir: Path) -> None:
    """`ecard pdf`: a signed PDF whose signature pyHanko validates, and a QR text that verifies."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from ecard.crypto.x509 import load_certificate_file

    out = tmp_path / "card.pdf"
    key, cert = str(demo_dir / "issuer-key.pem"), str(demo_dir / "issuer-cert.pem")
    proc = run(
        [
            "pdf",
            "--key",
            key,
            "--cert",
            cert,
            "--page",
            "card",
            str(demo_dir / "card.json"),
            str(out),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.strip()
    check = run(["verify", "--json", "--trust", cert, text])
    assert json.loads(check.stdout)["code"] == "OK"
    with out.open("rb") as fh:
        (sig,) = PdfFileReader(fh).embedded_signatures
        root = load_certificate_file(demo_dir / "root-cert.pem")[0]
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives.serialization import Encoding

        anchor = asn1_x509.Certificate.load(root.public_bytes(Encoding.DER))
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[anchor]))
    assert status.intact and status.valid
    no_tsa = run(
        [
            "pdf",
            "--key",
            key,
            "--cert",
            cert,
            "--level",
            "B-T",
            str(demo_dir / "card.json"),
            str(tmp_path / "x.pdf"),
        ]
    )
    assert no_tsa.returncode == 1 and "Traceback" not in no_tsa.stderr, explain(no_tsa)


def test_audit_command(tmp_path: Path, demo_dir: Path) -> None:
    """`ecard audit`: QR text, QR picture and a signed PDF, with ETSI indications and Art. 13."""
    key, cert = str(demo_dir / "issuer-key.pem"), str(demo_dir / "issuer-cert.pem")
    pdf = tmp_path / "card.pdf"
    assert (
        run(
            [
                "pdf",
                "--key",
                key,
                "--cert",
                cert,
                "--page",
                "card",
                str(demo_dir / "card.json"),
                str(pdf),
            ]
        ).returncode
        == 0
    )
    files = [str(demo_dir / "card.txt"), str(demo_dir / "card.png"), str(pdf)]
    proc = run(
        ["audit", "--json", "--trust", cert, "--root", str(demo_dir / "root-cert.pem"), *files]
    )
    report = json.loads(proc.stdout)
    assert [f["kind"] for f in report["findings"]] == ["qr-text", "qr-image", "pdf"], report
    # a path validated without the root's CRL: the revocation status is unknown (EN 319 102-1)
    undecided = report["findings"][:2]
    assert [(f["indication"], f["sub_indication"]) for f in undecided] == [
        ("INDETERMINATE", "TRY_LATER")
    ] * 2
    assert all("supply the CRL of" in f["detail"] and "--crl" in f["detail"] for f in undecided)
    assert proc.returncode == 1
    assert all(len(f["art13"]) == 4 for f in report["findings"])
    crl = ["--crl", str(demo_dir / "root.crl")]
    checked = run(["audit", "--json", "--trust", cert, "--root", str(demo_dir / "root-cert.pem"),
                   *crl, *files[:2]])  # fmt: skip
    report = json.loads(checked.stdout)
    assert [f["indication"] for f in report["findings"]] == ["TOTAL-PASSED"] * 2, report
    assert all(f["revocation_checked"] for f in report["findings"])
    # the auditor's explicit, dangerous opt-out: it passes, and the report says what was skipped
    unchecked = run(["audit", "--json", "--no-revocation-check", "--trust", cert, "--root",
                     str(demo_dir / "root-cert.pem"), files[0]])  # fmt: skip
    (finding,) = json.loads(unchecked.stdout)["findings"]
    assert unchecked.returncode == 0 and finding["indication"] == "TOTAL-PASSED"
    assert "--no-revocation-check" in finding["revocation_at_signing"]
    assert "WARNING: --no-revocation-check" in unchecked.stderr
    zh = run(["audit", "--lang", "zh", "--trust", cert, str(demo_dir / "card.txt")])
    assert zh.returncode == 0 and any("\u4e00" <= ch <= "\u9fff" for ch in zh.stdout), explain(zh)
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(pdf.read_bytes())
    data[data.index(b"/Producer") + 12] ^= 1
    tampered.write_bytes(bytes(data))
    bad = run(["audit", "--json", "--root", str(demo_dir / "root-cert.pem"), str(tampered)])
    assert bad.returncode == 1, explain(bad)
    (finding,) = json.loads(bad.stdout)["findings"]
    assert (finding["indication"], finding["sub_indication"]) == ("TOTAL-FAILED", "HASH_FAILURE")

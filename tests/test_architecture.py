"""The layers of docs/architecture.md are a contract, and this module holds it.

- The import contracts in ``pyproject.toml`` (``[tool.importlinter]``) are checked by
  import-linter over the real package.
- A forbidden import added to a copy of the package breaks them: the check is not vacuous.
- A verifier process that verifies cards (ES256 and SM2) through a path with a CRL never loads
  a module of the issuing side, nor ecard's private key types; an audit process that audits a
  card and a signed PDF loads no ``ecard.signing`` module; ``import ecard`` loads neither side.
- A process that verifies a journal (signed heads included) and renders its report loads no
  ``ecard.signing`` module: only signing a head needs a key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.crypto.x509 import certificate_to_pem
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

#: Modules a verifier must never load: the issuing side and the rooms above it.
ISSUING_SIDE = ("ecard.signing", "ecard.publish", "ecard.journal", "ecard.pdf", "ecard.cli")


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kw)  # type: ignore[call-overload]


def lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env)


def test_the_layer_contracts_hold() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout
    # every contract of pyproject.toml was checked, none silently dropped
    assert proc.stdout.count(" KEPT") == 5, proc.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("verify/policy.py", "ecard.signing.pki", "never imports the issuing side"),
        ("verify/trust.py", "ecard.signing.signers", "a lower room never imports a higher one"),
        ("signing/issuer.py", "ecard.verify.verifier", "a lower room never imports a higher one"),
        ("formats/cwt.py", "ecard.verify.policy", "a lower room never imports a higher one"),
        ("crypto/x509.py", "ecard.formats.cose", "a lower room never imports a higher one"),
        ("journal/report.py", "ecard.signing.signers", "verifying a journal needs no key"),
        ("journal/heads.py", "ecard.signing.cose", "verifying a journal needs no key"),
        ("holder/wallet.py", "ecard.signing.signers", "the holder never signs nor verifies"),
        ("holder/keys.py", "ecard.verify.replay", "the holder never signs nor verifies"),
    ],
)
def test_a_forbidden_import_breaks_the_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    """Open one door on a copy of the package: the same check must fail and name it."""
    shutil.copytree(ROOT / "src" / "ecard", tmp_path / "src" / "ecard")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "ecard" / module
    target.write_text(target.read_text() + f"\nimport {forbidden}  # the door opened on purpose\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    proc = lint_imports(tmp_path, env)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "BROKEN" in proc.stdout, proc.stdout
    importer = "ecard." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {forbidden}" in proc.stdout, proc.stdout
    broken = [line for line in proc.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line.lower() for line in broken), proc.stdout


VERIFIER_PROCESS = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from ecard.crypto.crl import load_crls
    from ecard.crypto.x509 import load_certificates
    from ecard.verify.paths import PathValidator
    from ecard.verify.policy import Policy
    from ecard.verify.trust import TrustStore
    from ecard.verify.verifier import Verifier

    args = json.loads(sys.stdin.read())
    now = dt.datetime.fromisoformat(args["now"])
    validator = PathValidator(
        load_certificates(args["root"].encode()),
        crls=load_crls(args["crl"].encode()),
        clock=lambda: now,
    )
    trust = TrustStore(load_certificates(args["signers"].encode()), validator=validator)
    verifier = Verifier(trust, Policy(clock=lambda: now))
    results = [verifier.verify(text) for text in args["texts"]]
    codes = [r.code.value for r in results]
    messages = [r.message() for r in results]
    bad = sorted(m for m in sys.modules if m.startswith(tuple(args["forbidden"])))
    print(json.dumps({"codes": codes, "messages": messages, "loaded": bad}))
    """
)


def test_a_verifier_process_loads_no_issuing_module(
    root: CertifiedKey, signers: dict[str, CertifiedKey], card: Card
) -> None:
    texts, pems = [], b""
    for alg in ("ES256", "SM2"):
        signer = signers[alg]
        issued = Issuer(signer.signer(), signer.certificate, clock=fixed_clock(T0)).issue(card)
        texts.append(issued.text)
        pems += certificate_to_pem(signer.certificate)
    crl = create_crl(root, [], this_update=T0 - dt.timedelta(hours=1))
    args = {
        "now": (T0 + dt.timedelta(hours=1)).isoformat(),
        "root": certificate_to_pem(root.certificate).decode(),
        "crl": crl_to_pem(crl).decode(),
        "signers": pems.decode(),
        "texts": texts,
        "forbidden": [*ISSUING_SIDE, "ecard.signing.sm2", "ecard.crypto.sm2.private"],
    }
    proc = run([sys.executable, "-c", VERIFIER_PROCESS], input=json.dumps(args))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["codes"] == ["OK", "OK"], result["messages"]
    assert result["loaded"] == [], result


JOURNAL_VERIFIER_PROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from ecard.crypto.x509 import load_certificates
    from ecard.journal import verify_journal

    data = Path(sys.argv[1])
    report = verify_journal(
        data / "journal.db",
        head_certificates=load_certificates((data / "head-signer.pem").read_bytes()),
        heads=[p.read_bytes() for p in sorted(data.glob("head-*.cose"))],
    )
    report.render(), json.dumps(report.to_dict())
    bad = sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[2:])))
    print(json.dumps({"ok": report.ok, "valid_heads": report.valid_heads, "loaded": bad}))
    """
)


AUDIT_PROCESS = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from ecard.audit import audit
    from ecard.crypto.x509 import load_certificates
    from ecard.verify.trust import TrustStore

    args = json.loads(sys.stdin.read())
    trust = TrustStore(load_certificates(args["signer"].encode()))
    report = audit(
        [args["text"].encode(), bytes.fromhex(args["pdf"])],
        trust=trust,
        roots=load_certificates(args["root"].encode()),
        now=dt.datetime.fromisoformat(args["now"]),
    )
    bad = sorted(m for m in sys.modules if m.startswith(("ecard.signing", "ecard.publish",
                                                         "ecard.journal", "ecard.cli")))
    print(json.dumps({"indications": [f.indication for f in report.findings], "loaded": bad,
                      "validator": "ecard.pdf.validate" in sys.modules}))
    """
)


def test_a_journal_verifier_process_loads_no_signing_module() -> None:
    forbidden = ["ecard.signing", "ecard.publish", "ecard.journal.store", "ecard.journal.headsign"]
    data = ROOT / "tests" / "data" / "journal-v1"
    proc = run([sys.executable, "-c", JOURNAL_VERIFIER_PROCESS, str(data), *forbidden])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["ok"], result["valid_heads"]) == (True, 3), result
    assert result["loaded"] == [], result


def test_an_audit_process_loads_no_signing_module(
    root: CertifiedKey, signers: dict[str, CertifiedKey], card: Card
) -> None:
    """An auditor holds no keys: auditing a card and a signed PDF loads no ecard.signing."""
    from ecard.pdf import render_card_pdf, sign_pdf

    signer = signers["ES256"]
    issued = Issuer(signer.signer(), signer.certificate, clock=fixed_clock(T0)).issue(card)
    pdf = sign_pdf(render_card_pdf(issued, page="card"), signer=signer, level="B-B")
    args = {
        "now": (T0 + dt.timedelta(hours=1)).isoformat(),
        "signer": certificate_to_pem(signer.certificate).decode(),
        "root": certificate_to_pem(root.certificate).decode(),
        "text": issued.text,
        "pdf": pdf.hex(),
    }
    proc = run([sys.executable, "-c", AUDIT_PROCESS], input=json.dumps(args))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["indications"][0] == "TOTAL-PASSED", result
    assert len(result["indications"]) == 2, result
    assert result["validator"] is True
    assert result["loaded"] == [], result


def test_import_ecard_loads_neither_side() -> None:
    code = (
        "import sys, ecard; "
        "print(sorted(m for m in sys.modules if m.startswith(('ecard.signing', 'ecard.verify'))))"
    )
    proc = run([sys.executable, "-c", code])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    # ...and the public names still resolve, lazily
    proc = run([sys.executable, "-c", "import ecard; print(ecard.Verifier.__module__)"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ecard.verify.verifier"

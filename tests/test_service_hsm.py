"""A deployment whose issuer key is in an HSM: SoftHSM2 (a fresh token made by
scripts/softhsm-setup.sh), the key generated on the token, the service configured by a TOML
file naming the PKCS#11 module, token, key label and the PIN's variable. In a child process,
so that the PKCS#11 module reads this token's configuration whatever else the run loaded."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.proc import explain

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import datetime as dt, os, sys
from pathlib import Path
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from ecard.card import Card, Holder
from ecard.service.app import create_app
from ecard.service.config import load_config
from ecard.service.context import build_context
from ecard.signing.pkcs11 import generate_key
from ecard.signing.pki import certify_end_entity, create_list_signer, create_root_ca

folder = Path(sys.argv[1])
t0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
root = create_root_ca("HSM Root", organization="ecard tests", not_before=t0 - dt.timedelta(days=1))
key = generate_key(os.environ["ECARD_PKCS11_MODULE"], token_label=os.environ["ECARD_PKCS11_TOKEN"],
                   pin=os.environ["ECARD_PKCS11_PIN"], key_label="svc-issuer", algorithm="ES256")
cert = certify_end_entity(root, key.public_key(), "HSM Signer", not_before=t0 - dt.timedelta(days=1))
key.close()
lister = create_list_signer(root, "List Signer", not_before=t0 - dt.timedelta(days=1))
(folder / "issuer.pem").write_bytes(cert.public_bytes(Encoding.PEM))
(folder / "list-key.pem").write_bytes(lister.key_pem())
(folder / "list-cert.pem").write_bytes(lister.certificate_pem())
(folder / "root.pem").write_bytes(root.certificate_pem())
(folder / "service.toml").write_text(f"""
data_dir = "data"
[issuer]
pkcs11_module = "{os.environ['ECARD_PKCS11_MODULE']}"
token = "{os.environ['ECARD_PKCS11_TOKEN']}"
key_label = "svc-issuer"
pin_env = "ECARD_PKCS11_PIN"
cert = "issuer.pem"
[list_signer]
key = "list-key.pem"
cert = "list-cert.pem"
chain = ["root.pem"]
[counter]
require_binding = false
""")
config = load_config(folder / "service.toml")
ctx = build_context(config, clock=lambda: t0 + dt.timedelta(hours=1))
card = Card(holder=Holder(name="张三丰", ssn="11010519491231002X"), card_number="A12345678",
            region="110105", issued=dt.date(2024, 1, 15), expires=dt.date(2034, 1, 15))
text = ctx.registry.issuer.issue(card).text
body = TestClient(create_app(ctx)).post("/api/verify", json={"code": text}).json()
print("RESULT", body["code"], body["kid"], config.demo, body["issuer"], sep="|")
'''


def test_issuer_key_on_a_pkcs11_token(tmp_path: Path) -> None:
    setup = subprocess.run(
        ["bash", str(ROOT / "scripts" / "softhsm-setup.sh")],
        env={**os.environ, "ECARD_SOFTHSM_DIR": str(tmp_path / "hsm")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert setup.returncode == 0, explain(setup)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    for line in setup.stdout.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            name, _, value = words[1].partition("=")
            env[name] = value
    env.pop("ECARD_SERVICE_CONFIG", None)
    env["ECARD_SERVICE_PSEUDONYM_KEY"] = "ab" * 32
    env["ECARD_SERVICE_PHOTO_KEY"] = "cd" * 32
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, explain(child)
    result = next(line for line in child.stdout.splitlines() if line.startswith("RESULT"))
    _, code, kid, demo, issuer = result.split("|", 4)
    assert code == "OK" and len(kid) == 16 and "HSM Signer" in issuer and demo == "False"
    assert env["ECARD_PKCS11_PIN"] not in child.stdout + child.stderr

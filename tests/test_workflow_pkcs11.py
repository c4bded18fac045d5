"""The workflow's revocation lists signed by a key on the SoftHSM2 test token (the
ECARD_PKCS11_* environment), on SQLite and PostgreSQL: the key is generated on the token and
never leaves it, the registry takes it as a bare signer with its certificate, and the list it
signs after a loss report makes a counter say REVOKED.

The token is used from child processes only, as in the batch tests: SoftHSM2 fixes its token
directory when its module is first loaded in a process, and the test process stays free for
the tests that set up a token of their own."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_public_key
from tests.conftest import T0

from ecard.crypto.x509 import ECARD_LIST_SIGNING_EKU
from ecard.errors import ErrorCode
from ecard.signing.pki import CertifiedKey, certify_end_entity
from ecard.signing.signers import Signer
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.revocation import RevocationList
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier
from ecard.workflow.store import Store

ROOT = Path(__file__).resolve().parent.parent

GENERATE = """
import os, sys
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ecard.signing.pkcs11 import generate_key
signer = generate_key(sys.argv[1], token_label=sys.argv[2], pin=os.environ["ECARD_PKCS11_PIN"],
                      key_label=sys.argv[3], algorithm="ES256")
print(signer.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
signer.close()
"""

FLOW = """
import os, sys
from pathlib import Path
from cryptography import x509
from ecard.signing.issuer import Issuer
from ecard.signing.pkcs11 import Pkcs11Signer
from ecard.signing.signers import load_private_key_file, KeySigner
from ecard.workflow.lifecycle import CardEvent
from tests.workflow_support import Clock, KEY, PHOTO_KEY, World
from ecard.workflow.ports import FixedLiveness, LocalOutbox
from ecard.workflow.steps import Registry
from ecard.workflow.store import Store

url, module, token, label, folder = sys.argv[1:6]
folder = Path(folder)
list_cert = x509.load_pem_x509_certificate((folder / "list-cert.pem").read_bytes())
ds_cert = x509.load_pem_x509_certificate((folder / "ds-cert.pem").read_bytes())
ds_key = KeySigner(load_private_key_file(folder / "ds-key.pem"))
token_key = Pkcs11Signer.open(module, token_label=token, pin=os.environ["ECARD_PKCS11_PIN"],
                              key_label=label)
clock = Clock()
outbox = LocalOutbox(clock=clock)
registry = Registry(
    Store(url), issuer=Issuer(ds_key, ds_cert, clock=clock), list_signer=token_key,
    list_certificate=list_cert, pseudonym_key=KEY, sms=outbox, liveness=FixedLiveness(),
    clock=clock, photo_key=PHOTO_KEY,
)
world = World(registry, outbox, clock, None, None)
issued = registry.issue(world.apply_online(), actor="account:42")
registry.change(issued.card.card_number, CardEvent.REPORT_LOSS, actor="account:42")
print(issued.text)
token_key.close()
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", *args], env=_env(), capture_output=True, text=True, timeout=180,
        check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_list_signer_key_stays_on_the_token(
    db_url: str, tmp_path: Path, root: CertifiedKey, ds: CertifiedKey
) -> None:
    module, token = os.environ["ECARD_PKCS11_MODULE"], os.environ["ECARD_PKCS11_TOKEN"]
    label = f"workflow-lists-{os.getpid()}-{time.monotonic_ns()}"
    public = load_pem_public_key(_run(GENERATE, module, token, label).encode())
    list_cert = certify_end_entity(
        root, public, "Workflow HSM List Signer",  # type: ignore[arg-type]
        not_before=T0 - dt.timedelta(days=1), days=730, eku=ECARD_LIST_SIGNING_EKU,
    )  # fmt: skip
    (tmp_path / "list-cert.pem").write_bytes(list_cert.public_bytes(Encoding.PEM))
    (tmp_path / "ds-cert.pem").write_bytes(ds.certificate_pem())
    (tmp_path / "ds-key.pem").write_bytes(ds.key_pem())
    text = _run(FLOW, db_url, module, token, label, str(tmp_path)).strip()
    assert text.startswith("EC1:")

    store = Store(db_url)
    try:
        with store.session() as session:
            from sqlalchemy import select

            from ecard.workflow.store import RevocationRow

            data = session.scalars(select(RevocationRow.data)).one()
    finally:
        store.close()
    lists = RevocationList.load(data, validator=PathValidator([root.certificate], revocation="off"))
    clock = lambda: T0  # noqa: E731 - the flow's clock (tests.workflow_support.Clock)
    verifier = Verifier(TrustStore([ds.certificate]), Policy(clock=clock), revocations=lists)
    assert verifier.verify(text).code is ErrorCode.REVOKED
    assert Verifier(TrustStore([ds.certificate]), Policy(clock=clock)).verify(text).valid


def test_a_bare_signer_needs_its_certificate_and_must_fit_it(
    tmp_path: Path, root: CertifiedKey, ds: CertifiedKey
) -> None:
    from tests.workflow_support import KEY

    from ecard.errors import BadKeyError
    from ecard.signing.issuer import Issuer
    from ecard.signing.pki import create_list_signer
    from ecard.workflow.ports import FixedLiveness, LocalOutbox
    from ecard.workflow.steps import ListSigner, Registry

    lists = create_list_signer(root, "Bare Lists", not_before=T0 - dt.timedelta(days=1))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    common = {
        "issuer": Issuer(ds.signer(), ds.certificate),
        "pseudonym_key": KEY,
        "sms": LocalOutbox(),
        "liveness": FixedLiveness(),
        "clock": lambda: T0,
    }
    bare: Signer = lists.signer()
    with pytest.raises(ValueError, match="list_certificate"):
        Registry(store, list_signer=bare, **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bare signer only"):
        Registry(store, list_signer=lists, list_certificate=lists.certificate, **common)  # type: ignore[arg-type]
    with pytest.raises(BadKeyError, match="list signer key"):
        ListSigner(ds.signer(), lists.certificate)
    made = Registry(store, list_signer=bare, list_certificate=lists.certificate, **common)  # type: ignore[arg-type]
    assert isinstance(made.list_signer, ListSigner) and "Bare Lists" in repr(made.list_signer)
    store.close()


def test_the_cli_signs_lists_with_the_token_key(tmp_path: Path, root: CertifiedKey) -> None:
    module, token = os.environ["ECARD_PKCS11_MODULE"], os.environ["ECARD_PKCS11_TOKEN"]
    label = f"workflow-cli-lists-{os.getpid()}-{time.monotonic_ns()}"
    public = load_pem_public_key(_run(GENERATE, module, token, label).encode())
    list_cert = certify_end_entity(
        root, public, "Workflow CLI HSM List Signer",  # type: ignore[arg-type]
        not_before=T0 - dt.timedelta(days=1), days=730, eku=ECARD_LIST_SIGNING_EKU,
    )  # fmt: skip
    (tmp_path / "list-cert.pem").write_bytes(list_cert.public_bytes(Encoding.PEM))
    out = tmp_path / "r.ecrl"
    command = [
        sys.executable, "-m", "ecard", "application", "publish-revocations", "--out", str(out),
        "--db", f"sqlite:///{tmp_path / 'w.db'}", "--now", (T0 + dt.timedelta(hours=1)).isoformat(),
        "--list-cert", str(tmp_path / "list-cert.pem"), "--list-pkcs11-module", module,
        "--list-token", token, "--list-key-label", label, "--list-pin-env", "ECARD_PKCS11_PIN",
    ]  # fmt: skip
    env = {**_env(), "ECARD_PSEUDONYM_KEY": "5f" * 32}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert os.environ["ECARD_PKCS11_PIN"] not in proc.stdout + proc.stderr
    lists = RevocationList.load(
        out.read_bytes(), validator=PathValidator([root.certificate], revocation="off")
    )
    assert lists.sequence == 1

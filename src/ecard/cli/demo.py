"""``ecard demo``: issue a sample card with a throw-away demo issuer, write it, verify it."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

from ecard._files import write_atomic
from ecard.card import Card, Holder
from ecard.cli.common import ALG_NAMES, Subcommands
from ecard.crypto.algorithms import get_algorithm
from ecard.errors import Lang
from ecard.signing.issuer import Issuer
from ecard.signing.pki import create_document_signer, create_root_ca
from ecard.verify.report import render_text
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

DEMO_MARK = "DEMO ONLY - NOT A REAL ISSUER / 演示用，非真实签发机构"


def _alg_label(name: str) -> str:
    alg = get_algorithm(name)
    return f"{alg.name}: {alg.key_type} with {alg.hash_name}"


def sample_card(today: date | None = None) -> Card:
    """The sample card the demo issues (a fictitious holder with a valid ID number)."""
    today = today or datetime.now(UTC).date()
    return Card(
        holder=Holder(name="张三丰", ssn="11010519491231002X"),
        card_number="A12345678",
        region="110105",
        issued=today,
        expires=date(today.year + 10, today.month, min(today.day, 28)),
    )


def cmd_demo(args: argparse.Namespace) -> bool:
    """Issue and verify the sample card; whether it verified."""
    out = Path(args.out) if args.out else Path.cwd() / "ecard-demo"
    lang: Lang = args.lang
    print(f"ecard demo — {DEMO_MARK}")
    print(f"1. creating a demo root CA and document signer ({_alg_label(args.alg)}) ...")
    root = create_root_ca(
        "ecard DEMO Root CA", organization="ecard demo (not a real issuer)", algorithm=args.alg
    )
    signer = create_document_signer(
        root,
        "ecard DEMO Document Signer",
        organization="ecard demo (not a real issuer)",
        algorithm=args.alg,
    )
    card = sample_card()
    print(f"2. issuing a sample card for {card.holder.masked_name} ({card.holder.masked_ssn}) ...")
    issued = Issuer(signer.signer(), signer.certificate).issue(card)
    files: dict[str, bytes | str] = {
        "card.json": card.model_dump_json(indent=2) + "\n",
        "card.txt": issued.text + "\n",
        "card.png": issued.png(),
        "card.svg": issued.svg(),
        "issuer-cert.pem": signer.certificate_pem(),
        "root-cert.pem": root.certificate_pem(),
    }
    for name, data in files.items():
        write_atomic(out / name, data)
    write_atomic(out / "issuer-key.pem", signer.key_pem(), private=True)
    print(f"3. wrote {len(files) + 1} files to {out}:")
    for name in [*files, "issuer-key.pem"]:
        print(f"     {out / name}")
    print(
        f"   credential: {len(issued.cose)} bytes COSE, {len(issued.text)} characters of QR text, "
        f"QR version {issued.qr_version('Q')} at level Q"
    )
    print("4. verifying the QR text against the issuer certificate (offline) ...")
    verifier = Verifier(TrustStore.from_paths([out / "issuer-cert.pem"]))
    result = verifier.verify((out / "card.txt").read_text().strip())
    print(render_text(result, lang))
    if result.valid:
        print("\nTry it yourself:")
        print(f"  ecard verify --trust {out / 'issuer-cert.pem'} < {out / 'card.txt'}")
    return result.valid


def add_demo(sub: Subcommands) -> None:
    """Register ``ecard demo``."""
    d = sub.add_parser("demo", help="issue a sample card with a demo issuer and verify it")
    d.add_argument("--out", help="folder for the files (default: ./ecard-demo)")
    d.add_argument("--alg", default="ES256", choices=ALG_NAMES, help="signature algorithm")
    d.add_argument("--lang", default="en", choices=["en", "zh"])
    d.set_defaults(func=cmd_demo)


__all__ = ["DEMO_MARK", "add_demo", "cmd_demo", "sample_card"]

"""``ecard`` imports a command's module only when that command runs: the help still lists every
command with its own help line, ``ecard verify`` loads nothing of the issuing side, and the
scanner-mode JSON lines are the ones ``json.dumps`` writes for each result."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tests.conftest import T0

from ecard.card import Card
from ecard.cli.main import COMMANDS, build_parser
from ecard.signing.crl import create_crl
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.verify.regions import region_name
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

ONE_HOUR = dt.timedelta(hours=1)
SRC = str(Path(__file__).resolve().parent.parent / "src")


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (SRC, os.environ.get("PYTHONPATH")))),
    }


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter (nothing of this process loaded), output as text."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("only", [None, *COMMANDS])
def test_the_top_level_help_is_the_same_whichever_command_is_loaded(only: str | None) -> None:
    assert build_parser(only).format_help() == build_parser().format_help()


def test_every_command_is_registered_by_its_module_with_its_help_line() -> None:
    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "cmd")
    helps = {c.dest: c.help for c in sub._choices_actions}  # type: ignore[attr-defined]
    assert helps == {name: command.help for name, command in COMMANDS.items()}


def _trusted_code(tmp_path: Path, ds: CertifiedKey, card: Card) -> tuple[Path, str]:
    """The signer's certificate file to trust, and a code it signed at T0."""
    cert = tmp_path / "issuer.pem"
    cert.write_bytes(ds.certificate.public_bytes(Encoding.PEM))
    return cert, Issuer(ds.signer(), ds.certificate).issue(card, iat=T0).text


def test_verify_loads_no_issuing_module(tmp_path: Path, ds: CertifiedKey, card: Card) -> None:
    """Nor, for an ES256 card under a ``--trust`` certificate, the SM2 backend (ctypes and
    libcrypto), asn1crypto or the path-validation library: they load when an SM2 key, a
    certificate signature or a path is to be checked."""
    cert, text = _trusted_code(tmp_path, ds, card)
    code = (
        "import sys\n"
        "from ecard.cli import main\n"
        f"status = main(['verify', '--json', '--trust', {str(cert)!r}, '--now', {T0.isoformat()!r}, {text!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('ecard.signing', 'ecard.journal',"
        " 'ecard.pdf', 'ecard.publish', 'ecard.cli.demo', 'ecard.cli.issue', 'qrcode', 'PIL',"
        " 'asn1crypto', 'ctypes', 'ecard.crypto.sm2.backend', 'ecard.crypto.sm2.keys',"
        " 'pyhanko_certvalidator', 'ecard.verify.paths')))\n"
        "print(status, loaded, file=sys.stderr)\n"
    )
    proc = _python(code)
    assert proc.stderr.strip() == "0 []", proc.stderr
    assert json.loads(proc.stdout)["code"] == "OK"


@pytest.mark.parametrize("output", [["--json"], ["--oneline"], []])
def test_verify_prints_a_card_without_pydantic_or_the_models(
    tmp_path: Path, ds: CertifiedKey, card: Card, output: list[str]
) -> None:
    """The verifier carries a checked record (ecard.cardrecord), not a pydantic model: JSON,
    one-line and text output of a valid card load neither pydantic nor ecard.card; reading
    ``result.card`` afterwards builds the very Card that was issued (and loads them)."""
    cert, text = _trusted_code(tmp_path, ds, card)
    code = (
        "import io, sys, contextlib\n"
        "from ecard.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    status = main(['verify', *{output!r}, '--trust', {str(cert)!r}, '--now', {T0.isoformat()!r}, {text!r}])\n"
        "models = ('pydantic', 'pydantic_core', 'ecard.card', 'ecard.countercard', 'ecard.cardfast')\n"
        "print(status, sorted(m for m in models if m in sys.modules), file=sys.stderr)\n"
        "from ecard.verify.trust import TrustStore\n"
        "from ecard.verify.verifier import Verifier\n"
        "from ecard.crypto.x509 import load_certificate_file\n"
        f"result = Verifier(TrustStore(load_certificate_file({str(cert)!r}))).verify({text!r}, now=__import__('datetime').datetime.fromisoformat({T0.isoformat()!r}))\n"
        "print(result.card.model_dump_json(), file=sys.stderr)\n"
        "sys.stdout.write(out.getvalue())\n"
    )
    proc = _python(code)
    status_line, card_json = proc.stderr.strip().splitlines()[-2:]
    assert status_line == "0 []", proc.stderr
    assert Card.model_validate_json(card_json) == card
    assert card.card_number in proc.stdout or output == ["--oneline"]


def test_only_a_root_based_verify_loads_the_path_validation_library(
    tmp_path: Path, root: CertifiedKey, ds: CertifiedKey, card: Card
) -> None:
    """Plain ``--trust`` certificates need no certificate path: pyhanko-certvalidator (and
    asyncio) stay unloaded; a ``--root`` verify in the same process loads them, validates the
    path, and with a CRL revoking the signer before ``iat`` refuses the card."""
    files = {
        "signer.pem": ds.certificate.public_bytes(Encoding.PEM),
        "root.pem": root.certificate.public_bytes(Encoding.PEM),
        "revoked.crl": create_crl(
            root, [(ds.certificate, T0 - 2 * ONE_HOUR)], this_update=T0
        ).public_bytes(Encoding.PEM),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    text = Issuer(ds.signer(), ds.certificate).issue(card, iat=T0).text
    code = (
        "import io, json, sys, contextlib\n"
        "from ecard.cli import main\n"
        f"base = ['verify', '--json', '--now', {T0.isoformat()!r}, '--trust', {str(tmp_path / 'signer.pem')!r}]\n"
        f"root = ['--root', {str(tmp_path / 'root.pem')!r}]\n"
        "def verify(*extra):\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        f"        status = main([*base, *extra, {text!r}])\n"
        "    result = json.loads(out.getvalue())\n"
        "    return [status, result['code'], result['reason'], sorted(\n"
        "        m for m in ('pyhanko_certvalidator', 'asyncio') if m in sys.modules)]\n"
        "print(json.dumps([verify(), "
        "verify(*root), "
        f"verify(*root, '--crl', {str(tmp_path / 'revoked.crl')!r})]))\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    plain, rooted, revoked = json.loads(proc.stdout)
    assert plain == [0, "OK", None, []]
    assert rooted == [0, "OK", None, ["asyncio", "pyhanko_certvalidator"]]
    assert revoked[:3] == [1, "ISSUER_CERT_INVALID", "revoked"]


def test_scanner_json_lines_are_what_json_dumps_writes(
    tmp_path: Path, ds: CertifiedKey, card: Card
) -> None:
    cert = tmp_path / "issuer.pem"
    cert.write_bytes(ds.certificate.public_bytes(Encoding.PEM))
    issuer = Issuer(ds.signer(), ds.certificate)
    texts = [issuer.issue(card, iat=T0).text for _ in range(40)]
    texts[7] = texts[7][:-3]  # a failing line among them
    texts[20] = "HC1:NOT-OURS"
    verifier = Verifier(TrustStore([ds.certificate]))
    expected = []
    for number, text in enumerate(texts, 1):
        data = verifier.verify(text, now=T0).to_dict("zh")
        data["source"] = f"stdin:{number}"
        if data["card"] is not None:
            data["region_name"] = region_name(card.region)
        expected.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    proc = subprocess.run(
        [sys.executable, "-m", "ecard", "verify", "--json", "--lang", "zh", "--trust", str(cert),
         "--now", T0.isoformat()],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == expected

"""``--now`` is the instant of the whole verification: certificate paths and CRL freshness are
judged then too, not by the wall clock (an auditor checks a code as of the day it was shown)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tests.conftest import T0

from ecard.card import Card
from ecard.cli import main
from ecard.signing.crl import create_crl
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey


def test_now_judges_the_path_and_its_crl_then(
    tmp_path: Path,
    root: CertifiedKey,
    ds: CertifiedKey,
    card: Card,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "root.pem").write_bytes(root.certificate.public_bytes(Encoding.PEM))
    (tmp_path / "signer.pem").write_bytes(ds.certificate.public_bytes(Encoding.PEM))
    # fresh at T0 for a week: long past its next update by the wall clock of any later run
    crl = create_crl(root, this_update=T0 - dt.timedelta(hours=1), days=7)
    (tmp_path / "root.crl").write_bytes(crl.public_bytes(Encoding.PEM))
    text = Issuer(ds.signer(), ds.certificate).issue(card, iat=T0).text
    base = ["verify", "--json", "--trust", str(tmp_path / "signer.pem")]
    base += ["--root", str(tmp_path / "root.pem"), "--crl", str(tmp_path / "root.crl")]

    assert main([*base, "--now", T0.isoformat(), text]) == 0
    assert json.loads(capsys.readouterr().out)["code"] == "OK"

    # a month later the same CRL is stale: the issuer's revocation status is unknown
    later = (T0 + dt.timedelta(days=30)).isoformat()
    assert main([*base, "--now", later, text]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["code"], result["reason"]) == ("ISSUER_CERT_INVALID", "no revocation data")

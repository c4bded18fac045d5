"""Fuzz: PDFs for the audit and SQLite journal files, both slow, so few examples.

``ecard.audit.audit`` gets mutations of a really signed PDF (PAdES B-B) and of a
signed trust list; it never raises and reports an untyped exception as a finding with
``internal error: ...``, which is therefore a failure here. ``ecard.journal.verify_journal``
gets mutations of a real journal file (records and a signed head); it returns a report or
raises :class:`~ecard.errors.BadInputError` for a file that is not a journal.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st
from reportlab.pdfgen import canvas
from tests.conftest import T0
from tests.fuzz.fuzzing import check, fuzz_settings, mutants

from ecard.audit import audit
from ecard.card import Card
from ecard.errors import BadInputError
from ecard.journal import Journal, verify_journal
from ecard.pdf import sign_pdf
from ecard.signing.crl import create_crl
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.verify.trust import TrustStore


@pytest.fixture(scope="module")
def signed_pdf(ds: CertifiedKey) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0, invariant=1)
    c.drawString(72, 720, "fuzz")
    c.showPage()
    c.save()
    return sign_pdf(buf.getvalue(), signer=ds, level="B-B")


@pytest.fixture(scope="module")
def root_crl(root: CertifiedKey) -> x509.CertificateRevocationList:
    return create_crl(root)  # current: the PDF is signed and audited at the real time


def _audit(
    data: bytes, root: CertifiedKey, trust: TrustStore, crl: x509.CertificateRevocationList
) -> None:
    report = audit([data], trust=trust, roots=[root.certificate], crls=[crl])
    for finding in report.findings:
        if "internal error" in finding.detail:
            raise RuntimeError(f"audit masked an untyped exception: {finding.detail}")


@fuzz_settings(brief=6)
@given(data=st.data())
def test_audit_mutated_pdf(
    signed_pdf: bytes,
    root: CertifiedKey,
    root_crl: x509.CertificateRevocationList,
    trust: TrustStore,
    data: st.DataObject,
) -> None:
    blob = data.draw(mutants([signed_pdf], max_ops=3))
    check("audit pdf", lambda: _audit(blob, root, trust, root_crl), bound=10.0)


def test_the_pdf_seed_passes(
    signed_pdf: bytes, root: CertifiedKey, root_crl: x509.CertificateRevocationList
) -> None:
    """The PDF property is not vacuous: its unmutated seed is a PDF signature that passes."""
    report = audit([signed_pdf], roots=[root.certificate], crls=[root_crl])
    assert [(f.kind, f.indication) for f in report.findings] == [("pdf", "TOTAL-PASSED")]


@fuzz_settings(brief=6)
@given(data=st.data())
def test_audit_mutated_codes(
    issuer: Issuer,
    card: Card,
    root: CertifiedKey,
    root_crl: x509.CertificateRevocationList,
    trust: TrustStore,
    data: st.DataObject,
) -> None:
    text = issuer.issue(card).text.encode()
    blob = data.draw(st.one_of(st.binary(max_size=200), mutants([text, b"%PDF-1.7\n" + text])))
    check("audit qr/unknown", lambda: _audit(blob, root, trust, root_crl), bound=4.0)


@pytest.fixture(scope="module")
def journal_file(
    issuer: Issuer, card: Card, root: CertifiedKey, tmp_path_factory: pytest.TempPathFactory
) -> tuple[bytes, CertifiedKey]:
    head = create_list_signer(root, "Fuzz Head Signer", not_before=T0 - dt.timedelta(days=1))
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite"
    with Journal.open(path, pseudonym_key=bytes(range(32)), clock=lambda: T0) as journal:
        for _ in range(3):
            journal.append_card(issuer.issue(card), operator="op-1")
        journal.sign_head(head.signer(), head.certificate)
    return path.read_bytes(), head


@fuzz_settings(brief=10)
@given(data=st.data())
def test_verify_mutated_journal(
    journal_file: tuple[bytes, CertifiedKey],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    raw, head = journal_file
    blob = data.draw(st.one_of(mutants([raw], max_ops=1), mutants([raw], max_ops=6)))
    path: Path = tmp_path_factory.mktemp("mutant") / "journal.sqlite"
    path.write_bytes(blob)
    check(
        "journal verify",
        lambda: verify_journal(path, head_certificates=[head.certificate]),
        bound=4.0,
    )


def test_the_journal_seed_verifies(
    journal_file: tuple[bytes, CertifiedKey], tmp_path: Path
) -> None:
    """The journal property is not vacuous: its unmutated seed verifies, head included."""
    raw, head = journal_file
    path = tmp_path / "journal.sqlite"
    path.write_bytes(raw)
    report = verify_journal(path, head_certificates=[head.certificate])
    assert report.ok and report.records == 3 and report.valid_heads == 1, report


def test_a_journal_whose_schema_is_not_utf8_is_a_typed_error(
    journal_file: tuple[bytes, CertifiedKey], tmp_path: Path
) -> None:
    """Found by the fuzzer: a journal whose schema table holds a name that is not UTF-8 (the
    first byte of an index name set to 0x80) makes ``verify_journal`` raise
    UnicodeDecodeError from sqlite3 where BadInputError is due."""
    raw, head = journal_file
    at = raw.index(b"indexsqlite_autoindex_journal_heads") + len(b"index")
    path = tmp_path / "journal.sqlite"
    path.write_bytes(raw[:at] + b"\x80" + raw[at + 1 :])
    with pytest.raises(BadInputError, match="not UTF-8"):
        verify_journal(path, head_certificates=[head.certificate])

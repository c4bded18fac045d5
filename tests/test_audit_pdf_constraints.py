"""PDF audits that must not say PASSED: a signer certificate without the e-card signing usage
(INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE) and a later revision that changes the page
(FAILED / SIG_CONSTRAINTS_FAILURE, Art. 13(4) not met)."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from tests.test_audit import NOW, Pki, pki, plain_pdf, sign, signed

from ecard.audit import audit
from ecard.signing.pki import create_list_signer

__all__ = ["pki", "plain_pdf", "signed"]  # the fixtures this module shares


def test_pdf_signed_by_a_list_signer_is_not_passed(pki: Pki, plain_pdf: bytes) -> None:
    lister = create_list_signer(pki.root, "List Signer", not_before=NOW - dt.timedelta(days=1))
    data = sign(pki, plain_pdf, lister, "B-T")
    (f,) = audit([data], roots=pki.roots, crls=pki.crls).findings
    assert (f.indication, f.sub_indication) == (
        "INDETERMINATE",
        "CHAIN_CONSTRAINTS_FAILURE",
    ), f.to_dict()
    assert any("e-card signing usage" in note for note in f.own_checks)


def test_pdf_page_changed_after_signing_is_failed(pki: Pki, signed: dict[str, bytes]) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed["B-T"]))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    (f,) = audit([out.getvalue()], roots=pki.roots, crls=pki.crls).findings
    assert (f.indication, f.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert f.art13[3].status == "not_met"
    # the signed revision itself is still fine
    (ok,) = audit([signed["B-T"]], roots=pki.roots, crls=pki.crls).findings
    assert ok.indication == "TOTAL-PASSED"


def test_pyhanko_log_records_stay_in_the_finding(
    pki: Pki, signed: dict[str, bytes], capfd: pytest.CaptureFixture[str]
) -> None:
    """pyHanko's log records never reach the user's standard error (nor the root logger):
    they are kept in the finding."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        pdf = signed["B-T"]
        # "startxref 1234" on one line: pyHanko reads it with a logged warning
        at = pdf.rindex(b"startxref\n")
        odd = pdf[:at] + b"startxref " + pdf[at + 10 :]
        findings = audit([odd, pdf], roots=pki.roots, crls=pki.crls).findings
    finally:
        logging.getLogger().removeHandler(keep)
    assert not [r for r in seen if r.name.startswith("pyhanko")]
    assert "pyhanko" not in capfd.readouterr().err.lower()
    assert findings[-1].indication == "TOTAL-PASSED"
    assert any("startxref" in c for c in findings[0].own_checks), findings[0].to_dict()

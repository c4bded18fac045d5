"""The audit report: ETSI EN 319 102-1 indications for QR credentials and PAdES PDFs.

Nothing is mocked: real keys and certificates, real PDFs signed with ecard.pdf.sign_pdf, real
RFC 3161 tokens from the in-process TSA, real CRLs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from reportlab.pdfgen import canvas
from tests.conftest import T0
from tests.test_cli import demo_dir  # noqa: F401 - a fixture, shared with the CLI tests

from ecard.audit import AuditReport, audit
from ecard.card import Card
from ecard.pdf import create_tsa, local_timestamper, sign_pdf
from ecard.signing.crl import create_crl
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_root_ca,
)
from ecard.verify.trust import TrustStore

NOW = dt.datetime.now(dt.UTC)
MARK = b"Audit marker 0123456789"


@dataclass(frozen=True)
class Pki:
    root: CertifiedKey
    ca: CertifiedKey
    signer: CertifiedKey
    revoked: CertifiedKey
    expired: CertifiedKey
    tsa_root: CertifiedKey
    tsa: CertifiedKey
    crls: tuple[x509.CertificateRevocationList, ...]

    @property
    def roots(self) -> list[x509.Certificate]:
        return [self.root.certificate, self.tsa_root.certificate]


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = create_root_ca("Audit Root CA", not_before=NOW - dt.timedelta(days=30))
    ca = create_issuing_ca(root, "Audit Issuing CA", not_before=NOW - dt.timedelta(days=30))
    signer = create_document_signer(ca, "Audit Signer", not_before=NOW - dt.timedelta(days=1))
    revoked = create_document_signer(ca, "Revoked Signer", not_before=NOW - dt.timedelta(days=1))
    expired = create_document_signer(
        ca, "Expired Signer", not_before=NOW - dt.timedelta(days=10), days=1
    )
    tsa_root = create_root_ca("Audit TSA Root", algorithm="PS256",
                              not_before=NOW - dt.timedelta(days=30))  # fmt: skip
    tsa = create_tsa(tsa_root, "Audit TSA", not_before=NOW - dt.timedelta(days=1))
    crls = (
        create_crl(root),
        create_crl(ca, [(revoked.certificate, NOW - dt.timedelta(hours=1))]),
        create_crl(tsa_root),
    )
    return Pki(root, ca, signer, revoked, expired, tsa_root, tsa, crls)


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0, invariant=1)
    c.drawString(72, 720, MARK.decode())
    c.showPage()
    c.save()
    return buf.getvalue()


def sign(pki: Pki, pdf: bytes, signer: CertifiedKey, level: str = "B-B") -> bytes:
    return sign_pdf(
        pdf,
        signer=signer,
        level=level,  # type: ignore[arg-type]
        timestamper=None if level == "B-B" else local_timestamper(pki.tsa),
        validation_crls=pki.crls if level in ("B-LT", "B-LTA") else (),
        trust_roots=pki.roots if level in ("B-LT", "B-LTA") else (),
    )


@pytest.fixture(scope="module")
def signed(pki: Pki, plain_pdf: bytes) -> dict[str, bytes]:
    return {lvl: sign(pki, plain_pdf, pki.signer, lvl) for lvl in ("B-B", "B-T", "B-LT", "B-LTA")}


def one(report: AuditReport) -> tuple[str, str | None]:
    assert len(report.findings) == 1, report.render()
    f = report.findings[0]
    return f.indication, f.sub_indication


# --- QR credentials -----------------------------------------------------------------------------


def test_qr_text_ok_and_tampered(
    issuer: Issuer, card: Card, trust: TrustStore, tmp_path: Path
) -> None:
    text = issuer.issue(card).text
    path = tmp_path / "codes.txt"
    path.write_text(f"{text}\n")
    report = audit([path], trust=trust, now=T0 + dt.timedelta(hours=1))
    assert one(report) == ("TOTAL-PASSED", None)
    f = report.findings[0]
    assert (
        f.kind == "qr-text"
        and f.signer
        and f.kid
        and f.algorithm == "ES256: ECDSA P-256 with SHA-256"
    )
    assert f.signing_time_claimed == T0
    assert f.covered.startswith("the whole credential")
    # the trust fixture holds bare certificates: no validated path binds the key (Art. 13(1))
    assert [c.status for c in f.art13] == ["unknown", "unknown", "met", "met"]
    assert "trusted directly" in f.art13[0].evidence
    # one changed character in the signature part
    tampered = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    f = audit([tampered.encode()], trust=trust, now=T0 + dt.timedelta(hours=1)).findings[0]
    assert f.indication == "TOTAL-FAILED"
    assert f.sub_indication in ("SIG_CRYPTO_FAILURE", "FORMAT_FAILURE")
    assert f.art13[2].status == "not_met"


def test_qr_expired_credential_is_credential_validity_not_signature(
    issuer: Issuer, card: Card, trust: TrustStore
) -> None:
    text = issuer.issue(card, exp=T0 + dt.timedelta(days=30)).text
    f = audit([text.encode()], trust=trust, now=T0 + dt.timedelta(days=40)).findings[0]
    assert f.indication == "TOTAL-PASSED"  # the signature is fine
    assert f.credential_status and f.credential_status.startswith("EXPIRED")
    # thirty years on the card itself has ended too: that is what is reported then
    f = audit([text.encode()], trust=trust, now=T0 + dt.timedelta(days=365 * 30)).findings[0]
    assert f.indication == "TOTAL-PASSED"
    assert f.credential_status and f.credential_status.startswith("CARD_EXPIRED")


def test_qr_unknown_issuer(issuer: Issuer, card: Card) -> None:
    other = create_document_signer(create_root_ca("Other"), "Other Signer")
    f = audit([issuer.issue(card).text.encode()], trust=TrustStore([other.certificate]),
              now=T0).findings[0]  # fmt: skip
    assert (f.indication, f.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


# --- PDFs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_pdf_ok(pki: Pki, signed: dict[str, bytes], level: str) -> None:
    report = audit([signed[level]], roots=pki.roots, crls=pki.crls)
    assert one(report) == ("TOTAL-PASSED", None), report.render()
    f = report.findings[0]
    assert f.kind == "pdf" and f.signer == "CN=Audit Signer,C=CN"
    assert f.certificate_path[-1] == pki.root.certificate.subject.rfc4514_string()
    # B-LT and B-LTA append validation data (and a document time-stamp) after the signature:
    # the report must say the signature does not cover those later revisions
    assert f.covers_whole_file is (level in ("B-B", "B-T"))
    assert f.later_revisions == (None if level in ("B-B", "B-T") else "LTA_UPDATES")
    assert "not revoked" in f.revocation_at_signing
    assert (f.timestamp_time is not None) == (level != "B-B")
    assert all(c.status in ("met", "unknown") for c in f.art13)
    assert f.art13[3].status == "met"


def test_pdf_one_changed_byte_is_hash_failure(pki: Pki, signed: dict[str, bytes]) -> None:
    pdf = signed["B-T"]
    at = pdf.index(MARK) + 5
    bad = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    report = audit([bad], roots=pki.roots, crls=pki.crls)
    assert one(report) == ("TOTAL-FAILED", "HASH_FAILURE"), report.render()
    assert report.findings[0].art13[3].status == "not_met"


def test_pdf_untrusted_root(pki: Pki, signed: dict[str, bytes]) -> None:
    other = create_root_ca("Some Other Root")
    report = audit([signed["B-B"]], roots=[other.certificate, pki.tsa_root.certificate],
                   crls=pki.crls)  # fmt: skip
    assert one(report) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"), report.render()


def test_pdf_revoked_before_signing(pki: Pki, plain_pdf: bytes) -> None:
    pdf = sign(pki, plain_pdf, pki.revoked, "B-T")
    report = audit([pdf], roots=pki.roots, crls=pki.crls)
    assert one(report) == ("TOTAL-FAILED", "REVOKED"), report.render()
    assert "before the time-stamp" in report.findings[0].revocation_at_signing


def test_pdf_expired_signer_without_time_stamp(pki: Pki, signed: dict[str, bytes]) -> None:
    later = NOW + dt.timedelta(days=3 * 365)
    report = audit([signed["B-B"]], roots=pki.roots, crls=pki.crls, now=later)
    assert one(report) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"), report.render()


def test_pdf_time_stamp_outside_certificate_validity(pki: Pki, plain_pdf: bytes) -> None:
    pdf = sign(pki, plain_pdf, pki.expired, "B-T")
    report = audit([pdf], roots=pki.roots, crls=pki.crls)
    f = report.findings[0]
    assert (f.indication, f.sub_indication) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert any("after the signer certificate's notAfter" in c for c in f.own_checks), f.own_checks


# --- report shapes and bad input ----------------------------------------------------------------


def test_json_and_chinese_rendering(
    pki: Pki, signed: dict[str, bytes], issuer: Issuer, card: Card, trust: TrustStore
) -> None:
    report = audit(
        [signed["B-T"], issuer.issue(card).text.encode(), b"garbage"],
        trust=trust, roots=pki.roots, crls=pki.crls,
    )  # fmt: skip
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert [f["kind"] for f in data["findings"]] == ["pdf", "qr-text", "unknown"]
    assert data["findings"][2]["sub_indication"] == "FORMAT_FAILURE"
    assert len(data["findings"][0]["art13"]) == 4
    assert json.loads(report.to_json()) == data
    zh = report.render("zh")
    assert "电子签名法" in zh and "通过" in zh
    assert "Electronic Signature Law" in report.render("en")


def test_bad_inputs_never_raise(tmp_path: Path) -> None:
    report = audit(
        [b"%PDF-1.7 broken", b"\xd2\x84garbage", tmp_path / "missing.pdf", b"\x89PNG\r\n\x1a\n"]
    )
    assert len(report.findings) == 4
    assert all(f.indication == "TOTAL-FAILED" for f in report.findings), report.render()


def test_qr_picture_is_audited(
    issuer: Issuer, card: Card, trust: TrustStore, tmp_path: Path
) -> None:
    picture = tmp_path / "card.png"
    picture.write_bytes(issuer.issue(card).png())
    report = audit([picture], trust=trust, now=T0 + dt.timedelta(hours=1))
    (finding,) = report.findings
    assert finding.indication == "TOTAL-PASSED", finding.to_dict()
    assert report.all_passed


def test_signed_lists_are_audited() -> None:
    from tests.test_trustlist import PKI

    from ecard.signing.revocation import sign_revocation_list

    lists = PKI()
    trust_list = lists.sign()
    revocation_list = sign_revocation_list(
        [(b"\1" * 8, b"\2" * 8)],
        sequence=1,
        issued_at=T0,
        next_update=T0 + dt.timedelta(days=1),
        signer=lists.tl.signer(),
        certificate=lists.tl.certificate,
    )
    crl = create_crl(lists.root, this_update=T0 - dt.timedelta(hours=1))
    report = audit([trust_list, revocation_list], roots=[lists.root.certificate], crls=[crl])
    assert [f.kind for f in report.findings] == ["trust-list", "revocation-list"]
    assert all(f.indication == "TOTAL-PASSED" for f in report.findings), report.to_dict()
    assert all(f.revocation.checked for f in report.findings)
    tampered = bytearray(trust_list)
    tampered[-3] ^= 1
    (bad,) = audit([bytes(tampered)], roots=[lists.root.certificate]).findings
    assert (bad.indication, bad.sub_indication) == ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE")
    (foreign,) = audit([trust_list], roots=[lists.other_root.certificate]).findings
    assert foreign.indication == "INDETERMINATE"


def test_pdf_changed_in_a_later_revision_is_not_passed_off_as_validation_data(
    pki: Pki, signed: dict[str, bytes]
) -> None:
    """An incremental update that alters the document after signing keeps the signature itself
    intact, but Art. 13(4) must not be reported as met."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed["B-B"]))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)  # a visible change to the signed page
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    (finding,) = audit([out.getvalue()], roots=pki.roots, crls=pki.crls).findings
    assert finding.covers_whole_file is False
    assert finding.later_revisions not in (None, "NONE", "LTA_UPDATES"), finding.to_dict()
    assert finding.art13[3].status != "met"


# --- regressions: evidence from what was checked ----------------------------------------------


def _revoked_list_signer() -> tuple[bytes, x509.Certificate, x509.CertificateRevocationList]:
    from tests.test_trustlist import PKI

    lists = PKI()
    crl = create_crl(
        lists.root,
        [(lists.tl.certificate, T0 - dt.timedelta(hours=2))],
        this_update=T0 - dt.timedelta(hours=1),
    )
    return lists.sign(), lists.root.certificate, crl


def test_list_with_a_revoked_signer_and_no_crl_is_not_passed() -> None:
    """Revocation was not checked: never TOTAL-PASSED, and the evidence says so."""
    data, root, crl = _revoked_list_signer()
    (f,) = audit([data], roots=[root], now=T0).findings
    assert (f.indication, f.sub_indication) == ("INDETERMINATE", "TRY_LATER"), f.to_dict()
    assert f.revocation.checked is False
    assert f.revocation_at_signing.startswith("not checked: no CRL supplied")
    assert "not revoked" not in f.revocation_at_signing
    assert f.art13[0].status == "unknown"
    assert {c.name: c.outcome for c in f.checks}["revocation"] == "not checked"
    # with the CRL the revocation is found: TOTAL-FAILED / REVOKED
    (g,) = audit([data], roots=[root], crls=[crl], now=T0).findings
    assert (g.indication, g.sub_indication) == ("TOTAL-FAILED", "REVOKED"), g.to_dict()


def test_cli_list_with_a_revoked_signer_and_no_crl(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from tests.test_cli import run

    data, root, _ = _revoked_list_signer()
    (tmp_path / "tl.cose").write_bytes(data)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    proc = run(["audit", "--json", "--root", str(tmp_path / "root.pem"),
                "--now", T0.isoformat(), str(tmp_path / "tl.cose")])  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert (f["indication"], f["sub_indication"]) == ("INDETERMINATE", "TRY_LATER"), f
    assert f["revocation_checked"] is False
    assert f["revocation_at_signing"].startswith("not checked")


def test_bare_trust_certificate_does_not_meet_art13_1(
    issuer: Issuer, card: Card, trust: TrustStore
) -> None:
    (f,) = audit([issuer.issue(card).text.encode()], trust=trust, now=T0).findings
    assert f.indication == "TOTAL-PASSED"  # the signer is a trust anchor: its signature verifies
    assert f.path.trusted_directly and not f.path.validated
    assert f.art13[0].status == "unknown", f.art13[0]
    assert "no validated certificate path" in f.art13[0].evidence
    assert f.revocation_at_signing.startswith("not checked: the signer's certificate is trusted")


def test_cli_bare_trust_certificate_does_not_meet_art13_1(demo_dir: Path) -> None:  # noqa: F811
    from tests.test_cli import run

    proc = run(["audit", "--json", "--trust", str(demo_dir / "issuer-cert.pem"),
                str(demo_dir / "card.txt")])  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["art13"][0]["status"] == "unknown", f["art13"][0]
    assert f["path_validated"] is False


def test_list_failure_reasons_are_structured() -> None:
    from ecard.errors import BadListError, ListStage, PathFailure
    from ecard.formats.lists import TRUST_LIST
    from ecard.verify.lists import open_list
    from ecard.verify.paths import PathValidator

    data, root, crl = _revoked_list_signer()
    with pytest.raises(BadListError) as err:
        open_list(data, expected_type=TRUST_LIST, validator=PathValidator([root], crls=[crl]))
    assert err.value.stage in (ListStage.SIGNER_PATH, ListStage.SIGNER_REVOKED)
    if err.value.stage is ListStage.SIGNER_PATH:
        assert err.value.reason is PathFailure.REVOKED
    tampered = bytearray(data)
    tampered[-3] ^= 1
    with pytest.raises(BadListError) as err:
        open_list(bytes(tampered), expected_type=TRUST_LIST,
                  validator=PathValidator([root], revocation="off"))  # fmt: skip
    assert err.value.stage is ListStage.SIGNATURE

"""The printable, signed PDF card: reportlab layout, PAdES signatures (pyHanko), and independent
checks with poppler (pdfsig, pdftoppm, pdffonts, pdftotext) and zxing-cpp.

``scripts/pdf-tools-setup.sh`` installs poppler-utils and a CJK font (apt-get) if missing; if it
cannot, these tests FAIL, they never skip. Nothing is mocked: real keys, real certificates, real
RFC 3161 tokens from pyHanko's in-process TSA (its own RSA key and a certificate with the
critical timeStamping EKU under its own root), real CRLs, and a real SoftHSM2 token.

The PKCS#11 signing runs in a child process with its own SoftHSM2 token directory: SoftHSM2
reads its configuration once per process, and tests/test_pkcs11.py owns the token of this one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.timestamps import DummyTimeStamper, TimeStamper
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer
from tests.conftest import T0
from tests.test_pkcs11 import parse_exports, run_setup

from ecard.card import Card
from ecard.crypto.x509 import certificate_to_pem
from ecard.errors import BadCertificateError, BadInputError, BadKeyError, ErrorCode
from ecard.formats.credential import IssuedCard
from ecard.formats.qrimage import read_texts
from ecard.pdf import (
    CARD_SIZE,
    LEVELS,
    create_tsa,
    extend_pdf,
    find_cjk_font,
    http_timestamper,
    local_timestamper,
    render_card_pdf,
    sign_pdf,
    signed_card_pdf,
)
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_root_ca,
)
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

ROOT = Path(__file__).resolve().parents[1]


def _stream_data(stream: Any) -> bytes:
    """A PDF stream's decoded bytes, on every pyHanko ecard supports: 0.38 reads them with a
    decoding purpose (its decompression limits), earlier versions through ``.data``."""
    if hasattr(stream, "read_data"):
        from pyhanko.pdf_utils.decode_limits import DecodePurpose

        return bytes(stream.read_data(DecodePurpose.CRL))
    return bytes(stream.data)


SETUP = ROOT / "scripts" / "pdf-tools-setup.sh"
DER = serialization.Encoding.DER
KU = KeyUsageConstraints(key_usage={"digital_signature"})
ISSUER_NAME = "北京市人力资源和社会保障局"
NOW = dt.datetime.now(dt.UTC)


# --- tools --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    font: str
    stdout: str


@pytest.fixture(scope="session")
def tools() -> Iterator[Tools]:
    proc = subprocess.run(
        ["bash", str(SETUP)], capture_output=True, text=True, timeout=900, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            "scripts/pdf-tools-setup.sh failed: the PDF tests need poppler-utils and a CJK "
            f"font\n--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}",
            pytrace=False,
        )
    env = parse_exports(proc.stdout)
    assert set(env) == {"ECARD_CJK_FONT"}, proc.stdout
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECARD_CJK_FONT", env["ECARD_CJK_FONT"])
        yield Tools(font=env["ECARD_CJK_FONT"], stdout=proc.stdout)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kw)


def pdfsig(pdf: bytes, tmp_path: Path, name: str = "signed.pdf") -> list[dict[str, str]]:
    """pdfsig's report, one dict per signature. Its exit status is 0 even for a digest
    mismatch, so the text is what counts. Certificate checks are off (-nocert): NSS wants an
    S/MIME certificate profile, and pyHanko validates the paths (see test_pdfsig_trust)."""
    path = tmp_path / name
    path.write_bytes(pdf)
    proc = run(["pdfsig", "-nocert", str(path)])
    sigs: list[dict[str, str]] = []
    for line in proc.stdout.splitlines():
        if re.match(r"^Signature #\d+:", line):
            sigs.append({})
        elif m := re.match(r"^\s+- (.*)$", line):  # "- Key: value" or a bare "- Statement"
            assert sigs, proc.stdout
            key, _, value = m.group(1).partition(": ")
            sigs[-1][key] = value
    assert sigs, f"pdfsig found no signature\n{proc.stdout}\n{proc.stderr}"
    return sigs


def pdffonts(pdf: Path) -> list[dict[str, str]]:
    out = run(["pdffonts", str(pdf)])
    assert out.returncode == 0, out.stderr
    fonts = []
    for line in out.stdout.splitlines()[2:]:
        words = line.split()
        fonts.append({"name": words[0], "emb": words[-5], "sub": words[-4], "uni": words[-3]})
    return fonts


def pdftext(pdf: Path, page: int = 1) -> str:
    out = run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"])
    assert out.returncode == 0, out.stderr
    return out.stdout


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = run(["pdfinfo", "-f", "1", "-l", "9", str(pdf)])
    assert out.returncode == 0, out.stderr
    return [
        (float(m.group(1)), float(m.group(2)))
        for m in re.finditer(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out.stdout)
    ]


def rasterise(pdf: Path, dpi: int, page: int = 1) -> Path:
    prefix = pdf.with_suffix("")
    out = run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
               "-singlefile", str(pdf), str(prefix)])  # fmt: skip
    assert out.returncode == 0, out.stderr
    return prefix.with_suffix(".png")


# --- keys, certificates, time-stamps --------------------------------------------------------------


def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class Pki:
    """A PDF-signing hierarchy valid *now* (pyHanko validates at the real time), and a TSA
    under a separate root."""

    root: CertifiedKey
    ca: CertifiedKey
    signer: CertifiedKey
    tsa_root: CertifiedKey
    tsa: CertifiedKey
    crls: tuple[x509.CertificateRevocationList, ...]

    @property
    def roots(self) -> list[x509.Certificate]:
        return [self.root.certificate, self.tsa_root.certificate]

    def timestamper(self) -> TimeStamper:
        return local_timestamper(self.tsa)

    def context(self, **kw: Any) -> ValidationContext:
        """Trust the two roots; revocation data required (the CRLs); no fetching."""
        args: dict[str, Any] = {
            "trust_roots": [asn1(c) for c in self.roots],
            "crls": [asn1_crl.CertificateList.load(c.public_bytes(DER)) for c in self.crls],
            "allow_fetching": False,
            "revocation_mode": "require",
            **kw,
        }
        return ValidationContext(**args)


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = create_root_ca("PDF Test Root CA", organization="ecard tests")
    ca = create_issuing_ca(root, "PDF Test Issuing CA")
    signer = create_document_signer(ca, "PDF Test Document Signer")
    tsa_root = create_root_ca("TSA Test Root CA", algorithm="PS256")
    tsa = create_tsa(tsa_root, "ecard Test TSA")
    crls = (create_crl(root), create_crl(ca), create_crl(tsa_root))
    return Pki(root, ca, signer, tsa_root, tsa, crls)


@pytest.fixture(scope="session")
def issued(issuer: Issuer, card: Card) -> IssuedCard:
    return issuer.issue(card, cti=bytes.fromhex("0123456789abcdef"))


@pytest.fixture(scope="session")
def card_pdf(tools: Tools, issued: IssuedCard) -> bytes:
    return render_card_pdf(issued, page="both", issuer_name=ISSUER_NAME)


def sign_level(pki: Pki, pdf: bytes, level: str, **kw: Any) -> bytes:
    return sign_pdf(
        pdf,
        signer=pki.signer,
        level=level,  # type: ignore[arg-type]
        timestamper=None if level == "B-B" else pki.timestamper(),
        validation_crls=pki.crls,
        trust_roots=[pki.tsa_root.certificate],
        location="北京",
        **kw,
    )


@pytest.fixture(scope="session")
def signed(pki: Pki, card_pdf: bytes) -> dict[str, bytes]:
    return {level: sign_level(pki, card_pdf, level) for level in LEVELS}


# --- the layout -----------------------------------------------------------------------------------


def test_setup_script_is_idempotent_and_prints_only_exports(tools: Tools) -> None:
    again = run(["bash", str(SETUP)])
    assert again.returncode == 0, again.stderr
    assert again.stdout == tools.stdout
    assert re.fullmatch(r"export ECARD_CJK_FONT=\S+\n", again.stdout)
    assert "apt-get" not in again.stderr  # nothing left to install
    assert find_cjk_font() == Path(tools.font)


def test_pages_sizes_and_embedded_cjk_font(
    tools: Tools, issued: IssuedCard, tmp_path: Path
) -> None:
    w, h = CARD_SIZE
    for page, sizes in [
        ("card", [(w, h)]),
        ("a4", [(595.276, 841.89)]),
        ("both", [(w, h), (595.276, 841.89)]),
    ]:
        path = tmp_path / f"{page}.pdf"
        path.write_bytes(render_card_pdf(issued, page=page))  # type: ignore[arg-type]
        got = page_sizes(path)
        assert len(got) == len(sizes)
        for (gw, gh), (ew, eh) in zip(got, sizes, strict=True):
            assert abs(gw - ew) < 0.01 and abs(gh - eh) < 0.01, (page, got)
        fonts = pdffonts(path)
        assert fonts, "no fonts"
        # every font is embedded (subset, with a ToUnicode map): no viewer substitutes tofu,
        # and no base-14 font (Helvetica) sneaks in unembedded
        for font in fonts:
            assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), font
            assert re.fullmatch(r"[A-Z]{6}\+\S+", font["name"]), font  # a subset
    assert abs(w / 72 * 25.4 - 85.60) < 0.01 and abs(h / 72 * 25.4 - 53.98) < 0.01


def test_masked_and_revealed_fields(issued: IssuedCard, tmp_path: Path, tools: Tools) -> None:
    holder = issued.card.holder
    path = tmp_path / "card.pdf"
    cases: list[tuple[Any, set[str]]] = [
        (False, set()),
        (True, {"name", "ssn", "card_number"}),
        (["name"], {"name"}),
        ({"ssn", "card_number"}, {"ssn", "card_number"}),
    ]
    full = {"name": holder.name, "ssn": holder.ssn, "card_number": issued.card.card_number}
    masked = issued.card.masked()
    for reveal, shown in cases:
        path.write_bytes(render_card_pdf(issued, reveal=reveal, issuer_name=ISSUER_NAME))
        text = pdftext(path)
        for field in full:
            if field in shown:
                assert full[field] in text, (reveal, field)
            else:
                assert full[field] not in text, (reveal, field)
                assert masked[field] in text, (reveal, field)
        # the Chinese round-trips through the embedded font's ToUnicode map
        for needle in ("中华人民共和国社会保障卡", ISSUER_NAME, "有效期限", "2034-01-15"):
            assert needle in text
    # the A4 page has the credential details, the issuer and the QR text itself
    path.write_bytes(render_card_pdf(issued, page="a4", issuer_name=ISSUER_NAME))
    a4 = pdftext(path)
    for needle in ("电子社会保障卡凭证", ISSUER_NAME, issued.cti.hex(), issued.kid.hex(), "正常"):
        assert needle in a4, needle
    assert holder.name not in a4 and holder.masked_name in a4
    flat = re.sub(r"\s+", "", a4)
    assert re.sub(r"\s+", "", issued.text) in flat  # wrapped across lines, nothing lost


@pytest.mark.parametrize(
    ("page", "qr", "dpi"),
    [("card", "vector", 300), ("card", "image", 300), ("a4", "vector", 150)],
)
def test_rendered_qr_reads_back_and_verifies(
    issued: IssuedCard,
    verifier: Verifier,
    tmp_path: Path,
    page: str,
    qr: str,
    dpi: int,
    tools: Tools,
) -> None:
    path = tmp_path / f"{page}-{qr}.pdf"
    path.write_bytes(render_card_pdf(issued, page=page, qr=qr))  # type: ignore[arg-type]
    png = rasterise(path, dpi)
    texts = read_texts(png)
    # the A4 page carries the large code and the card at actual size: both must read
    assert texts == [issued.text] * (2 if page == "a4" else 1)
    result = verifier.verify(texts[0])
    assert result.valid, result.message()
    assert result.card == issued.card


def test_rendered_qr_reads_back_from_the_signed_pdf(
    signed: dict[str, bytes], issued: IssuedCard, verifier: Verifier, tmp_path: Path
) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed["B-LTA"])
    texts = read_texts(rasterise(path, 300, page=1))
    assert texts == [issued.text]
    assert verifier.verify(texts[0]).valid


def test_layout_is_deterministic_and_validates_options(issued: IssuedCard, tools: Tools) -> None:
    assert render_card_pdf(issued) == render_card_pdf(issued)
    assert render_card_pdf(issued, reveal=True) != render_card_pdf(issued)
    bad: list[dict[str, Any]] = [
        {"page": "letter"},
        {"qr": "bitmap"},
        {"qr_level": "X"},
        {"qr_scale": 0},
        {"reveal": ["birth_date"]},
        {"reveal": "name"},
        {"issuer_name": "  "},
        {"font": "/nonexistent/font.ttf"},
        {"font": __file__},  # not a font at all
    ]
    for kw in bad:
        with pytest.raises(BadInputError):
            render_card_pdf(issued, **kw)
    with pytest.raises(BadInputError):
        render_card_pdf(issued.text)  # type: ignore[arg-type]


def test_no_font_is_a_clear_error(
    issued: IssuedCard, monkeypatch: pytest.MonkeyPatch, tools: Tools
) -> None:
    import ecard.pdf.layout as layout

    monkeypatch.delenv("ECARD_CJK_FONT")
    monkeypatch.setattr(layout, "FONT_CANDIDATES", ("/nonexistent/a.ttc",))
    with pytest.raises(BadInputError, match="fonts-wqy-microhei"):
        render_card_pdf(issued)
    monkeypatch.setenv("ECARD_CJK_FONT", "/nonexistent/b.ttc")
    with pytest.raises(BadInputError, match="ECARD_CJK_FONT"):
        render_card_pdf(issued)


# --- PAdES with an in-memory key --------------------------------------------------------------


def check_signature(
    pki: Pki,
    pdf: bytes,
    level: str,
    signer_cert: x509.Certificate,
    crls: tuple[x509.CertificateRevocationList, ...] | None = None,
) -> None:
    """pyHanko's verdict on every property the level promises; ``crls``: those embedded."""
    reader = PdfFileReader(io.BytesIO(pdf))
    sigs = reader.embedded_signatures
    regular = [s for s in sigs if s.sig_object_type == "/Sig"]
    assert len(regular) == 1
    sig = regular[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.signer_cert.dump() == asn1(signer_cert).dump()
    context = pki.context()
    status = validate_pdf_signature(
        sig, signer_validation_context=context, ts_validation_context=context, key_usage_settings=KU
    )
    assert status.bottom_line, status.pretty_print_details()  # type: ignore[no-untyped-call]
    assert status.intact and status.valid and status.trusted and not status.revoked
    # B-B/B-T cover the whole file; later levels add DSS / time-stamp revisions after it
    if level in ("B-B", "B-T"):
        assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    else:
        assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        assert status.modification_level is not None
        assert status.modification_level.name == "LTA_UPDATES"
    if level == "B-B":
        assert status.timestamp_validity is None
    else:
        ts = status.timestamp_validity
        assert ts is not None and ts.intact and ts.valid and ts.trusted
        assert abs(ts.timestamp - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    if level in ("B-LT", "B-LTA"):
        dss = DocumentSecurityStore.read_dss(reader)
        certs = {c.dump() for c in dss.load_certs()}
        for needed in (signer_cert, pki.ca.certificate, pki.tsa.certificate):
            assert asn1(needed).dump() in certs
        embedded = {
            asn1_crl.CertificateList.load(_stream_data(ref.get_object())).dump() for ref in dss.crls
        }
        assert {c.public_bytes(DER) for c in (crls or pki.crls)} <= embedded
        # what is embedded is enough: validate with the DSS alone, revocation data required
        dss_only = dss.as_validation_context(
            {
                "trust_roots": [asn1(c) for c in pki.roots],
                "allow_fetching": False,
                "revocation_mode": "require",
            }
        )
        alone = validate_pdf_signature(
            sig, signer_validation_context=dss_only, ts_validation_context=dss_only,
            key_usage_settings=KU,
        )  # fmt: skip
        assert alone.bottom_line, alone.pretty_print_details()  # type: ignore[no-untyped-call]
    doc_ts = [s for s in sigs if s.sig_object_type == "/DocTimeStamp"]
    if level == "B-LTA":
        assert len(doc_ts) == 1
        ts_status = validate_pdf_timestamp(doc_ts[0], validation_context=context)
        assert ts_status.intact and ts_status.valid and ts_status.trusted
        assert ts_status.coverage in (
            SignatureCoverageLevel.ENTIRE_FILE,
            SignatureCoverageLevel.ENTIRE_REVISION,  # pyHanko may add DSS data after it
        )
    else:
        assert doc_ts == []


def check_pdfsig(pdf: bytes, tmp_path: Path, level: str, subject_cn: str) -> None:
    report = pdfsig(pdf, tmp_path, f"{level}.pdf")
    assert len(report) == (2 if level == "B-LTA" else 1)
    first = report[0]
    assert first["Signature Validation"] == "Signature is Valid.", first
    assert first["Signature Type"] == "ETSI.CAdES.detached"
    assert first["Signer Certificate Common Name"] == subject_cn
    assert first["Signature Field Name"] == "ecard-signature"
    if level in ("B-B", "B-T"):
        assert first["Signed Ranges"].count("[") == 2 and "Total document signed" in first
    if level == "B-LTA":  # the document time-stamp: poppler 22 lists it but cannot check it
        assert report[1]["Signer Certificate Common Name"] == "ecard Test TSA"


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_with_an_in_memory_key(
    pki: Pki, signed: dict[str, bytes], level: str, tmp_path: Path
) -> None:
    pdf = signed[level]
    check_signature(pki, pdf, level, pki.signer.certificate)
    check_pdfsig(pdf, tmp_path, level, "PDF Test Document Signer")


def tamper(pdf: bytes) -> bytes:
    """Change one byte inside the first signed range: a letter of the /Producer string."""
    at = pdf.index(b"/Producer (ecard") + len(b"/Producer (")
    changed = bytearray(pdf)
    changed[at] ^= 0x01  # 'e' -> 'd'
    return bytes(changed)


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_one_changed_byte_is_a_digest_mismatch(
    pki: Pki, signed: dict[str, bytes], level: str, tmp_path: Path
) -> None:
    bad = tamper(signed[level])
    assert len(bad) == len(signed[level]) and bad != signed[level]
    report = pdfsig(bad, tmp_path)
    assert report[0]["Signature Validation"] == "Digest Mismatch.", report[0]
    reader = PdfFileReader(io.BytesIO(bad))
    sig = next(s for s in reader.embedded_signatures if s.sig_object_type == "/Sig")
    status = validate_pdf_signature(
        sig, signer_validation_context=pki.context(), key_usage_settings=KU
    )
    assert not status.intact and not status.bottom_line
    if level == "B-LTA":  # the document time-stamp covers the byte too
        doc_ts = next(s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp")
        ts_status = validate_pdf_timestamp(doc_ts, validation_context=pki.context())
        assert not ts_status.intact


@pytest.mark.parametrize("alg", ["ES384", "PS256", "EdDSA"])
def test_other_algorithms(
    signers: dict[str, CertifiedKey], root: CertifiedKey, card_pdf: bytes, alg: str, tmp_path: Path
) -> None:
    ck = signers[alg]
    pdf = sign_pdf(card_pdf, signer=ck.signer(), certificate=ck.certificate, chain=ck.chain)
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    # conftest's signers are valid from T0 (2026-03-01) for two years: validate inside that
    context = ValidationContext(
        trust_roots=[asn1(root.certificate)], allow_fetching=False, moment=T0 + dt.timedelta(days=1)
    )
    status = validate_pdf_signature(sig, signer_validation_context=context, key_usage_settings=KU)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()  # type: ignore[no-untyped-call]
    want = {"ES384": "sha384", "PS256": "sha256", "EdDSA": "sha512"}[alg]
    assert sig.md_algorithm == want
    if alg != "EdDSA":  # poppler 22.12 (NSS) does not verify Ed25519 PDF signatures
        assert pdfsig(pdf, tmp_path)[0]["Signature Validation"] == "Signature is Valid."


def test_signing_errors(pki: Pki, card_pdf: bytes, signers: dict[str, CertifiedKey]) -> None:
    ts = pki.timestamper()
    with pytest.raises(BadInputError, match="B-B has no time-stamp"):
        sign_pdf(card_pdf, signer=pki.signer, timestamper=ts)
    with pytest.raises(BadInputError, match="needs a time-stamp authority"):
        sign_pdf(card_pdf, signer=pki.signer, level="B-T")
    with pytest.raises(BadInputError, match="level must be one of"):
        sign_pdf(card_pdf, signer=pki.signer, level="B-X")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="certificate"):
        sign_pdf(card_pdf, signer=pki.signer.signer())
    with pytest.raises(BadKeyError, match="does not belong"):
        sign_pdf(card_pdf, signer=pki.signer.signer(), certificate=pki.ca.certificate)
    with pytest.raises(BadInputError, match="differs"):
        sign_pdf(card_pdf, signer=pki.signer, certificate=pki.ca.certificate)
    with pytest.raises(BadInputError):
        sign_pdf(b"%PDF-1.7 not really", signer=pki.signer)
    # B-LT refuses to embed what cannot validate: no CRL for the issuing CA's certificate
    with pytest.raises(BadCertificateError):
        sign_pdf(
            card_pdf, signer=pki.signer, level="B-LT", timestamper=ts,
            validation_crls=[pki.crls[1], pki.crls[2]], trust_roots=[pki.tsa_root.certificate],
        )  # fmt: skip
    # ... nor a revoked signer
    revoked = create_crl(pki.ca, [(pki.signer.certificate, NOW - dt.timedelta(minutes=5))])
    with pytest.raises(BadCertificateError):
        sign_pdf(
            card_pdf, signer=pki.signer, level="B-LT", timestamper=ts,
            validation_crls=[pki.crls[0], revoked, pki.crls[2]],
            trust_roots=[pki.tsa_root.certificate],
        )  # fmt: skip
    # ... nor a TSA whose root is not trusted
    with pytest.raises(BadCertificateError):
        sign_pdf(
            card_pdf, signer=pki.signer, level="B-LT", timestamper=ts, validation_crls=pki.crls
        )
    # a time-stamping key without the critical timeStamping EKU is no TSA
    with pytest.raises(BadCertificateError, match="timeStamping"):
        local_timestamper(create_document_signer(pki.root, "Not a TSA", algorithm="PS256"))


def test_long_term_validation_after_the_signer_certificate_expired(
    pki: Pki, signed: dict[str, bytes]
) -> None:
    """Three years on the signer's certificate has expired (the TSA's has not): only B-LTA
    still validates, with the validation data embedded at signing and the CA's then-current
    CRLs (pyHanko's AdES LTA validation, ETSI EN 319 102-1 §5.6.3)."""
    later = NOW + dt.timedelta(days=3 * 365)
    assert (
        pki.signer.certificate.not_valid_after_utc < later < pki.tsa.certificate.not_valid_after_utc
    )
    fresh = [create_crl(ca, this_update=later - dt.timedelta(days=1)) for ca in (pki.root, pki.ca, pki.tsa_root)]  # fmt: skip
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=[asn1(c) for c in pki.roots]),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=LocalKnowledge(
                known_crls=[
                    CRLContainer(
                        asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER))
                    )
                    for c in fresh
                ]
            ),
            key_usage_settings=KU,
        )
    )
    timing = ValidationTimingInfo(later, later, point_in_time_validation=True)
    verdicts = {}
    for level, pdf in signed.items():
        sig = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
        result = asyncio.run(ades_lta_validation(sig, spec, timing_info=timing))
        verdicts[level] = str(result.ades_subindic)
    # pyHanko 0.38: B-B SIG_CONSTRAINTS_FAILURE, B-T and B-LT NO_POE (no proof that the
    # signature and its validation data existed before the certificate expired)
    assert verdicts["B-LTA"] == str(AdESPassed.OK), verdicts
    assert all(v != str(AdESPassed.OK) for k, v in verdicts.items() if k != "B-LTA"), verdicts


def test_extend_b_t_to_b_lt_and_b_lta(
    pki: Pki, signed: dict[str, bytes], card_pdf: bytes, tmp_path: Path
) -> None:
    """The two-step way: B-T now, revocation data issued after the signature later."""
    later_crls = [create_crl(ca, number=2) for ca in (pki.root, pki.ca, pki.tsa_root)]
    for level in ("B-LT", "B-LTA"):
        pdf = extend_pdf(
            signed["B-T"], level=level, trust_roots=pki.roots, validation_crls=later_crls,
            timestamper=pki.timestamper(),
        )  # fmt: skip
        assert pdf.startswith(signed["B-T"])  # incremental: the signed bytes are untouched
        check_signature(pki, pdf, level, pki.signer.certificate, tuple(later_crls))
        check_pdfsig(pdf, tmp_path, level, "PDF Test Document Signer")
    with pytest.raises(BadInputError, match="no signature"):
        extend_pdf(card_pdf, trust_roots=pki.roots, timestamper=pki.timestamper())
    with pytest.raises(BadInputError, match="trust_roots"):
        extend_pdf(signed["B-T"], trust_roots=[], timestamper=pki.timestamper())
    with pytest.raises(BadCertificateError):  # no CRLs: nothing to embed that validates
        extend_pdf(signed["B-T"], level="B-LT", trust_roots=pki.roots)


# --- an RFC 3161 TSA over HTTP (on the loopback interface) --------------------------------------


def test_b_t_with_an_http_tsa(pki: Pki, card_pdf: bytes, tmp_path: Path) -> None:
    timestamper = pki.timestamper()
    assert isinstance(timestamper, DummyTimeStamper)
    backend: DummyTimeStamper = timestamper
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers["Content-Type"])
            body = self.rfile.read(int(self.headers["Content-Length"]))
            resp = backend.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
        pdf = sign_pdf(card_pdf, signer=pki.signer, level="B-T", timestamper=http_timestamper(url))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert seen and all(s == "application/timestamp-query" for s in seen)
    check_signature(pki, pdf, "B-T", pki.signer.certificate)
    with pytest.raises(BadInputError):
        http_timestamper("ftp://example.invalid/")


# --- PAdES with a key in SoftHSM2 (in a child process) --------------------------------------------

HSM_CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from cryptography import x509
    from ecard.pdf import local_timestamper, sign_pdf
    from ecard.crypto.crl import load_crls
    from ecard.signing.pkcs11 import generate_key
    from ecard.signing.pki import certify_end_entity
    from ecard.signing.pki import CertifiedKey
    from ecard.crypto.x509 import load_certificates
    from ecard.signing.signers import load_private_key

    work = Path(sys.argv[1])
    def ck(name):
        certs = load_certificates((work / f"{name}.crt").read_bytes())
        key = load_private_key((work / f"{name}.key").read_bytes())
        return CertifiedKey(key=key, certificate=certs[0], chain=tuple(certs[1:]))
    ca, tsa = ck("ca"), ck("tsa")
    crls = load_crls((work / "crls.pem").read_bytes())
    tsa_root = load_certificates((work / "tsa-root.crt").read_bytes())[0]
    signer = generate_key(os.environ["ECARD_PKCS11_MODULE"], token_label=os.environ["ECARD_PKCS11_TOKEN"],
                          pin=os.environ["ECARD_PKCS11_PIN"], key_label="pdf-signer-ES256")
    cert = certify_end_entity(ca, signer.public_key(), "HSM PDF Signer")
    (work / "hsm.crt").write_bytes(cert.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                   fromlist=["Encoding"]).Encoding.PEM))
    pdf = (work / "card.pdf").read_bytes()
    for level in sys.argv[2:]:
        out = sign_pdf(pdf, signer=signer, certificate=cert, chain=(ca.certificate, *ca.chain),
                       level=level, timestamper=None if level == "B-B" else local_timestamper(tsa),
                       validation_crls=crls, trust_roots=[tsa_root])
        (work / f"{level}.pdf").write_bytes(out)
    print(json.dumps({"sole_control": signer.sole_control, "repr": repr(signer)}))
    signer.close()
    """
)


@pytest.fixture(scope="module")
def hsm_signed(
    pki: Pki, card_pdf: bytes, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    token_dir = tmp_path_factory.mktemp("softhsm-pdf")
    setup = run_setup(token_dir)
    if setup.returncode != 0:
        pytest.fail(f"scripts/softhsm-setup.sh failed\n{setup.stderr}", pytrace=False)
    env = {**os.environ, **parse_exports(setup.stdout), "ECARD_SOFTHSM_DIR": str(token_dir)}
    work = tmp_path_factory.mktemp("hsm-pdf")
    for name, ck in (("ca", pki.ca), ("tsa", pki.tsa)):
        (work / f"{name}.crt").write_bytes(
            b"".join(certificate_to_pem(c) for c in (ck.certificate, *ck.chain))
        )
        (work / f"{name}.key").write_bytes(ck.key_pem())
    (work / "tsa-root.crt").write_bytes(certificate_to_pem(pki.tsa_root.certificate))
    (work / "crls.pem").write_bytes(b"".join(crl_to_pem(c) for c in pki.crls))
    (work / "card.pdf").write_bytes(card_pdf)
    proc = subprocess.run(
        [sys.executable, "-c", HSM_CHILD, str(work), *LEVELS],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{proc.stderr}\n{proc.stdout}"
    assert "ecard-test-pin" not in proc.stdout + proc.stderr
    cert = x509.load_pem_x509_certificate((work / "hsm.crt").read_bytes())
    return {
        "cert": cert,
        "info": json.loads(proc.stdout.strip().splitlines()[-1]),
        **{level: (work / f"{level}.pdf").read_bytes() for level in LEVELS},
    }


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_with_a_softhsm2_key(
    pki: Pki, hsm_signed: dict[str, Any], level: str, tmp_path: Path
) -> None:
    cert: x509.Certificate = hsm_signed["cert"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert hsm_signed["info"]["sole_control"] is True  # generated on the token, never leaves it
    pdf = hsm_signed[level]
    check_signature(pki, pdf, level, cert)
    check_pdfsig(pdf, tmp_path, level, "HSM PDF Signer")
    bad = tamper(pdf)
    assert pdfsig(bad, tmp_path, "bad.pdf")[0]["Signature Validation"] == "Digest Mismatch."


# --- pdfsig's own certificate check -------------------------------------------------------------


def test_pdfsig_certificate_check_is_not_used(signed: dict[str, bytes], tmp_path: Path) -> None:
    """Without -nocert pdfsig checks the certificate with NSS for S/MIME signing, which needs
    an NSS database and an emailProtection EKU: ecard's document signers (private EKU) get
    'Unknown issue'. The signature itself still checks: pyHanko does the path validation."""
    path = tmp_path / "b.pdf"
    path.write_bytes(signed["B-B"])
    out = run(["pdfsig", str(path)]).stdout
    assert "Signature Validation: Signature is Valid." in out
    assert "Certificate Validation:" in out and "Certificate is Trusted" not in out


def test_signed_card_pdf_is_layout_then_signature(
    pki: Pki, issued: IssuedCard, tmp_path: Path, tools: Tools
) -> None:
    """What `ecard pdf` calls: one call from credential to signed, printable PDF."""
    pdf = signed_card_pdf(
        issued, signer=pki.signer, page="card", reveal=["name"], issuer_name=ISSUER_NAME
    )
    check_signature(pki, pdf, "B-B", pki.signer.certificate)
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    assert len(page_sizes(path)) == 1
    text = pdftext(path)
    assert issued.card.holder.name in text and issued.card.holder.ssn not in text


def test_an_sm2_card_in_a_pdf_signed_with_es256(
    pki: Pki, signers: dict[str, CertifiedKey], card: Card, tools: Tools, tmp_path: Path
) -> None:
    """PDF readers and pyHanko have no SM2: an SM2 card is printed in a PDF signed with an
    ES256 key; its QR, read back from the rendered page, still verifies as SM2. Signing the
    PDF itself with SM2 is refused with the reason."""
    sm2 = signers["SM2"]
    issued_sm2 = Issuer(sm2.signer(), sm2.certificate, clock=lambda: T0).issue(card)
    pdf = signed_card_pdf(issued_sm2, signer=pki.signer, validation_crls=pki.crls)
    check_signature(pki, pdf, "B-B", pki.signer.certificate)
    path = tmp_path / "sm2-card.pdf"
    path.write_bytes(pdf)
    (text,) = read_texts(rasterise(path, 300, page=1))
    result = Verifier(TrustStore([sm2.certificate])).verify(text, now=T0 + dt.timedelta(hours=1))
    assert (result.code, result.alg) == (ErrorCode.OK, "SM2")
    with pytest.raises(BadKeyError, match="SM2 is not supported for PDF signatures"):
        signed_card_pdf(issued_sm2, signer=sm2)

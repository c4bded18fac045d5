"""Printable, signed PDF cards: layout with reportlab, PAdES signatures with pyHanko.

Needs the optional extra ``ecard[pdf]`` (``pyhanko``, ``reportlab``) and a TrueType CJK font
(Debian: ``fonts-wqy-microhei``; see :func:`ecard.pdf.layout.find_cjk_font`).

Usage::

    from ecard.pdf import http_timestamper, render_card_pdf, sign_pdf

    pdf = render_card_pdf(issued, page="both", issuer_name="北京市人力资源和社会保障局")
    signed = sign_pdf(pdf, signer=document_signer, level="B-LTA",
                      timestamper=http_timestamper("http://tsa.example/"),
                      validation_crls=[root_crl])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecard._lazy import lazy_exports

# Public name -> defining module, imported on first use: the PDF validator (used by audits,
# which hold no keys) is importable without loading the signing side.
_EXPORTS: dict[str, str] = {
    "A4_SIZE": "ecard.pdf.layout",
    "CARD_SIZE": "ecard.pdf.layout",
    "PageChoice": "ecard.pdf.layout",
    "QrStyle": "ecard.pdf.layout",
    "RevealField": "ecard.pdf.layout",
    "find_cjk_font": "ecard.pdf.layout",
    "render_card_pdf": "ecard.pdf.layout",
    "LEVELS": "ecard.pdf.sign",
    "EcardPdfSigner": "ecard.pdf.sign",
    "PadesLevel": "ecard.pdf.sign",
    "async_extend_pdf": "ecard.pdf.sign",
    "async_sign_pdf": "ecard.pdf.sign",
    "create_tsa": "ecard.signing.pki",
    "extend_pdf": "ecard.pdf.sign",
    "http_timestamper": "ecard.pdf.sign",
    "local_timestamper": "ecard.pdf.sign",
    "sign_pdf": "ecard.pdf.sign",
    "signed_card_pdf": "ecard.pdf.sign",
}

if TYPE_CHECKING:
    from ecard.pdf.layout import (
        A4_SIZE,
        CARD_SIZE,
        PageChoice,
        QrStyle,
        RevealField,
        find_cjk_font,
        render_card_pdf,
    )
    from ecard.pdf.sign import (
        LEVELS,
        EcardPdfSigner,
        PadesLevel,
        async_extend_pdf,
        async_sign_pdf,
        extend_pdf,
        http_timestamper,
        local_timestamper,
        sign_pdf,
        signed_card_pdf,
    )
    from ecard.signing.pki import create_tsa


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

__all__ = [
    "A4_SIZE",
    "CARD_SIZE",
    "LEVELS",
    "EcardPdfSigner",
    "PadesLevel",
    "PageChoice",
    "QrStyle",
    "RevealField",
    "async_extend_pdf",
    "async_sign_pdf",
    "create_tsa",
    "extend_pdf",
    "find_cjk_font",
    "http_timestamper",
    "local_timestamper",
    "render_card_pdf",
    "sign_pdf",
    "signed_card_pdf",
]

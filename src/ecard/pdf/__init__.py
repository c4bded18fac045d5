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
    create_tsa,
    extend_pdf,
    http_timestamper,
    local_timestamper,
    sign_pdf,
    signed_card_pdf,
)

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

"""Printable card layout (reportlab): an ID-1 card page and an A4 certificate page. No keys.

:func:`render_card_pdf` lays out an :class:`~ecard.formats.credential.IssuedCard`:

* ``page="card"``: one page the size of an ID-1 card (ISO/IEC 7810, 85.60 x 53.98 mm) with the
  holder's fields, issuer, validity and the QR code, ready to print on card stock;
* ``page="a4"``: an A4 certificate page with every field in a table, a large QR code, the QR
  text itself (for manual entry), and the card at actual size with a cutting line;
* ``page="both"``: the card page followed by the A4 page.

The holder's name, social security number and card number are masked unless revealed
(``reveal=True`` reveals all three, or name the ones to reveal). The QR code is drawn as vector
rectangles (``qr="vector"``, one filled path, crisp at any zoom or printer resolution) or as a
PNG image at ``qr_scale`` pixels per module (``qr="image"``); it encodes the same
``EC1:`` text in the same QR mode as :meth:`IssuedCard.png <ecard.formats.credential.IssuedCard.png>`.

All text, Latin and Chinese, is set in one embedded TrueType CJK font (subset), so the PDF
shows the same glyphs everywhere and no viewer substitutes tofu. The font is, in order: the
``font`` argument, the file named by ``$ECARD_CJK_FONT``, or the first of :data:`FONT_CANDIDATES`
present (Debian: ``apt-get install fonts-wqy-microhei``, or ``scripts/pdf-tools-setup.sh``).
reportlab embeds TrueType outlines only: OpenType/CFF fonts (Noto Sans CJK, Source Han Sans)
are refused by reportlab.

Output is deterministic (reportlab's invariant mode): the same card and options give the same
bytes, which is what an issuer wants to archive beside the signed copy.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from ecard.card import CHINA_TZ, Card
from ecard.errors import BadInputError
from ecard.formats.credential import IssuedCard
from ecard.formats.qrimage import ErrorLevel, qr_matrix, render_png
from ecard.identifiers import mask_card_number

__all__ = [
    "A4_SIZE",
    "CARD_SIZE",
    "FONT_CANDIDATES",
    "FONT_ENV",
    "PageChoice",
    "QrStyle",
    "RevealField",
    "find_cjk_font",
    "render_card_pdf",
]

#: ID-1 card size (ISO/IEC 7810) in PDF points: 85.60 x 53.98 mm.
CARD_SIZE: Final = (85.60 * mm, 53.98 * mm)
#: A4 portrait in PDF points.
A4_SIZE: Final = A4

#: Environment variable naming the CJK TrueType font file (.ttf or .ttc) to embed.
FONT_ENV: Final = "ECARD_CJK_FONT"
#: Font files tried in order when neither ``font`` nor ``$ECARD_CJK_FONT`` is given: TrueType
#: (glyf) CJK fonts from Debian packages (fonts-wqy-microhei first: the smallest download).
FONT_CANDIDATES: Final = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_FONT_HINT: Final = (
    "no CJK TrueType font found: install one (Debian: apt-get install fonts-wqy-microhei, or run "
    f"scripts/pdf-tools-setup.sh) or name a .ttf/.ttc file in ${FONT_ENV}"
)

PageChoice = Literal["card", "a4", "both"]
QrStyle = Literal["vector", "image"]
RevealField = Literal["name", "ssn", "card_number"]
_REVEALABLE: Final[frozenset[str]] = frozenset({"name", "ssn", "card_number"})

#: Quiet zone around the QR code, in modules (ISO/IEC 18004 asks for 4).
_QUIET: Final = 4

_INK: Final = colors.HexColor("#1a1a1a")
_MUTED: Final = colors.HexColor("#5b6573")
_BRAND: Final = colors.HexColor("#17448c")
_BRAND_LIGHT: Final = colors.HexColor("#e8eef8")
_RULE: Final = colors.HexColor("#c5cedb")


# --- fonts --------------------------------------------------------------------------------------

_FONT_LOCK = threading.Lock()
_FONTS: dict[tuple[str, int], str] = {}


def find_cjk_font(font: str | os.PathLike[str] | None = None) -> Path:
    """The CJK font file to embed: ``font``, else ``$ECARD_CJK_FONT``, else the first of
    :data:`FONT_CANDIDATES` that exists. Raises :class:`~ecard.errors.BadInputError` if none."""
    if font is not None:
        path = Path(os.fspath(font))
        if not path.is_file():
            raise BadInputError(f"font file {os.fspath(font)!r} not found")
        return path
    env = os.environ.get(FONT_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise BadInputError(f"${FONT_ENV} names {env!r}, which is not a file")
        return path
    for candidate in FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise BadInputError(_FONT_HINT)


def _register_font(path: Path, index: int = 0) -> str:
    """Register ``path`` with reportlab once per process; returns the font name."""
    key = (str(path.resolve()), index)
    with _FONT_LOCK:
        name = _FONTS.get(key)
        if name is not None:
            return name
        name = f"ECardCJK{len(_FONTS)}"
        try:
            ttf = TTFont(name, key[0], subfontIndex=index)
        except Exception as exc:  # reportlab raises TTFError, AssertionError, OSError...
            raise BadInputError(
                f"cannot use font {key[0]!r} ({type(exc).__name__}: {exc}); reportlab needs a "
                "TrueType (glyf) font, not OpenType/CFF"
            ) from None
        if ord("张") not in ttf.face.charToGlyph:
            raise BadInputError(f"font {key[0]!r} has no Chinese glyphs")
        pdfmetrics.registerFont(ttf)
        _FONTS[key] = name
        return name


# --- the content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fields:
    """Display strings for one card, masked or revealed as chosen."""

    name: str
    ssn: str
    card_number: str
    region: str
    issued: str
    expires: str
    status_zh: str
    status_en: str
    spec_version: str
    issuer: str
    iat: str
    exp: str
    cti: str
    kid: str
    text: str


def _reveal_set(reveal: bool | Collection[str]) -> frozenset[str]:
    if reveal is True:
        return _REVEALABLE
    if reveal is False:
        return frozenset()
    if isinstance(reveal, str) or not isinstance(reveal, Collection):
        raise BadInputError("reveal must be a bool or a collection of field names")
    chosen = frozenset(reveal)
    unknown = chosen - _REVEALABLE
    if unknown:
        raise BadInputError(
            f"cannot reveal {', '.join(sorted(map(repr, unknown)))}: "
            "the fields are 'name', 'ssn' and 'card_number'"
        )
    return chosen


def _china_time(when: datetime) -> str:
    return when.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M (UTC+8)")


def _fields(issued: IssuedCard, reveal: frozenset[str], issuer_name: str | None) -> _Fields:
    card: Card = issued.card
    holder = card.holder
    return _Fields(
        name=holder.name if "name" in reveal else holder.masked_name,
        ssn=holder.ssn if "ssn" in reveal else holder.masked_ssn,
        card_number=(
            card.card_number if "card_number" in reveal else mask_card_number(card.card_number)
        ),
        region=card.region,
        issued=card.issued.isoformat(),
        expires=card.expires.isoformat(),
        status_zh=card.status.label("zh"),
        status_en=card.status.label("en"),
        spec_version=card.spec_version,
        issuer=issuer_name or f"发卡地 Region {card.region}",
        iat=_china_time(issued.iat),
        exp=_china_time(issued.exp),
        cti=issued.cti.hex(),
        kid=issued.kid.hex(),
        text=issued.text,
    )


# --- drawing helpers ----------------------------------------------------------------------------


def _qr_matrix(text: str, level: str) -> list[list[bool]]:
    """The QR modules for ``text`` (no quiet zone), encoded as :func:`render_png` encodes it."""
    if level not in get_args(ErrorLevel):
        raise BadInputError(f"QR error level must be one of L, M, Q, H, not {level!r}")
    try:
        return qr_matrix(text, level)  # type: ignore[arg-type]  # checked just above
    except ValueError as exc:
        raise BadInputError(f"the QR code cannot be made: {exc}") from None


def _draw_qr(
    c: Canvas,
    text: str,
    x: float,
    y: float,
    side: float,
    *,
    level: str,
    style: QrStyle,
    scale: int,
) -> None:
    """Draw the QR code with its quiet zone in the square (x, y, side) on a white ground."""
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    if style == "image":
        png = render_png(text, level=level, scale=scale, border=_QUIET)  # type: ignore[arg-type]
        c.drawImage(ImageReader(io.BytesIO(png)), x, y, side, side)
        c.restoreState()
        return
    matrix = _qr_matrix(text, level)
    n = len(matrix)
    module = side / (n + 2 * _QUIET)
    origin_x = x + _QUIET * module
    top = y + side - _QUIET * module
    path = c.beginPath()
    for row, cells in enumerate(matrix):
        col = 0
        while col < n:
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < n and cells[col]:
                col += 1
            # one rectangle per horizontal run; one path, filled once: no seams between modules
            path.rect(
                origin_x + start * module, top - (row + 1) * module, (col - start) * module, module
            )
    c.setFillColor(colors.black)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _fit_size(text: str, font: str, size: float, width: float, minimum: float) -> float:
    """The largest font size <= ``size`` (down to ``minimum``) at which ``text`` fits ``width``."""
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return max(size, minimum)


def _wrap_chars(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``, at any character (CJK has no spaces)."""
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ch.lstrip()
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def _fit_lines(
    c: Canvas, text: str, font: str, x: float, y: float, width: float, size: float, lines: int
) -> None:
    """Draw ``text`` from baseline ``y`` down: shrink to 70 %, then wrap into ``lines`` lines."""
    fitted = _fit_size(text, font, size, width, size * 0.7)
    wrapped = _wrap_chars(text, font, fitted, width)
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], "".join(wrapped[lines - 1 :])]
        last = wrapped[-1]
        while last and pdfmetrics.stringWidth(last + "…", font, fitted) > width:
            last = last[:-1]
        wrapped[-1] = last + "…"
    c.setFont(font, fitted)
    for i, line in enumerate(wrapped):
        c.drawString(x, y - i * fitted * 1.15, line)


# --- the card -----------------------------------------------------------------------------------


def _draw_card(c: Canvas, f: _Fields, font: str, ox: float, oy: float, qr: dict[str, Any]) -> None:
    """The ID-1 card with its lower-left corner at (ox, oy)."""
    w, h = CARD_SIZE
    radius = 3.18 * mm  # ISO/IEC 7810 corner radius
    c.saveState()
    c.translate(ox, oy)
    # ground and border
    c.setFillColor(colors.white)
    c.setStrokeColor(_RULE)
    c.setLineWidth(0.4)
    c.roundRect(0, 0, w, h, radius, stroke=1, fill=1)
    # header band, clipped to the rounded card
    band = 10.5 * mm
    clip = c.beginPath()
    clip.roundRect(0, 0, w, h, radius)
    c.clipPath(clip, stroke=0, fill=0)
    c.setFillColor(_BRAND)
    c.rect(0, h - band, w, band, stroke=0, fill=1)
    c.setFillColor(_BRAND_LIGHT)
    c.rect(0, 0, w, 4.2 * mm, stroke=0, fill=1)
    # header text
    c.setFillColor(colors.white)
    title = "中华人民共和国社会保障卡"
    c.setFont(font, _fit_size(title, font, 9.5, w - 8 * mm, 6))
    c.drawString(4 * mm, h - 5.2 * mm, title)
    c.setFont(font, 5.2)
    c.drawString(4 * mm, h - 8.9 * mm, "电子社会保障卡 · Electronic Social Security Card")
    # QR code on the right, quiet zone included
    side = h - band - 4.2 * mm - 2.4 * mm
    qx = w - side - 2.2 * mm
    qy = 4.2 * mm + 1.2 * mm
    _draw_qr(c, f.text, qx, qy, side, **qr)
    # fields on the left
    left = 4 * mm
    width = qx - left - 1.5 * mm
    rows = [
        ("姓名 Name", f.name),
        ("社会保障号码 Social security no.", f.ssn),
        ("社会保障卡号 Card no.", f.card_number),
        ("有效期限 Valid", f"{f.issued} – {f.expires}"),
    ]
    y = h - band - 4.0 * mm
    for label, value in rows:
        c.setFillColor(_MUTED)
        c.setFont(font, 4.2)
        c.drawString(left, y, label)
        c.setFillColor(_INK)
        c.setFont(font, _fit_size(value, font, 7.6, width, 5))
        c.drawString(left, y - 3.3 * mm, value)
        y -= 7.6 * mm
    # footer band: issuer and status
    c.setFillColor(_BRAND)
    _fit_lines(c, f"签发 {f.issuer}", font, left, 1.55 * mm, width, 5.0, 1)
    c.setFillColor(_MUTED)
    c.setFont(font, 4.2)
    c.drawRightString(w - 2.6 * mm, 1.55 * mm, f"{f.status_zh} {f.status_en} · 扫码核验")
    c.restoreState()


# --- the A4 certificate page --------------------------------------------------------------------


class _CardFlowable(Flowable):
    """The card at actual size, inside a dashed cutting line, as a platypus flowable."""

    def __init__(self, f: _Fields, font: str, qr: dict[str, Any]) -> None:
        super().__init__()
        self._f = f
        self._font = font
        self._qr = qr
        self._pad = 2.5 * mm
        self.width = CARD_SIZE[0] + 2 * self._pad
        self.height = CARD_SIZE[1] + 2 * self._pad

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c: Canvas = self.canv
        c.saveState()
        c.setStrokeColor(_MUTED)
        c.setLineWidth(0.3)
        c.setDash(2, 2)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        c.restoreState()
        _draw_card(c, self._f, self._font, self._pad, self._pad, self._qr)


def _draw_a4(c: Canvas, f: _Fields, font: str, qr: dict[str, Any]) -> None:
    page_w, page_h = A4_SIZE
    margin = 18 * mm
    body_w = page_w - 2 * margin
    base = ParagraphStyle("ecard", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    small = ParagraphStyle("ecard-small", parent=base, fontSize=7.5, leading=10, textColor=_MUTED)
    label = ParagraphStyle("ecard-label", parent=base, fontSize=8.5, textColor=_MUTED)

    # title
    c.setFillColor(_BRAND)
    c.rect(0, page_h - 12 * mm, page_w, 12 * mm, stroke=0, fill=1)
    c.setFillColor(_INK)
    c.setFont(font, 20)
    c.drawString(margin, page_h - 28 * mm, "电子社会保障卡凭证")
    c.setFillColor(_MUTED)
    c.setFont(font, 10.5)
    c.drawString(margin, page_h - 34.5 * mm, "Electronic Social Security Card — Certificate")
    c.setStrokeColor(_RULE)
    c.setLineWidth(0.6)
    c.line(margin, page_h - 38 * mm, page_w - margin, page_h - 38 * mm)
    top = page_h - 43 * mm

    # the large QR code, top right
    qr_side = 62 * mm
    qr_x = page_w - margin - qr_side
    _draw_qr(c, f.text, qr_x, top - qr_side, qr_side, **qr)
    c.setFont(font, 8)
    c.setFillColor(_MUTED)
    c.drawCentredString(
        qr_x + qr_side / 2, top - qr_side - 4.5 * mm, "扫描二维码核验 · Scan to verify"
    )

    # the field table, left of the QR code
    rows = [
        ("姓名", "Name", f.name),
        ("社会保障号码", "Social security no.", f.ssn),
        ("社会保障卡号", "Card number", f.card_number),
        ("发卡地区代码", "Issuing region", f.region),
        ("签发机构", "Issuer", f.issuer),
        ("发卡日期", "Date of issue", f.issued),
        ("有效期至", "Date of expiry", f.expires),
        ("卡状态", "Status", f"{f.status_zh} ({f.status_en})"),
        ("卡规范版本", "Card specification", f.spec_version),
        ("凭证签发时间", "Credential signed", f.iat),
        ("凭证有效期至", "Credential valid until", f.exp),
        ("凭证编号", "Credential id", f.cti),
        ("签名密钥标识", "Signer key id (kid)", f.kid),
    ]
    table_w = qr_x - margin - 6 * mm
    label_w = 52 * mm
    data = [
        [Paragraph(f"{zh} <font size=7>{en}</font>", label), Paragraph(_escape(value), base)]
        for zh, en, value in rows
    ]
    table = Table(data, colWidths=[label_w, table_w - label_w])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9),  # the default is Helvetica, not embedded
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, _RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.0),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    _, table_h = table.wrapOn(c, table_w, page_h)
    table.drawOn(c, margin, top - table_h)
    y = min(top - table_h, top - qr_side - 8 * mm) - 7 * mm

    # footer, anchored at the bottom
    footer = Paragraph(
        "本凭证经签发机构以 PAdES 电子签名签署后有效；签署后的任何改动都会使签名失效"
        "（《中华人民共和国电子签名法》第十三、十四条）。二维码为签名凭证 (COSE_Sign1)，"
        "可离线核验。<br/>"
        "Valid once signed by the issuer with a PAdES electronic signature; any change after "
        "signing invalidates it. The QR code is a signed credential (COSE_Sign1) and verifies "
        "offline.",
        small,
    )
    _, fh = footer.wrapOn(c, body_w, page_h)
    footer_y = 14 * mm
    footer.drawOn(c, margin, footer_y)
    rule_y = footer_y + fh + 3 * mm
    c.setStrokeColor(_RULE)
    c.setLineWidth(0.6)
    c.line(margin, rule_y, page_w - margin, rule_y)

    # the card at actual size, above the footer
    card = _CardFlowable(f, font, qr)
    card.wrapOn(c, body_w, page_h)
    card_y = rule_y + 6 * mm
    card.drawOn(c, margin, card_y)
    note = Paragraph(
        "沿虚线剪下即为实际尺寸 (ID-1, 85.60 × 53.98 mm) 的卡片。<br/>"
        "Cut along the dashed line for a card at actual size.",
        small,
    )
    _, nh = note.wrapOn(c, body_w - card.width - 6 * mm, page_h)
    note.drawOn(c, margin + card.width + 6 * mm, card_y + card.height - nh)

    # the QR text between the table and the card, for typing in when no scanner is at hand;
    # smaller type if a long text would reach the card
    heading = Paragraph(
        "二维码内容 · QR text <font size=7>(空格也是内容 · spaces are part of the text)</font>",
        label,
    )
    _, hh = heading.wrapOn(c, body_w, page_h)
    heading.drawOn(c, margin, y - hh)
    y -= hh + 1.5 * mm
    room = y - (card_y + card.height + 5 * mm)
    size = 7.0
    while True:
        mono = ParagraphStyle(
            "ecard-text", parent=small, fontSize=size, leading=size * 1.3, wordWrap="CJK"
        )
        # no-break spaces: the lines break anywhere, never at (and so never losing) a space
        qr_text = Paragraph(_escape(f.text).replace(" ", "\u00a0"), mono)
        _, th = qr_text.wrapOn(c, body_w, page_h)
        if th <= room or size <= 4:
            break
        size -= 0.5
    qr_text.drawOn(c, margin, y - th)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the entry point ----------------------------------------------------------------------------


def render_card_pdf(
    issued: IssuedCard,
    *,
    reveal: bool | Collection[RevealField] = False,
    issuer_name: str | None = None,
    page: PageChoice = "card",
    qr: QrStyle = "vector",
    qr_level: ErrorLevel = "Q",
    qr_scale: int = 12,
    font: str | os.PathLike[str] | None = None,
) -> bytes:
    """Lay out ``issued`` as a PDF (unsigned; sign it with :func:`ecard.pdf.sign_pdf`).

    Args:
        issued: the signed credential and its card, from :meth:`Issuer.issue
            <ecard.signing.issuer.Issuer.issue>`.
        reveal: ``False`` (default) prints the masked name, social security number and card
            number; ``True`` prints all three in full; or name the ones to print in full.
        issuer_name: the issuing authority as printed (e.g. ``"北京市人力资源和社会保障局"``);
            by default the issuing region code.
        page: ``"card"`` (one ID-1 page), ``"a4"`` (the A4 certificate page) or ``"both"``.
        qr: ``"vector"`` (filled rectangles) or ``"image"`` (a PNG at ``qr_scale`` px/module).
        qr_level: QR error correction level (as :meth:`IssuedCard.png`).
        qr_scale: pixels per module of the PNG when ``qr="image"``.
        font: a TrueType CJK font file (``.ttf``/``.ttc``) to embed; see :func:`find_cjk_font`.

    Raises:
        BadInputError: a bad option, or no usable CJK font.
    """
    if not isinstance(issued, IssuedCard):
        raise BadInputError("issued must be an ecard IssuedCard")
    if page not in ("card", "a4", "both"):
        raise BadInputError(f"page must be 'card', 'a4' or 'both', not {page!r}")
    if qr not in ("vector", "image"):
        raise BadInputError(f"qr must be 'vector' or 'image', not {qr!r}")
    if isinstance(qr_scale, bool) or not isinstance(qr_scale, int) or not 1 <= qr_scale <= 64:
        raise BadInputError("qr_scale must be an integer 1..64")
    if issuer_name is not None and (not isinstance(issuer_name, str) or not issuer_name.strip()):
        raise BadInputError("issuer_name must be a non-empty string")
    fields = _fields(issued, _reveal_set(reveal), issuer_name.strip() if issuer_name else None)
    _qr_matrix(issued.text, qr_level)  # fail early on a bad level or an oversized text
    font_name = _register_font(find_cjk_font(font))
    qr_options: dict[str, Any] = {"level": qr_level, "style": qr, "scale": qr_scale}

    buffer = io.BytesIO()
    c = Canvas(
        buffer,
        pagesize=CARD_SIZE if page != "a4" else A4_SIZE,
        invariant=True,
        initialFontName=font_name,  # type: ignore[arg-type]  # types-reportlab says float
        initialFontSize=8,
        pageCompression=1,
    )
    c.setTitle("电子社会保障卡 Electronic Social Security Card")
    c.setSubject(f"社会保障卡 {mask_card_number(issued.card.card_number)}")
    c.setAuthor(fields.issuer)
    c.setCreator("ecard")
    c.setProducer("ecard (reportlab)")
    if page in ("card", "both"):
        c.setPageSize(CARD_SIZE)
        _draw_card(c, fields, font_name, 0, 0, qr_options)
        c.showPage()
    if page in ("a4", "both"):
        c.setPageSize(A4_SIZE)
        _draw_a4(c, fields, font_name, qr_options)
        c.showPage()
    c.save()
    return buffer.getvalue()

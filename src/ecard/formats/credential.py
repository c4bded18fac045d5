"""An issued credential in all its encodings: the card, the COSE_Sign1 bytes, the ``EC1:`` QR
text, its identifiers (``kid``, ``cti``) and times, and its QR renderings. Plain data: what an
issuer returns and what a printer, a journal or a batch writer takes, with no key in reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ecard.card import Card
from ecard.formats.qrimage import ErrorLevel, qr_version, render_png, render_svg


@dataclass(frozen=True)
class IssuedCard:
    """One signed credential: the COSE bytes, the QR text and what went into them."""

    card: Card
    cose: bytes
    text: str
    kid: bytes
    cti: bytes
    iat: datetime
    exp: datetime

    def png(self, *, level: ErrorLevel = "Q", scale: int = 8) -> bytes:
        """The QR code as a PNG picture."""
        return render_png(self.text, level=level, scale=scale)

    def svg(self, *, level: ErrorLevel = "Q", scale: int = 8) -> str:
        """The QR code as a standalone SVG document."""
        return render_svg(self.text, level=level, scale=scale)

    def qr_version(self, level: ErrorLevel = "Q") -> int:
        """The QR version (1..40) the text needs at ``level``."""
        return qr_version(self.text, level)


__all__ = ["IssuedCard"]

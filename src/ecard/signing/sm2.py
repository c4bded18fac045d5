"""SM2 private keys on the issuing side: :class:`~ecard.crypto.sm2.private.Sm2PrivateKey`,
which lives in the neutral crypto layer (a holder's device creates SM2 keys too) and is named
here for the issuing code that has always imported it from ``ecard.signing.sm2``."""

from __future__ import annotations

from ecard.crypto.sm2.private import Sm2PrivateKey

__all__ = ["Sm2PrivateKey"]

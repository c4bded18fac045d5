"""Calling the wallet page's own modules from a test, in the page (same origin, its CSP)."""

from __future__ import annotations

import base64
from typing import Any

from playwright.sync_api import Page

#: Makes a non-extractable device key the way the page does and keeps it on ``window`` for
#: the next calls of the same test; answers the enrolment request for ``nonce`` (base64).
ENROL_JS = """async ([nonce, slot]) => {
  const cose = await import('/static/wallet/cose.js');
  const device = await import('/static/wallet/device.js');
  const key = await device.newDeviceKey();
  (window.__testKeys ||= {})[slot] = key;
  const request = await cose.enrolmentRequest(key.point, cose.fromBase64(nonce),
      device.signerOf(key.privateKey));
  return cose.toBase64(request);
}"""

#: Signs a presentation of ``card`` (base64 COSE) with the key of ``slot``.
PRESENT_JS = """async ([slot, card, aud, iat, challenge]) => {
  const cose = await import('/static/wallet/cose.js');
  const device = await import('/static/wallet/device.js');
  const key = window.__testKeys[slot];
  return cose.presentationText(cose.fromBase64(card), aud, iat, challenge,
      device.signerOf(key.privateKey));
}"""

#: Stores credentials in IndexedDB exactly as the page's enrolment does.
STORE_JS = """async ([number, cards]) => {
  const cose = await import('/static/wallet/cose.js');
  const device = await import('/static/wallet/device.js');
  const credentials = {};
  for (const [profile, [slot, card, text]] of Object.entries(cards)) {
    const key = window.__testKeys[slot];
    credentials[profile] = { privateKey: key.privateKey, publicKey: key.publicKey,
                             card: cose.fromBase64(card), text };
  }
  await device.save('credentials', credentials);
  await device.save('card_number', number);
}"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def enrolment_request(page: Page, nonce: bytes, slot: str = "k") -> bytes:
    """The enrolment request the page's code makes for ``nonce`` with a new key in ``slot``."""
    return base64.b64decode(page.evaluate(ENROL_JS, [b64(nonce), slot]))


def presentation(
    page: Page, slot: str, card: bytes, aud: str, iat: int, challenge: str | None = None
) -> str:
    """The EC2: text the page's code signs."""
    text: Any = page.evaluate(PRESENT_JS, [slot, b64(card), aud, iat, challenge])
    assert isinstance(text, str)
    return text

"""The wallet page's presentation build, measured in Debian's Chromium, next to the bare
WebCrypto ECDSA P-256 sign of the same bytes in the same run.

    python benchmarks/bench_wallet_browser.py [--count N]

Starts the demo service on a free 127.0.0.1 port, binds a demo card to a key the page makes
(WebCrypto, non-extractable), then times in the page, ``N`` times each (best of 5 rounds):

* ``presentationText``: CBOR of the protected header (with the ~200-byte card) and payload, the
  Sig_structure, the WebCrypto sign, the COSE_Sign1 and its Base45 text (the page's whole
  build, what runs every 30 s; issue 11's goal for a holder's build: <= 5 ms);
* ``crypto.subtle.sign`` alone over the same Sig_structure (the bare primitive);
* the ratio bare / build (1.0: the build costs nothing beyond the signature).

Also prints the presentation's COSE bytes, text length and QR version at M for the counter
and full profiles (issue 11's goals: counter <= version 12, any <= version 13 at M).
Needs ``$ECARD_CHROMIUM`` (default /usr/bin/chromium) and the service extra.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from screenshots import chromium, running_service

START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)

TIMING_JS = """async ([card, count]) => {
  const cose = await import('/static/wallet/cose.js');
  const device = await import('/static/wallet/device.js');
  const key = window.__benchKey;
  const sign = device.signerOf(key.privateKey);
  const bytes = cose.fromBase64(card);
  const iat = 1772352000;
  const tbs = cose.sigStructure(cose.presentationProtected(bytes), cose.presentationPayload('pharmacy', iat, null));
  const best = { build: Infinity, bare: Infinity };
  for (let round = 0; round < 5; round += 1) {
    let t = performance.now();
    for (let i = 0; i < count; i += 1) await cose.presentationText(bytes, 'pharmacy', iat + i, null, sign);
    best.build = Math.min(best.build, (performance.now() - t) / count);
    t = performance.now();
    for (let i = 0; i < count; i += 1) await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, tbs);
    best.bare = Math.min(best.bare, (performance.now() - t) / count);
  }
  return best;
}"""

KEY_JS = """async ([nonce]) => {
  const cose = await import('/static/wallet/cose.js');
  const device = await import('/static/wallet/device.js');
  const key = await device.newDeviceKey();
  window.__benchKey = key;
  return cose.toBase64(await cose.enrolmentRequest(key.point, cose.fromBase64(nonce), device.signerOf(key.privateKey)));
}"""


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="builds per round (default: 200)")
    args = parser.parse_args(argv)

    import base64

    from ecard.card import Card, Holder
    from ecard.formats.qrimage import qr_version
    from ecard.service.context import running_clock
    from ecard.signing.binding import check_enrolment, new_nonce
    from ecard.signing.issuer import Issuer

    card = Card(
        holder=Holder(name="张三丰", ssn="11010519491231002X"),
        card_number="A12345678",
        region="110105",
        issued=dt.date(2024, 1, 15),
        expires=dt.date(2034, 1, 15),
    )
    with running_service(running_clock(START)) as (ctx, base), chromium() as browser:
        assert ctx.demo is not None
        issuer = Issuer(ctx.demo.signer.signer(), ctx.demo.signer.certificate, clock=lambda: START)
        page = browser.new_page()
        page.goto(f"{base}/wallet")
        print(f"Chromium {browser.version}, {args.count} builds per round, best of 5")
        for profile in ("counter", "full"):
            nonce = new_nonce()
            request = base64.b64decode(page.evaluate(KEY_JS, [base64.b64encode(nonce).decode()]))
            bound = issuer.issue(card, device_key=check_enrolment(request, nonce), profile=profile)
            b64 = base64.b64encode(bound.cose).decode()
            cose_len = len(base64.b64decode(b64))
            for challenge in (None, "482913"):
                text = page.evaluate(
                    """async ([card, ch]) => { const c = await import('/static/wallet/cose.js');
                       const d = await import('/static/wallet/device.js');
                       return c.presentationText(c.fromBase64(card), 'pharmacy', 1772352000, ch,
                         d.signerOf(window.__benchKey.privateKey)); }""",
                    [b64, challenge],
                )
                what = "with a 6-digit challenge" if challenge else "no challenge"
                print(
                    f"{profile:8s} profile: card {cose_len} B, presentation text {len(text)} "
                    f"chars ({what}), QR version {qr_version(text, 'M')} at M, "
                    f"{qr_version(text, 'Q')} at Q"
                )
            t = page.evaluate(TIMING_JS, [b64, args.count])
            print(
                f"{profile:8s} build {t['build']:.3f} ms ({1000 / t['build']:.0f}/s), bare WebCrypto "
                f"sign {t['bare']:.3f} ms ({1000 / t['bare']:.0f}/s), ratio {t['bare'] / t['build']:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

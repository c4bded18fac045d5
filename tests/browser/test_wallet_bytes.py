"""The browser's bytes are the library's: enrolment requests and EC2: presentations built by
the wallet page's JavaScript in Chromium pass ecard's own checks (``check_enrolment``, the
``Verifier`` with binding required) and parse and verify with pycose under the key from
``cnf``. Real WebCrypto keys, the service's real demo issuer; nothing is mocked."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Page
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message
from tests.browser.support import RunningService, until
from tests.browser.wallet_js import enrolment_request, presentation
from tests.conftest import T0

from ecard.card import Card, Holder
from ecard.errors import BadHolderSignatureError, BadPresentationError, ErrorCode
from ecard.formats.cose import parse_sign1
from ecard.formats.cosekey import DeviceKey
from ecard.formats.cwt import decode_claims
from ecard.formats.presentation import decode_text, enrolment_parts, parse_enrolment
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.issuer import Issuer
from ecard.verify.policy import Policy
from ecard.verify.verifier import Verifier

CARD = Card(
    holder=Holder(name="张三丰", ssn="11010519491231002X"),
    card_number="A12345678",
    region="110105",
    issued=dt.date(2024, 1, 15),
    expires=dt.date(2034, 1, 15),
)
#: When the test's verifier says it is: a day after the demo PKI was made.
AT = T0 + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def issuer(service: RunningService) -> Issuer:
    pki = service.ctx.demo
    assert pki is not None
    return Issuer(pki.signer.signer(), pki.signer.certificate, clock=lambda: T0)


@pytest.fixture
def wallet(page: Page, service: RunningService) -> Page:
    page.goto(service.base_url + "/wallet")
    until(page, "() => document.getElementById('wallet')?.dataset.ready === 'yes'")
    return page


def _verifier(service: RunningService, purpose: str) -> Verifier:
    policy = Policy(clock=lambda: AT, require_binding=True, purposes=frozenset({purpose}))
    return Verifier(service.ctx.trust, policy)


def test_enrolment_request_is_byte_exact_and_proves_possession(wallet: Page) -> None:
    nonce = new_nonce()
    request = enrolment_request(wallet, nonce)
    key = check_enrolment(request, nonce)
    assert key.alg.name == "ES256"
    # the layout of formats.presentation.enrolment_parts, byte for byte, compressed point
    parsed = parse_enrolment(request)
    assert (parsed.protected, parsed.payload) == enrolment_parts(key, nonce)
    assert key.to_cose_key()[-3] in (True, False)
    with pytest.raises(BadPresentationError):
        check_enrolment(request, new_nonce())  # another nonce
    forged = request[:-1] + bytes([request[-1] ^ 1])
    with pytest.raises(BadHolderSignatureError):
        check_enrolment(forged, nonce)


@pytest.mark.parametrize(("purpose", "profile"), [("pharmacy", "counter"), ("identity", "full")])
def test_presentation_signed_in_the_browser_verifies(
    wallet: Page, service: RunningService, issuer: Issuer, purpose: str, profile: str
) -> None:
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(wallet, nonce), nonce)
    bound = issuer.issue(CARD, device_key=key, profile=profile)
    iat = int(AT.timestamp()) - 5
    verifier = _verifier(service, purpose)
    challenge = verifier.new_challenge()
    text = presentation(wallet, "k", bound.cose, purpose, iat, challenge)
    assert text.startswith("EC2:")
    result = verifier.verify(text, challenge=challenge)
    assert result.code is ErrorCode.OK, result.code
    assert result.valid
    # the same presentation again, and one for another purpose, are refused
    assert verifier.verify(text, challenge=challenge).code is ErrorCode.REPLAYED
    other = presentation(wallet, "k", bound.cose, "payment", iat, None)
    assert verifier.verify(other).code is ErrorCode.AUDIENCE_MISMATCH
    # a presentation from the page over another device's card is not the holder's signature
    nonce2 = new_nonce()
    key2 = check_enrolment(enrolment_request(wallet, nonce2, slot="other"), nonce2)
    card2 = issuer.issue(CARD, device_key=key2, profile=profile)
    stolen = presentation(wallet, "k", card2.cose, purpose, iat + 1, None)
    assert _verifier(service, purpose).verify(stolen).code is ErrorCode.BAD_HOLDER_SIGNATURE


def test_presentation_and_card_verify_with_pycose_under_the_cnf_key(
    wallet: Page, service: RunningService, issuer: Issuer
) -> None:
    nonce = new_nonce()
    key = check_enrolment(enrolment_request(wallet, nonce), nonce)
    bound = issuer.issue(CARD, device_key=key, profile="counter")
    text = presentation(wallet, "k", bound.cose, "pharmacy", int(AT.timestamp()), None)
    cose = decode_text(text)

    outer = Sign1Message.decode(cose)
    inner_bytes = outer.phdr[13]
    assert inner_bytes == bound.cose
    # the key the issuer put into cnf, read from the card as any reader would
    cnf = decode_claims(parse_sign1(inner_bytes).payload).cnf
    assert isinstance(cnf, DeviceKey) and cnf == key
    numbers = cnf.key.public_numbers()  # type: ignore[union-attr]
    outer.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert outer.verify_signature()

    inner = Sign1Message.decode(inner_bytes)
    assert service.ctx.demo is not None
    issuer_key = service.ctx.demo.signer.certificate.public_key()
    assert isinstance(issuer_key, ec.EllipticCurvePublicKey)
    nums = issuer_key.public_numbers()
    inner.key = EC2Key(crv=P256, x=nums.x.to_bytes(32, "big"), y=nums.y.to_bytes(32, "big"))
    assert inner.verify_signature()
    # one flipped payload bit and pycose refuses too
    outer.payload = outer.payload[:-1] + bytes([outer.payload[-1] ^ 1])
    assert not outer.verify_signature()


def test_private_key_cannot_be_exported(wallet: Page) -> None:
    outcome = wallet.evaluate(
        """async () => {
          const device = await import('/static/wallet/device.js');
          const key = await device.newDeviceKey();
          const tries = [];
          for (const format of ['pkcs8', 'jwk']) {
            try { await crypto.subtle.exportKey(format, key.privateKey); tries.push('exported'); }
            catch (e) { tries.push(e.name); }
          }
          return { extractable: key.privateKey.extractable, tries };
        }"""
    )
    assert outcome == {"extractable": False, "tries": ["InvalidAccessError", "InvalidAccessError"]}

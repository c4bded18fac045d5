"""Publishing recipes that continue from what was published before, so that a refresh never
undoes the last one: the next CRL, the next list sequence, the next revocation list and what it
changed. Real keys, real CRLs, real path validation; a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.errors import BadCertificateError, BadInputError, BadListError, ErrorCode
from ecard.formats.lists import REVOCATION_LIST, TRUST_LIST
from ecard.formats.trustlist import TrustListEntry
from ecard.publish.crl import crl_number, next_crl
from ecard.publish.lists import next_sequence
from ecard.publish.revocation import next_revocation_list
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_list_signer,
    create_root_ca,
)
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.paths import PathValidator
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

DAY = dt.timedelta(days=1)
REVOKED_AT = T0 + 10 * DAY


class Hierarchy:
    def __init__(self) -> None:
        self.root = create_root_ca("Publish Root", not_before=T0 - 30 * DAY)
        self.ca = create_issuing_ca(self.root, "Publish CA", not_before=T0 - 30 * DAY)
        self.ds = create_document_signer(self.ca, "Publish Signer", not_before=T0 - DAY)
        self.ds2 = create_document_signer(self.ca, "Publish Signer 2", not_before=T0 - DAY)
        self.list_signer = create_list_signer(self.root, "Publish Lists", not_before=T0 - DAY)
        self.root_crl = next_crl(self.root, None, this_update=T0, days=365).crl


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    return Hierarchy()


def _code(
    h: Hierarchy, crl: x509.CertificateRevocationList, text: str, at: dt.datetime
) -> ErrorCode:
    validator = PathValidator(
        [h.root.certificate],
        intermediates=[h.ca.certificate],
        crls=[h.root_crl, crl],
        clock=fixed_clock(at),
    )
    trust = TrustStore([h.ds.certificate], validator=validator)
    return Verifier(trust, Policy(clock=fixed_clock(at))).verify(text).code


def test_a_crl_refresh_keeps_every_revocation_and_its_date(h: Hierarchy, card: Card) -> None:
    """The finding: re-making the CRL moved the revocation date to now (a card signed with the
    revoked key after the real revocation verified again), and leaving a certificate out
    un-revoked it. Continued from the previous CRL, neither can happen."""
    first = next_crl(h.ca, None, [(h.ds.certificate, REVOKED_AT)], this_update=REVOKED_AT)
    assert (first.number, first.added, first.already) == (1, (h.ds.certificate.serial_number,), ())
    # a card signed with the revoked key after the revocation, issued at REVOKED_AT + 2 days
    late = Issuer(h.ds.signer(), h.ds.certificate, clock=fixed_clock(REVOKED_AT + 2 * DAY))
    text = late.issue(card).text
    assert _code(h, first.crl, text, REVOKED_AT + 3 * DAY) is ErrorCode.ISSUER_CERT_INVALID
    # refresh 1: the same certificate asked again "now", without its original date
    again = next_crl(
        h.ca,
        first.crl,
        [(h.ds.certificate, REVOKED_AT + 5 * DAY)],
        this_update=REVOKED_AT + 5 * DAY,
    )
    assert again.number == 2 and again.already == (h.ds.certificate.serial_number,)
    entry = again.crl.get_revoked_certificate_by_serial_number(h.ds.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == REVOKED_AT
    assert _code(h, again.crl, text, REVOKED_AT + 6 * DAY) is ErrorCode.ISSUER_CERT_INVALID
    # refresh 2: the certificate left out, another one revoked, each with its own time
    other_at = REVOKED_AT + 6 * DAY
    third = next_crl(h.ca, again.crl, [(h.ds2.certificate, other_at)], this_update=other_at + DAY)
    assert third.number == 3 and third.kept == (h.ds.certificate.serial_number,)
    dates = {r.serial_number: r.revocation_date_utc for r in third.crl}
    assert dates == {
        h.ds.certificate.serial_number: REVOKED_AT,
        h.ds2.certificate.serial_number: other_at,
    }
    assert _code(h, third.crl, text, other_at + 2 * DAY) is ErrorCode.ISSUER_CERT_INVALID
    assert crl_number(third.crl) == 3
    # the control: a card signed before the revocation still verifies under the same CRLs, so
    # the refusals above are the revocation's doing
    early = Issuer(h.ds.signer(), h.ds.certificate, clock=fixed_clock(REVOKED_AT - DAY))
    assert _code(h, third.crl, early.issue(card).text, other_at + 2 * DAY) is ErrorCode.OK


def test_an_earlier_date_is_kept_a_later_one_is_not(h: Hierarchy) -> None:
    first = next_crl(h.ca, None, [(h.ds.certificate, REVOKED_AT)], this_update=REVOKED_AT)
    earlier = next_crl(
        h.ca, first.crl, [(h.ds.certificate, REVOKED_AT - 3 * DAY, x509.ReasonFlags.key_compromise)],
        this_update=REVOKED_AT + DAY,
    )  # fmt: skip
    entry = earlier.crl.get_revoked_certificate_by_serial_number(h.ds.certificate.serial_number)
    assert entry is not None and entry.revocation_date_utc == REVOKED_AT - 3 * DAY
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise


def test_crl_numbers_and_times_only_go_forward(h: Hierarchy) -> None:
    first = next_crl(h.ca, None, this_update=REVOKED_AT, number=5)
    assert first.number == 5
    for bad in (5, 4, 0, -1, True):
        with pytest.raises(BadInputError, match="higher than the previous one"):
            next_crl(h.ca, first.crl, this_update=REVOKED_AT + DAY, number=bad)  # type: ignore[arg-type]
    assert next_crl(h.ca, first.crl, this_update=REVOKED_AT + DAY, number=9).number == 9
    with pytest.raises(BadInputError, match="before the previous CRL"):
        next_crl(h.ca, first.crl, this_update=REVOKED_AT - DAY)
    with pytest.raises(BadInputError, match="after this update"):
        next_crl(
            h.ca,
            first.crl,
            [(h.ds.certificate, REVOKED_AT + 3 * DAY)],
            this_update=REVOKED_AT + DAY,
        )
    with pytest.raises(BadInputError, match="20 octets"):
        next_crl(h.ca, None, this_update=REVOKED_AT, number=1 << 160)
    with pytest.raises(TypeError, match="timezone-aware"):
        next_crl(h.ca, None, this_update=REVOKED_AT.replace(tzinfo=None))


def test_a_crl_of_another_ca_cannot_be_continued(h: Hierarchy) -> None:
    root_crl = next_crl(h.root, None, this_update=T0).crl
    with pytest.raises(BadCertificateError, match="not issued by this CA"):
        next_crl(h.ca, root_crl, this_update=T0 + DAY)
    impostor = create_root_ca("Publish CA", not_before=T0 - DAY)  # the same name, another key
    forged = next_crl(impostor, None, this_update=T0).crl
    assert forged.issuer == h.ca.certificate.subject
    with pytest.raises(BadCertificateError, match="other name or other key"):
        next_crl(h.ca, forged, this_update=T0 + DAY)


def _trust_list(h: Hierarchy, sequence: int, signer: CertifiedKey | None = None) -> bytes:
    s = signer or h.list_signer
    return sign_trust_list(
        [TrustListEntry(h.ds.certificate)],
        sequence=sequence,
        issued_at=T0,
        next_update=T0 + 7 * DAY,
        signer=s.signer(),
        certificate=s.certificate,
    )


def test_the_next_list_sequence_continues_from_the_previous_list(h: Hierarchy) -> None:
    cert = h.list_signer.certificate
    assert next_sequence(None, cert, TRUST_LIST) == 1
    assert next_sequence(_trust_list(h, 41), cert, TRUST_LIST) == 42
    with pytest.raises(BadListError, match="expected a ecard-revocation-list"):
        next_sequence(_trust_list(h, 41), cert, REVOCATION_LIST)
    # another signer's list (a rollover): only with a validator that accepts it
    rolled = create_list_signer(h.root, "Publish Lists 2", not_before=T0 - DAY)
    old = _trust_list(h, 7, signer=rolled)
    with pytest.raises(BadListError, match="not signed by this list signer's key"):
        next_sequence(old, cert, TRUST_LIST)
    validator = PathValidator([h.root.certificate], revocation="off", clock=fixed_clock(T0))
    assert next_sequence(old, cert, TRUST_LIST, validator=validator) == 8


def test_the_next_revocation_list_says_what_changed(h: Hierarchy) -> None:
    """The finding: `ecard revoke` reported '+1 revoked' for an entry already on the list."""
    ls = h.list_signer
    kw = {"signer": ls.signer(), "certificate": ls.certificate, "issued_at": T0}
    a, b = (h.ds.kid, bytes(range(8))), (h.ds.kid, bytes(range(1, 9)))
    first = next_revocation_list(None, [a], **kw)  # type: ignore[arg-type]
    assert (first.sequence, first.added, first.already, first.removed, first.total) == (
        1,
        1,
        0,
        0,
        1,
    )
    second = next_revocation_list(first.data, [a, b], **kw)  # type: ignore[arg-type]
    assert (second.sequence, second.added, second.already, second.total) == (2, 1, 1, 2)
    third = next_revocation_list(second.data, [], unrevoke=[a], **kw)  # type: ignore[arg-type]
    assert (third.sequence, third.added, third.removed, third.total) == (3, 0, 1, 1)

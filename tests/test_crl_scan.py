"""The one CRL scan (``ecard.crypto.crl``): whether and since when a certificate is revoked.

The path validator, the audit and the PDF validator all ask it, so its reading of an entry
(``invalidityDate`` moves the revocation earlier, ``removeFromCRL`` revokes nothing, a CRL not
signed by the issuer is ignored) is tested here once, with real keys and CRLs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from tests.conftest import T0
from tests.pkitools import DAY, Hierarchy, R, build

from ecard.crypto.crl import find_revocation, issuer_crls, path_revocation
from ecard.signing.crl import create_crl
from ecard.signing.pki import create_issuing_ca, create_root_ca


@pytest.fixture(scope="module")
def h() -> Hierarchy:
    return build(T0, "Scan")


def _ca_crl(h: Hierarchy, *entries: x509.RevokedCertificate) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(h.ca.certificate.subject)
        .last_update(R + DAY)
        .next_update(R + 30 * DAY)
        .add_extension(x509.CRLNumber(2), False)
    )
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(h.ca.key, hashes.SHA256())


def _entry(h: Hierarchy, *extensions: x509.ExtensionType) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(h.ds.certificate.serial_number)
        .revocation_date(R)
    )
    for ext in extensions:
        builder = builder.add_extension(ext, False)
    return builder.build()


def test_revocation_date_and_reason(h: Hierarchy) -> None:
    crl = create_crl(h.ca, [(h.ds.certificate, R)], this_update=R + DAY)
    found = find_revocation(h.ds.certificate, [crl])
    assert found is not None
    assert (found.at, found.reason, found.crl) == (R, "unspecified", crl)
    assert found.certificate == h.ds.certificate
    assert find_revocation(h.ca.certificate, [crl]) is None


def test_invalidity_date_moves_the_revocation_earlier(h: Hierarchy) -> None:
    compromised = R - 3 * DAY
    crl = _ca_crl(
        h,
        _entry(
            h, x509.CRLReason(x509.ReasonFlags.key_compromise), x509.InvalidityDate(compromised)
        ),
    )
    found = path_revocation([h.ds.certificate, h.ca.certificate, h.root.certificate], [crl])
    assert found is not None
    assert (found.at, found.reason) == (compromised, "key_compromise")


def test_an_invalidity_date_after_the_revocation_date_does_not_delay_it(h: Hierarchy) -> None:
    crl = _ca_crl(h, _entry(h, x509.InvalidityDate(R + 5 * DAY)))
    found = find_revocation(h.ds.certificate, [crl])
    assert found is not None and found.at == R


def test_remove_from_crl_revokes_nothing(h: Hierarchy) -> None:
    removed = _ca_crl(h, _entry(h, x509.CRLReason(x509.ReasonFlags.remove_from_crl)))
    assert find_revocation(h.ds.certificate, [removed]) is None
    path = [h.ds.certificate, h.ca.certificate, h.root.certificate]
    assert path_revocation(path, [removed]) is None
    # the path validator reads entries the same way
    validator = h.validator([h.crls(R + DAY)[0], removed])
    assert validator.validate(h.ds.certificate, at=R + 2 * DAY).revoked_at is None


def test_the_earliest_revocation_over_the_path_wins(h: Hierarchy) -> None:
    root_crl = create_crl(h.root, [(h.ca.certificate, R + DAY)], this_update=R + 2 * DAY)
    ca_crl = create_crl(h.ca, [(h.ds.certificate, R + 2 * DAY)], this_update=R + 2 * DAY)
    found = path_revocation(
        [h.ds.certificate, h.ca.certificate, h.root.certificate], [ca_crl, root_crl]
    )
    assert found is not None and found.certificate == h.ca.certificate and found.at == R + DAY


def test_a_crl_not_signed_by_the_issuer_is_ignored(h: Hierarchy) -> None:
    impostor = create_issuing_ca(create_root_ca("Impostor Root"), h.ca.certificate.subject
                                 .rfc4514_string().split(",")[0].removeprefix("CN="))  # fmt: skip
    forged = create_crl(impostor, [(h.ds.certificate, R)], this_update=R + DAY)
    assert forged.issuer == h.ca.certificate.subject
    assert issuer_crls(h.ca.certificate, [forged]) == []
    path = [h.ds.certificate, h.ca.certificate, h.root.certificate]
    assert path_revocation(path, [forged]) is None
    assert find_revocation(h.ds.certificate, [forged]) is not None  # the caller filters


def test_times_are_aware_utc(h: Hierarchy) -> None:
    crl = create_crl(h.ca, [(h.ds.certificate, R)], this_update=R + DAY)
    found = find_revocation(h.ds.certificate, [crl])
    assert found is not None and found.at.tzinfo is dt.UTC

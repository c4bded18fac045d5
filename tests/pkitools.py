"""Certificate hierarchies and assertions shared by the path-validation tests (ECDSA, SM2 and
mixed): real keys, real certificates, real CRLs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from tests.conftest import T0

from ecard.errors import ErrorCode, IssuerCertInvalidError
from ecard.signing.crl import create_crl
from ecard.signing.pki import (
    CertifiedKey,
    create_document_signer,
    create_issuing_ca,
    create_root_ca,
)
from ecard.verify.paths import REASONS, PathValidator

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
#: Revocation time used throughout: ten days after T0.
R = T0 + 10 * DAY


@dataclass(frozen=True)
class Hierarchy:
    """root CA -> issuing CA -> document signer."""

    root: CertifiedKey
    ca: CertifiedKey
    ds: CertifiedKey

    def crls(
        self,
        this_update: dt.datetime,
        *,
        root_revokes: tuple[x509.Certificate, ...] = (),
        ca_revokes: tuple[x509.Certificate, ...] = (),
        when: dt.datetime = R,
        root_reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
        ca_reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
        days: int = 30,
    ) -> list[x509.CertificateRevocationList]:
        """The root's and the issuing CA's CRLs, issued at ``this_update``, revoking at
        ``when`` with the given reasons."""
        nxt = this_update + days * DAY
        return [
            create_crl(
                self.root,
                [(c, when, root_reason) for c in root_revokes],
                this_update=this_update,
                next_update=nxt,
            ),
            create_crl(
                self.ca,
                [(c, when, ca_reason) for c in ca_revokes],
                this_update=this_update,
                next_update=nxt,
            ),
        ]

    def validator(
        self, crls: list[x509.CertificateRevocationList], **kwargs: object
    ) -> PathValidator:
        return PathValidator(
            [self.root.certificate],
            intermediates=[self.ca.certificate],
            crls=crls,
            **kwargs,  # type: ignore[arg-type]
        )


def build(
    around: dt.datetime, name: str = "Test", algs: tuple[str, str, str] = ("ES256",) * 3
) -> Hierarchy:
    """root (valid around-30d, 20y) -> issuing CA (around-20d, 10y) -> DS (around-1d, 2y), with
    the algorithms ``algs`` (root, CA, signer)."""
    root = create_root_ca(f"{name} Root CA", algorithm=algs[0], not_before=around - 30 * DAY)
    ca = create_issuing_ca(
        root, f"{name} Province CA", algorithm=algs[1], not_before=around - 20 * DAY
    )
    ds = create_document_signer(
        ca, f"{name} Signer", algorithm=algs[2], not_before=around - DAY, days=730
    )
    return Hierarchy(root, ca, ds)


def key_usage(**flags: bool) -> x509.KeyUsage:
    """A keyUsage with the named flags set and every other one clear."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def fails(reason: str, call: object, *args: object, **kwargs: object) -> str:
    """Assert ``call`` raises IssuerCertInvalidError whose detail starts with ``reason``."""
    assert reason in REASONS
    assert callable(call)
    with pytest.raises(IssuerCertInvalidError) as info:
        call(*args, **kwargs)
    err = info.value
    assert err.code is ErrorCode.ISSUER_CERT_INVALID
    assert err.detail.startswith(reason + ":"), err.detail
    return err.detail

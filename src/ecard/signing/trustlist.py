"""Building and signing trust lists.

>>> from datetime import UTC, datetime, timedelta
>>> from ecard.formats.trustlist import TrustListEntry
>>> from ecard.signing.pki import create_document_signer, create_list_signer, create_root_ca
>>> root = create_root_ca("Root")
>>> ds = create_document_signer(root, "Beijing Signer 1")
>>> tl_signer = create_list_signer(root, "Trust List Signer")
>>> now = datetime.now(UTC)
>>> signed = sign_trust_list(
...     [TrustListEntry(ds.certificate, regions=frozenset({"110000"}))],
...     sequence=1, issued_at=now, next_update=now + timedelta(days=7),
...     signer=tl_signer.signer(), certificate=tl_signer.certificate)
>>> signed[:1] == b"\\xd2"
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from cryptography import x509

from ecard.formats.lists import TRUST_LIST
from ecard.formats.trustlist import TrustListEntry, encode_trust_body
from ecard.signing.lists import list_info, sign_list
from ecard.signing.signers import Signer


def sign_trust_list(
    entries: Iterable[TrustListEntry],
    *,
    sequence: int,
    issued_at: datetime,
    next_update: datetime,
    signer: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """Sign a trust list of ``entries``; returns the COSE_Sign1 bytes.

    ``certificate`` is the list signer's (extended key usage ``ECARD_LIST_SIGNING_EKU``) and
    ``chain`` the CA certificates above it.
    """
    info = list_info(TRUST_LIST, sequence, issued_at, next_update)
    return sign_list(info, encode_trust_body(entries), signer, certificate, chain)


__all__ = ["sign_trust_list"]

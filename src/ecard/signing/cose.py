"""Signing COSE_Sign1 messages (RFC 9052 §4.2) in the ecard profile: ``alg`` and ``kid`` in the
protected header, the payload attached, the signature in raw COSE form. The message format and
its strict parser are :mod:`ecard.formats.cose`; this module adds only the step that needs a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecard.formats.cose import assemble_sign1, protected_header, sig_structure
from ecard.signing.signers import Signer


def build_sign1(
    payload: bytes, signer: Signer, kid: bytes, *, extra_headers: Mapping[int, Any] | None = None
) -> bytes:
    """Sign ``payload`` with ``signer`` and return the tagged COSE_Sign1 bytes.

    ``extra_headers`` adds protected header parameters (e.g. ``x5chain``) next to alg and kid.
    """
    protected = protected_header(signer.algorithm.cose_id, kid, extra_headers)
    signature = signer.sign(sig_structure(protected, payload))
    return assemble_sign1(protected, payload, signature)


__all__ = ["build_sign1"]

"""Signing COSE_Sign1 messages (RFC 9052 §4.2) in the ecard profile: ``alg`` and ``kid`` in the
protected header, the payload attached, the signature in raw COSE form. The message format and
its strict parser are :mod:`ecard.formats.cose`; this module adds only the step that needs a key.

:class:`Sign1Template` is :func:`build_sign1` for many payloads under one signer and ``kid``
(an issuer's): the protected header and the fixed starts of the ``Sig_structure`` and of the
message are made once, so each message costs the signature and two joins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecard.formats import cbor
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


class Sign1Template:
    """:func:`build_sign1` with ``signer``, ``kid`` and ``extra_headers`` fixed: ``build(payload)``
    gives the same bytes ``build_sign1(payload, signer, kid, extra_headers=...)`` would (for a
    deterministic algorithm, byte for byte: ``tests/test_signing.py``)."""

    __slots__ = ("_message_start", "_sign", "_tbs_start", "protected")

    def __init__(
        self, signer: Signer, kid: bytes, *, extra_headers: Mapping[int, Any] | None = None
    ) -> None:
        protected = protected_header(signer.algorithm.cose_id, kid, extra_headers)
        #: The protected header bytes every message carries.
        self.protected = protected
        self._sign = signer.sign
        # ["Signature1", protected, h'' (no external_aad), then the payload's head and bytes
        tbs_empty = sig_structure(protected, b"")
        assert tbs_empty.endswith(b"\x40\x40")  # the empty aad and the empty payload
        self._tbs_start = tbs_empty[:-1]
        # tag 18, array of 4, protected, {} (no unprotected header), then the payload
        self._message_start = assemble_sign1(protected, b"", b"")[:-2]

    def build(self, payload: bytes) -> bytes:
        """Sign ``payload``; the tagged COSE_Sign1 bytes."""
        payload_head = cbor.encode_head(2, len(payload))
        signature = self._sign(b"".join((self._tbs_start, payload_head, payload)))
        return b"".join(
            (
                self._message_start,
                payload_head,
                payload,
                cbor.encode_head(2, len(signature)),
                signature,
            )
        )


__all__ = ["Sign1Template", "build_sign1"]

"""Opening signed lists, and remembering which ones a verifier has accepted.

:func:`open_list` checks, in this order, so that nothing unauthenticated is interpreted:

1. the COSE_Sign1 structure (tag 18, ``alg``/``kid``/``x5chain`` protected);
2. ``kid`` is the SHA-256 prefix of the leaf of ``x5chain``;
3. the signature, with the leaf's key, through the algorithm registry (and, if the caller
   limits them, only with an allowed algorithm);
4. the payload: a list of the expected type (a revocation list is never taken for a trust list);
5. the signer's certificate path to a trusted root, with the list-signing extended key usage,
   at the list's ``issued_at``, issued directly by the root (an issuing CA cannot appoint list
   signers); a path with any revoked certificate is refused outright, since
   a compromised list-signing key could claim any ``issued_at``.

Any failure is a :class:`~ecard.errors.BadListError` whose ``stage``
(:class:`~ecard.errors.ListStage`) names the check that failed, and whose ``reason`` is the
:class:`~ecard.errors.PathFailure` when the signer's path failed.

:class:`ListState` is the small file in which a verifier records the highest sequence number it
has accepted per list type and authority; it refuses to go back (:class:`ListRollbackError`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ecard._files import write_atomic
from ecard.crypto.algorithms import certificate_public_key, get_algorithm
from ecard.crypto.x509 import ECARD_LIST_SIGNING_EKU, load_der_certificate
from ecard.errors import (
    BadCertificateError,
    BadListError,
    EcardError,
    IssuerCertInvalidError,
    ListRollbackError,
    ListStage,
)
from ecard.formats.cose import HEADER_X5CHAIN, kid_for_certificate, parse_sign1
from ecard.formats.lists import MAX_LIST_SIZE, ListInfo, decode_list
from ecard.verify.paths import PathValidator, ValidatedPath


@dataclass(frozen=True)
class SignedList:
    """An authenticated list: its header, body, signer and the signer's validated path."""

    info: ListInfo
    body: Any
    signer: x509.Certificate
    path: ValidatedPath
    #: SHA-256 of the whole signed list, as received.
    digest: bytes

    @property
    def authority(self) -> str:
        """Who vouches for the list: the SHA-256 fingerprint (hex) of the path's root."""
        return self.path.certificates[-1].fingerprint(hashes.SHA256()).hex()

    @property
    def next_update(self) -> datetime:
        """When a newer list is due."""
        return datetime.fromtimestamp(self.info.next_update, UTC)


def _certificates(value: object) -> list[x509.Certificate]:
    ders = [value] if isinstance(value, bytes) else value
    if not isinstance(ders, list) or not ders or not all(isinstance(d, bytes) for d in ders):
        raise BadListError(
            "x5chain must be a certificate or a non-empty array of certificates",
            stage=ListStage.SIGNER_CERTIFICATE,
        )
    try:
        return [load_der_certificate(d) for d in ders]
    except BadCertificateError as exc:
        raise BadListError(
            f"x5chain holds an unparsable certificate: {exc.detail}",
            stage=ListStage.SIGNER_CERTIFICATE,
        ) from None


def open_list(
    data: bytes,
    *,
    expected_type: str,
    validator: PathValidator,
    algorithms: Collection[str] | None = None,
) -> SignedList:
    """Authenticate a signed list; see the module docstring for the checks and their order.

    ``algorithms`` (names, e.g. a verifier's ``Policy.algorithms``) limits the algorithms the
    list may be signed with; by default every registered one is accepted.
    """
    if not isinstance(data, bytes):
        raise BadListError("a signed list must be bytes", stage=ListStage.ENVELOPE)
    try:
        msg = parse_sign1(data, max_size=MAX_LIST_SIZE)
        alg = get_algorithm(msg.alg)
    except EcardError as exc:
        raise BadListError(f"{exc.code.value}: {exc.detail}", stage=ListStage.ENVELOPE) from None
    if algorithms is not None and alg.name not in algorithms:
        raise BadListError(
            f"the list is signed with {alg.name}, which the policy does not allow",
            stage=ListStage.ALGORITHM,
        )
    chain = _certificates(msg.headers.get(HEADER_X5CHAIN))
    leaf = chain[0]
    if kid_for_certificate(leaf) != msg.kid:
        raise BadListError(
            "kid does not match the signer certificate in x5chain",
            stage=ListStage.SIGNER_CERTIFICATE,
        )
    try:
        key = certificate_public_key(leaf)
        verify = alg.bind(key)
    except EcardError as exc:
        raise BadListError(f"list signer key: {exc.detail}", stage=ListStage.SIGNER_KEY) from None
    if not verify(msg.signature, msg.to_be_signed()):
        raise BadListError(
            "signature does not verify: the list was altered or forged", stage=ListStage.SIGNATURE
        )
    try:
        info, body = decode_list(msg.payload, expected_type)
    except BadListError as exc:
        raise BadListError(exc.detail, stage=ListStage.PAYLOAD) from None
    try:
        path = validator.validate(
            leaf,
            chain=chain[1:],
            eku=ECARD_LIST_SIGNING_EKU,
            at=datetime.fromtimestamp(info.issued_at, UTC),
        )
    except EcardError as exc:
        reason = exc.reason if isinstance(exc, IssuerCertInvalidError) else None
        raise BadListError(
            f"list signer certificate: {exc.detail}", stage=ListStage.SIGNER_PATH, reason=reason
        ) from None
    if len(path.certificates) != 2:
        # only the root may appoint list signers: an issuing CA (a province) must not be able to
        # publish trust lists for everyone, nor lock verifiers out with a high sequence number
        raise BadListError(
            "list signer certificate must be issued directly by a trust anchor (root), "
            f"not through {len(path.certificates) - 2} intermediate CA(s)",
            stage=ListStage.SIGNER_NOT_BY_ROOT,
        )
    if path.revoked_at is not None:
        # a revoked list-signing key could sign a list with any issued_at: refuse them all
        raise BadListError(
            f"list signer certificate path was revoked at {path.revoked_at.isoformat()}",
            stage=ListStage.SIGNER_REVOKED,
        )
    return SignedList(
        info=info, body=body, signer=leaf, path=path, digest=hashlib.sha256(data).digest()
    )


def _well_formed(entry: object) -> bool:
    """Whether ``entry`` is a list-state record: scalars only, a non-negative int sequence."""
    if not isinstance(entry, dict):
        return False
    sequence = entry.get("sequence")
    return (
        type(sequence) is int
        and sequence >= 0
        and all(v is None or isinstance(v, str | int | float) for v in entry.values())
    )


class ListState:
    """The highest accepted sequence number per list type and authority, kept in a JSON file.

    :meth:`accept` refuses a list whose sequence is lower than the recorded one, or equal with
    different content, and records a higher one. The file is replaced atomically (write to a
    temporary file, flush, fsync, rename), so a crash never leaves it half-written; an
    unreadable state file is an error, never silently reset.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BadListError(
                f"cannot read list state {str(self.path)!r}: {exc.strerror}",
                stage=ListStage.STATE,
            ) from None
        try:
            # not UTF-8 is a ValueError; nesting deep enough to exhaust the stack is not
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise BadListError(
                f"list state {str(self.path)!r} is corrupt", stage=ListStage.STATE
            ) from None
        # every entry as _save writes it: an object of scalars with a non-negative integer
        # sequence; anything else (a nested value would also be slow to write back) is corrupt
        if not isinstance(data, dict) or not all(map(_well_formed, data.values())):
            raise BadListError(f"list state {str(self.path)!r} is corrupt", stage=ListStage.STATE)
        return data

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data, indent=2, sort_keys=True)
        write_atomic(self.path, text, private=True, error=BadListError)

    def sequence(self, signed: SignedList) -> int | None:
        """The sequence recorded for this list's type and authority, if any."""
        entry = self._load().get(f"{signed.info.type}:{signed.authority}")
        return None if entry is None else int(entry["sequence"])

    def accept(self, signed: SignedList) -> None:
        """Record ``signed`` as accepted, or raise :class:`ListRollbackError`."""
        key = f"{signed.info.type}:{signed.authority}"
        with self._lock:
            data = self._load()
            seen = data.get(key)
            seq = signed.info.sequence
            if seen is not None:
                old = int(seen["sequence"])
                if seq < old:
                    raise ListRollbackError(
                        f"{signed.info.type} sequence {seq} is lower than {old}, accepted before"
                    )
                if seq == old:
                    if seen.get("digest") != signed.digest.hex():
                        raise ListRollbackError(
                            f"{signed.info.type} sequence {seq} was accepted before with other content"
                        )
                    return
            data[key] = {
                "sequence": seq,
                "digest": signed.digest.hex(),
                "accepted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._save(data)


__all__ = ["ListState", "SignedList", "open_list"]

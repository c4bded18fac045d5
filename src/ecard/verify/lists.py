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
has accepted per list type (whatever the root) and the newest CRL per CA; it refuses to go back
(:class:`ListRollbackError`). A list whose times lie beyond the calendar is refused at the
payload stage, so :attr:`SignedList.next_update` and the like never overflow.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ecard._files import read_file, write_atomic
from ecard._time import from_timestamp
from ecard.crypto.algorithms import certificate_public_key, certificate_spki, get_algorithm
from ecard.crypto.crl import crl_number
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
from ecard.formats.lists import LIST_TYPES, MAX_LIST_SIZE, ListInfo, decode_list

if TYPE_CHECKING:  # path validation is imported by whoever builds a validator
    from ecard.verify.paths import PathValidator, ValidatedPath

#: The latest ``issued_at`` / ``next_update`` a list may carry (9000-01-01, seconds): later
#: instants cannot be shown as dates (and a grace period added to them would overflow).
MAX_LIST_TIME: Final = 221845392000


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
        return from_timestamp(self.info.next_update)


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
    for name in ("issued_at", "next_update"):
        if getattr(info, name) > MAX_LIST_TIME:
            raise BadListError(
                f"{name} is beyond the calendar (after 9999)", stage=ListStage.PAYLOAD
            )
    try:
        path = validator.validate(
            leaf,
            chain=chain[1:],
            eku=ECARD_LIST_SIGNING_EKU,
            at=from_timestamp(info.issued_at),
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


def _well_formed(key: str, entry: object) -> bool:
    """Whether ``entry`` is a list-state record: scalars only, and a non-negative int sequence
    (a list) or CRL number (a CRL, under a key starting with the CRL prefix)."""
    if not isinstance(entry, dict):
        return False
    counter = entry.get("number" if key.startswith(_CRL_PREFIX) else "sequence")
    return (
        type(counter) is int
        and counter >= 0
        and all(v is None or isinstance(v, str | int | float) for v in entry.values())
    )


class ListState:
    """What a verifier has accepted, kept in a JSON file, so that it never goes back.

    * per list type, one sequence space whatever the root that vouches for the list: a root
      rotation keeps counting, and the old root's last list is refused after the new root's
      newer one (else a compromise mark or a revocation would disappear);
    * per CRL issuer (its name and key), the highest CRL number and ``thisUpdate`` accepted.

    :meth:`accept` refuses a list whose sequence is lower than the recorded one, or equal with
    different content, and records a higher one; :meth:`accept_crl` does the same for a CRL's
    number (and ``thisUpdate``). Both raise :class:`~ecard.errors.ListRollbackError`. State
    files of earlier versions (one sequence per list type *and* root) are read by taking the
    maximum over the roots. The file is replaced atomically (write to a temporary file, flush,
    fsync, rename), so a crash never leaves it half-written; an unreadable, corrupt or
    unwritable state file is a :class:`~ecard.errors.BadListError` of stage ``STATE``, never
    silently reset.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _corrupt(self) -> BadListError:
        return BadListError(f"list state {str(self.path)!r} is corrupt", stage=ListStage.STATE)

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = read_file(self.path, BadListError, max_size=MAX_STATE_FILE)
        except BadListError as exc:
            if not self.path.exists() and not self.path.is_symlink():
                return {}
            raise BadListError(f"list state: {exc.detail}", stage=ListStage.STATE) from None
        try:
            # not UTF-8 is a ValueError; nesting deep enough to exhaust the stack is not
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise self._corrupt() from None
        # every entry as _save writes it: an object of scalars with a non-negative integer
        # sequence; anything else (a nested value would also be slow to write back) is corrupt
        if not isinstance(data, dict) or not all(_well_formed(k, v) for k, v in data.items()):
            raise self._corrupt()
        return _migrate(data, self._corrupt)

    def _save(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data, indent=2, sort_keys=True)
        try:
            write_atomic(self.path, text, private=True, error=BadListError)
        except BadListError as exc:
            raise BadListError(f"list state: {exc.detail}", stage=ListStage.STATE) from None

    def sequence(self, signed: SignedList) -> int | None:
        """The sequence recorded for this list's type (whatever its root), if any."""
        entry = self._load().get(signed.info.type)
        return None if entry is None else int(entry["sequence"])

    def accept(self, signed: SignedList) -> None:
        """Record ``signed`` as accepted, or raise :class:`ListRollbackError`."""
        key = signed.info.type
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

    def accept_crl(self, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> None:
        """Record ``crl``, whose signature by ``issuer`` the caller has checked, or raise
        :class:`ListRollbackError` if it is older than one accepted before from the same issuer
        (name and key): a lower CRL number, or the same number or ``thisUpdate`` going back."""
        key = _crl_key(crl, issuer)
        number = crl_number(crl)
        this_update = crl.last_update_utc
        with self._lock:
            data = self._load()
            seen = data.get(key)
            if seen is not None:
                try:
                    old_number = seen.get("number")
                    old_update = datetime.fromisoformat(str(seen["this_update"]))
                except (KeyError, ValueError):
                    raise self._corrupt() from None
                if isinstance(old_number, int) and (number is None or number < old_number):
                    raise ListRollbackError(
                        f"CRL number {number} is lower than {old_number}, accepted before "
                        "from the same CA"
                    )
                if this_update < old_update:
                    raise ListRollbackError(
                        f"CRL thisUpdate {this_update.isoformat()} is before "
                        f"{old_update.isoformat()}, accepted before from the same CA"
                    )
                if number == old_number and this_update == old_update:
                    return
            data[key] = {
                "number": number,
                "this_update": this_update.isoformat(),
                "accepted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._save(data)


#: Refuse an absurd state file before parsing it.
MAX_STATE_FILE: Final = 4 * 1024 * 1024
_CRL_PREFIX: Final = "crl:"


def _crl_key(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> str:
    """``crl:`` and the SHA-256 of the issuer name and key: one CRL sequence per CA key."""
    # the key's DER as in the certificate (an SM2 key cannot be loaded by every backend)
    spki = certificate_spki(issuer)
    digest = hashlib.sha256(crl.issuer.public_bytes() + b"\0" + spki).hexdigest()
    return _CRL_PREFIX + digest


def _migrate(
    data: dict[str, dict[str, Any]], corrupt: Callable[[], BadListError]
) -> dict[str, dict[str, Any]]:
    """Fold the ``"<type>:<root fingerprint>"`` keys of earlier versions into ``"<type>"``,
    keeping the highest sequence over the roots."""
    out: dict[str, dict[str, Any]] = {}
    for key, entry in data.items():
        if key.startswith(_CRL_PREFIX):
            out[key] = entry
            continue
        list_type = key.split(":", 1)[0]
        if list_type not in LIST_TYPES:
            continue
        if type(entry.get("sequence")) is not int:
            raise corrupt()
        kept = out.get(list_type)
        if kept is None or entry["sequence"] > kept["sequence"]:
            out[list_type] = entry
    return out


__all__ = ["MAX_LIST_TIME", "MAX_STATE_FILE", "ListState", "SignedList", "open_list"]

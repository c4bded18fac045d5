"""Signed revocation lists, authenticated: which credentials a verifier must refuse, offline.

A revocation list is a signed list (:mod:`ecard.verify.lists`) of type
:data:`~ecard.formats.lists.REVOCATION_LIST` whose body (full or delta) is described in
:mod:`ecard.formats.revocation`. :class:`RevocationList` is an authenticated list:
:meth:`RevocationList.load` checks the signature and the signer's path before it reads a single
hash, applies deltas, and refuses rollback through a :class:`~ecard.verify.lists.ListState`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ecard._time import utc
from ecard.errors import BadListError, ListRollbackError, RevocationListStaleError, RevokedError
from ecard.formats.lists import REVOCATION_LIST
from ecard.formats.revocation import RevocationSet, decode_revocation_body
from ecard.verify.lists import ListState, SignedList, open_list

if TYPE_CHECKING:  # path validation is imported by whoever builds a validator
    from ecard.verify.paths import PathValidator


class RevocationList:
    """An authenticated revocation list: its hashes, sequence number and validity.

    Immutable: an update (a newer full list or a delta) is a new object, see :meth:`load`.

    ``signed`` is the authenticated :class:`~ecard.verify.lists.SignedList` with its ``body``
    set to ``None``: the hashes live in :attr:`hashes` only, so 10 million entries cost 80 MB
    rather than twice that. For a list built by a delta, ``signed`` is the delta's envelope.
    """

    __slots__ = ("_delta_base", "_hashes", "_signed")

    def __init__(
        self, signed: SignedList, hashes: RevocationSet, *, delta_base: int | None = None
    ) -> None:
        """Wrap already-authenticated parts; use :meth:`load` for bytes received."""
        self._signed = signed
        self._hashes = hashes
        self._delta_base = delta_base

    @classmethod
    def load(
        cls,
        data: bytes,
        *,
        validator: PathValidator,
        state: ListState | None = None,
        base: RevocationList | None = None,
        algorithms: Collection[str] | None = None,
    ) -> RevocationList:
        """Authenticate and read a signed revocation list (full or delta).

        1. :func:`~ecard.verify.lists.open_list`: structure, signature, type
           :data:`~ecard.formats.lists.REVOCATION_LIST`, the signer's path to a root of
           ``validator`` with the list-signing EKU. Nothing is read before this passes.
        2. The body (:func:`decode_revocation_body`).
        3. A delta needs ``base``, the list it applies to: same authority (root),
           ``base.sequence == base_sequence < sequence``, every removed hash present and no
           added one already there. A full list given a ``base`` must come from the same
           authority with a sequence not below ``base.sequence``.
        4. With ``state``, the result is recorded as accepted; a lower sequence than one
           accepted before, or the same sequence with other content, is refused
           (:class:`~ecard.errors.ListRollbackError`). Content means the resulting set of
           hashes, so the full list ``N`` and the delta ``N-1 -> N`` may both be loaded.

        ``algorithms`` limits what the list may be signed with (pass the verifier's
        ``Policy.algorithms``). Every other failure is a :class:`~ecard.errors.BadListError`.
        """
        signed = open_list(
            data, expected_type=REVOCATION_LIST, validator=validator, algorithms=algorithms
        )
        body = decode_revocation_body(signed.body)
        signed = dataclasses.replace(signed, body=None)
        seq = signed.info.sequence
        if base is not None and base.signed.authority != signed.authority:
            raise BadListError("the list and its base come from different authorities")
        if body.base_sequence is None:
            hashes = body.hashes
            if base is not None and seq < base.sequence:
                raise ListRollbackError(
                    f"revocation list sequence {seq} is lower than the base's {base.sequence}"
                )
        else:
            if base is None:
                raise BadListError(
                    f"a delta list needs its base list (sequence {body.base_sequence})"
                )
            if body.base_sequence >= seq:
                raise BadListError(
                    f"delta base sequence {body.base_sequence} is not below its sequence {seq}"
                )
            if base.sequence != body.base_sequence:
                raise BadListError(
                    f"delta applies to sequence {body.base_sequence}, "
                    f"the base list has {base.sequence}"
                )
            assert body.removed is not None
            hashes = base.hashes.apply_delta(body.hashes, body.removed)
        if state is not None:
            state.accept(dataclasses.replace(signed, digest=hashes.digest()))
        return cls(signed, hashes, delta_base=body.base_sequence)

    @property
    def signed(self) -> SignedList:
        """The authenticated envelope (header, signer, path, digest as received)."""
        return self._signed

    @property
    def hashes(self) -> RevocationSet:
        """The revoked hashes."""
        return self._hashes

    @property
    def sequence(self) -> int:
        """The list's sequence number."""
        return self._signed.info.sequence

    @property
    def delta_base(self) -> int | None:
        """The base sequence if this list was built by applying a delta, else ``None``."""
        return self._delta_base

    @property
    def issued_at(self) -> datetime:
        """When the list was issued (UTC)."""
        return datetime.fromtimestamp(self._signed.info.issued_at, UTC)

    @property
    def next_update(self) -> datetime:
        """When a newer list is due (UTC)."""
        return datetime.fromtimestamp(self._signed.info.next_update, UTC)

    def is_stale(self, at: datetime, *, grace: timedelta = timedelta(0)) -> bool:
        """Whether ``at`` (timezone-aware) is past :attr:`next_update` plus ``grace``."""
        return utc(at, "at") > self.next_update + grace

    def check_fresh(self, at: datetime, *, grace: timedelta = timedelta(0)) -> None:
        """Raise :class:`~ecard.errors.RevocationListStaleError` if :meth:`is_stale`."""
        if self.is_stale(at, grace=grace):
            raise RevocationListStaleError(
                f"next update was due {self.next_update.isoformat()} (sequence {self.sequence})"
            )

    def is_revoked(self, kid: bytes, cti: bytes) -> bool:
        """Whether credential ``cti`` of document signer ``kid`` is revoked."""
        return self._hashes.is_revoked(kid, cti)

    def check(self, kid: bytes, cti: bytes) -> None:
        """Raise :class:`~ecard.errors.RevokedError` if the credential is revoked."""
        if self._hashes.is_revoked(kid, cti):
            raise RevokedError(f"on revocation list sequence {self.sequence}")

    def __len__(self) -> int:
        return len(self._hashes)

    def __repr__(self) -> str:
        return (
            f"RevocationList(sequence={self.sequence}, entries={len(self._hashes)}, "
            f"next_update={self.next_update.isoformat()})"
        )


__all__ = ["RevocationList"]

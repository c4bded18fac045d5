"""The next sequence number of a signed list, read from the list published before.

Counters with a state file refuse a list whose sequence is not higher than the last one they
accepted (rollback protection), so a publisher that starts again at 1 locks every such counter
out of its next list. :func:`next_sequence` continues from the previous signed list: the
publisher's own file (its signature checked against the list signer's certificate), or, after
a list-signer key rollover, any list valid under a
:class:`~ecard.verify.paths.PathValidator`.
"""

from __future__ import annotations

from cryptography import x509

from ecard.signing.lists import read_own_signed_list
from ecard.verify.lists import open_list
from ecard.verify.paths import PathValidator


def next_sequence(
    previous: bytes | None,
    certificate: x509.Certificate,
    list_type: str,
    *,
    validator: PathValidator | None = None,
) -> int:
    """One more than the sequence of ``previous`` (a signed list of ``list_type``), 1 when
    there is none.

    Without ``validator`` the previous list must be signed with ``certificate``'s key; with
    one, it may be any list of that type valid under it (after a list-signer rollover).
    :class:`~ecard.errors.BadListError` otherwise.
    """
    if previous is None:
        return 1
    if validator is not None:
        return open_list(previous, expected_type=list_type, validator=validator).info.sequence + 1
    info, _ = read_own_signed_list(previous, certificate, list_type)
    return info.sequence + 1


__all__ = ["next_sequence"]

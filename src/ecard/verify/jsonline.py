"""The JSON fields of a valid plain card's verdict, written from a template.

Contract: :func:`valid_fields` returns, for a verdict that is ``OK`` on a resident-ID
:class:`~ecard.card.Card` (or the record it is built from, :mod:`ecard.cardrecord`) with no warnings, no detail and every field filled (what nearly every
scan gives), the members of :meth:`VerificationResult.to_dict
<ecard.verify.verifier.VerificationResult.to_dict>` as compact JSON text without the braces,
in ``to_dict``'s order: the text ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``
writes for them. ``None`` for any other verdict, which callers encode the general way. Every
text value goes through the JSON encoder's own string escaping. The scanner (``ecard verify
--json``) and bulk verification each add their own members after these; their tests hold both
lines equal to the encoder's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from ecard.cardbase import _STATUS_JSON
from ecard.cardrecord import is_full, stored_card
from ecard.documents import DocumentType
from ecard.errors import ErrorCode, Lang, describe
from ecard.verify.verifier import VerificationResult

#: A JSON string literal as ``ensure_ascii=False`` writes it (the C encoder's own function).
quoted: Final[Callable[[str], str]] = json.encoder.encode_basestring

#: The opening members of a valid verdict, per language: ``valid``, ``code`` and the message
#: (a valid verdict's message is the code's summary: it has no detail).
_OK_OPENING: Final[dict[str, str]] = {
    lang: f'"valid":true,"code":"OK","message":{quoted(describe(ErrorCode.OK, lang))},'
    for lang in ("en", "zh")
}


def valid_fields(result: VerificationResult, lang: Lang) -> str | None:
    """``to_dict(lang)``'s members as JSON text without the braces, for a valid plain card;
    ``None`` for any other verdict (see the module docstring)."""
    card = stored_card(result)  # a checked record or a full Card: the same attributes
    if (
        result.code is not ErrorCode.OK
        or card is None
        or not is_full(card)
        or card.holder.document is not DocumentType.RESIDENT_ID
        or result.warnings
        or result.kid is None
        or result.cti is None
        or result.issued_at is None
        or result.expires_at is None
        or result.alg is None
        or result.issuer is None
        or result.reason is not None
        or result.detail
    ):
        return None
    holder, purpose = card.holder, result.purpose
    opening = _OK_OPENING.get(lang)
    if opening is None:  # a language without its own messages: whatever message() says
        opening = f'"valid":true,"code":"OK","message":{quoted(result.message(lang))},'
    return (
        f"{opening}"
        f'"card":{{"holder":{{"name":{quoted(holder.name)},"ssn":{quoted(holder.ssn)}}},'
        f'"card_number":{quoted(card.card_number)},"region":{quoted(card.region)},'
        f'"spec_version":{quoted(card.spec_version)},"issued":"{card.issued.isoformat()}",'
        f'"expires":"{card.expires.isoformat()}","status":"{_STATUS_JSON[card.status]}"}},'
        f'"kid":"{result.kid.hex()}","alg":{quoted(result.alg)},'
        f'"issuer":{quoted(result.issuer)},"cti":"{result.cti.hex()}",'
        f'"iat":"{result.issued_at.isoformat()}","exp":"{result.expires_at.isoformat()}",'
        f'"warnings":[],"reason":null,'
        f'"purpose":{"null" if purpose is None else quoted(purpose)}'
    )


__all__ = ["quoted", "valid_fields"]

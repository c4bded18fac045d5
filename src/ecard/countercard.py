"""The counter profile of a card: :class:`CounterCard`, what a pharmacy or clinic is shown.

The contract: a counter profile carries the card number, region, expiry, status and
specification of a :class:`~ecard.card.Card` and the holder's name masked and compacted
(:func:`compact_mask`), never the citizen ID number, the full name or the date of issue. Its
compact claim (claim ``-65539`` in :mod:`ecard.formats.cwt`) is a CBOR array, read back
strictly by :meth:`CounterCard.from_claim` (exact length and types, ranges, canonical text), so
that ``CounterCard.from_claim(c).to_claim() == c`` for every accepted ``c``. Validation errors
never echo the input (:func:`ecard.card.redact_validation_error`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar, Final

from pydantic import AfterValidator, BaseModel, Field, StrictStr, ValidationError

from ecard.card import (
    _MODEL_CONFIG,
    Card,
    CardStatus,
    _CardNumberStr,
    _RegionCodeStr,
    redact_validation_error,
)
from ecard.cardbase import _EPOCH_ORDINAL, _MAX_DAYS, _MAX_EXPIRES, _MIN_ISSUED, _SPEC_TEXT
from ecard.identifiers import mask_card_number

__all__ = ["COUNTER_DEFAULT_SPEC", "CounterCard", "compact_mask"]


def compact_mask(masked: str) -> str:
    """A masked name with every run of ``*`` shortened to one: ``欧**娜`` -> ``欧*娜``,
    ``Z**** S******`` -> ``Z* S*``. What a counter profile carries: shorter in the QR code,
    and it no longer tells the name's length."""
    return _STAR_RUN_RE.sub("*", masked)


_STAR_RUN_RE: Final = re.compile(r"\*{2,}")


def _check_masked(value: str) -> str:
    if not 1 <= len(value) <= 64 or "*" not in value or "**" in value:
        raise ValueError("a masked name has 1..64 characters, a '*' and no '**'")
    return value


#: The specification a counter profile leaves out of its claim (the current one).
COUNTER_DEFAULT_SPEC: Final = "3.00"


class CounterCard(BaseModel):
    """The counter profile of a card: what a pharmacy or clinic needs, and nothing more.

    Card number, region, expiry and status as on the :class:`Card`, the specification, and the
    holder's name **masked** and compacted (``张*丰``, ``欧*娜``, ``Z* S*``: one ``*`` for each
    masked run, :func:`compact_mask`); no citizen ID number, no full name and no date of
    issue (PIPL Art. 6, minimum necessary; the credential's ``nbf`` carries the day the card
    becomes valid when that is after issuance). Issued only bound to a device key, as its own
    credential (see docs/holder-binding.md); its claim is ``-65539`` (ecard.formats.cwt).

    The claim is a CBOR **array**, not a map, to fit a QR code of version 12 at level M::

        [masked name (text), card number (text), region (uint), expires (uint: days since
         1970-01-01), status (uint), ?spec (uint: "2.00" -> 200; only when not "3.00")]
    """

    model_config = _MODEL_CONFIG

    #: Profile name, as policies name it.
    profile: ClassVar[str] = "counter"

    masked_name: Annotated[StrictStr, AfterValidator(_check_masked)]
    card_number: _CardNumberStr
    region: _RegionCodeStr
    spec_version: Annotated[StrictStr, Field(pattern=r"^[1-9]\.[0-9]{2}$")] = COUNTER_DEFAULT_SPEC
    expires: Annotated[date, Field(ge=_MIN_ISSUED, le=_MAX_EXPIRES)]
    status: CardStatus = CardStatus.ACTIVE

    @classmethod
    def from_card(cls, card: Card) -> CounterCard:
        """The counter profile of ``card``."""
        return cls(
            masked_name=compact_mask(card.holder.masked_name),
            card_number=card.card_number,
            region=card.region,
            spec_version=card.spec_version,
            expires=card.expires,
            status=card.status,
        )

    def to_claim(self) -> list[int | str]:
        """The compact claim (class docstring): an array of five or six items."""
        claim: list[int | str] = [
            self.masked_name,
            self.card_number,
            int(self.region),
            self.expires.toordinal() - _EPOCH_ORDINAL,
            self.status.value,
        ]
        if self.spec_version != COUNTER_DEFAULT_SPEC:
            claim.append(int(self.spec_version[0] + self.spec_version[2:]))
        return claim

    @classmethod
    def from_claim(cls, claim: object) -> CounterCard:
        """Rebuild from :meth:`to_claim` output, strictly (exact length and types, ranges,
        canonical text, the default specification left out); :class:`ValueError` with the
        reason."""
        if type(claim) is not list or len(claim) not in (5, 6):
            raise ValueError("counter card claim must be an array of 5 or 6 items")
        name, number, region, expires, status = claim[:5]
        spec = claim[5] if len(claim) == 6 else 300
        if not (
            type(name) is str
            and type(number) is str
            and type(region) is int
            and type(expires) is int
            and type(status) is int
            and type(spec) is int
            and 100_000 <= region < 1_000_000
            and 0 <= expires <= _MAX_DAYS
            and 100 <= spec < 1000
        ):
            raise ValueError("counter card claim has a value of the wrong type or range")
        if len(claim) == 6 and spec == 300:
            raise ValueError("counter card claim: specification 3.00 is written by leaving it out")
        try:
            card = cls(
                masked_name=name,
                card_number=number,
                region=str(region),
                spec_version=_SPEC_TEXT[spec],
                expires=date.fromordinal(_EPOCH_ORDINAL + expires),
                status=CardStatus.parse(status),
            )
        except ValidationError as exc:
            raise redact_validation_error(exc) from None
        if card.card_number != number:
            raise ValueError("counter card claim item 2 (card_number) is not in canonical form")
        return card

    def masked(self) -> dict[str, str]:
        """Display strings (the name is already masked; the card number is masked too)."""
        return {
            "name": self.masked_name,
            "card_number": mask_card_number(self.card_number),
            "region": self.region,
            "spec_version": self.spec_version,
            "expires": self.expires.isoformat(),
            "status": self.status.name.lower(),
        }

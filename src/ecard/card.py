"""The card data model: :class:`Card`, :class:`Holder`, :class:`CardStatus`.

A :class:`Card` is the validated, immutable content of an electronic social security card. It has
two serialised forms:

* JSON (``model_dump_json`` / ``model_validate_json``): readable field names, ISO 8601 dates and
  the status as its lower-case name (``"active"``), for files, APIs and ``ecard verify --json``.
* The compact claim (:meth:`Card.to_claim` / :meth:`Card.from_claim`): a map with small integer
  keys (:data:`CLAIM_KEYS`) and integer dates, which is what the issuer signs inside the CWT.

Both round-trip exactly for every valid card. ``repr``/``str`` of a card or holder show only
masked personal data, and validation errors never echo the input (``hide_input_in_errors``), so
the model can be logged without leaking the holder's name or citizen ID number.

This module holds the models and their strict (pydantic) validation only. The counter profile
of a card (:class:`~ecard.countercard.CounterCard`) has its own module, and so do the fast
paths that build a canonical card without pydantic's validation pass and write its JSON form
(:mod:`ecard.cardfast`), held equal to these models by ``tests/test_card_fastpath.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from ecard.cardbase import (
    _COMPACT_ID_LIMIT,
    _EPOCH_ORDINAL,
    _MAX_DAYS,
    _MAX_EXPIRES,
    _MIN_ISSUED,
    _SHORTEST_17,
    _SPEC_TEXT,
    CardStatus,
    day_start,
    day_start_timestamp,
)
from ecard.documents import DocumentType, mask_document_number, normalize_document_number
from ecard.identifiers import (
    _check_char,
    mask_card_number,
    mask_citizen_id,
    mask_name,
    normalize_card_number,
    normalize_citizen_id,
    normalize_name,
    normalize_region_code,
)

__all__ = [
    "CHINA_TZ",
    "CLAIM_KEYS",
    "DOCUMENT_KEY",
    "Card",
    "CardStatus",
    "Holder",
    "day_start",
    "day_start_timestamp",
]

#: Card dates are calendar dates in China Standard Time (UTC+8).
CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")


_MODEL_CONFIG: Final = ConfigDict(
    frozen=True,
    # Schemas are built on first validation or serialisation, not at import: the verifier
    # builds cards without validation (ecard.cardfast) and never needs them.
    defer_build=True,
    extra="forbid",
    str_strip_whitespace=False,
    # Validation errors must not copy names or ID numbers into logs.
    hide_input_in_errors=True,
)

_NameStr = Annotated[StrictStr, AfterValidator(normalize_name)]
_CardNumberStr = Annotated[StrictStr, AfterValidator(normalize_card_number)]
_RegionCodeStr = Annotated[StrictStr, AfterValidator(normalize_region_code)]
_DocumentTypeField = Annotated[
    DocumentType,
    PlainValidator(DocumentType.parse, json_schema_input_type=str | int),
    PlainSerializer(lambda d: d.name.lower(), return_type=str, when_used="json"),
]


#: What stands in a validation error where pydantic would copy the rejected value.
REDACTED: Final = "[redacted]"


def redact_validation_error(exc: ValidationError) -> ValidationError:
    """``exc`` with every rejected value replaced by :data:`REDACTED`.

    pydantic copies the input of each failing field into ``errors()`` and ``json()`` (a name, an
    ID number, or the whole holder), whatever ``hide_input_in_errors`` says (that setting only
    shortens ``str()``); error reports and logs must never carry them (PIPL). Locations, error
    types and messages stay, so the caller still learns which field failed and why.
    """
    details: list[Any] = []
    for error in exc.errors(include_url=False):
        detail: dict[str, Any] = {"type": error["type"], "loc": error["loc"], "input": REDACTED}
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
    try:
        return ValidationError.from_exception_data(exc.title, details, hide_input=True)
    except (TypeError, ValueError, KeyError):  # an error type pydantic cannot rebuild
        generic: list[Any] = [
            {"type": "value_error", "loc": d["loc"], "input": REDACTED,
             "ctx": {"error": ValueError("invalid value")}}
            for d in details
        ]  # fmt: skip
        return ValidationError.from_exception_data(exc.title, generic, hide_input=True)


class _PersonalModel(BaseModel):
    """A model holding personal data: its validation errors never carry the rejected values
    (see :func:`redact_validation_error`), however it is built (constructor, ``model_validate``,
    ``model_validate_json``, ``model_validate_strings``)."""

    model_config = _MODEL_CONFIG

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise redact_validation_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """:meth:`pydantic.BaseModel.model_validate`, with redacted errors."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise redact_validation_error(exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        """:meth:`pydantic.BaseModel.model_validate_json`, with redacted errors."""
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise redact_validation_error(exc) from None

    @classmethod
    def model_validate_strings(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """:meth:`pydantic.BaseModel.model_validate_strings`, with redacted errors."""
        try:
            return super().model_validate_strings(obj, *args, **kwargs)
        except ValidationError as exc:
            raise redact_validation_error(exc) from None


class Holder(_PersonalModel):
    """The card holder: name, identity document type and social security number.

    The social security number is the citizen ID number (Social Insurance Law Art. 58); a
    holder without one carries the number of the document they applied with, validated by that
    document's rules (:mod:`ecard.documents`). ``document`` defaults to the resident ID card
    and is then left out of every serialised form, so resident-ID cards keep their encoding.

    ``repr`` and ``str`` show only the masked forms.
    """

    model_config = _MODEL_CONFIG

    #: Name as on the ID card, canonicalised by :func:`ecard.identifiers.normalize_name`.
    name: _NameStr
    #: The identity document the number belongs to (default: resident ID card).
    document: _DocumentTypeField = DocumentType.RESIDENT_ID
    #: Social security number = 18-character citizen ID number (GB 11643-1999), or the number
    #: of the holder's other identity document.
    ssn: StrictStr

    @field_validator("ssn")
    @classmethod
    def _check_ssn(cls, value: str, info: ValidationInfo) -> str:
        document = info.data.get("document")
        if document is None:
            raise ValueError("no valid identity document type to check the number against")
        if document is DocumentType.RESIDENT_ID:
            return normalize_citizen_id(value)
        return normalize_document_number(document, value)

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.document is DocumentType.RESIDENT_ID:
            data.pop("document", None)
        return data

    @property
    def masked_name(self) -> str:
        """The name with all but the first (and, for Chinese names, last) characters masked."""
        return mask_name(self.name)

    @property
    def masked_ssn(self) -> str:
        """The social security number with the birth date (or the middle) masked."""
        if self.document is DocumentType.RESIDENT_ID:
            return mask_citizen_id(self.ssn)
        return mask_document_number(self.document, self.ssn)

    @property
    def birth_date(self) -> date | None:
        """Date of birth, from the number (``None`` for documents whose number has none)."""
        if not self.document.mod11_number:
            return None
        return date.fromisoformat(self.ssn[6:14])

    @property
    def sex(self) -> Literal["M", "F"] | None:
        """``"M"`` or ``"F"``, from the parity of the sequence number (``None`` where the
        number does not say)."""
        if not self.document.mod11_number:
            return None
        return "M" if int(self.ssn[16]) % 2 else "F"

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Fields for ``repr``/``str``: masked, so personal data stays out of logs."""
        yield "name", self.masked_name
        if self.document is not DocumentType.RESIDENT_ID:
            yield "document", self.document.name.lower()
        yield "ssn", self.masked_ssn


#: Integer keys of the compact card claim (the map signed inside the CWT).
CLAIM_KEYS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "name": 1,
        "ssn": 2,
        "card_number": 3,
        "region": 4,
        "spec_version": 5,
        "issued": 6,
        "expires": 7,
        "status": 8,
    }
)
#: Claim key of the document type (``document``), beside :data:`CLAIM_KEYS`: present only
#: when the holder's document is not the resident ID card, whose cards keep the 8 keys 1-8.
DOCUMENT_KEY: Final = 9
_KEY_NAMES: Final[dict[int, str]] = {
    **{v: k for k, v in CLAIM_KEYS.items()},
    DOCUMENT_KEY: "document",
}

# Per claim key: expected type and, for integers converted before validation, the accepted
# range [low, high). The ranges only keep the conversions safe; the model validators then apply
# the real rules (the status, not converted, is checked by CardStatus.parse alone).
_CLAIM_SCHEMA: Final[dict[int, tuple[type, tuple[int, int] | None]]] = {
    1: (str, None),
    2: (int, (0, _COMPACT_ID_LIMIT)),
    3: (str, None),
    4: (int, (100_000, 1_000_000)),
    5: (int, (100, 1000)),
    6: (int, (0, _MAX_DAYS + 1)),
    7: (int, (0, _MAX_DAYS + 1)),
    8: (int, None),
}


def _card_fields_fit(claim: dict[Any, Any]) -> bool:
    """Whether claim keys 3..8 (card number, region, spec, issued, expires, status), present,
    have the types and ranges the claim allows; the models check the rest."""
    return (
        type(claim[3]) is str
        and all(type(claim[k]) is int for k in (4, 5, 6, 7, 8))
        and 100_000 <= claim[4] < 1_000_000
        and 100 <= claim[5] < 1000
        and 0 <= claim[6] <= _MAX_DAYS
        and 0 <= claim[7] <= _MAX_DAYS
    )


def _card_fields_claim(
    card_number: str,
    region: str,
    spec_version: str,
    issued: date,
    expires: date,
    status: CardStatus,
) -> dict[int, int | str]:
    """Claim keys 3..8 of a card: ``spec_version`` ``"3.00"`` ->
    ``300``, dates as days since 1970-01-01, the status as its integer value."""
    return {
        3: card_number,
        4: int(region),
        5: int(spec_version[0] + spec_version[2:]),
        6: issued.toordinal() - _EPOCH_ORDINAL,
        7: expires.toordinal() - _EPOCH_ORDINAL,
        8: status.value,
    }


def _claim_problem(claim: dict[Any, Any]) -> str:
    """Explain precisely what is wrong with the shape of a card claim (the slow path)."""
    for key in claim:
        if type(key) is not int or key not in _KEY_NAMES:
            return f"card claim has an unknown key {key!r}"
    missing = [f"{k} ({n})" for k, n in _KEY_NAMES.items() if k not in claim and k != DOCUMENT_KEY]
    if missing:
        return f"card claim is missing key(s) {', '.join(missing)}"
    document = _claim_document(claim)
    for key, (kind, bounds) in _CLAIM_SCHEMA.items():
        value = claim[key]
        if key == 2 and not document.mod11_number:
            kind, bounds = str, None
        label = f"card claim {key} ({_KEY_NAMES[key]})"
        if type(value) is not kind:
            expected = "a text string" if kind is str else "an integer"
            return f"{label} must be {expected}, not {type(value).__name__}"
        if bounds is not None and not bounds[0] <= claim[key] < bounds[1]:
            return f"{label} is out of range [{bounds[0]}, {bounds[1]})"
    return "card claim is malformed"  # pragma: no cover - only called after a failed check


def _claim_document(claim: dict[Any, Any]) -> DocumentType:
    """The document type key 9 names (absent: resident ID), strictly.

    Raises:
        ValueError: not an integer, unknown, or 1 (the resident ID is written by leaving the
            key out, so that each card has one encoding).
    """
    if DOCUMENT_KEY not in claim:
        return DocumentType.RESIDENT_ID
    value = claim[DOCUMENT_KEY]
    if type(value) is not int:
        raise ValueError(f"card claim 9 (document) must be an integer, not {type(value).__name__}")
    if value == DocumentType.RESIDENT_ID.value:
        raise ValueError("card claim 9 (document) must be left out for a resident ID card")
    if value not in DocumentType._value2member_map_:
        raise ValueError("card claim 9 (document) is not a known document type")
    return DocumentType(value)


class Card(_PersonalModel):
    """An electronic social security card. Immutable; every field is validated.

    Cross-field rules: ``expires`` after ``issued``; the holder born on or before ``issued``;
    ``issued`` on or after 1990-01-01 and ``expires`` on or before 2199-12-31.
    """

    model_config = _MODEL_CONFIG

    #: Who the card belongs to.
    holder: Holder
    #: Card number (社会保障卡卡号): 9 upper-case letters or digits.
    card_number: _CardNumberStr
    #: Issuing region code (GB/T 2260), 6 digits.
    region: _RegionCodeStr
    #: Card specification version, ``"3.00"`` style.
    spec_version: Annotated[StrictStr, Field(pattern=r"^[1-9]\.[0-9]{2}$")] = "3.00"
    #: Date of issue, on or after 1990-01-01.
    issued: Annotated[date, Field(ge=_MIN_ISSUED)]
    #: Date of expiry (the card is valid up to this date), on or before 2199-12-31.
    expires: Annotated[date, Field(le=_MAX_EXPIRES)]
    #: Current status when issued.
    status: CardStatus = CardStatus.ACTIVE
    #: Profile name, as policies name it (the full card; see :class:`CounterCard`).
    profile: ClassVar[str] = "full"

    @field_validator("issued")
    @classmethod
    def _check_issued(cls, value: date, info: ValidationInfo) -> date:
        holder = info.data.get("holder")
        if holder is not None and holder.birth_date is not None and value < holder.birth_date:
            raise ValueError("issued (date of issue) is before the holder's birth date")
        return value

    @field_validator("expires")
    @classmethod
    def _check_expires(cls, value: date, info: ValidationInfo) -> date:
        issued = info.data.get("issued")
        if issued is not None and value <= issued:
            raise ValueError("expires (date of expiry) must be after issued (date of issue)")
        return value

    @property
    def valid_from(self) -> datetime:
        """The instant the card becomes valid: the start of ``issued``, China time."""
        return day_start(self.issued)

    @property
    def valid_until(self) -> datetime:
        """The instant the card stops being valid: the end of ``expires``, China time."""
        return day_start(self.expires + timedelta(days=1))

    def masked(self) -> dict[str, str]:
        """Display strings, with the name, social security number and card number masked."""
        document = self.holder.document
        extra = {} if document is DocumentType.RESIDENT_ID else {"document": document.name.lower()}
        return {
            "name": self.holder.masked_name,
            **extra,
            "ssn": self.holder.masked_ssn,
            "card_number": mask_card_number(self.card_number),
            "region": self.region,
            "spec_version": self.spec_version,
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
            "status": self.status.name.lower(),
        }

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Fields for ``repr``/``str``: personal data masked."""
        yield "holder", self.holder
        yield "card_number", mask_card_number(self.card_number)
        yield "region", self.region
        yield "spec_version", self.spec_version
        yield "issued", self.issued
        yield "expires", self.expires
        yield "status", self.status

    def to_claim(self) -> dict[int, int | str]:
        """The compact claim map signed inside the CWT (keys in :data:`CLAIM_KEYS`).

        ``ssn`` is the integer of its 17 leading digits, ``region`` an integer, ``spec_version``
        ``"3.00"`` -> ``300``, dates are days since 1970-01-01, ``status`` the integer value.
        A holder whose document is not the resident ID card adds key 9 (the
        :class:`~ecard.documents.DocumentType` value), and ``ssn`` is text where the document
        number is not 18 characters with a MOD 11-2 check character.
        """
        document = self.holder.document
        claim: dict[int, int | str] = {
            1: self.holder.name,
            2: int(self.holder.ssn[:17]) if document.mod11_number else self.holder.ssn,
            **_card_fields_claim(
                self.card_number,
                self.region,
                self.spec_version,
                self.issued,
                self.expires,
                self.status,
            ),
        }
        if document is not DocumentType.RESIDENT_ID:
            claim[DOCUMENT_KEY] = document.value
        return claim

    @classmethod
    def from_claim(cls, claim: object) -> Card:
        """Rebuild a card from :meth:`to_claim` output, strictly.

        The claim must be a ``dict`` with exactly the integer keys 1-8 (and 9 for a document
        other than the resident ID card), values of exactly the
        right type (a ``bool`` is not an int, ``bytes`` are not text), numbers in range, and text
        in canonical form, so that ``Card.from_claim(c).to_claim() == c`` for every accepted
        ``c``.

        Raises:
            ValueError: with the reason. Model-level failures (an invalid birth date in the
                social security number, dates out of order...) surface as
                :class:`pydantic.ValidationError`, a ``ValueError`` subclass.
        """
        if type(claim) is not dict:
            raise ValueError(f"card claim must be a map, not {type(claim).__name__}")
        # Fast path first; any failure goes to _claim_problem for the precise reason.
        try:
            name, ssn, card_number, region, spec, issued, expires, status = (
                claim[1], claim[2], claim[3], claim[4], claim[5], claim[6], claim[7], claim[8]
            )  # fmt: skip
        except KeyError:
            raise ValueError(_claim_problem(claim)) from None
        document = DocumentType.RESIDENT_ID
        if len(claim) != 8:
            if len(claim) != 9 or DOCUMENT_KEY not in claim:
                raise ValueError(_claim_problem(claim))
            document = _claim_document(claim)
            if not document.mod11_number:
                return cls._from_text_claim(claim, document)
        for key in claim:  # 1.0 or True would have matched the lookups above
            if type(key) is not int:
                raise ValueError(_claim_problem(claim))
        if not (
            type(name) is str
            and type(ssn) is int
            and type(card_number) is str
            and type(region) is int
            and type(spec) is int
            and type(issued) is int
            and type(expires) is int
            and type(status) is int
            and 0 <= ssn < _COMPACT_ID_LIMIT
            and 100_000 <= region < 1_000_000
            and 100 <= spec < 1000
            and 0 <= issued <= _MAX_DAYS
            and 0 <= expires <= _MAX_DAYS
        ):
            raise ValueError(_claim_problem(claim))
        first17 = str(ssn) if ssn >= _SHORTEST_17 else f"{ssn:017d}"
        holder: dict[str, Any] = {"name": name, "ssn": first17 + _check_char(first17)}
        if document is not DocumentType.RESIDENT_ID:
            holder["document"] = document
        return cls._validate_claim(claim, holder)

    @classmethod
    def _from_text_claim(cls, claim: dict[Any, Any], document: DocumentType) -> Card:
        """:meth:`from_claim` for a document whose number is text in the claim."""
        for key in claim:
            if type(key) is not int:
                raise ValueError(_claim_problem(claim))
        if not (type(claim[1]) is str and type(claim[2]) is str and _card_fields_fit(claim)):
            raise ValueError(_claim_problem(claim))
        card = cls._validate_claim(claim, {"name": claim[1], "ssn": claim[2], "document": document})
        if card.holder.ssn != claim[2]:
            raise ValueError("card claim 2 (ssn) is not in canonical form")
        return card

    @classmethod
    def _validate_claim(cls, claim: dict[Any, Any], holder: dict[str, Any]) -> Card:
        """Validate the model from a claim whose shape was checked; canonical text only."""
        name, card_number, region, spec = claim[1], claim[3], claim[4], claim[5]
        issued, expires, status = claim[6], claim[7], claim[8]
        # Same as cls.model_validate(...), minus one Python-level call on the hot path.
        try:
            card: Card = cls.__pydantic_validator__.validate_python(
                {
                    "holder": holder,
                    "card_number": card_number,
                    "region": str(region),
                    "spec_version": _SPEC_TEXT[spec],
                    "issued": date.fromordinal(_EPOCH_ORDINAL + issued),
                    "expires": date.fromordinal(_EPOCH_ORDINAL + expires),
                    "status": status,
                }
            )
        except ValidationError as exc:
            raise redact_validation_error(exc) from None
        if card.holder.name != name:
            raise ValueError("card claim 1 (name) is not in canonical form")
        if card.card_number != card_number:
            raise ValueError("card claim 3 (card_number) is not in canonical form")
        return card

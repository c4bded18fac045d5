"""The JSON API (OpenAPI at ``/api/openapi.json``): verification, the workflow operations an
app needs, list publication. Every route is typed with pydantic models.

Verification answers ``200`` with the result whether the code is valid or not (as
``ecard verify --json`` prints it: ``valid, code, message, card, kid`` and the details), with
the card's fields **masked** (name, social security number, card number) and what counter
staff should do (:func:`ecard.verify.actions.staff_action`). Refusals of the request itself
are the stable error bodies of :mod:`ecard.service.errors`.

Routes (all ``POST`` bodies are ``application/json``)::

    GET  /api/health                               liveness, version, demo or not
    POST /api/verify            {code, purpose?, challenge?}         -> VerifyResult
    POST /api/verify/batch      {codes[], purpose?}                  -> BatchResult
    POST /api/challenge         {purpose?}                           -> {challenge, expires_in}
    POST /api/applications      the online application               -> {application_id}
    POST /api/applications/{id}/send-code                            -> {ok}
    POST /api/applications/{id}/check-code   {code}                  -> {ok}
    POST /api/cards/send-code   {card_number}                        -> {ok}
    POST /api/cards/query       {card_number, code, pin}             -> CardStatus (masked)
    POST /api/cards/report-loss {card_number, code, pin}             -> CardStatus
    GET  /api/lists/revocation  the signed revocation list (application/cbor, ETag)
    GET  /api/lists/trust       the signed trust list (application/cbor, ETag)

The workflow routes are the online channel (actor ``api``): possession of the phone (the
one-time code) and the PIN are the proof, as in :meth:`~ecard.workflow.steps.Registry.query`.
Identifiers travel in bodies, not in paths, except the random application id.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Request, Response
from fastapi import Path as UrlPath
from pydantic import BaseModel, ConfigDict, Field

from ecard import __version__
from ecard.card import Card
from ecard.countercard import CounterCard
from ecard.formats.presentation import PURPOSES
from ecard.service.context import ServiceContext
from ecard.service.errors import ErrorBody, ServiceCode, ServiceError
from ecard.verify.actions import staff_action
from ecard.verify.regions import region_name
from ecard.verify.report import mask_card_number
from ecard.verify.verifier import VerificationResult, Verifier
from ecard.workflow.lifecycle import CardEvent

#: Longest QR text accepted (a version-40 QR code holds 4296 alphanumeric characters).
MAX_CODE: Final = 4400
#: The purposes as a type (``aud`` of a presentation).
Purpose = Literal["identity", "treatment", "pharmacy", "payment"]

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorBody} for status in (400, 404, 409, 413, 415, 422, 429, 503)
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_CODE)


class VerifyRequest(_Strict):
    """One code to verify (what the scanner typed)."""

    code: Annotated[str, Field(max_length=MAX_CODE, description="EC1: or EC2: text")]
    purpose: Purpose | None = Field(None, description="the counter's purpose (aud)")
    challenge: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = Field(
        None, description="a challenge from POST /api/challenge the code must answer"
    )


class BatchRequest(_Strict):
    """Several codes, verified one by one under the same purpose."""

    codes: Annotated[list[Annotated[str, Field(max_length=MAX_CODE)]], Field(min_length=1)]
    purpose: Purpose | None = None


class MaskedCard(BaseModel):
    """The card as a counter may see it: name, ID number and card number masked."""

    profile: str
    name: str
    ssn: str | None = None
    card_number: str
    region: str
    region_name: str | None
    issued: str | None = None
    expires: str
    status: str


class VerifyResult(BaseModel):
    """A verification result: the ``ecard verify --json`` shape, masked, with the staff
    action in both languages."""

    valid: bool
    code: str
    message: str
    message_zh: str
    action: str
    action_zh: str
    card: MaskedCard | None
    kid: str | None
    alg: str | None
    issuer: str | None
    cti: str | None
    iat: str | None
    exp: str | None
    warnings: list[str]
    reason: str | None
    purpose: str | None


class BatchResult(BaseModel):
    """One result per code, in order, and the counts."""

    results: list[VerifyResult]
    valid: int
    invalid: int


class ChallengeRequest(_Strict):
    """Which purpose's counter asks (default: every purpose served)."""

    purpose: Purpose | None = None


class ChallengeResult(BaseModel):
    """A counter challenge for the holder to type into the phone."""

    challenge: str
    expires_in: int


class Health(BaseModel):
    """Liveness."""

    ok: bool
    version: str
    demo: bool


class ApplicationRequest(_Strict):
    """An online application (the workflow's ``submit``)."""

    model_config = ConfigDict(extra="forbid", str_max_length=200)

    document_type: int | Annotated[str, Field(max_length=40)] = Field(
        1, description="DocumentType value (1: resident ID) or name"
    )
    document_number: Annotated[str, Field(max_length=40)]
    name: Annotated[str, Field(max_length=100)]
    phone: Annotated[str, Field(max_length=20)]
    region: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    consents: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=8)] = []
    birth_date: date | None = None
    document_issued: date | None = None
    document_expires: date | None = None


class ApplicationCreated(BaseModel):
    """The id of the recorded application."""

    application_id: str


class CodeRequest(_Strict):
    """A one-time code the holder received."""

    code: Annotated[str, Field(max_length=12)]


class CardRequest(_Strict):
    """The holder's proof: card number, a one-time code and the service PIN."""

    card_number: Annotated[str, Field(max_length=20)]
    code: Annotated[str, Field(max_length=12)]
    pin: Annotated[str, Field(max_length=12)]


class CardNumber(_Strict):
    """A card, by its number (the code goes to the phone on record, never to one given)."""

    card_number: Annotated[str, Field(max_length=20)]


class Done(BaseModel):
    """The step was done."""

    ok: bool = True


class CardStatus(BaseModel):
    """A card's status and its masked data (never the ID number in full)."""

    card_number: str
    state: str
    masked: dict[str, str]


def masked_card(card: Card | CounterCard) -> MaskedCard:
    """The masked fields of ``card`` (the counter profile has no ID number at all)."""
    if isinstance(card, CounterCard):
        name, ssn, issued = card.masked_name, None, None
    else:
        name, ssn = card.holder.masked_name, card.holder.masked_ssn
        issued = card.issued.isoformat()
    return MaskedCard(
        profile=card.profile,
        name=name,
        ssn=ssn,
        card_number=mask_card_number(card.card_number),
        region=card.region,
        region_name=region_name(card.region),
        issued=issued,
        expires=card.expires.isoformat(),
        status=card.status.name.lower(),
    )


def result_body(result: VerificationResult) -> VerifyResult:
    """``result`` as the API answers it: :meth:`VerificationResult.to_dict` with the card
    masked, the message in English and Chinese (``message``, ``message_zh``) and the staff
    action likewise (``action``, ``action_zh``)."""
    data = result.to_dict("en")
    data["card"] = None if result.card is None else masked_card(result.card)
    data["message"] = result.message("en")
    data["message_zh"] = result.message("zh")
    data["action"] = staff_action(result.code, "en")
    data["action_zh"] = staff_action(result.code, "zh")
    return VerifyResult(**data)


def _cbor(request: Request, data: bytes | None, max_age: int) -> Response:
    """A signed list with caching headers (``ETag``, ``304`` on ``If-None-Match``)."""
    if data is None:
        raise ServiceError(ServiceCode.NO_LIST, 404)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/cbor", headers=headers)


def router(ctx: ServiceContext) -> APIRouter:
    """The API routes."""
    r = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)
    registry = ctx.registry
    limits = ctx.config.limits

    def verifier_for(purpose: str | None) -> Verifier:
        if purpose is not None and purpose not in ctx.config.counter.purposes:
            raise ServiceError(ServiceCode.PURPOSE_NOT_SERVED, 400, purpose)
        return ctx.counter.verifier(purpose)

    @r.get("/health")
    def health() -> Health:
        """Liveness probe: the version and whether this is the demo issuer."""
        return Health(ok=True, version=__version__, demo=ctx.demo is not None)

    @r.post("/verify")
    def verify(body: VerifyRequest) -> VerifyResult:
        """Verify one code at the counter (binding required unless configured off; a
        presentation is accepted once across every worker: the shared replay cache)."""
        result = verifier_for(body.purpose).verify(body.code, challenge=body.challenge)
        return result_body(result)

    @r.post("/verify/batch")
    def verify_batch(body: BatchRequest) -> BatchResult:
        """Verify up to ``limits.batch_max`` codes, in order."""
        if len(body.codes) > limits.batch_max:
            raise ServiceError(
                ServiceCode.INVALID_REQUEST, 422, f"at most {limits.batch_max} codes"
            )
        verifier = verifier_for(body.purpose)
        results = [result_body(verifier.verify(c)) for c in body.codes]
        valid = sum(1 for x in results if x.valid)
        return BatchResult(results=results, valid=valid, invalid=len(results) - valid)

    @r.post("/challenge")
    def challenge(body: ChallengeRequest) -> ChallengeResult:
        """A fresh 6-digit challenge (2 minutes, single use) for ``POST /api/verify``."""
        return ChallengeResult(challenge=verifier_for(body.purpose).new_challenge(), expires_in=120)

    @r.post("/applications", status_code=201)
    def submit(body: ApplicationRequest) -> ApplicationCreated:
        """Record an online application (the workflow's checks and refusals apply)."""
        application_id = registry.submit(
            channel="online",
            document_type=body.document_type,
            document_number=body.document_number,
            name=body.name,
            phone=body.phone,
            region=body.region,
            actor="api",
            consents=body.consents,
            birth_date=body.birth_date,
            document_issued=body.document_issued,
            document_expires=body.document_expires,
        )
        return ApplicationCreated(application_id=application_id)

    @r.post("/applications/{application_id}/send-code")
    def send_code(application_id: Annotated[str, UrlPath(max_length=64)]) -> Done:
        """Send a one-time code to the application's phone."""
        registry.send_code(application_id, actor="api")
        return Done()

    @r.post("/applications/{application_id}/check-code")
    def check_code(
        application_id: Annotated[str, UrlPath(max_length=64)], body: CodeRequest
    ) -> Done:
        """Check the one-time code (binds the phone to the application)."""
        registry.check_code(application_id, body.code, actor="api")
        return Done()

    @r.post("/cards/send-code")
    def send_card_code(body: CardNumber) -> Done:
        """Send a one-time code to the phone on record for the card (before a query, a loss
        report or a wallet enrolment)."""
        registry.send_card_code(body.card_number, actor="api")
        return Done()

    @r.post("/cards/query")
    def query(body: CardRequest) -> CardStatus:
        """The card's status and masked data, for its holder (code and PIN)."""
        view = registry.query(body.card_number, body.code, body.pin, actor="api")
        return CardStatus(card_number=view.card_number, state=view.state.value, masked=view.masked)

    @r.post("/cards/report-loss")
    def report_loss(body: CardRequest) -> CardStatus:
        """The holder reports the card lost (temporary loss; code and PIN); the next signed
        revocation list names it."""
        view = registry.query(body.card_number, body.code, body.pin, actor="api")
        state = registry.change(view.card_number, CardEvent.REPORT_LOSS, actor="api")
        return CardStatus(card_number=view.card_number, state=state.value, masked=view.masked)

    @r.get(
        "/lists/revocation",
        response_class=Response,
        responses={200: {"content": {"application/cbor": {}}}},
    )
    def revocation_list(request: Request) -> Response:
        """The current signed revocation list (COSE_Sign1, CBOR bytes)."""
        return _cbor(request, registry.revocation_list(), 60)

    @r.get(
        "/lists/trust",
        response_class=Response,
        responses={200: {"content": {"application/cbor": {}}}},
    )
    def trust_list(request: Request) -> Response:
        """The signed trust list of this service's issuers (COSE_Sign1, CBOR bytes)."""
        return _cbor(request, ctx.trust_list(), 3600)

    return r


__all__ = [
    "MAX_CODE",
    "ApplicationCreated",
    "ApplicationRequest",
    "BatchRequest",
    "BatchResult",
    "CardRequest",
    "CardStatus",
    "ChallengeRequest",
    "ChallengeResult",
    "CodeRequest",
    "Done",
    "Health",
    "MaskedCard",
    "VerifyRequest",
    "VerifyResult",
    "masked_card",
    "result_body",
    "router",
]

assert set(Purpose.__args__) == PURPOSES  # type: ignore[attr-defined]

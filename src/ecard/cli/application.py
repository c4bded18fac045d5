"""``ecard application …``: the application workflow (:mod:`ecard.workflow`) from a terminal,
for a window or a pilot scripting the whole process.

Each call runs one :class:`~ecard.workflow.steps.Registry` step on the store ``--db`` and
prints one JSON object on standard output: ``{"ok": true, …}`` with what the step made, or
``{"ok": false, "error": "BAD_INPUT", "workflow_code" | "problem": …, "message": …}`` when the
library refused (exit status 1; the same message, with the stable code, goes to standard error
through :func:`ecard.cli.errors.run`). No output or error carries a document number or a name.

One-time codes go to a local outbox folder (``--outbox``, one file per application holding the
last code sent), the pilot's stand-in for the SMS gateway. Steps that sign take the keys as
``ecard issue`` (issuer) and ``ecard revoke`` (list signer) take them; the subject pseudonyms
and code HMACs are keyed by the hex key in ``--pseudonym-key-env``, as the journal commands.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, cast

from ecard._files import os_reason, read_file, write_atomic
from ecard.cli.common import (
    ALG_NAMES,
    Subcommands,
    certificates,
    force_option,
    hsm_options,
    lang_option,
    parse_now,
    refuse_overwrite,
    signer,
    write_output,
)
from ecard.cli.errors import READ_EPILOG, WRITE_EPILOG, Parser, UsageError, lang_of
from ecard.cli.journal import pseudonym_key
from ecard.crypto.x509 import load_certificate_file
from ecard.documents import DocumentError
from ecard.errors import BadInputError, EcardError
from ecard.formats.credential import IssuedCard
from ecard.journal.store import Journal
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey
from ecard.signing.signers import load_private_key_file
from ecard.workflow.errors import WorkflowError
from ecard.workflow.lifecycle import CardEvent
from ecard.workflow.ports import FixedLiveness

if TYPE_CHECKING:
    from ecard.workflow.context import ListSigner
    from ecard.workflow.steps import Registry

#: The store ``--db`` opens unless told otherwise: a SQLite file in the current folder.
DEFAULT_DB: Final = "sqlite:///ecard-workflow.db"
#: The environment variable ``--pseudonym-key-env`` names unless told otherwise.
DEFAULT_KEY_ENV: Final = "ECARD_PSEUDONYM_KEY"
#: The outbox folder ``send-code`` writes to unless told otherwise.
DEFAULT_OUTBOX: Final = "ecard-outbox"
#: The largest application form ``submit`` reads.
MAX_FORM_SIZE: Final = 16 * 1024

_FORM_FIELDS: Final = {
    "document_type": (int, str),
    "document_number": (str,),
    "name": (str,),
    "phone": (str,),
    "region": (str,),
    "consents": (list,),
    "relation": (str,),
    "applicant_document": (list,),
    "proof_of_relationship": (bool,),
    "birth_date": (str,),
    "document_issued": (str,),
    "document_expires": (str,),
}
_REQUIRED: Final = ("document_type", "document_number", "name", "phone", "region")


# -- the pieces a step needs ------------------------------------------------------------------


def _missing(what_en: str, what_zh: str) -> NoReturn:
    raise UsageError(f"this step signs: it needs {what_en}", f"此步骤需要签名：需要 {what_zh}")


class _NoIssuer:
    """Stands for the issuer in a step that signs no card: using it is a usage error."""

    def issue(self, *_: object, **__: object) -> NoReturn:
        _missing("the issuer key (--key or --pkcs11-module) and --cert", "签发密钥与 --cert")


class _NoListSigner:
    """Stands for the list signer in a step that signs no list: using it is a usage error."""

    def signer(self, *_: object) -> NoReturn:
        _missing(
            "the list signer (--list-key and --list-cert)",
            "列表签名密钥（--list-key 与 --list-cert）",
        )

    @property
    def certificate(self) -> NoReturn:
        self.signer()

    @property
    def chain(self) -> NoReturn:
        self.signer()


@dataclass
class _FolderOutbox:
    """An :class:`~ecard.workflow.ports.SmsGateway` writing the last code of each application
    to ``<folder>/<application id>.json`` (owner-only), where a pilot reads it."""

    folder: Path

    def path(self, application_id: str) -> Path:
        """The file holding the last code sent for ``application_id``."""
        return self.folder / f"{application_id}.json"

    def send_code(self, phone: str, code: str, *, application_id: str) -> None:
        """Write the message (the phone masked to its last 4 digits)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {"application": application_id, "to": "*" * 7 + phone[-4:], "code": code}
        write_atomic(self.path(application_id), json.dumps(body) + "\n", private=True)


def _clock(args: argparse.Namespace) -> Callable[[], datetime]:
    fixed: datetime | None = args.now
    return (lambda: fixed) if fixed is not None else (lambda: datetime.now(UTC))


def _issuer(args: argparse.Namespace) -> Issuer | None:
    if not (getattr(args, "key", None) or getattr(args, "pkcs11_module", None)):
        return None
    if not args.cert:
        raise UsageError(
            "--key needs --cert (the issuer certificate)", "--key 需要 --cert（签发证书）"
        )
    certs = load_certificate_file(args.cert)
    return Issuer(signer(args, algorithm=args.alg), certs[0], iss=args.iss, clock=_clock(args))


def _list_signer(args: argparse.Namespace) -> CertifiedKey | ListSigner | None:
    module = getattr(args, "list_pkcs11_module", None)
    if not getattr(args, "list_key", None) and not module:
        return None
    if not args.list_cert:
        raise UsageError(
            "the list signer needs --list-cert", "列表签名密钥需要 --list-cert（列表签名证书）"
        )
    certs = load_certificate_file(args.list_cert)
    chain = (*certs[1:], *certificates(args.list_chain))
    if module:
        if args.list_key:
            raise UsageError(
                "give either --list-key or --list-pkcs11-module",
                "--list-key 与 --list-pkcs11-module 只能选一",
            )
        from ecard.signing.keysource import key_source
        from ecard.workflow.context import ListSigner

        source = key_source(
            pkcs11_module=module,
            token=args.list_token,
            key_label=args.list_key_label,
            pin_env=args.list_pin_env,
        )
        return ListSigner(source.open(), certs[0], chain)
    password = None
    env = args.list_key_password_env
    if env:
        if env not in os.environ:
            raise BadInputError(
                f"the environment variable {env} (--list-key-password-env) is unset",
                detail_zh=f"环境变量 {env}（--list-key-password-env）未设置",
            )
        password = os.environ[env].encode()
    key = load_private_key_file(args.list_key, password=password)
    return CertifiedKey(key, certs[0], chain)


@contextmanager
def _registry(args: argparse.Namespace, outbox: Path | None = None) -> Iterator[Registry]:
    try:  # the optional extra 'workflow' (SQLAlchemy, Alembic, phonenumbers)
        from ecard.workflow.steps import Registry, Settings
        from ecard.workflow.store import Store
    except ImportError:
        raise BadInputError(
            "ecard application needs the optional extra: pip install 'ecard[workflow]'",
            detail_zh="ecard application 需要可选组件：pip install 'ecard[workflow]'",
        ) from None
    key = pseudonym_key("ecard application", args.pseudonym_key_env)
    try:
        settings = Settings(
            require_binding=bool(getattr(args, "require_binding", False)),
            temporary_loss_days=getattr(args, "temporary_loss_days", 10),
        )
    except ValueError as exc:
        raise UsageError(str(exc), str(exc)) from None
    issuer = _issuer(args)
    list_signer = _list_signer(args)
    journal_path = getattr(args, "journal", None)
    store = Store(args.db)
    journal = None
    try:
        if journal_path:
            journal = Journal.open(journal_path, pseudonym_key=key, clock=_clock(args))
        yield Registry(
            store,
            issuer=issuer or cast(Issuer, _NoIssuer()),
            list_signer=list_signer or cast(CertifiedKey, _NoListSigner()),
            pseudonym_key=key,
            sms=_FolderOutbox(outbox or Path(DEFAULT_OUTBOX)),
            liveness=FixedLiveness(getattr(args, "verdict", "pass") == "pass"),
            clock=_clock(args),
            journal=journal,
            settings=settings,
        )
    finally:
        if journal is not None:
            journal.close()
        store.close()


def _print(body: dict[str, Any]) -> bool:
    print(json.dumps({"ok": True, **body}, ensure_ascii=False, sort_keys=True))
    return True


def _step(command: Callable[[argparse.Namespace], bool]) -> Callable[[argparse.Namespace], bool]:
    """``command``, printing a refusal as a JSON error body before it goes on to
    :func:`ecard.cli.errors.run` (exit status and message on standard error)."""

    def wrapped(args: argparse.Namespace) -> bool:
        try:
            return command(args)
        except EcardError as err:
            lang = lang_of(args)
            body: dict[str, Any] = {"ok": False, "error": err.code.value}
            if isinstance(err, WorkflowError):
                body["workflow_code"] = err.workflow_code.value
                message = f"[{err.workflow_code.value}] {err.message(lang)}"
            elif isinstance(err, DocumentError):
                body["problem"] = err.problem.value
                message = f"[{err.problem.value}] {err.message(lang)}"
            else:
                message = err.message(lang)
            body["message"] = message
            print(json.dumps(body, ensure_ascii=False, sort_keys=True))
            if isinstance(err, WorkflowError | DocumentError):
                raise BadInputError(message, detail_zh=message) from None
            raise
        except OSError as exc:  # e.g. the outbox folder cannot be written: nothing was kept
            body = {"ok": False, "error": "BAD_INPUT", "message": os_reason(exc, lang_of(args))}
            print(json.dumps(body, ensure_ascii=False, sort_keys=True))
            raise

    wrapped.__doc__ = command.__doc__
    return wrapped


# -- the form ---------------------------------------------------------------------------------


def _form_error(en: str, zh: str) -> NoReturn:
    raise BadInputError(f"application form: {en}", detail_zh=f"申请表：{zh}")


def _date(form: dict[str, Any], name: str) -> date | None:
    value = form.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _form_error(f"{name} is not a YYYY-MM-DD date", f"{name} 不是 YYYY-MM-DD 日期")


def _read_form(path: str) -> dict[str, Any]:
    """The application form (a JSON object of the fields :meth:`Registry.submit` takes);
    errors name the field, never its value."""
    data = read_file(path, BadInputError, max_size=MAX_FORM_SIZE)
    try:
        form = json.loads(data)
    except (ValueError, RecursionError):
        _form_error("not JSON", "不是 JSON")
    if not isinstance(form, dict):
        _form_error("not a JSON object", "不是 JSON 对象")
    unknown = sorted(set(form) - set(_FORM_FIELDS))
    if unknown:
        names = ", ".join(name[:40] for name in unknown[:5])
        _form_error(f"unknown fields: {names}", f"未知字段：{names}")
    for name in _REQUIRED:
        if name not in form:
            _form_error(f"{name} is missing", f"缺少 {name}")
    for name, kinds in _FORM_FIELDS.items():
        if name in form and form[name] is not None and not isinstance(form[name], kinds):
            _form_error(f"{name} has the wrong type", f"{name} 类型错误")
    if not all(isinstance(c, str) for c in form.get("consents") or []):
        _form_error("consents must be strings", "consents 必须为字符串")
    applicant = form.get("applicant_document")
    if applicant is not None and (
        len(applicant) != 2
        or not isinstance(applicant[0], int | str)
        or not isinstance(applicant[1], str)
    ):
        _form_error("applicant_document is [type, number]", "applicant_document 应为 [类型, 号码]")
    return cast(dict[str, Any], form)


# -- the commands -----------------------------------------------------------------------------


@_step
def cmd_submit(args: argparse.Namespace) -> bool:
    """Record an application from the form; print its id."""
    form = _read_form(args.form)
    applicant = form.get("applicant_document")
    with _registry(args) as registry:
        app_id = registry.submit(
            channel=args.channel,
            document_type=form["document_type"],
            document_number=form["document_number"],
            name=form["name"],
            phone=form["phone"],
            region=form["region"],
            actor=args.actor,
            consents=form.get("consents") or (),
            relation=form.get("relation") or "self",
            applicant_document=(applicant[0], applicant[1]) if applicant else None,
            proof_of_relationship=bool(form.get("proof_of_relationship")),
            birth_date=_date(form, "birth_date"),
            document_issued=_date(form, "document_issued"),
            document_expires=_date(form, "document_expires"),
        )
    return _print({"application": app_id, "state": "submitted", "channel": args.channel})


@_step
def cmd_send_code(args: argparse.Namespace) -> bool:
    """Send a one-time code to the application's phone (the outbox file); print where."""
    outbox = _FolderOutbox(Path(args.outbox))
    with _registry(args, outbox.folder) as registry:
        registry.send_code(args.application, actor=args.actor)
    return _print({"application": args.application, "outbox": str(outbox.path(args.application))})


@_step
def cmd_check_code(args: argparse.Namespace) -> bool:
    """Check the code the applicant read; binds the phone."""
    with _registry(args) as registry:
        registry.check_code(args.application, args.code, actor=args.actor)
    return _print({"application": args.application, "phone_verified": True})


@_step
def cmd_review(args: argparse.Namespace) -> bool:
    """A clerk approves or rejects (with a reason) an application."""
    approve = args.decision == "approve"
    with _registry(args) as registry:
        registry.review(
            args.application, reviewer=args.reviewer, approve=approve, reason=args.reason
        )
    state = "approved" if approve else "rejected"
    return _print({"application": args.application, "state": state})


def _issued(issued: IssuedCard | None) -> dict[str, Any]:
    if issued is None:
        return {"text": None}
    return {"text": issued.text, "kid": issued.kid.hex(), "cti": issued.cti.hex()}


@_step
def cmd_issue(args: argparse.Namespace) -> bool:
    """Make the card of an approved application and sign its credential; print its QR text."""
    if not (args.key or args.pkcs11_module):
        raise UsageError(
            "issue needs --key or --pkcs11-module", "issue 需要 --key 或 --pkcs11-module"
        )
    with _registry(args) as registry:
        from ecard.workflow.store import ApplicationRow

        issued = registry.issue(args.application, actor=args.actor, sealed=args.sealed)
        with registry.store.session() as session:
            row = session.get(ApplicationRow, args.application)
            card_number = row.card_number if row else None
        state = registry.card_state(card_number).value if card_number else None
    body = {"application": args.application, "card_number": card_number, "state": state}
    return _print({**body, **_issued(issued)})


@_step
def cmd_status(args: argparse.Namespace) -> bool:
    """Print the state of an application or a card (no name, no document number)."""
    if bool(args.application) == bool(args.card):
        raise UsageError("give --application or --card", "请给出 --application 或 --card 之一")
    with _registry(args) as registry, registry.store.session() as session:
        from ecard.workflow.store import ApplicationRow, CardRow

        card: CardRow | None
        app: ApplicationRow | None
        if args.card:
            card = session.get(CardRow, args.card)
            app = session.get(ApplicationRow, card.application_id) if card else None
        else:
            app = session.get(ApplicationRow, args.application)
            card = session.get(CardRow, app.card_number) if app and app.card_number else None
        if app is None:
            registry.card_state(args.card or "")  # NOT_FOUND, the library's refusal
            raise AssertionError  # pragma: no cover
        body: dict[str, Any] = {
            "application": app.id,
            "channel": app.channel,
            "state": app.state,
            "phone_verified": app.phone_verified,
            "reviewed_by": app.reviewed_by,
            "card_number": card.card_number if card else None,
            "card_state": card.state if card else None,
        }
        body["replaced_by"] = card.replaced_by if card else None
    return _print(body)


def _change(event: CardEvent) -> Callable[[argparse.Namespace], bool]:
    @_step
    def cmd(args: argparse.Namespace) -> bool:
        with _registry(args) as registry:
            after = registry.change(args.card, event, actor=args.actor, reason=args.reason)
        return _print({"card_number": args.card, "card_state": after.value})

    cmd.__doc__ = f"Apply {event.value} to a card."
    return cmd


@_step
def cmd_activate(args: argparse.Namespace) -> bool:
    """Enable a sealed card, signing its credential."""
    with _registry(args) as registry:
        issued = registry.activate(args.card, actor=args.actor)
        state = registry.card_state(args.card).value
    return _print({"card_number": args.card, "card_state": state, **_issued(issued)})


@_step
def cmd_replace(args: argparse.Namespace) -> bool:
    """Replace a card: the old one is listed, a new card and credential follow it."""
    with _registry(args) as registry:
        issued = registry.replace(args.card, actor=args.actor, reason=args.reason or "")
        new = registry.replaced_by(args.card)
    return _print({"card_number": args.card, "card_state": "replaced", "new_card_number": new,
                   **_issued(issued)})  # fmt: skip


@_step
def cmd_publish(args: argparse.Namespace) -> bool:
    """Write the latest signed revocation list (a new one, same content, with ``--refresh``
    or when none exists yet) to ``--out``."""
    out = Path(args.out)
    refuse_overwrite(out, args)  # before anything is signed
    with _registry(args) as registry:
        data = registry.revocation_list()
        if data is None or args.refresh:
            data = registry.refresh_revocation_list(actor=args.actor)
    write_output(out, data, args)
    return _print({"out": str(out), "bytes": len(data)})


# -- the parser -------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, actor: bool = True) -> None:
    p.add_argument("--db", default=DEFAULT_DB, metavar="URL",
                   help="the workflow store (sqlite:///FILE or postgresql+psycopg://...)")  # fmt: skip
    p.add_argument(
        "--pseudonym-key-env",
        default=DEFAULT_KEY_ENV,
        metavar="VAR",
        help="environment variable holding the operator's hex pseudonym key",
    )
    p.add_argument("--now", type=parse_now, metavar="TIME",
                   help="the time of the step, ISO 8601 with a zone (default: the clock)")  # fmt: skip
    if actor:
        p.add_argument("--actor", default="clerk", metavar="ID",
                       help="who does the step (a clerk, or the applicant's account online)")  # fmt: skip
    lang_option(p)


def _issuer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", help="issuer private key (PEM), or use --pkcs11-module")
    p.add_argument("--key-password-env", metavar="VAR",
                   help="environment variable holding the key password")  # fmt: skip
    hsm_options(p)
    p.add_argument("--cert", help="issuer (document signer) certificate")
    p.add_argument("--alg", choices=ALG_NAMES, help="signature algorithm (default: the key's)")
    p.add_argument("--iss", default="CN", help="issuer country code")
    p.add_argument("--journal", metavar="DB",
                   help="issuance journal to record in (SQLite; default: none)")  # fmt: skip
    p.add_argument("--require-binding", action="store_true",
                   help="sign no bearer credential: the holder enrols a device "
                   "(recommended; default: off)")  # fmt: skip


def _list_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("revocation list signer")
    g.add_argument("--list-key", metavar="PEM", help="list signer private key (PEM)")
    g.add_argument("--list-key-password-env", metavar="VAR",
                   help="environment variable holding the list key password")  # fmt: skip
    g.add_argument("--list-cert", metavar="CERT", help="list signer certificate")
    g.add_argument("--list-chain", action="append", metavar="CERT",
                   help="CA certificates above the list signer (repeatable)")  # fmt: skip
    g.add_argument("--list-pkcs11-module", metavar="LIB",
                   help="PKCS#11 library of a list signer key in an HSM (instead of --list-key)")  # fmt: skip
    g.add_argument("--list-token", metavar="LABEL", help="token label of the list signer key")
    g.add_argument("--list-key-label", metavar="LABEL", help="label of the list signer key")
    g.add_argument("--list-pin-env", metavar="VAR",
                   help="environment variable holding the token's user PIN")  # fmt: skip
    if not any(a.dest == "journal" for a in p._actions):
        p.add_argument("--journal", metavar="DB",
                       help="issuance journal to record lists in (SQLite; default: none)")  # fmt: skip


_CHANGES: Final = (
    ("report-loss", CardEvent.REPORT_LOSS, "report a loss (临时挂失)"),
    ("lift", CardEvent.LIFT_LOSS, "lift a temporary loss report"),
    ("formal-loss", CardEvent.FORMAL_LOSS, "report a formal loss (正式挂失)"),
    ("freeze", CardEvent.FREEZE, "freeze a card"),
    ("unfreeze", CardEvent.UNFREEZE, "unfreeze a card"),
    ("cancel", CardEvent.CANCEL, "cancel a card (注销; needs --reason)"),
)


#: What a subcommand works on, its positional argument: (metavar, help).
_TARGETS: Final = {"application": ("ID", "application id"), "card": ("CARD", "card number")}


@contextmanager
def subcommand(
    sub: Subcommands,
    name: str,
    help: str,
    func: Callable[[argparse.Namespace], bool],
    *,
    target: str | None = None,
    target_help: str | None = None,
    epilog: str = WRITE_EPILOG,
    actor: bool = True,
) -> Iterator[argparse.ArgumentParser]:
    """One ``ecard application`` subcommand: its parser (with the positional ``target``,
    ``application`` or ``card``, first) for the block to add its own options to, then the
    common options (``--db``, ``--pseudonym-key-env``, ``--now``, ``--actor`` unless
    ``actor`` is false, ``--lang``) and ``func``."""
    p = sub.add_parser(name, help=help, epilog=epilog)
    if target is not None:
        metavar, what = _TARGETS[target]
        p.add_argument(target, metavar=metavar, help=target_help or what)
    yield p
    _common(p, actor=actor)
    p.set_defaults(func=func)


def outbox_option(p: argparse.ArgumentParser) -> None:
    """``--outbox``: the folder the one-time codes are written to."""
    p.add_argument("--outbox", default=DEFAULT_OUTBOX, metavar="DIR",
                   help="folder where the code is written, one ID.json per application")  # fmt: skip


def add_application(sub: Subcommands) -> None:
    """Register ``ecard application``."""
    a = sub.add_parser(
        "application",
        help="the application workflow: submit, review, issue, card statuses",
        epilog="exit status: see the help of each subcommand (ecard application submit --help ...)",
    )
    asub: Subcommands = a.add_subparsers(dest="application_cmd", required=True, parser_class=Parser)

    with subcommand(asub, "submit", "record an application from a JSON form", cmd_submit) as p:
        p.add_argument("form", metavar="FORM", help="JSON object: document_type, "
                       "document_number, name, phone, region, consents, relation, "
                       "applicant_document, ...")  # fmt: skip
        p.add_argument("--channel", choices=["online", "window"], default="window",
                       help="where the application comes from")  # fmt: skip

    with subcommand(asub, "send-code", "send a one-time code (to the outbox folder)",
                    cmd_send_code, target="application") as p:  # fmt: skip
        outbox_option(p)

    with subcommand(asub, "check-code", "check the code the applicant read", cmd_check_code,
                    target="application") as p:  # fmt: skip
        p.add_argument("--code", required=True, help="the 6-digit code")

    with subcommand(asub, "review", "approve or reject an application", cmd_review,
                    target="application", actor=False) as p:  # fmt: skip
        p.add_argument("decision", choices=["approve", "reject"], help="the decision")
        p.add_argument("--reviewer", required=True, metavar="ID", help="the reviewing clerk")
        p.add_argument("--reason", help="why (required to reject)")

    with subcommand(asub, "issue", "make the card and sign its credential", cmd_issue,
                    target="application", target_help="application id (approved)") as p:  # fmt: skip
        p.add_argument("--sealed", action="store_true",
                       help="make it sealed (封存): no credential yet")  # fmt: skip
        _issuer_options(p)

    with subcommand(asub, "activate", "enable a sealed card", cmd_activate, target="card") as p:
        _issuer_options(p)

    with subcommand(asub, "status", "the state of an application or card", cmd_status,
                    epilog=READ_EPILOG, actor=False) as p:  # fmt: skip
        p.add_argument("--application", metavar="ID", help="application id")
        p.add_argument("--card", metavar="CARD", help="card number")

    for name, event, what in _CHANGES:
        with subcommand(asub, name, what, _change(event), target="card") as p:
            p.add_argument("--reason", help="why (required to cancel)")
            _list_options(p)

    with subcommand(asub, "replace", "replace a card (补换): a new card and credential",
                    cmd_replace, target="card") as p:  # fmt: skip
        p.add_argument("--reason", required=True, help="why")
        _issuer_options(p)
        _list_options(p)

    with subcommand(asub, "publish-revocations", "write the signed revocation list",
                    cmd_publish) as p:  # fmt: skip
        p.add_argument("--out", required=True, metavar="FILE", help="the list file to write")
        p.add_argument("--refresh", action="store_true",
                       help="sign the next list with the same content (a new validity window)")  # fmt: skip
        force_option(p)
        _list_options(p)

    from ecard.cli.application_holder import add_holder_commands

    add_holder_commands(asub)


__all__ = [
    "DEFAULT_DB",
    "DEFAULT_KEY_ENV",
    "DEFAULT_OUTBOX",
    "MAX_FORM_SIZE",
    "add_application",
    "cmd_activate",
    "cmd_check_code",
    "cmd_issue",
    "cmd_publish",
    "cmd_replace",
    "cmd_review",
    "cmd_send_code",
    "cmd_status",
    "cmd_submit",
    "outbox_option",
    "subcommand",
]

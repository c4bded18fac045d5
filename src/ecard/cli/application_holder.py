"""``ecard application …`` steps on the holder's side and the scheduler's: the online
liveness step and automatic review, the service PIN, codes to a card's phone, the query,
device enrolment, lapsing temporary loss reports, checking the event chain and signing its
head (a checkpoint kept outside the database).

The same conventions as :mod:`ecard.cli.application`: one JSON object on standard output,
refusals typed with their workflow code. A PIN is never an argument (argv is visible to every
user of the machine): it comes from the environment variable ``--pin-env`` or, with
``--pin-stdin``, from the first line of standard input. Enrolment works with ``ecard wallet``:
``enrolment-challenge`` prints the nonces, ``ecard wallet request`` answers one in a request
file, ``enrol`` turns the request files into the bound credentials, ``ecard wallet accept``
stores one in its wallet.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Final

from ecard._files import read_file, write_atomic
from ecard.cli.application import (
    _FolderOutbox,
    _issuer_options,
    _list_options,
    _print,
    _registry,
    _step,
    outbox_option,
    subcommand,
)
from ecard.cli.common import Subcommands
from ecard.cli.errors import READ_EPILOG, UsageError
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError

#: The environment variable ``--pin-env`` names unless told otherwise.
DEFAULT_PIN_ENV: Final = "ECARD_PIN"
#: Largest liveness evidence file read.
MAX_EVIDENCE: Final = 8 * 1024 * 1024
#: Largest enrolment request file read.
MAX_REQUEST_FILE: Final = 4096
#: Largest checkpoint file read.
MAX_CHECKPOINT_FILE: Final = 4096


def _pin(args: argparse.Namespace) -> str:
    """The PIN from standard input (``--pin-stdin``) or the environment, never from argv."""
    if args.pin_stdin:
        return sys.stdin.readline(64).strip()
    value = os.environ.get(args.pin_env)
    if value is None:
        raise UsageError(
            f"set the PIN in ${args.pin_env} or give --pin-stdin",
            f"请在环境变量 ${args.pin_env} 中设置服务密码，或使用 --pin-stdin",
        )
    return value.strip()


@_step
def cmd_liveness(args: argparse.Namespace) -> bool:
    """Pass the liveness evidence to the liveness port; record only its verdict."""
    evidence = read_file(args.evidence, BadInputError, max_size=MAX_EVIDENCE)
    with _registry(args) as registry:
        registry.record_liveness(args.application, evidence, actor=args.actor)
    return _print({"application": args.application, "liveness": "pass"})


@_step
def cmd_review_online(args: argparse.Namespace) -> bool:
    """The online channel's automatic review (phone bound, liveness passed)."""
    with _registry(args) as registry:
        registry.review_online(args.application)
    return _print({"application": args.application, "state": "approved"})


@_step
def cmd_set_pin(args: argparse.Namespace) -> bool:
    """Set the card's service PIN."""
    pin = _pin(args)
    with _registry(args) as registry:
        registry.set_pin(args.card, pin, actor=args.actor)
    return _print({"card_number": args.card, "pin_set": True})


@_step
def cmd_send_card_code(args: argparse.Namespace) -> bool:
    """Send a one-time code to the phone of a card's application (the outbox file)."""
    outbox = _FolderOutbox(Path(args.outbox))
    with _registry(args, outbox.folder) as registry:
        registry.send_card_code(args.card, actor=args.actor)
        with registry.store.session() as session:
            from ecard.workflow.store import CardRow

            row = session.get(CardRow, args.card)
            application = row.application_id if row else ""
    return _print({"card_number": args.card, "outbox": str(outbox.path(application))})


@_step
def cmd_query(args: argparse.Namespace) -> bool:
    """The holder's query (code + PIN): the masked card and its status."""
    pin = _pin(args)
    with _registry(args) as registry:
        view = registry.query(args.card, args.code, pin, actor=args.actor)
    return _print({"card_number": view.card_number, "card_state": view.state.value,
                   "masked": view.masked})  # fmt: skip


@_step
def cmd_enrolment_challenge(args: argparse.Namespace) -> bool:
    """After the code and the PIN, print one enrolment nonce (hex) per profile."""
    pin = _pin(args)
    profiles = tuple(args.profile or ("full", "counter"))
    with _registry(args) as registry:
        nonces = registry.enrolment_challenge(
            args.card, args.code, pin, profiles=profiles, actor=args.actor
        )
    return _print({"card_number": args.card, "nonces": {p: n.hex() for p, n in nonces.items()}})


def _requests(values: list[str]) -> dict[str, bytes]:
    requests: dict[str, bytes] = {}
    for value in values:
        profile, sep, path = value.partition("=")
        if not sep or not profile or not path:
            raise UsageError("--request is PROFILE=FILE", "--request 应为 用途版本=文件")
        if profile in requests:
            raise UsageError(f"--request {profile} given twice", f"--request {profile} 重复")
        requests[profile] = read_file(path, BadInputError, max_size=MAX_REQUEST_FILE)
    return requests


@_step
def cmd_enrol(args: argparse.Namespace) -> bool:
    """Turn enrolment request files into the card's bound credentials (one per profile)."""
    if not (args.key or args.pkcs11_module):
        raise UsageError(
            "enrol needs --key or --pkcs11-module", "enrol 需要 --key 或 --pkcs11-module"
        )
    requests = _requests(args.request)
    with _registry(args) as registry:
        issued = registry.enrol_device(args.card, requests, actor=args.actor)
    out: dict[str, Any] = {}
    for profile, credential in sorted(issued.items()):
        out[profile] = {"text": credential.text, "kid": credential.kid.hex(),
                        "cti": credential.cti.hex()}  # fmt: skip
        if args.out_dir:
            path = Path(args.out_dir) / f"{profile}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, credential.text + "\n")
            out[profile]["file"] = str(path)
    return _print({"card_number": args.card, "credentials": out})


@_step
def cmd_lapse(args: argparse.Namespace) -> bool:
    """Temporary loss reports past the configured days lapse back to normal."""
    with _registry(args) as registry:
        count = registry.lapse_temporary_losses(actor=args.actor)
    return _print({"lapsed": count})


@_step
def cmd_verify_events(args: argparse.Namespace) -> bool:
    """Check the event log's hash chain, and that it still passes through every checkpoint
    given; print the count and the head digest."""
    kept = [
        read_file(path, BadInputError, max_size=MAX_CHECKPOINT_FILE)
        for path in args.checkpoint or ()
    ]
    if kept and not args.checkpoint_cert:
        raise UsageError(
            "--checkpoint needs --checkpoint-cert (the list signer certificate)",
            "--checkpoint 需要 --checkpoint-cert（列表签名证书）",
        )
    certificate = load_certificate_file(args.checkpoint_cert)[0] if kept else None
    with _registry(args) as registry:
        count, head = registry.verify_events(kept, certificate)
    return _print({"events": count, "head": head, "checkpoints": len(kept)})


@_step
def cmd_sign_events_head(args: argparse.Namespace) -> bool:
    """Sign the event log's head with the list signer and write the checkpoint to ``--out``
    (kept outside the database, e.g. with each revocation list published)."""
    with _registry(args) as registry:
        head = registry.sign_events_head()
    write_atomic(Path(args.out), head.cose)
    return _print({"events": head.seq, "head": head.record_hash.hex(), "out": str(args.out)})


def _code_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--code", required=True, help="the 6-digit code sent by send-card-code")


def _pin_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pin-env", default=DEFAULT_PIN_ENV, metavar="VAR",
                   help="environment variable holding the 6-digit PIN")  # fmt: skip
    p.add_argument("--pin-stdin", action="store_true",
                   help="read the PIN from the first line of standard input instead "
                   "(default: off)")  # fmt: skip


def add_holder_commands(asub: Any) -> None:
    """Register the holder's and the scheduler's subcommands of ``ecard application``."""
    sub: Subcommands = asub

    with subcommand(sub, "liveness", "the online liveness step through the liveness port",
                    cmd_liveness, target="application") as p:  # fmt: skip
        p.add_argument("--evidence", required=True, metavar="FILE",
                       help="the liveness evidence passed to the port (never stored)")  # fmt: skip
        p.add_argument("--verdict", choices=["pass", "fail"], default="pass",
                       help="the verdict of the local stand-in for the liveness vendor")  # fmt: skip

    with subcommand(sub, "review-online", "the online channel's automatic review",
                    cmd_review_online, target="application", actor=False):  # fmt: skip
        pass

    with subcommand(sub, "set-pin", "set the card's service PIN (from the environment or "
                    "standard input)", cmd_set_pin, target="card") as p:  # fmt: skip
        _pin_options(p)

    with subcommand(sub, "send-card-code", "send a one-time code to a card's phone",
                    cmd_send_card_code, target="card") as p:  # fmt: skip
        outbox_option(p)

    with subcommand(sub, "query", "the holder's query: code + PIN, the masked card",
                    cmd_query, target="card") as p:  # fmt: skip
        _code_option(p)
        _pin_options(p)

    with subcommand(sub, "enrolment-challenge", "code + PIN: the nonces a device answers",
                    cmd_enrolment_challenge, target="card") as p:  # fmt: skip
        _code_option(p)
        p.add_argument("--profile", action="append", choices=["full", "counter"],
                       help="a profile to enrol (repeatable; default: full and counter)")  # fmt: skip
        _pin_options(p)

    with subcommand(sub, "enrol", "enrolment request files -> the bound credentials",
                    cmd_enrol, target="card") as p:  # fmt: skip
        p.add_argument("--request", action="append", required=True, metavar="PROFILE=FILE",
                       help="an enrolment request made by 'ecard wallet request' "
                       "(repeatable)")  # fmt: skip
        p.add_argument("--out-dir", metavar="DIR",
                       help="also write each credential to DIR/PROFILE.txt (default: only "
                       "print)")  # fmt: skip
        _issuer_options(p)
        _list_options(p)

    with subcommand(sub, "lapse-temporary-losses", "lapse temporary loss reports past their "
                    "days (run daily)", cmd_lapse) as p:  # fmt: skip
        p.add_argument("--temporary-loss-days", type=int, default=10, metavar="N",
                       help="days after which a temporary loss report lapses (5-15)")  # fmt: skip
        _list_options(p)

    with subcommand(sub, "verify-events", "check the event log's hash chain (and that it "
                    "still passes through kept checkpoints)", cmd_verify_events,
                    epilog=READ_EPILOG, actor=False) as p:  # fmt: skip
        p.add_argument("--checkpoint", action="append", metavar="FILE",
                       help="a checkpoint from 'sign-events-head' (repeatable; default: none)")  # fmt: skip
        p.add_argument("--checkpoint-cert", metavar="CERT",
                       help="the list signer certificate the checkpoints were signed with "
                       "(needed with --checkpoint)")  # fmt: skip

    with subcommand(sub, "sign-events-head", "sign the event log's head with the list signer: "
                    "a checkpoint to keep outside the database", cmd_sign_events_head,
                    actor=False) as p:  # fmt: skip
        p.add_argument("--out", required=True, metavar="FILE",
                       help="where to write the checkpoint")  # fmt: skip
        _list_options(p)


__all__ = [
    "DEFAULT_PIN_ENV",
    "add_holder_commands",
    "cmd_enrol",
    "cmd_enrolment_challenge",
    "cmd_lapse",
    "cmd_liveness",
    "cmd_query",
    "cmd_review_online",
    "cmd_send_card_code",
    "cmd_set_pin",
    "cmd_sign_events_head",
    "cmd_verify_events",
]

"""``ecard wallet``: the holder's side for pilots and the demo: create a device key, enrol it
with a local issuer (or answer a registry's nonce, ``request``, and keep the bound card it
makes, ``accept``), show live ``EC2:`` codes.

A wallet is a folder: ``device.pem`` (the device key, PKCS#8 encrypted under the passphrase
in the environment variable ``--passphrase-env``), ``card.txt`` (the bound card) and
``clock.json`` (the server time offset, against the monotonic clock, see
:class:`ecard.holder.wallet.HolderClock`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ecard._files import read_file, write_atomic
from ecard.cli.common import (
    Subcommands,
    card_record,
    hsm_options,
    lang_option,
    parse_now,
    signer,
)
from ecard.cli.errors import WRITE_EPILOG, Parser, UsageError
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError
from ecard.formats.presentation import PURPOSES
from ecard.formats.qrimage import render_png, render_terminal
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import REFRESH_SECONDS, HolderClock, Presenter, enrolment_request
from ecard.signing.binding import check_enrolment, new_nonce
from ecard.signing.issuer import Issuer

KEY_FILE, CARD_FILE, CLOCK_FILE = "device.pem", "card.txt", "clock.json"


def _passphrase(args: argparse.Namespace) -> bytes:
    value = os.environ.get(args.passphrase_env)
    if not value:
        raise UsageError(
            f"set the wallet passphrase in ${args.passphrase_env}",
            f"请在环境变量 ${args.passphrase_env} 中设置钱包口令",
        )
    return value.encode()


def cmd_create(args: argparse.Namespace) -> bool:
    """Create the device key of a wallet."""
    folder = Path(args.wallet)
    if (folder / KEY_FILE).exists() and not args.force:
        raise UsageError(
            f"{folder / KEY_FILE} exists (use --force to replace it)",
            f"{folder / KEY_FILE} 已存在（用 --force 替换）",
        )
    key = SoftwareDeviceKey.generate(args.alg)
    key.save(folder / KEY_FILE, _passphrase(args))
    print(
        f"{folder / KEY_FILE}: {key.algorithm.name} device key {key.device_key.thumbprint[:8].hex()}"
    )
    return True


def cmd_enrol(args: argparse.Namespace) -> bool:
    """Enrol the wallet's device key with a local issuer: nonce, proof of possession, bound
    card; and set the wallet's clock from the issuer's."""
    folder = Path(args.wallet)
    device = SoftwareDeviceKey.load(folder / KEY_FILE, _passphrase(args))
    card = card_record(args.card)
    issuer = Issuer(signer(args), load_certificate_file(args.cert)[0])
    nonce = new_nonce()  # the issuer's side
    request = enrolment_request(device, nonce)  # the device's side
    key = check_enrolment(request, nonce)  # the issuer checks possession before binding
    server_time = datetime.now(UTC)
    issued = issuer.issue(card, device_key=key, iat=server_time, profile=args.profile)
    clock = HolderClock.synced(server_time)
    write_atomic(folder / CARD_FILE, issued.text + "\n")
    write_atomic(folder / CLOCK_FILE, json.dumps({"offset": clock.offset}) + "\n")
    print(
        f"{folder / CARD_FILE}: {args.profile} card bound to device key {key.thumbprint[:8].hex()}"
    )
    return True


def cmd_request(args: argparse.Namespace) -> bool:
    """Answer an issuer's enrolment nonce (hex) with the wallet's device key: write the
    enrolment request file (``ecard application enrol --request PROFILE=FILE``)."""
    device = SoftwareDeviceKey.load(Path(args.wallet) / KEY_FILE, _passphrase(args))
    try:
        nonce = bytes.fromhex(args.nonce)
    except ValueError:
        raise UsageError("--nonce is hex", "--nonce 应为十六进制") from None
    write_atomic(Path(args.out), enrolment_request(device, nonce))
    print(f"{args.out}: enrolment request of device key {device.device_key.thumbprint[:8].hex()}")
    return True


def cmd_accept(args: argparse.Namespace) -> bool:
    """Keep a bound card the issuer made for this wallet's key, and set the wallet's clock
    from the issuer's time (``--server-time``, default now)."""
    folder = Path(args.wallet)
    device = SoftwareDeviceKey.load(folder / KEY_FILE, _passphrase(args))
    text = read_file(args.card, BadInputError, max_size=8192).decode("ascii", "replace").strip()
    server_time = args.server_time or datetime.now(UTC)
    clock = HolderClock.synced(server_time)
    Presenter(text, device, clock)  # refuses a card bound to another key
    write_atomic(folder / CARD_FILE, text + "\n")
    write_atomic(folder / CLOCK_FILE, json.dumps({"offset": clock.offset}) + "\n")
    print(
        f"{folder / CARD_FILE}: card bound to device key {device.device_key.thumbprint[:8].hex()}"
    )
    return True


def _presenter(args: argparse.Namespace) -> Presenter:
    folder = Path(args.wallet)
    device = SoftwareDeviceKey.load(folder / KEY_FILE, _passphrase(args))
    card = read_file(folder / CARD_FILE, BadInputError, max_size=8192).decode("ascii", "replace")
    try:
        offset = json.loads(read_file(folder / CLOCK_FILE, BadInputError, max_size=1024))["offset"]
    except (ValueError, KeyError, TypeError):
        raise BadInputError(f"{folder / CLOCK_FILE}: not a wallet clock") from None
    if not isinstance(offset, int | float) or isinstance(offset, bool):
        raise BadInputError(f"{folder / CLOCK_FILE}: not a wallet clock")
    return Presenter(card.strip(), device, HolderClock(float(offset)))


def cmd_present(args: argparse.Namespace) -> bool:
    """Show the live code: once on standard output, or refreshed in the terminal."""
    presenter = _presenter(args)
    if args.once:
        text, _ = presenter.current(args.purpose, challenge=args.challenge)
        if args.png:
            write_atomic(Path(args.png), render_png(text, level="M"))
        print(text)
        return True
    try:
        while True:
            text, left = presenter.current(args.purpose, challenge=args.challenge)
            if args.png:
                write_atomic(Path(args.png), render_png(text, level="M"))
            sys.stderr.write("\x1b[2J\x1b[H")
            sys.stderr.write(render_terminal(text, level="M", plain=args.ascii) + "\n")
            sys.stderr.write(f"{args.purpose}: refreshes in {left:2d} s (Ctrl-C to stop)\n")
            sys.stderr.flush()
            time.sleep(1)
    except KeyboardInterrupt:
        return True


def add_wallet(sub: Subcommands) -> None:
    """Register ``ecard wallet`` (create, enrol, request, accept, present)."""
    w = sub.add_parser(
        "wallet",
        help="the holder's device: key, enrolment, live EC2: codes (pilots, demo)",
        epilog="exit status: see the help of each subcommand (ecard wallet present --help ...)",
    )
    ws = w.add_subparsers(dest="wallet_cmd", required=True, parser_class=Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--wallet", required=True, metavar="DIR", help="the wallet folder")
        p.add_argument(
            "--passphrase-env",
            default="ECARD_WALLET_PASSPHRASE",
            metavar="VAR",
            help="env variable holding the device key passphrase",
        )
        lang_option(p)

    c = ws.add_parser("create", help="create the device key (encrypted file)", epilog=WRITE_EPILOG)
    common(c)
    c.add_argument("--alg", default="ES256", choices=["ES256", "EdDSA"], help="key algorithm")
    c.add_argument("--force", action="store_true", help="replace an existing key")
    c.set_defaults(func=cmd_create)

    e = ws.add_parser(
        "enrol", help="bind a card to the device key with a local issuer", epilog=WRITE_EPILOG
    )
    common(e)
    e.add_argument("--card", required=True, metavar="CARD.json", help="card record")
    e.add_argument("--key", help="issuer's document signer private key (PEM)")
    e.add_argument("--key-password-env", metavar="VAR", help="env variable holding its password")
    e.add_argument("--cert", required=True, help="issuer's document signer certificate")
    e.add_argument(
        "--profile",
        default="full",
        choices=["full", "counter"],
        help="the full card, or its counter profile without the ID number (give each profile "
        "its own wallet, so that the credentials share no key)",
    )
    hsm_options(e)
    e.set_defaults(func=cmd_enrol)

    r = ws.add_parser(
        "request", help="answer an issuer's enrolment nonce: the request file", epilog=WRITE_EPILOG
    )
    common(r)
    r.add_argument("--nonce", required=True, metavar="HEX", help="the nonce the issuer gave")
    r.add_argument("--out", required=True, metavar="FILE", help="the request file to write")
    r.set_defaults(func=cmd_request)

    a = ws.add_parser(
        "accept", help="keep a bound card made for this wallet's key", epilog=WRITE_EPILOG
    )
    common(a)
    a.add_argument("--card", required=True, metavar="FILE", help="the bound card's EC1: text")
    a.add_argument("--server-time", type=parse_now, metavar="TIME",
                   help="the issuer's time, ISO 8601 with a zone (default: the clock)")  # fmt: skip
    a.set_defaults(func=cmd_accept)

    p = ws.add_parser(
        "present",
        help="show the live code for a purpose",
        epilog="exit status: 0 shown (or interrupted after showing); 1 the wallet or its card "
        "is unusable; 2 usage error",
    )
    common(p)
    p.add_argument("--purpose", required=True, choices=sorted(PURPOSES), help="what it is for")
    p.add_argument("--challenge", metavar="CODE", help="the code the counter shows")
    p.add_argument("--once", action="store_true", help="print one code on standard output")
    p.add_argument(
        "--png",
        metavar="FILE",
        help=f"write the QR code as PNG (rewritten every {REFRESH_SECONDS} s)",
    )
    p.add_argument("--ascii", action="store_true", help="plain ASCII terminal QR code")
    p.set_defaults(func=cmd_present)


__all__ = ["add_wallet"]

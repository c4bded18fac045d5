"""What several ``ecard`` commands share: option groups, reading the options into library
values (a key source, a list configuration, certificates, a card record), and ``--now``.

Only translation between options and the library happens here; what the values mean lives in
the library (:mod:`ecard.signing.keysource`, :mod:`ecard.verify.loading`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

from cryptography import x509

from ecard._files import write_atomic
from ecard.cli.errors import InvalidRecordError, Parser, UsageError, lang_of
from ecard.crypto.algorithms import ALGORITHMS
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import Lang
from ecard.verify.loading import ListConfig, LoadedLists
from ecard.verify.loading import read_list_file as read_input

if TYPE_CHECKING:  # the models and the issuing side load only for a command that needs them
    from ecard.card import Card
    from ecard.signing.keysource import KeySource
    from ecard.signing.signers import Signer
    from ecard.verify.paths import PathValidator

#: The subparsers of ``ecard`` (and of its command groups) that a command module adds to.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"

#: The algorithm names ``--alg`` and ``--allow-alg`` accept.
ALG_NAMES = sorted(a.name for a in ALGORITHMS.values())


#: The earliest and latest times ``--now`` and the other time options accept (UTC): the
#: Unix epoch, and a year before the end of the calendar so that validity periods still fit.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_now(value: str) -> datetime:
    """An ISO 8601 time with a zone (``--now``, ``--revoked-at``) between :data:`EARLIEST` and
    :data:`LATEST`; an argparse type error (a usage error) otherwise."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-01-01T08:00:00+08:00")
    try:
        in_utc = when.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise argparse.ArgumentTypeError(
            f"time {value!r} out of range: allowed {EARLIEST.isoformat()} .. {LATEST.isoformat()}"
        )
    return when


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high`` (a usage error, with the allowed
    range, otherwise)."""

    def parse(value: str) -> int:
        try:
            number = int(value, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} out of range: allowed {low} .. {high}")
        return number

    parse.__name__ = "integer"
    return parse


#: Longest validity, in days, that ``--days``, ``--validity-days`` and ``--next-update-days``
#: accept (100 years).
MAX_DAYS: Final = 36500

#: ``--days``-like options: a whole number of days from 1 to :data:`MAX_DAYS`.
days = bounded_int(1, MAX_DAYS)


# -- language ---------------------------------------------------------------------------------


def lang_option(p: argparse.ArgumentParser, what: str = "message language") -> None:
    """``--lang en|zh``: the language of the command's messages, errors and output."""
    p.add_argument(
        "--lang", default="en", choices=["en", "zh"], help=what + " (default: %(default)s)"
    )


def say(args: argparse.Namespace, en: str, zh: str) -> str:
    """``en`` or ``zh``, as the command's ``--lang`` asks (:func:`~ecard.cli.errors.lang_of`)."""
    return zh if lang_of(args) == "zh" else en


# -- writing ----------------------------------------------------------------------------------


def force_option(p: argparse.ArgumentParser) -> None:
    """``--force``: replace files that already exist (keys, certificates, manifests, lists,
    pictures, PDFs, signed heads)."""
    p.add_argument(
        "--force",
        action="store_true",
        help="replace output files that already exist (default: refuse)",
    )


def refuse_overwrite(path: Path, args: argparse.Namespace) -> None:
    """A :class:`UsageError` if ``path`` exists and the command was not given ``--force``."""
    if path.exists() and not getattr(args, "force", False):
        raise UsageError(
            f"{path} already exists: not replaced (a key, certificate, list, picture or PDF "
            "overwritten is lost); write to another file, or give --force to replace it",
            f"{path} 已存在，未覆盖（被覆盖的密钥、证书、列表、图片或 PDF 将无法找回）；"
            "请写到另一个文件，或用 --force 覆盖",
            labelled=False,
        )


def write_output(
    path: Path, data: bytes | str, args: argparse.Namespace, *, private: bool = False
) -> None:
    """Write ``data`` to ``path`` atomically, refusing to replace an existing file without
    ``--force`` (:func:`refuse_overwrite`)."""
    refuse_overwrite(path, args)
    write_atomic(path, data, private=private)


def certificates(paths: Iterable[str] | None) -> list[x509.Certificate]:
    """Every certificate in the files ``paths`` (none for ``None``)."""
    return [c for path in (paths or []) for c in load_certificate_file(path)]


def card_record(path: str) -> Card:
    """The card record (JSON) in ``path``; :class:`InvalidRecordError` if it does not validate."""
    from ecard.card import Card  # the models, for the commands that read a card record

    data = read_input(path)
    try:
        return Card.model_validate_json(data)
    except ValueError as exc:
        raise InvalidRecordError(
            f"{path}: invalid card record:\n{exc}", detail_zh=f"{path}：卡片记录无效：\n{exc}"
        ) from None


# -- keys -------------------------------------------------------------------------------------


def hsm_options(p: argparse.ArgumentParser) -> None:
    """The PKCS#11 key options (``--pkcs11-module``, ``--token``, ``--key-label``, ``--pin-env``)."""
    g = p.add_argument_group("key in an HSM or smart card (PKCS#11, extra 'hsm')")
    g.add_argument("--pkcs11-module", metavar="LIB", help="PKCS#11 library (.so)")
    g.add_argument("--token", metavar="LABEL", help="token label")
    g.add_argument("--key-label", metavar="LABEL", help="label of the private key")
    g.add_argument("--pin-env", metavar="VAR", help="env variable holding the user PIN")


def signer_source(args: argparse.Namespace, algorithm: str | None = None) -> KeySource:
    """Where the options say the signing key is (a PEM key file, or a key in a PKCS#11
    token), as a picklable description that opens into a signer where it is used."""
    from ecard.signing.keysource import key_source

    return key_source(
        key=args.key,
        key_password_env=args.key_password_env,
        pkcs11_module=args.pkcs11_module,
        token=args.token,
        key_label=args.key_label,
        pin_env=args.pin_env,
        algorithm=algorithm,
    )


def signer(args: argparse.Namespace, algorithm: str | None = None) -> Signer:
    """The signer the options name: a PEM key file, or a key in a PKCS#11 token."""
    return signer_source(args, algorithm).open()


def journal_options(p: argparse.ArgumentParser) -> None:
    """``--journal DB`` and ``--operator ID``."""
    p.add_argument(
        "--journal", metavar="DB", help="issuance journal to record in (SQLite; default: none)"
    )
    p.add_argument(
        "--operator", metavar="ID", help="operator id recorded in the journal (needs --journal)"
    )


def list_signer_options(p: argparse.ArgumentParser) -> None:
    """The options of a command that signs a list: the list signer's key (file or PKCS#11),
    the journal, its certificate and the CA certificates above it."""
    p.add_argument("--key", help="list signer private key (PEM), or use --pkcs11-module")
    hsm_options(p)
    journal_options(p)
    p.add_argument(
        "--key-password-env", metavar="VAR", help="environment variable holding the key password"
    )
    p.add_argument("--cert", required=True, help="list signer certificate")
    p.add_argument("--chain", action="append", metavar="CERT", help="CA certificates above it")


# -- lists ------------------------------------------------------------------------------------


def list_options(p: argparse.ArgumentParser) -> None:
    """``--root``, ``--ca``, ``--crl`` and ``--state``: what lists and paths are checked against."""
    p.add_argument(
        "--root",
        action="append",
        metavar="CERT",
        help="trust anchor (root CA certificate) for certificate paths and lists (repeatable; "
        "default: none, no path is checked)",
    )
    p.add_argument(
        "--ca",
        action="append",
        metavar="CERT",
        help="issuing CA certificates that paths may go through (repeatable; default: none)",
    )
    p.add_argument(
        "--crl",
        action="append",
        metavar="FILE",
        help="CRL of a CA in the paths (PEM or DER; repeatable); with CRLs, every CA "
        "in a path must have one (default: none, certificate revocation is not checked)",
    )
    p.add_argument(
        "--state",
        metavar="FILE",
        help="file recording accepted list sequence numbers (refuses rollback; default: none)",
    )


def list_config(args: argparse.Namespace) -> ListConfig:
    """The list configuration the options name (``--trust``/``--trust-list`` and
    ``--revocation-list`` where the command has them, ``--allow-alg``)."""
    allowed = getattr(args, "allow_alg", None)
    return ListConfig(
        trust=tuple(getattr(args, "trust", None) or ()),
        trust_list=getattr(args, "trust_list", None),
        revocation_list=getattr(args, "revocation_list", None),
        roots=tuple(args.root or ()),
        cas=tuple(args.ca or ()),
        crls=tuple(args.crl or ()),
        state=args.state,
        algorithms=frozenset(allowed) if allowed else None,
        now=getattr(args, "now", None),
    )


def path_validator(config: ListConfig, lang: Lang = "en") -> PathValidator | None:
    """:meth:`ListConfig.path_validator`, telling on standard error (in ``lang``) that
    certificate revocation is not checked when roots come without CRLs."""
    validator = config.path_validator()
    if validator is not None and not config.crls:
        note = (
            "ecard: 注意：未给出 --crl：不检查证书吊销状态"
            if lang == "zh"
            else "ecard: note: no --crl given: certificate revocation is NOT checked"
        )
        print(note, file=sys.stderr)
    return validator


def load_lists(config: ListConfig, lang: Lang = "en") -> LoadedLists:
    """:meth:`ListConfig.load` under :func:`path_validator`, telling on standard error (in
    ``lang``) which trusted signers had to be left out."""
    lists = config.load(validator=path_validator(config, lang))
    for subject, reason in lists.trust.unusable if lists.trust else ():
        warning = (
            f"ecard: 警告：受信任的签名者 {subject} 已排除：{reason}"
            if lang == "zh"
            else f"ecard: warning: trusted signer {subject} left out: {reason}"
        )
        print(warning, file=sys.stderr)
    return lists


__all__ = [
    "ALG_NAMES",
    "EARLIEST",
    "LATEST",
    "MAX_DAYS",
    "Subcommands",
    "bounded_int",
    "card_record",
    "certificates",
    "days",
    "force_option",
    "hsm_options",
    "journal_options",
    "lang_option",
    "list_config",
    "list_options",
    "list_signer_options",
    "load_lists",
    "parse_now",
    "path_validator",
    "read_input",
    "refuse_overwrite",
    "say",
    "signer",
    "write_output",
]

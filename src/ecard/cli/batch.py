"""``ecard batch issue|verify|audit``: the bulk paths of :mod:`ecard.batch` on all cores
(``--workers N``) or on Dask (``--dask local`` or ``--dask tcp://host:8786``), with a progress
bar (tqdm) on standard error when it is a terminal or ``--progress`` asks for one."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from cryptography.hazmat.primitives.serialization import Encoding

from ecard.cli.common import (
    ALG_NAMES,
    MAX_DAYS,
    Subcommands,
    bounded_int,
    hsm_options,
    lang_option,
    list_config,
    list_options,
    load_lists,
    parse_now,
    signer_source,
)
from ecard.cli.errors import STATUS_EPILOG, UsageError, setting_up
from ecard.cli.journal import pseudonym_key
from ecard.cli.verify import check_list_options, check_trust_files, summary
from ecard.crypto.x509 import load_certificate_file
from ecard.errors import BadInputError


@contextlib.contextmanager
def _progress(args: argparse.Namespace, total: int | None) -> Iterator[Callable[[int], None]]:
    """A callback advancing a tqdm bar on stderr (rate, time left), or doing nothing."""
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    if not show:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="row", file=sys.stderr, smoothing=0.1) as bar:
        yield bar.update


def _count_lines(paths: list[str]) -> int | None:
    """The number of lines in the files (for the bar's time left); ``None`` if unreadable."""
    total = 0
    try:
        for path in paths:
            with open(path, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None
    return total


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ecard.batch.engines import engine

    return engine(args.workers, args.dask)


@contextlib.contextmanager
def _interrupted_note(lang: str) -> Iterator[None]:
    """On Ctrl-C, say that nothing was released and how to go on (the exit status stays 130)."""
    try:
        yield
    except KeyboardInterrupt:
        if lang == "zh":
            note = "ecard: 批量签发已中断：尚未发布任何结果；用同一命令再次运行即可从中断处继续"
        else:
            note = (
                "ecard: batch interrupted: nothing was released; run the same command again "
                "to carry on where it stopped"
            )
        print(note, file=sys.stderr)
        raise


def cmd_batch_issue(args: argparse.Namespace) -> bool:
    """Issue every row of the input; whether every row was valid."""
    from ecard.batch.issue import IssueJob, issue_batch
    from ecard.batch.parquet import declared_rows
    from ecard.batch.rows import input_format
    from ecard.journal import Journal

    fmt = input_format(args.input, args.format)
    source = signer_source(args, args.alg)
    key = pseudonym_key("ecard batch issue", args.pseudonym_key_env)
    cert = load_certificate_file(args.cert)[0]
    now = args.now or datetime.now(UTC)
    job = IssueJob(
        key=source,
        certificate=cert.public_bytes(Encoding.DER),
        batch=args.batch,
        pseudonym_key_env=args.pseudonym_key_env,
        iat=int(now.timestamp()),
        iss=args.iss,
        validity_days=args.validity_days,
    )
    source.open()  # a wrong key, PIN or module fails here, before any worker starts
    total = declared_rows(args.input) if fmt == "parquet" else _count_lines([args.input])
    with (
        _interrupted_note(args.lang),
        Journal.open(args.journal, pseudonym_key=key) as journal,
        _engine(args) as eng,
        _progress(args, total) as advance,
    ):
        result = issue_batch(
            args.input,
            fmt,
            args.results,
            job,
            journal=journal,
            operator=args.operator,
            engine=eng,
            texts=args.texts,
            chunk_size=args.chunk_size,
            progress=advance,
            png_dir=args.png_dir,
        )
    if args.lang == "zh":
        line = (
            f"ecard: 批量签发：{result.issued} 张已签发，{result.invalid} 行无效，"
            f"{result.duplicate} 行重复，{result.resumed} 行此前已完成"
        )
    else:
        line = (
            f"ecard: batch: {result.issued} issued, {result.invalid} invalid, "
            f"{result.duplicate} duplicate, {result.resumed} done before"
        )
    print(line, file=sys.stderr)
    return result.all_valid


def _verify_job(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ecard.batch.verify import VerifyJob

    if not args.trust and not args.trust_list:
        raise UsageError("give --trust PATH or --trust-list FILE", "请给出 --trust 或 --trust-list")
    check_list_options(args)
    with setting_up():
        check_trust_files(args.trust or (), args.lang)
        for path in args.files:
            with open(path, "rb"):  # missing or unreadable: nothing was judged, exit 3
                pass
            if os.path.isdir(path):
                raise IsADirectoryError(21, "is a folder, not a file", path)
        config = list_config(args)
        load_lists(config)  # once, in this process: rollback state checked and recorded
    return VerifyJob(config=config, now=args.now or datetime.now(UTC), lang=args.lang)


def cmd_batch_verify(args: argparse.Namespace) -> bool:
    """Verify every code of every file, one JSON line each; whether all were valid."""
    from ecard.batch.verify import verify_batch

    job = _verify_job(args)
    with _engine(args) as eng, _progress(args, _count_lines(args.files)) as advance:
        counts = verify_batch(args.files, job, sys.stdout, engine=eng, progress=advance)
    if not counts:
        raise BadInputError("no code in the files")
    print(summary(counts, args.lang), file=sys.stderr)
    return set(counts) == {"OK"}


def cmd_batch_audit(args: argparse.Namespace) -> bool:
    """Audit every file, one JSON line per finding; whether every finding passed."""
    from ecard.batch.verify import audit_batch

    job = _verify_job(args)
    with _engine(args) as eng, _progress(args, len(args.files)) as advance:
        counts = audit_batch(args.files, job, sys.stdout, engine=eng, progress=advance)
    print(summary(Counter(counts), args.lang), file=sys.stderr)
    return counts["failed"] == 0 and counts["passed"] > 0


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=bounded_int(1, 1024),
        metavar="N",
        help="worker processes (default: one per core; 1: this process alone)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on Dask: 'local' (a LocalCluster of --workers processes) or a scheduler "
        "address such as tcp://10.0.0.5:8786 (extra 'dask')",
    )
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", action="store_true", default=None, help="show a progress bar on stderr"
    )
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show a progress bar"
    )
    lang_option(p)


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="files to read (one QR text a line)")
    p.add_argument("--trust", action="append", metavar="PATH", help="trusted issuer certificates")
    p.add_argument("--trust-list", metavar="FILE", help="signed trust list (needs --root)")
    p.add_argument("--revocation-list", metavar="FILE", help="signed revocation list")
    list_options(p)
    p.add_argument(
        "--allow-alg", action="append", choices=ALG_NAMES, metavar="ALG", help="accepted algorithms"
    )
    p.add_argument("--now", type=parse_now, metavar="ISO8601", help="as of this time")
    _engine_options(p)


def add_batch(sub: Subcommands) -> None:
    """Register ``ecard batch issue|verify|audit``."""
    b = sub.add_parser(
        "batch",
        help="bulk issuance and verification (all cores or Dask)",
        epilog="exit status: see the help of each subcommand (ecard batch issue --help ...)",
    )
    bsub = b.add_subparsers(dest="batch_cmd", required=True, parser_class=type(b))

    i = bsub.add_parser(
        "issue",
        help="issue every card record of a CSV or JSON Lines file, resumably",
        epilog="exit status: 0 every row issued; 1 a row was invalid or the batch failed; "
        "2 usage error",
    )
    i.add_argument(
        "input", metavar="INPUT", help="card records (.csv, .jsonl or, with pyarrow, .parquet)"
    )
    i.add_argument(
        "--format", choices=["csv", "jsonl", "parquet"], help="input format (default: by name)"
    )
    i.add_argument("--results", required=True, metavar="FILE", help="result file (JSON Lines)")
    i.add_argument("--texts", metavar="FILE", help="also write the QR texts, one per line")
    i.add_argument(
        "--png-dir",
        metavar="DIR",
        help="also write a PNG of each issued code to DIR, CTI.png (slow; default: none)",
    )
    i.add_argument("--batch", required=True, metavar="NAME", help="the batch's name (identity)")
    i.add_argument("--key", help="document signer private key (PEM), or use --pkcs11-module")
    i.add_argument("--key-password-env", metavar="VAR", help="env variable holding the password")
    hsm_options(i)
    i.add_argument("--cert", required=True, help="document signer certificate")
    i.add_argument("--alg", choices=ALG_NAMES, help="algorithm (default: the key's natural one)")
    i.add_argument("--iss", default="CN", help="issuer claim (default: CN)")
    i.add_argument(
        "--validity-days", type=bounded_int(1, MAX_DAYS), metavar="N", help="lifetime cap"
    )
    i.add_argument("--journal", required=True, metavar="DB", help="issuance journal (SQLite)")
    i.add_argument("--operator", required=True, metavar="ID", help="operator id")
    i.add_argument(
        "--pseudonym-key-env", required=True, metavar="VAR", help="hex pseudonym key (journal)"
    )
    i.add_argument("--now", type=parse_now, metavar="ISO8601", help="issuance time (default: now)")
    i.add_argument(
        "--chunk-size",
        type=bounded_int(1, 100_000),
        default=2000,
        metavar="N",
        help="rows a task (default: %(default)s)",
    )
    _engine_options(i)
    i.set_defaults(func=cmd_batch_issue)

    v = bsub.add_parser(
        "verify", help="verify every QR text in files, one JSON line each", epilog=STATUS_EPILOG[0]
    )
    _list_options(v)
    v.set_defaults(func=cmd_batch_verify)

    a = bsub.add_parser(
        "audit",
        help="audit many files, one JSON line per finding",
        epilog=STATUS_EPILOG[0].replace("every input valid", "every finding passed"),
    )
    _list_options(a)
    a.set_defaults(func=cmd_batch_audit)


__all__ = ["add_batch", "cmd_batch_audit", "cmd_batch_issue", "cmd_batch_verify"]

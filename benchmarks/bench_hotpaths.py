"""The single-card hot paths, each next to the bare primitive measured in the same run.

    python benchmarks/bench_hotpaths.py [--seconds S] [--cards N] [--runs R]

Prints, pinned to one core where the OS allows (``os.sched_setaffinity``), with the garbage
collector's state:

* full verify (QR text -> verdict) over distinct ES256 credentials / a bare P-256 verify
  (goal >= 0.7);
* ``ecard verify --json`` in scanner mode (a child process reading N distinct codes on standard
  input, one JSON line out per code; its start-up subtracted) / the bare verify (goal >= 0.6);
* issue to QR text / a bare P-256 sign (goal >= 0.5), what the QR text stage (deflate and
  Base45) costs of it on distinct credentials, and the format's floor: a bare sign plus the
  deflate and Base45 the fixed QR text rule requires, with nothing else, over the bare sign;
* ``ecard verify`` start-up: the median wall time of ``python -m ecard verify --json TEXT`` over
  R runs, next to ``python -c pass`` (goal <= 0.15 s), with the modules' bytecode compiled as
  an installed package has it (children get a private ``PYTHONPYCACHEPREFIX``, whatever
  ``PYTHONDONTWRITEBYTECODE`` says), and again with ``PYTHONDONTWRITEBYTECODE=1`` (a checkout
  with no ``__pycache__`` then compiles ecard's modules from source on every run);
* the scanner-mode and full-verify ratios again in CPU time (the child's user + system time,
  ``time.process_time`` in this process), which other work on a shared machine does not move.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import ecard
from bench_core import cycle, paired_rates, pin_one_core, rate
from ecard.cli import sample_card
from ecard.formats import base45, qrtext
from ecard.formats.cose import parse_sign1
from ecard.signing.pki import create_document_signer, create_root_ca

SRC = Path(__file__).resolve().parent.parent / "src"


#: Where the children keep their compiled bytecode (set by :func:`main`), or None.
PYCACHE: list[str | None] = [None]


def _env(bytecode: bool = True) -> dict[str, str]:
    """The children's environment. With ``bytecode`` they read and write compiled modules
    (under a private ``PYTHONPYCACHEPREFIX``), as an installed package runs: pip compiles a
    wheel's modules when it installs them. A machine that sets ``PYTHONDONTWRITEBYTECODE``
    (CI does) would otherwise have every child compile each module from source again."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    if bytecode and PYCACHE[0] is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE[0]
    elif PYCACHE[0] is not None:  # a checkout's own __pycache__ is read if there is one
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def wall(cmd: list[str], stdin: Path | None = None, *, bytecode: bool = True) -> float:
    """Seconds one run of ``cmd`` takes, its output discarded (it must succeed)."""
    with open(stdin or os.devnull, "rb") as inp:
        t0 = time.perf_counter()
        subprocess.run(
            cmd,
            stdin=inp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(bytecode),
            check=True,
        )
        return time.perf_counter() - t0


def child_cpu(cmd: list[str], stdin: Path | None = None) -> float:
    """CPU seconds (user + system) one run of ``cmd`` takes: unlike its wall time, this does
    not count the time other work on a shared machine takes the core away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall(cmd, stdin)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_per_call(fn: Callable[[], object], calls: int = 2000, runs: int = 5) -> float:
    """CPU seconds one call of ``fn`` takes: the best of ``runs`` runs of ``calls`` calls."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, time.process_time() - t0)
    return best / calls


def gc_state() -> str:
    """The collector's state, as the measured code sees it."""
    return (
        f"gc enabled={gc.isenabled()} thresholds={gc.get_threshold()} "
        f"frozen={gc.get_freeze_count()} tracked={len(gc.get_objects())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--cards", type=int, default=20_000, help="distinct codes, scanner mode")
    parser.add_argument("--runs", type=int, default=7, help="start-up runs (median)")
    args = parser.parse_args()
    if pin_one_core():
        print("pinned to one core (children inherit it)")
    print(f"ecard {ecard.__version__} | Python {platform.python_version()} | {platform.machine()}")

    root = create_root_ca("Bench Root")
    ds = create_document_signer(root, "Bench Signer ES256")
    card = sample_card(dt.date(2026, 1, 15))
    issuer = ecard.Issuer(ds.signer(), ds.certificate)
    verifier = ecard.Verifier(ecard.TrustStore([ds.certificate]))
    t0 = time.perf_counter()
    texts = [issuer.issue(card).text for _ in range(args.cards)]
    print(f"{args.cards:,} distinct credentials issued in {time.perf_counter() - t0:.1f} s")
    assert all(verifier.verify(t).valid for t in texts[:200])
    print(gc_state())

    key = ds.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    tbs = parse_sign1(qrtext.decode(texts[0])).to_be_signed()
    pub, ecdsa = key.public_key(), ec.ECDSA(hashes.SHA256())
    der = key.sign(tbs, ecdsa)
    bare_v: Callable[[], object] = lambda: pub.verify(der, tbs, ecdsa)  # noqa: E731
    bare_s: Callable[[], object] = lambda: key.sign(tbs, ecdsa)  # noqa: E731
    pool = cycle(texts[:2000])

    print("\n== full verify (ES256, 2,000 distinct codes) ==")
    bare_verify, full_verify = paired_rates(bare_v, lambda: verifier.verify(pool()), args.seconds)
    print(f"bare verify      {bare_verify:9.0f}/s")
    print(
        f"full verify      {full_verify:9.0f}/s   ratio {full_verify / bare_verify:.3f} (goal >= 0.7)"
    )

    print("\n== issue to QR text (ES256) ==")
    bare_sign, issue = paired_rates(bare_s, lambda: issuer.issue(card), args.seconds)
    print(f"bare sign        {bare_sign:9.0f}/s")
    print(f"issue to QR text {issue:9.0f}/s   ratio {issue / bare_sign:.3f} (goal >= 0.5)")

    # The QR text stage alone, on distinct credentials (the same bytes again and again would
    # let the CPU learn deflate's branches: about twice as fast as any real run).
    coses = [qrtext.decode(t) for t in texts[:2000]]
    cpool = cycle(coses)
    plain = rate(lambda: qrtext.encode(cpool(), compress=False), args.seconds / 2)
    packed = rate(lambda: qrtext.encode(cpool(), compress=True), args.seconds / 2)
    shorter = rate(lambda: qrtext.encode(cpool()), args.seconds / 2)
    print(
        f"QR text stage    {1e6 / shorter:6.1f} us a credential (Base45 alone {1e6 / plain:.1f} us,"
        f" with deflate {1e6 / packed:.1f} us) of {1e6 / issue:.1f} us an issue"
    )
    # What the fixed format itself costs: a bare sign, zlib's cheapest deflate (the "shorter of
    # the raw and the zlib bytes" rule needs it on every credential) and Base45, nothing else.
    deflate = rate(lambda: zlib.compress(cpool(), 1), args.seconds / 2)
    b45 = rate(lambda: base45.encode(cpool()), args.seconds / 2)
    floor = 1 / (1 / bare_sign + 1 / deflate + 1 / b45)
    print(
        f"format floor     {floor:9.0f}/s   ratio {floor / bare_sign:.3f}: bare sign + deflate "
        f"{1e6 / deflate:.1f} us + Base45 {1e6 / b45:.1f} us and nothing else, the most an "
        "issuer can reach under the fixed QR text rule"
    )

    with tempfile.TemporaryDirectory() as tmp:
        cert = Path(tmp, "issuer.pem")
        cert.write_bytes(ds.certificate.public_bytes(serialization.Encoding.PEM))
        codes = Path(tmp, "codes.txt")
        codes.write_text("\n".join(texts) + "\n")
        # the signer certificate was made just now: verify at the wall-clock time
        base = [sys.executable, "-m", "ecard", "verify", "--trust", str(cert)]
        PYCACHE[0] = str(Path(tmp, "pycache"))

        print(f"\n== ecard verify start-up (median of {args.runs}) ==")
        wall([sys.executable, "-c", "pass"])  # warm the file cache, compile the bytecode
        wall([*base, "--json", texts[0]])
        bare_py = statistics.median(wall([sys.executable, "-c", "pass"]) for _ in range(args.runs))
        startup = statistics.median(wall([*base, "--json", texts[0]]) for _ in range(args.runs))
        cold = statistics.median(
            wall([*base, "--json", texts[0]], bytecode=False) for _ in range(args.runs)
        )
        print(f"python -c pass   {bare_py:7.3f} s")
        print(
            f"ecard verify     {startup:7.3f} s   ({startup - bare_py:.3f} s over the interpreter;"
            " goal <= 0.15 s; bytecode compiled, as pip installs it)"
        )
        print(
            f"                 {cold:7.3f} s   with PYTHONDONTWRITEBYTECODE=1: a checkout without "
            "__pycache__ compiles ecard's modules on every run"
        )

        print(f"\n== ecard verify --json, scanner mode ({args.cards:,} distinct codes) ==")
        best = min(wall([*base, "--json"], stdin=codes) for _ in range(2))
        scanner = args.cards / max(best - startup, 1e-9)
        bare_after = rate(bare_v, args.seconds)
        bare = (bare_verify + bare_after) / 2
        print(
            f"bare verify      {bare:9.0f}/s   (before {bare_verify:.0f}, after {bare_after:.0f})"
        )
        print(
            f"scanner mode     {scanner:9.0f}/s   ratio {scanner / bare:.3f} (goal >= 0.6; "
            f"{best:.2f} s in all, start-up subtracted)"
        )
        # the same in CPU time, which load on a shared machine leaves alone
        bare_cpu = cpu_per_call(bare_v)
        start_cpu = min(child_cpu([*base, "--json", texts[0]]) for _ in range(3))
        scan_cpu = min(child_cpu([*base, "--json"], stdin=codes) for _ in range(2))
        per_code = (scan_cpu - start_cpu) / args.cards
        print(
            f"in CPU time     bare verify {bare_cpu * 1e6:.1f} us, scanner mode "
            f"{per_code * 1e6:.1f} us a code   ratio {bare_cpu / per_code:.3f} "
            f"(start-up {start_cpu:.2f} s CPU subtracted)"
        )
        full_cpu = cpu_per_call(lambda: verifier.verify(pool()))
        print(
            f"in CPU time     full verify {full_cpu * 1e6:.1f} us   ratio "
            f"{bare_cpu / full_cpu:.3f} (goal >= 0.7)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""SM2 with SM3: full-pipeline figures next to the bare SM2 primitive measured in the same run.

    python benchmarks/bench_sm2.py [--seconds S] [--pool N]

Prints, pinned to one core where the OS allows:

* size of the demo card signed with SM2 (COSE bytes, QR text, QR versions at M and Q), next to
  the same card signed with ES256;
* full verification rate (QR text -> verdict) of SM2 cards and its ratio to one bare SM2 verify
  (libcrypto through :class:`ecard.crypto.sm2.Sm2PublicKey`) of the same to-be-signed bytes
  (goal >= 0.9);
* issuance rate and its ratio to one bare SM2 sign;
* the rate of ``openssl speed``'s own loop is not reachable from Python; run
  ``openssl speed sm2`` next to this script to compare the machine with others;
* two threads verifying at once against one thread (unpinned), showing whether libcrypto runs
  without holding the GIL (ideal: 2.0x on two free cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import threading
import time
from collections.abc import Callable

import ecard

# the measuring helpers of bench_core.py, beside this file (on sys.path when run as a script)
from bench_core import cycle, paired_rates  # type: ignore[import-not-found]
from ecard.cli import sample_card
from ecard.crypto.sm2 import sm2_available
from ecard.formats import qrtext
from ecard.formats.cose import parse_sign1
from ecard.signing.pki import create_document_signer, create_issuing_ca, create_root_ca
from ecard.signing.sm2 import Sm2PrivateKey


def threaded_rate(fn: Callable[[], object], threads: int, seconds: float) -> float:
    """Calls per second of ``fn`` run by ``threads`` threads at once for about ``seconds``."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            fn()
            n += 1
        counts[i] = n

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--pool", type=int, default=100, help="distinct credentials verified")
    args = parser.parse_args()
    if not sm2_available():
        sys.exit("SM2 is not available in this platform's libcrypto; see ecard.signing.sm2")
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    print(f"ecard {ecard.__version__} | Python {platform.python_version()} | {platform.machine()}")

    card = sample_card(dt.date(2026, 1, 15))
    root = create_root_ca("Bench SM2 Root", algorithm="SM2")
    ca = create_issuing_ca(root, "Bench SM2 Province CA", algorithm="SM2")
    ds = create_document_signer(ca, "Bench SM2 Signer", algorithm="SM2")
    es = create_document_signer(create_root_ca("Bench ES256 Root"), "Bench ES256 Signer")
    issuer = ecard.Issuer(ds.signer(), ds.certificate)
    print("\n== sizes (demo card) ==")
    for name, s in (("SM2", ds), ("ES256", es)):
        issued = ecard.Issuer(s.signer(), s.certificate).issue(card)
        print(
            f"{name:6s} COSE_Sign1 {len(issued.cose)} B, QR text {len(issued.text)} chars, "
            f"QR version M={issued.qr_version('M')} Q={issued.qr_version('Q')}"
        )

    if cores:
        os.sched_setaffinity(0, {cores[0]})
        print("\npinned to one core")
    verifier = ecard.Verifier(ecard.TrustStore([ds.certificate]))
    texts = [issuer.issue(card).text for _ in range(args.pool)]
    assert all(verifier.verify(t).valid for t in texts)
    tbs = parse_sign1(qrtext.decode(texts[0])).to_be_signed()
    key = ds.key
    assert isinstance(key, Sm2PrivateKey)
    pub = key.public_key()
    sig = key.sign(tbs)
    assert pub.verify(sig, tbs)
    nxt = cycle(texts)

    print("\n== SM2 (libcrypto via ctypes) ==")
    bare_v, full_v = paired_rates(
        lambda: pub.verify(sig, tbs), lambda: verifier.verify(nxt()), args.seconds
    )
    bare_s, issue = paired_rates(lambda: key.sign(tbs), lambda: issuer.issue(card), args.seconds)
    print(f"bare SM2 verify  {bare_v:8.0f}/s  ({1e6 / bare_v:6.1f} us)")
    print(
        f"full verify      {full_v:8.0f}/s  ({1e6 / full_v:6.1f} us)  "
        f"ratio {full_v / bare_v:.3f} (goal >= 0.9)"
    )
    print(f"bare SM2 sign    {bare_s:8.0f}/s  ({1e6 / bare_s:6.1f} us)")
    print(f"issue to QR text {issue:8.0f}/s  ({1e6 / issue:6.1f} us)  ratio {issue / bare_s:.3f}")

    if len(cores) >= 2:
        os.sched_setaffinity(0, set(cores))
        one = threaded_rate(lambda: pub.verify(sig, tbs), 1, args.seconds)
        two = threaded_rate(lambda: pub.verify(sig, tbs), 2, args.seconds)
        print(
            f"\nbare verify, 1 thread {one:8.0f}/s, 2 threads {two:8.0f}/s: "
            f"x{two / one:.2f} (GIL released during libcrypto calls if well above 1)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

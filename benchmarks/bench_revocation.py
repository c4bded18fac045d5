"""Revocation lists at scale: memory, load time and lookup cost for 10 million revoked ids.

    python benchmarks/bench_revocation.py [--entries N] [--lookups N] [--no-sign]

Goals (issue "signed revocation list"): 10 million revoked ids load in <= 100 MB of memory and
a lookup costs <= 10 us. Prints:

* the memory of the in-memory set (tracemalloc: what stays allocated, and the peak while
  parsing the wire form), and the process RSS growth;
* the time to parse the wire form with and without the order check;
* the time to sign and to authenticate + load the full signed list, with the peak memory of
  loading (the COSE/CBOR layers copy the payload) and what stays after;
* the cost of one lookup, for hits and misses, by hash and by ``(kid, cti)``, next to one bare
  ``hashlib.sha256`` over 8 + 8 bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import operator
import os
import random
import sys
import time
import timeit
import tracemalloc
from array import array
from collections.abc import Callable
from hashlib import sha256
from itertools import islice

from ecard.formats.revocation import RevocationSet, revocation_hash
from ecard.signing.pki import create_list_signer, create_root_ca
from ecard.signing.revocation import sign_revocation_list
from ecard.verify.paths import PathValidator
from ecard.verify.revocation import RevocationList

MB = 1024 * 1024
GOAL_MB = 100
GOAL_US = 10.0


def rss_mb() -> float:
    """Resident set size of this process (Linux), in MiB; NaN elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def traced(fn: Callable[[], object]) -> tuple[float, float, float, object]:
    """(seconds, MiB still allocated by the result, peak MiB during the call, result)."""
    gc.collect()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, current / MB, peak / MB, result


def per_call_us(fn: Callable[[], object], items: int) -> float:
    """Best of 5 runs of ``fn`` (which performs ``items`` operations), in us per operation."""
    return min(timeit.repeat(fn, number=1, repeat=5)) / items * 1e6


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def generate(n: int, q: int, rng: random.Random) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The wire form of ``n`` sorted hashes: ``n - q`` random ones plus ``q`` real entries."""
    t0 = time.perf_counter()
    kid = bytes(range(8))
    real = [(kid, rng.randbytes(16)) for _ in range(q)]
    values = array("Q")
    values.frombytes(os.urandom(8 * (n - q)))
    values.extend(int.from_bytes(revocation_hash(k, c), "big") for k, c in real)
    ordered = array("Q", sorted(values))
    # 64-bit random values: a duplicate among 10 million has probability ~3e-6
    assert all(map(operator.lt, ordered, islice(ordered, 1, None))), "duplicate drawn, rerun"
    if sys.byteorder == "little":
        ordered.byteswap()
    wire = ordered.tobytes()
    print(
        f"generated {n:,} sorted hashes ({len(wire) / MB:.1f} MiB wire) in {time.perf_counter() - t0:.1f} s"
    )
    return wire, real


def bench_set(wire: bytes) -> RevocationSet:
    """Parse time and memory of the in-memory set."""
    gc.collect()
    rss0 = rss_mb()
    secs, result = timed(lambda: RevocationSet.from_bytes(wire))
    rss1 = rss_mb()
    assert isinstance(result, RevocationSet)
    _, current, peak, _ = traced(lambda: RevocationSet.from_bytes(wire))
    secs_nocheck, _ = timed(lambda: RevocationSet.from_bytes(wire, check=False))
    secs_out, _ = timed(result.to_bytes)
    secs_digest, _ = timed(result.digest)
    print()
    print("RevocationSet.from_bytes (check=True)")
    print(f"  time                      {secs:7.3f} s")
    print(f"  nbytes (hashes + index)   {result.nbytes / MB:7.1f} MiB")
    print(
        f"  memory kept (tracemalloc) {current:7.1f} MiB   goal <= {GOAL_MB} MiB: {verdict(current <= GOAL_MB)}"
    )
    print(f"  peak while parsing        {peak:7.1f} MiB")
    print(f"  RSS growth                {rss1 - rss0:7.1f} MiB")
    print(
        f"  time with check=False     {secs_nocheck:7.3f} s (the order check costs {secs - secs_nocheck:.3f} s)"
    )
    print(f"  to_bytes                  {secs_out:7.3f} s")
    print(f"  content digest (state)    {secs_digest:7.3f} s")
    return result


def bench_lookups(
    revoked: RevocationSet, wire: bytes, real: list[tuple[bytes, bytes]], rng: random.Random
) -> None:
    """Microseconds per lookup, hits and misses, next to one bare SHA-256."""
    n, q = len(revoked), len(real)
    hits = [wire[i * 8 : i * 8 + 8] for i in rng.sample(range(n), q)]
    misses = [rng.randbytes(8) for _ in range(q)]
    miss_entries = [(real[0][0], rng.randbytes(16)) for _ in range(q)]
    contains = revoked.__contains__
    is_revoked = revoked.is_revoked
    assert all(map(contains, hits)) and all(is_revoked(k, c) for k, c in real)
    assert sum(map(contains, misses)) <= 1
    hit_us = per_call_us(lambda: [contains(h) for h in hits], q)
    miss_us = per_call_us(lambda: [contains(h) for h in misses], q)
    rhit_us = per_call_us(lambda: [is_revoked(k, c) for k, c in real], q)
    rmiss_us = per_call_us(lambda: [is_revoked(k, c) for k, c in miss_entries], q)
    data16 = [k + c[:8] for k, c in real]
    sha_us = per_call_us(lambda: [sha256(d).digest() for d in data16], q)
    worst = max(hit_us, miss_us, rhit_us, rmiss_us)
    print()
    print(f"lookups in {n:,} entries (us per lookup, best of 5)")
    print(f"  hash in set, hit          {hit_us:7.3f} us")
    print(f"  hash in set, miss         {miss_us:7.3f} us")
    print(f"  is_revoked(kid, cti) hit  {rhit_us:7.3f} us")
    print(f"  is_revoked(kid, cti) miss {rmiss_us:7.3f} us")
    print(
        f"  bare sha256(8+8 bytes)    {sha_us:7.3f} us   (is_revoked miss = {rmiss_us / sha_us:.1f} x sha256)"
    )
    print(
        f"  worst                     {worst:7.3f} us   goal <= {GOAL_US} us: {verdict(worst <= GOAL_US)}"
    )


def bench_signed(revoked: RevocationSet, real: list[tuple[bytes, bytes]]) -> None:
    """Sign the full list, then authenticate and load it."""
    now = dt.datetime.now(dt.UTC)
    root = create_root_ca("Bench Root", not_before=now - dt.timedelta(days=1))
    signer = create_list_signer(root, "Bench List Signer", not_before=now - dt.timedelta(days=1))
    validator = PathValidator([root.certificate], revocation="off")
    secs_sign, signed = timed(
        lambda: sign_revocation_list(
            revoked,
            sequence=1,
            issued_at=now,
            next_update=now + dt.timedelta(days=1),
            signer=signer.signer(),
            certificate=signer.certificate,
            chain=signer.chain,
        )
    )
    assert isinstance(signed, bytes)
    gc.collect()
    secs_load, loaded = timed(lambda: RevocationList.load(signed, validator=validator))
    assert isinstance(loaded, RevocationList) and len(loaded) == len(revoked)
    assert all(loaded.is_revoked(k, c) for k, c in real[:1000])
    del loaded
    _, current, peak, _ = traced(lambda: RevocationList.load(signed, validator=validator))
    print()
    print(f"signed full list: {len(signed):,} bytes ({len(signed) / MB:.1f} MiB)")
    print(f"  sign_revocation_list      {secs_sign:7.3f} s")
    print(
        f"  RevocationList.load       {secs_load:7.3f} s (signature, path, body, order check, index)"
    )
    print(
        f"  memory kept by the list   {current:7.1f} MiB   goal <= {GOAL_MB} MiB: {verdict(current <= GOAL_MB)}"
    )
    print(
        f"  peak while loading        {peak:7.1f} MiB   (transient payload copies in COSE/CBOR parsing, input not counted)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--no-sign", action="store_true", help="skip signing and loading")
    args = parser.parse_args()
    rng = random.Random(2026)
    print(
        f"python {sys.version.split()[0]}, {args.entries:,} entries, {args.lookups:,} lookups per figure"
    )
    wire, real = generate(args.entries, args.lookups, rng)
    revoked = bench_set(wire)
    bench_lookups(revoked, wire, real, rng)
    if not args.no_sign:
        del wire
        bench_signed(revoked, real)


if __name__ == "__main__":
    main()

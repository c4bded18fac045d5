"""The journal past one writer: one hash chain per region, a signed head over the chain heads.

    python benchmarks/sim_chains.py [--records N] [--chains C] [--target T]
    python benchmarks/sim_chains.py --records 10000000        # the 10 million measurement

Builds ``C`` independent chains (one per region, records dealt round-robin as a province's
batches would be) of ``N`` card records in total, each record hashed exactly as the journal
hashes it (``ecard-journal/1`` CBOR array, the journal's own hash-input writer, SHA-256, the
previous hash chained in), then signs one head over all chain heads (ES256, the CBOR map
``{chain: [seq, hash]}``) and verifies it. Prints what is **measured** (records/s on one core,
seconds for N, the head of heads' size and signing time) and what is **extrapolated** to
``T`` records (default 100 million): the time on one core and with one writer per core or per
machine (the chains share nothing, so writers scale linearly until storage does), and the
memory the writers need (one tail per chain, not the records). No database is written: the
figure is the hashing and chaining cost a writer adds, the floor under any store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import tempfile
import time

from cryptography.hazmat.primitives.asymmetric import ec

from ecard.formats import cbor
from ecard.journal.fast import fast_hash_input
from ecard.journal.records import GENESIS_HASH, format_time
from ecard.journal.store import Journal
from ecard.signing.signers import KeySigner


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--chains", type=int, default=32)
    p.add_argument("--target", type=int, default=100_000_000)
    args = p.parse_args()
    n, c = args.records, args.chains
    at = format_time(dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC))
    kid = os.urandom(8).hex()
    tails = [(0, GENESIS_HASH)] * c
    holder, content = os.urandom(32).hex(), os.urandom(32).hex()
    placeholder = GENESIS_HASH.hex()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores")
    start = time.perf_counter()
    for i in range(n):
        chain = i % c
        seq, prev = tails[chain]
        cti = (i * 2654435761 % (1 << 64)).to_bytes(8, "big").hex()
        row = (seq + 1, "card", cti, holder, kid, at, f"region-{chain}", content, prev.hex(),
               placeholder)  # fmt: skip
        fast = fast_hash_input(row)
        assert fast is not None
        tails[chain] = (seq + 1, hashlib.sha256(fast[2]).digest())
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    heads = {f"region-{k}": [seq, digest] for k, (seq, digest) in enumerate(tails)}
    signer = KeySigner(ec.generate_private_key(ec.SECP256R1()))
    t = time.perf_counter()
    payload = cbor.encode({1: "ecard-journal-heads", 2: 1, 3: heads})
    signature = signer.sign(payload)
    assert signer.algorithm.verify(signer.public_key(), signature, payload)
    sign_ms = (time.perf_counter() - t) * 1000
    with tempfile.TemporaryDirectory() as d:  # the stored size of a row, measured
        db = os.path.join(d, "j.db")
        with Journal.open(db, pseudonym_key=bytes(32)) as journal:
            sample = 20_000
            journal.append_card_entries(
                [(i.to_bytes(8, "big").hex(), holder, bytes.fromhex(kid), bytes(32))
                 for i in range(sample)],
                operator="region-0",
            )  # fmt: skip
        row_bytes = os.path.getsize(db) / sample
    target = args.target
    one_core = target / rate
    print(
        f"MEASURED   {n:,} records in {c} chains on 1 core: {elapsed:.1f} s, {rate:,.0f} records/s"
    )
    print(f"MEASURED   head over {c} chain heads: {len(payload)} bytes CBOR, signed+verified in "
          f"{sign_ms:.1f} ms")  # fmt: skip
    print(f"EXTRAPOLATED {target:,} records: {one_core / 60:.1f} min on 1 core, "
          f"{one_core / 60 / min(c, os.cpu_count() or 1):.1f} min with one writer per core here "
          f"({min(c, os.cpu_count() or 1)}), {one_core / 60 / c:.1f} min with {c} writers "
          f"(one per chain, on {c} cores)")  # fmt: skip
    print(
        f"EXTRAPOLATED writer state for {target:,} records: {c} tails x 40 bytes; "
        f"records stored: {target * row_bytes / 1e9:.0f} GB at {row_bytes:.0f} bytes a row "
        "(row size MEASURED on a 20,000-record SQLite journal, indexes included)"
    )


if __name__ == "__main__":
    main()

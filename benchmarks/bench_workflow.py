"""Applications processed end to end per second, on SQLite and on PostgreSQL.

    python benchmarks/bench_workflow.py [--applications N]

One application = submit (online) → send code → check code → liveness → automatic review →
issue (ES256 signature). Prints applications per second for each store, and beside them the
bare primitive measured in the same run: ES256 issuance alone (``Issuer.issue``), so the
ratio says what the workflow and its database cost over the signature.

With enrolment (``Settings(require_binding=True)``): issue (no credential) → set PIN (scrypt)
→ code to the card's phone → enrolment challenge (code + PIN) → two device keys (P-256) answer
their nonces → enrol (two bound credentials, proofs of possession checked). Its bare primitive
is ``signing.binding.issue_profiles`` of two fresh requests alone (keys made, requests signed,
checked, two credentials signed), plus one scrypt PIN check. PostgreSQL is a
throwaway server started the way the tests start theirs (tests/pgserver.py; ``ECARD_PG_BIN`` as
scripts/system-setup.sh exports it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pgserver import PostgresServer
from tests.workflow_support import make_world

from ecard.card import Card, Holder
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import enrolment_request
from ecard.signing.binding import issue_profiles, new_nonce
from ecard.signing.issuer import Issuer
from ecard.signing.pki import (
    create_document_signer,
    create_list_signer,
    create_root_ca,
)
from ecard.workflow.secrets import hash_pin, pin_matches
from ecard.workflow.settings import Settings
from ecard.workflow.store import ApplicationRow

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def check17(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def people(n: int) -> list[str]:
    return [check17(f"110105{1950 + i % 60}0101{i % 1000:03d}") for i in range(n)]


PIN = "138205"


def run(url: str, n: int, keys: tuple[object, object, object], *, enrol: bool = False) -> float:
    root, ds, ls = keys
    settings = Settings(require_binding=True) if enrol else None
    world = make_world(url, root, ds, ls, settings)  # type: ignore[arg-type]
    reg = world.registry
    numbers = people(n)
    start = time.perf_counter()
    for i, number in enumerate(numbers):
        # distinct regions keep each person to one card per region
        app = world.apply_online(number, region=f"1101{i // 1000 % 90 + 10:02d}")
        world.clock.advance(seconds=61)
        issued = reg.issue(app, actor="bench")
        if not enrol:
            continue
        assert issued is None
        with reg.store.session() as session:
            card = session.get_one(ApplicationRow, app).card_number
        assert card is not None
        reg.set_pin(card, PIN)
        reg.send_card_code(card)
        nonces = reg.enrolment_challenge(card, world.outbox.last_code(app), PIN)
        requests = {
            profile: enrolment_request(SoftwareDeviceKey.generate("ES256"), nonce)
            for profile, nonce in nonces.items()
        }
        assert len(reg.enrol_device(card, requests)) == 2
    elapsed = time.perf_counter() - start
    reg.store.close()
    return n / elapsed


def bare_enrolment(issuer: Issuer, card: Card, n: int) -> float:
    """``issue_profiles`` of two fresh requests and one scrypt PIN check, per second."""
    stored = hash_pin(PIN)
    start = time.perf_counter()
    for _ in range(n):
        assert pin_matches(PIN, stored)
        enrolments = {}
        for profile in ("full", "counter"):
            key, nonce = SoftwareDeviceKey.generate("ES256"), new_nonce()
            enrolments[profile] = (enrolment_request(key, nonce), nonce)
        issue_profiles(issuer, card, enrolments)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=300)
    args = parser.parse_args()
    n = args.applications
    nb = T0 - dt.timedelta(days=30)
    root = create_root_ca("Bench Root", not_before=nb)
    ds = create_document_signer(root, "Bench Signer", not_before=nb)
    ls = create_list_signer(root, "Bench List Signer", not_before=nb)

    issuer = Issuer(ds.signer(), ds.certificate, clock=lambda: T0)
    card = Card(
        holder=Holder(name="张三丰", ssn="11010519491231002X"),
        card_number="A12345678",
        region="110105",
        issued=dt.date(2026, 3, 1),
        expires=dt.date(2036, 3, 1),
    )
    start = time.perf_counter()
    for _ in range(n):
        issuer.issue(card)
    bare = n / (time.perf_counter() - start)
    print(f"bare ES256 issuance:        {bare:9.1f} /s")

    with tempfile.TemporaryDirectory() as tmp:
        rate = run(f"sqlite:///{Path(tmp) / 'bench.db'}", n, (root, ds, ls))
    print(f"applications, SQLite:       {rate:9.1f} /s  ({bare / rate:.1f}x the bare issuance)")
    with PostgresServer() as server:
        rate = run(server.create_database("bench"), n, (root, ds, ls))
    print(f"applications, PostgreSQL:   {rate:9.1f} /s  ({bare / rate:.1f}x the bare issuance)")

    m = max(1, n // 3)  # enrolment hashes a PIN (scrypt): fewer rounds
    bare_enrol = bare_enrolment(issuer, card, m)
    print(f"bare enrolment (2 bound + PIN check): {bare_enrol:7.1f} /s")
    with tempfile.TemporaryDirectory() as tmp:
        rate = run(f"sqlite:///{Path(tmp) / 'bench.db'}", m, (root, ds, ls), enrol=True)
    print(
        f"apps + enrolment, SQLite:     {rate:7.1f} /s  ({bare_enrol / rate:.1f}x the bare enrolment)"
    )
    with PostgresServer() as server:
        rate = run(server.create_database("bench"), m, (root, ds, ls), enrol=True)
    print(
        f"apps + enrolment, PostgreSQL: {rate:7.1f} /s  ({bare_enrol / rate:.1f}x the bare enrolment)"
    )


if __name__ == "__main__":
    main()

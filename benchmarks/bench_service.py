"""The service under load: ``POST /api/verify`` on a real uvicorn server on localhost.

    python benchmarks/bench_service.py [--requests N] [--clients K] [--seconds S]

A demo service (its own data folder, SQLite store, shared replay cache file, the service's
access log written to a file) runs in a child process, one uvicorn worker. The parent issues
bound cards with the service's demo issuer and signs distinct ``EC2:`` presentations (each is
accepted once: a repeated one would be a replay), then K concurrent httpx clients send N
verify requests, stopping after S seconds whatever is left. Printed: requests per second,
p50/p99/max latency, how many verified OK, and, in the same run, the bare
``Verifier.verify`` rate on the same kind of presentations in this process (in-memory replay
cache) and the ratio of the two. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

import ecard
from ecard.cli import sample_card
from ecard.holder.keys import SoftwareDeviceKey
from ecard.holder.wallet import HolderClock, Presenter, enrolment_request
from ecard.service.config import Limits, ServiceConfig
from ecard.service.context import build_context
from ecard.signing.binding import issue_profiles, new_nonce
from ecard.verify.replay import ReplayCache
from ecard.verify.verifier import Verifier

#: Answers other than OK in the last load run: "status code" -> count.
FAILURES: dict[str, int] = {}
#: Distinct presentations per bound card: one per second from the card's issue time on (a
#: presentation may not predate its card, nor be more than 30 s ahead of the counter's clock).
PER_CARD = 20


def _config(folder: Path) -> ServiceConfig:
    return ServiceConfig(
        data_dir=folder, limits=Limits(verify_burst=10**9, verify_per_second=10**9)
    )


def _serve(folder: str, port: int) -> None:
    """The child: the demo service on ``port`` with its access log to a file."""
    import uvicorn

    from ecard.service.app import create_app

    handler = logging.FileHandler(Path(folder) / "access.log")
    access = logging.getLogger("ecard.service.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    app = create_app(build_context(_config(Path(folder))))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def presentations(folder: Path, count: int) -> list[str]:
    """``count`` distinct presentations of cards issued by the service's demo issuer."""
    ctx = build_context(_config(folder))
    card = sample_card(ctx.clock().date())
    out: list[str] = []
    while len(out) < count:
        device = SoftwareDeviceKey.generate()
        nonce = new_nonce()
        issued = issue_profiles(
            ctx.registry.issuer, card, {"counter": (enrolment_request(device, nonce), nonce)}
        )
        presenter = Presenter(issued["counter"].text, device, HolderClock.synced(ctx.clock()))
        now = int(ctx.clock().timestamp()) + 1  # not before the card's own iat
        out += [presenter.present("pharmacy", at=now + i) for i in range(PER_CARD)]
    return out[:count]


async def load(
    base: str, codes: list[str], clients: int, seconds: float
) -> tuple[list[float], int, float]:
    """Send every code from ``clients`` concurrent clients; latencies (s), OK count, wall time."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in codes:
        queue.put_nowait(code)
    latencies: list[float] = []
    ok = 0
    FAILURES.clear()
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal ok
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while not queue.empty() and time.perf_counter() < deadline:
                code = queue.get_nowait()
                t = time.perf_counter()
                answer = await http.post("/api/verify", json={"code": code, "purpose": "pharmacy"})
                latencies.append(time.perf_counter() - t)
                body = answer.json()
                code = body.get("code") or body.get("error")
                if answer.status_code == 200 and code == "OK":
                    ok += 1
                else:
                    FAILURES[f"{answer.status_code} {code}"] = (
                        FAILURES.get(f"{answer.status_code} {code}", 0) + 1
                    )

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, ok, time.perf_counter() - start


def bare_rate(folder: Path, codes: list[str]) -> tuple[float, int]:
    """``Verifier.verify`` on ``codes`` in this process, with the counter's policy and an
    in-memory replay cache: (verifications per second, how many were OK)."""
    ctx = build_context(_config(folder))
    verifier = Verifier(ctx.trust, ctx.counter_policy("pharmacy"), replay_cache=ReplayCache())
    start = time.perf_counter()
    ok = sum(verifier.verify(c).valid for c in codes)
    return len(codes) / (time.perf_counter() - start), ok


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="verify requests to send")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="stop sending after this")
    args = parser.parse_args()
    print(
        f"ecard {ecard.__version__} | Python {platform.python_version()} | {platform.machine()} "
        f"| {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} cores "
        "shared by server and client"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_context(_config(folder))  # the demo PKI, made once, shared with the child
        codes = presentations(folder, args.requests)
        bare_codes = presentations(folder, min(args.requests, 1000))
        port = _free_port()
        child = mp.get_context("spawn").Process(target=_serve, args=(tmp, port), daemon=True)
        child.start()
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(400):
                try:
                    if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                sys.exit("the service did not start")
            latencies, ok, wall = asyncio.run(load(base, codes, args.clients, args.seconds))
        finally:
            child.terminate()
            child.join(10)
        bare, bare_ok = bare_rate(folder, bare_codes)
        log = (folder / "access.log").read_text().splitlines()
        lines = len(log)
        inside = [float(x.rsplit(" ", 1)[1].removesuffix("ms")) for x in log if "/api/verify" in x]
    done = len(latencies)
    rps = done / wall
    q = statistics.quantiles(latencies, n=100) if done >= 2 else [latencies[0]] * 99
    print(f"\n== POST /api/verify, {args.clients} clients, {done} requests in {wall:.1f} s ==")
    print(f"throughput          {rps:9.0f} requests/s   ({ok} OK, {done - ok} not)")
    print(
        f"latency             p50 {q[49] * 1000:.1f} ms   p99 {q[98] * 1000:.1f} ms   "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    if FAILURES:
        print(f"not OK              {FAILURES}")
    print(f"access log lines    {lines}")
    if len(inside) >= 2:
        w = statistics.quantiles(inside, n=100)
        print(
            f"time in the service p50 {w[49]:.1f} ms   p99 {w[98]:.1f} ms   (its access log: "
            "from the request's arrival to the last byte sent)"
        )
    print(
        f"bare Verifier.verify {bare:8.0f}/s   ({bare_ok} OK; same presentations kind, one thread)"
    )
    print(f"ratio service/bare  {rps / bare:9.3f}")


if __name__ == "__main__":
    main()

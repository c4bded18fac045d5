"""Bulk issuance and verification (ecard.batch, `ecard batch`): bad rows reported and the rest
issued; killed with SIGKILL and restarted, each row journaled exactly once; the same cards in
the same journal order in one process, on a process pool and on Dask (a LocalCluster and a
cluster started with the `dask scheduler` / `dask worker` commands); bulk verify and audit.
Real keys, real journals, real processes; the issuance time is T0."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pickle
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tests.conftest import T0
from tests.proc import explain

from ecard.batch.engines import DaskEngine, Engine, ProcessEngine, WorkerFailure, packed
from ecard.batch.issue import IssueJob, IssueSummary, issue_batch
from ecard.batch.rows import parse_row, read_rows
from ecard.batch.verify import VerifyJob, result_line, verify_chunk
from ecard.documents import DocumentType
from ecard.errors import BadInputError
from ecard.formats import qrtext
from ecard.formats.cose import parse_sign1
from ecard.identifiers import _check_char
from ecard.journal import Journal, verify_journal
from ecard.journal.pseudonyms import holder_pseudonym
from ecard.signing.keysource import KeyFile, Pkcs11Key
from ecard.signing.pki import CertifiedKey
from ecard.verify.loading import ListConfig
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

ROOT = Path(__file__).resolve().parents[1]
PKEY_HEX = "5a" * 32
PKEY_ENV = "ECARD_TEST_BATCH_PSEUDONYM_KEY"
NAMES = ("张三丰", "李四", "王小明", "赵六", "欧阳娜娜")


def citizen_id(n: int) -> str:
    first17 = f"110105{19500101 + (n % 28) + 100 * (n // 28 % 12) + 10000 * (n // 336 % 50)}{n % 1000:03d}"
    return first17 + _check_char(first17)


def csv_rows(count: int, bad: dict[int, str] | None = None) -> str:
    """A CSV input of ``count`` cards; ``bad`` replaces the ssn of some rows (0-based)."""
    lines = ["name,ssn,card_number,region,issued,expires"]
    for n in range(count):
        ssn = (bad or {}).get(n, citizen_id(n))
        lines.append(f"{NAMES[n % 5]},{ssn},A{n:08d},110105,2024-01-15,2034-01-15")
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _pseudonym_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PKEY_ENV, PKEY_HEX)


@pytest.fixture()
def keyfile(tmp_path: Path, ds: CertifiedKey) -> tuple[Path, Path]:
    key, cert = tmp_path / "ds-key.pem", tmp_path / "ds-cert.pem"
    key.write_bytes(ds.key_pem())
    cert.write_bytes(ds.certificate_pem())
    return key, cert


def job_for(keyfile: tuple[Path, Path], ds: CertifiedKey, batch: str = "gen3-110105") -> IssueJob:
    return IssueJob(
        key=KeyFile(str(keyfile[0])),
        certificate=ds.certificate.public_bytes(Encoding.DER),
        batch=batch,
        pseudonym_key_env=PKEY_ENV,
        iat=int(T0.timestamp()),
    )


def run_batch(
    tmp: Path, name: str, text: str, job: IssueJob, engine: Engine, **kw: object
) -> tuple[IssueSummary, Path, Path]:
    src, results, db = tmp / f"{name}.csv", tmp / f"{name}.jsonl", tmp / f"{name}.db"
    src.write_text(text, encoding="utf-8")
    with Journal.open(db, pseudonym_key=bytes.fromhex(PKEY_HEX)) as journal:
        summary = issue_batch(
            src, "csv", results, job, journal=journal, operator="op-1", engine=engine, **kw
        )  # type: ignore[arg-type]
    return summary, results, db


def journal_cards(db: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT seq, credential_id, holder, kid FROM journal_records ORDER BY seq"
        ).fetchall()


def result_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def payloads(path: Path) -> list[bytes]:
    return [
        parse_sign1(qrtext.decode(str(r["text"]))).payload
        for r in result_lines(path)
        if r["status"] == "issued"
    ]


# --- rows ---------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_issued(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], verifier: Verifier
) -> None:
    wrong = citizen_id(3)[:-1] + ("0" if citizen_id(3)[-1] != "0" else "1")
    text = csv_rows(8, bad={3: wrong, 5: "not-an-id"})
    text += "欧阳娜娜,11010519491231002X,A1234567,110105,2024-01-15,2034-01-15\n"  # bad number
    text += "only,three,fields\n"
    text += csv_rows(2).splitlines()[1] + "\n"  # a duplicate of row 0
    summary, results, db = run_batch(tmp_path, "b", text, job_for(keyfile, ds), Engine(1))
    assert (summary.issued, summary.invalid, summary.duplicate) == (6, 4, 1)
    lines = result_lines(results)
    assert [r["line"] for r in lines] == list(range(2, 13))
    invalid = {r["line"]: r for r in lines if r["status"] == "invalid"}
    assert sorted(invalid) == [5, 7, 10, 11]
    assert "holder.ssn" in str(invalid[5]["reason"]) and "check" in str(invalid[5]["reason"])
    assert "card_number" in str(invalid[10]["reason"])
    assert "fields" in str(invalid[11]["reason"])
    assert all(r["code"] == "BAD_INPUT" for r in invalid.values())
    everything = results.read_text(encoding="utf-8")
    for secret in (wrong, "not-an-id", "11010519491231002X", "A1234567,"):
        assert secret not in json.dumps([r.get("reason") for r in lines], ensure_ascii=False)
    assert "欧阳娜娜" not in json.dumps([r.get("reason") for r in lines], ensure_ascii=False)
    assert lines[-1]["status"] == "duplicate" and lines[-1]["cti"] == lines[0]["cti"]
    # every issued code verifies, and the journal holds exactly those cards, in input order
    issued = [r for r in lines if r["status"] == "issued"]
    for r in issued:
        result = verifier.verify(str(r["text"]))
        assert result.valid, result.code
        assert result.cti is not None and result.cti.hex() == r["cti"]
    assert [c[1] for c in journal_cards(db)] == [r["cti"] for r in issued]
    assert verify_journal(db).ok
    assert os.stat(results).st_mode & 0o777 == 0o600
    assert "EC1:" in everything


def test_jsonl_rows_flat_and_nested_and_unreadable_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    nested = {
        "holder": {"name": "张三丰", "ssn": "11010519491231002X"},
        "card_number": "A12345678",
        "region": "110105",
        "issued": "2024-01-15",
        "expires": "2034-01-15",
    }
    flat = {"name": "李四", "ssn": citizen_id(1), "card_number": "B12345678", "region": "110105",
            "issued": "2024-01-15", "expires": "2034-01-15"}  # fmt: skip
    src.write_bytes(
        json.dumps(nested).encode() + b"\n\n" + json.dumps(flat).encode() + b"\n"
        b"[1, 2]\n\xff\xfe\n" + b"x" * 70_000 + b"\n{\n"
    )
    rows = list(read_rows(src, "jsonl"))
    assert [n for n, _ in rows] == [1, 3, 4, 5, 6, 7]
    parsed = [parse_row(r) for _, r in rows]
    assert not isinstance(parsed[0], str) and parsed[0].holder.ssn == "11010519491231002X"
    assert not isinstance(parsed[1], str) and parsed[1].card_number == "B12345678"
    assert parsed[2:] == [
        "not a JSON object",
        "line is not UTF-8 text",
        "line longer than 65536 bytes",
        "not a JSON object",
    ]


# --- resumption ---------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecard", "batch", *args]


def _env() -> dict[str, str]:
    return {**os.environ, PKEY_ENV: PKEY_HEX, "PYTHONPATH": str(ROOT / "src")}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_killed_and_restarted_each_row_is_issued_exactly_once(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], sig: signal.Signals
) -> None:
    """Killed (SIGKILL) or interrupted (Ctrl-C: SIGINT to the whole process group, as a terminal
    sends it) half way, and started again: each row once."""
    count = 5000  # enough rows left after the first commit for the signal to find it running
    src = tmp_path / "in.csv"
    src.write_text(csv_rows(count, bad={17: "bad"}), encoding="utf-8")
    db, results = tmp_path / "j.db", tmp_path / "out.jsonl"
    args = _cli(
        "issue", str(src), "--results", str(results), "--texts", str(tmp_path / "t.txt"),
        "--batch", "kill-test", "--key", str(keyfile[0]), "--cert", str(keyfile[1]),
        "--journal", str(db), "--operator", "op-1", "--pseudonym-key-env", PKEY_ENV,
        "--now", T0.isoformat(), "--workers", "2", "--chunk-size", "50",
    )  # fmt: skip
    # a session of its own: the signal goes to the batch and its worker processes alike
    proc = subprocess.Popen(
        args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 90
    seen = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    seen = conn.execute("SELECT count(*) FROM journal_records").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if seen >= 300:
                break
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.killpg(proc.pid, sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGINT:  # it stops at once, says so, and leaves no traceback
        assert proc.returncode == 130, stderr
        assert b"batch interrupted: nothing was released" in stderr
        assert b"Traceback" not in stderr
    partial = results.with_name(results.name + ".partial")
    assert partial.exists() and not results.exists()  # nothing released
    before = journal_cards(db)
    assert 300 <= len(before) < count - 1
    done = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, explain(done)  # one row is invalid
    assert "1 invalid" in done.stderr and "done before" in done.stderr
    after = journal_cards(db)
    assert after[: len(before)] == before  # the first run's records stay as they were
    ctis = [c[1] for c in after]
    assert len(ctis) == len(set(ctis)) == count - 1  # each valid row once
    lines = result_lines(results)
    assert [r["line"] for r in lines] == list(range(2, count + 2))
    assert [r["cti"] for r in lines if r["status"] == "issued"] == ctis
    assert len((tmp_path / "t.txt").read_text().splitlines()) == count - 1
    # the same cards, in the same order, as an uninterrupted run
    _, _, clean_db = run_batch(
        tmp_path, "clean", csv_rows(count, bad={17: "bad"}),
        job_for(keyfile, ds, "kill-test"), Engine(1), chunk_size=500,
    )  # fmt: skip
    assert [c[1:] for c in journal_cards(clean_db)] == [c[1:] for c in after]
    assert verify_journal(db).ok
    # a third run finds the batch complete and issues nothing
    again = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "complete" in again.stderr, explain(again)
    assert journal_cards(db) == after


# --- engines ------------------------------------------------------------------------------


def test_one_process_all_cores_and_dask_give_the_same_cards_in_the_same_order(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    text = csv_rows(400, bad={5: "x"})
    job = job_for(keyfile, ds)
    runs = {}
    for name, make in (
        ("one", lambda: Engine(1)),
        ("pool", lambda: ProcessEngine(2)),
        ("dask", lambda: DaskEngine(None, 2)),
    ):
        with make() as engine:
            summary, results, db = run_batch(tmp_path, name, text, job, engine, chunk_size=37)
            # a second batch of the same job on the same engine (its workers warm): the job
            # sent to the workers again must not collide with the first batch's
            again, _, db2 = run_batch(tmp_path, f"{name}-2", text, job, engine, chunk_size=37)
        assert (summary.issued, summary.invalid) == (399, 1), name
        assert (again.issued, again.invalid) == (399, 1), name
        runs[name] = ([c[1:] for c in journal_cards(db)], payloads(results))
        assert [c[1:] for c in journal_cards(db2)] == runs[name][0], name
    assert runs["one"] == runs["pool"] == runs["dask"]
    assert len(runs["one"][0]) == 399


def _rows_or_refuse(job: str, chunk: list[tuple[int, str]]) -> list[tuple[int, str]]:
    if job == "refuse":
        raise BadInputError("refused by the job")
    return [(line, text.upper()) for line, text in chunk]


def test_a_dask_task_carries_its_chunk_and_result_as_one_blob_and_errors_typed() -> None:
    chunk = [(1, "a"), (2, "b")]
    blob = packed(_rows_or_refuse, "go", pickle.dumps(chunk))
    assert isinstance(blob, bytes)
    assert pickle.loads(blob) == [(1, "A"), (2, "B")]
    with pytest.raises(WorkerFailure) as failure:
        packed(_rows_or_refuse, "refuse", pickle.dumps(chunk))
    assert (failure.value.code, failure.value.detail) == ("BAD_INPUT", "refused by the job")
    with pytest.raises(BadInputError, match="refused by the job"):
        failure.value.raise_typed()


def test_holders_of_other_identity_documents_are_issued_and_journaled_by_their_document(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    """A JSON line may hold a card of a passport or permit holder. Its journal pseudonym is the
    one ``Journal.append_card`` gives that holder (document type and number), and its identity
    in the batch includes the document type: the same number on another document is another
    person. (The batch once took every number for a citizen ID: such a row stopped the batch.)"""
    dates = {"card_number": "A12345678", "region": "110105", "issued": "2024-01-15",
             "expires": "2034-01-15"}  # fmt: skip
    holders = [
        {"name": "张三丰", "ssn": "11010519491231002X"},
        {"name": "John Smith", "ssn": "H12345678", "document": "passport"},
        {"name": "陈大文", "ssn": "H12345678", "document": "hk_macao_travel_permit"},
    ]
    src = tmp_path / "mixed.jsonl"
    src.write_text("".join(json.dumps({"holder": h, **dates}) + "\n" for h in holders))
    results, db = tmp_path / "mixed-results.jsonl", tmp_path / "mixed.db"
    with Journal.open(db, pseudonym_key=bytes.fromhex(PKEY_HEX)) as journal:
        summary = issue_batch(
            src, "jsonl", results, job_for(keyfile, ds), journal=journal, operator="op-1"
        )
        expected = [
            holder_pseudonym(
                bytes.fromhex(PKEY_HEX), h["ssn"], DocumentType.parse(h.get("document", 1))
            )
            for h in holders
        ]
    assert (summary.issued, summary.invalid, summary.duplicate) == (3, 0, 0)
    assert [c[2] for c in journal_cards(db)] == expected
    assert len({r["cti"] for r in result_lines(results)}) == 3


def test_the_same_job_mapped_again_and_again_on_one_dask_engine() -> None:
    """Each map sends its job to the workers under a key of its own: under one content-derived
    key, the release of the last map's copy could overtake the next map's upload, and that
    map's tasks were cancelled (1 map in 40 here before the fix)."""
    with DaskEngine(None, 2) as engine:
        for n in range(40):
            chunks = [[(1, f"r{n}")], [(2, "s")], [(3, "t")]]
            assert list(engine.map(_rows_or_refuse, "go", chunks)) == [
                [(1, f"R{n}")],
                [(2, "S")],
                [(3, "T")],
            ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two worker processes started with the dask commands on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = _env()
    base = [sys.executable, "-m"]
    procs = [
        subprocess.Popen(
            [
                *base,
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *base,
                        "distributed.cli.dask_worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                        "--local-directory",
                        str(tmp_path),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=tmp_path,
                )
            )
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def test_batch_runs_on_a_cluster_of_dask_commands(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], dask_cluster: str
) -> None:
    text = csv_rows(200)
    job = job_for(keyfile, ds)
    with DaskEngine(dask_cluster) as engine:
        assert engine.workers == 2
        summary, results, db = run_batch(tmp_path, "cluster", text, job, engine, chunk_size=20)
    assert summary.issued == 200
    _, one_results, one_db = run_batch(tmp_path, "one", text, job, Engine(1))
    assert [c[1:] for c in journal_cards(db)] == [c[1:] for c in journal_cards(one_db)]
    assert payloads(results) == payloads(one_results)


# --- bulk verification --------------------------------------------------------------------


def test_batch_verify_and_audit_over_files(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    _, results, _ = run_batch(tmp_path, "v", csv_rows(30), job_for(keyfile, ds), Engine(1))
    texts = [str(r["text"]) for r in result_lines(results)]
    bad = texts[4][:-6] + ("A" if texts[4][-6] != "A" else "B") + texts[4][-5:]
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(texts[:10]) + "\n\n" + bad + "\n", encoding="utf-8")
    second.write_text("\n".join(texts[10:]) + "\n", encoding="utf-8")
    now = (T0.replace(hour=9)).isoformat()
    common = ["--trust", str(keyfile[1]), "--now", now, "--workers", "2"]
    proc = subprocess.run(
        _cli("verify", str(first), str(second), *common),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, explain(proc)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["source"] for o in out] == [
        *(f"{first}:{n}" for n in (*range(1, 11), 12)),
        *(f"{second}:{n}" for n in range(1, 21)),
    ]
    assert out[10]["code"] != "OK" and all(o["code"] == "OK" for i, o in enumerate(out) if i != 10)
    assert proc.stderr.strip().endswith(f"30 OK, 1 {out[10]['code']}")
    ok = subprocess.run(
        _cli("verify", str(second), *common, "--lang", "zh", "--progress"),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, explain(ok)
    assert "汇总" in ok.stderr and "20 个 OK" in ok.stderr
    assert "20/20" in ok.stderr and "row" in ok.stderr  # the bar, asked for: count and rate
    assert "/31" not in proc.stderr and "row/s" not in proc.stderr  # not a terminal: no bar
    assert json.loads(ok.stdout.splitlines()[0])["message"] == "电子社保卡有效"
    missing = subprocess.run(
        _cli("verify", str(tmp_path / "none.txt"), *common),
        env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 3 and "Traceback" not in missing.stderr, explain(missing)
    audited = subprocess.run(
        _cli("audit", str(first), str(second), *common),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert audited.returncode == 1, explain(audited)
    findings = [json.loads(line) for line in audited.stdout.splitlines()]
    assert len(findings) == 31
    assert "30 passed, 1 failed" in audited.stderr


def test_a_bulk_verify_line_is_the_verify_json_line_with_its_source(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    _, results, _ = run_batch(tmp_path, "lines", csv_rows(6), job_for(keyfile, ds), Engine(1))
    texts = [str(r["text"]) for r in result_lines(results)]
    tampered = texts[1][:-6] + ("A" if texts[1][-6] != "A" else "B") + texts[1][-5:]
    verifier = Verifier(TrustStore([ds.certificate]), Policy())
    now = T0.replace(hour=9)
    found = [verifier.verify(t, now=now) for t in texts]
    found += [verifier.verify(t, now=now) for t in (tampered, "EC1:", "garbage", "")]
    found.append(verifier.verify("\ufeff " + texts[2] + "\r\n", now=now))  # cleaned: warnings
    found.append(verifier.verify(texts[3], now=T0 + dt.timedelta(days=3650 * 2)))
    odd = dataclasses.replace(found[0], issuer='CN="王\\x",O=\u2028\u0001', alg="ES\t256")
    found.append(odd)
    found.append(dataclasses.replace(found[0], warnings=("revocation list past its update",)))
    assert found[10].warnings and found[0].code.value == "OK" and found[6].code.value != "OK"
    for result in found:
        for lang in ("en", "zh"):
            for source in ("a.txt:1", 'd"ir\\文件\n.txt:7'):
                expected = json.dumps(
                    {**result.to_dict(lang), "source": source},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                assert result_line(result, lang, source) == expected
    job = VerifyJob(ListConfig(trust=(str(keyfile[1]),)), now)
    counts, lines = verify_chunk(job, [(f"f:{i}", t) for i, t in enumerate([*texts, tampered])])
    assert counts == {"OK": 6, found[6].code.value: 1}
    assert lines.endswith("\n") and len(lines.splitlines()) == 7
    assert json.loads(lines.splitlines()[6])["source"] == "f:6"


def test_batch_issue_errors_are_typed_and_bilingual(
    tmp_path: Path, keyfile: tuple[Path, Path]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,ssn\n", encoding="utf-8")
    base = _cli(
        "issue", str(src), "--results", str(tmp_path / "o.jsonl"), "--batch", "b",
        "--key", str(keyfile[0]), "--cert", str(keyfile[1]), "--journal", str(tmp_path / "j.db"),
        "--operator", "op", "--pseudonym-key-env", PKEY_ENV, "--workers", "1",
    )  # fmt: skip
    proc = subprocess.run(base, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "[BAD_INPUT]" in proc.stderr, explain(proc)
    assert "CSV header" in proc.stderr and "Traceback" not in proc.stderr
    zh = subprocess.run([*base, "--lang", "zh"], env=_env(), capture_output=True, text=True,
                        timeout=60)  # fmt: skip
    assert zh.returncode == 1 and "输入无效" in zh.stderr, explain(zh)
    unset = subprocess.run(
        base, env={k: v for k, v in _env().items() if k != PKEY_ENV},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unset.returncode == 1 and PKEY_ENV in unset.stderr, explain(unset)


GENERATE = """
import os, sys
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ecard.signing.pkcs11 import generate_key
signer = generate_key(sys.argv[1], token_label=sys.argv[2], pin=os.environ["ECARD_PKCS11_PIN"],
                      key_label=sys.argv[3], algorithm="ES256")
print(signer.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
signer.close()
"""


def test_each_worker_opens_its_own_hsm_session(tmp_path: Path, root: CertifiedKey) -> None:
    """A key on the SoftHSM2 token: the job carries only module, token, label and the PIN's
    variable name; each of two spawned workers logs in itself and signs."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ecard.signing.pki import certify_end_entity

    module, token = os.environ["ECARD_PKCS11_MODULE"], os.environ["ECARD_PKCS11_TOKEN"]
    label = f"batch-ds-{os.getpid()}-{time.monotonic_ns()}"
    # generated in a process of its own: SoftHSM2 fixes its token directory when the module
    # is first loaded in a process, and this one must stay free for the other token tests
    made = subprocess.run(
        [sys.executable, "-c", GENERATE, module, token, label],
        env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, explain(made)
    cert = certify_end_entity(
        root, load_pem_public_key(made.stdout.encode()), "Batch HSM Signer",  # type: ignore[arg-type]
        not_before=T0 - dt.timedelta(days=1), days=730,
    )  # fmt: skip
    source = Pkcs11Key(module, token, label, "ECARD_PKCS11_PIN")
    job = IssueJob(
        key=source, certificate=cert.public_bytes(Encoding.DER), batch="hsm",
        pseudonym_key_env=PKEY_ENV, iat=int(T0.timestamp()),
    )  # fmt: skip
    pin = os.environ["ECARD_PKCS11_PIN"].encode()
    assert pin not in pickle.dumps(job)  # what travels to a worker holds no PIN, no key
    with ProcessEngine(2) as engine:
        summary, results, db = run_batch(tmp_path, "hsm", csv_rows(60), job, engine, chunk_size=5)
    assert summary.issued == 60
    trusted = Verifier(TrustStore([cert]), Policy(clock=lambda: T0 + dt.timedelta(hours=1)))
    for r in result_lines(results):
        assert trusted.verify(str(r["text"])).valid
    assert len(journal_cards(db)) == 60


def test_the_workers_key_must_be_the_journals(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PKEY_ENV, "77" * 32)
    from ecard.errors import BadInputError

    with pytest.raises(BadInputError, match="not the journal's pseudonym key"):
        run_batch(tmp_path, "k", csv_rows(3), job_for(keyfile, ds), Engine(1))
    assert not (tmp_path / "k.jsonl.partial").exists()


def test_a_result_file_killed_before_its_header_starts_afresh_and_another_batch_is_refused(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    from ecard.errors import BadInputError

    (tmp_path / "e.jsonl.partial").write_bytes(b"")
    summary, _, _ = run_batch(tmp_path, "e", csv_rows(3), job_for(keyfile, ds), Engine(1))
    assert summary.issued == 3
    (tmp_path / "f.jsonl.partial").write_bytes(b'{"format":"ecard-batch/1","batch":"other"}\n')
    with pytest.raises(BadInputError, match="not the result file of batch"):
        run_batch(tmp_path, "f", csv_rows(3), job_for(keyfile, ds), Engine(1))


def test_memory_stays_bounded_however_large_the_input(
    tmp_path: Path, keyfile: tuple[Path, Path], ds: CertifiedKey
) -> None:
    """The input is streamed: the peak of the memory Python allocates during a batch (traced
    allocations, which unlike the resident size do not depend on the allocator or the machine)
    does not grow from 4,000 rows to 16,000 (it is about 1 MB), and stays far below what
    holding the rows would take (16,000 parsed rows are some 13 MB). Most rows are invalid
    (their ID number's check character is wrong), so the test runs quickly; every 400th is
    signed and journaled."""
    import tracemalloc

    job = job_for(keyfile, ds, "memory")

    def peak(name: str, count: int) -> int:
        bad = {n: citizen_id(n)[:17] + ("0" if citizen_id(n)[17] != "0" else "1")
               for n in range(count) if n % 400}  # fmt: skip
        src, db = tmp_path / f"{name}.csv", tmp_path / f"{name}.db"
        src.write_text(csv_rows(count, bad), encoding="utf-8")
        with Journal.open(db, pseudonym_key=bytes.fromhex(PKEY_HEX)) as journal:
            tracemalloc.start()
            try:
                summary = issue_batch(src, "csv", tmp_path / f"{name}.jsonl", job,
                                      journal=journal, operator="op-1", chunk_size=500)  # fmt: skip
                _, top = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert (summary.issued, summary.invalid) == (count // 400, count - count // 400)
        assert len(journal_cards(db)) == count // 400
        return top

    run_batch(tmp_path, "warm-up", csv_rows(3), job, Engine(1))  # one-time tables and schemas
    small, large = peak("small", 4_000), peak("large", 16_000)
    assert large < small + 1_000_000, (small, large)
    assert large < 4_000_000, large


def test_pictures_of_the_issued_codes_are_written_beside_the_results(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path]
) -> None:
    """``png_dir`` gets one picture per issued code (none for an invalid or duplicate row),
    named by its ``cti``, private, and a QR reader gets the code's text back from each."""
    import zxingcpp
    from PIL import Image

    pictures = tmp_path / "png"
    pictures.mkdir()
    text = csv_rows(3, bad={1: "not-an-id"}) + csv_rows(1).splitlines()[1] + "\n"
    with ProcessEngine(2) as engine:
        summary, results, _ = run_batch(
            tmp_path, "pictures", text, job_for(keyfile, ds), engine, png_dir=pictures
        )
    assert (summary.issued, summary.invalid, summary.duplicate) == (2, 1, 1)
    issued = {
        str(r["cti"]): str(r["text"]) for r in result_lines(results) if r["status"] == "issued"
    }
    assert sorted(p.name for p in pictures.iterdir()) == sorted(f"{c}.png" for c in issued)
    for cti, code in issued.items():
        path = pictures / f"{cti}.png"
        assert os.stat(path).st_mode & 0o777 == 0o600
        # QR codes only: once, on a random content, zxing reported a second symbol of another format
        [read] = zxingcpp.read_barcodes(
            Image.open(path).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
        )
        assert read.text == code
    with pytest.raises(BadInputError, match="not a folder"):
        run_batch(tmp_path, "nowhere", text, job_for(keyfile, ds, "other"), Engine(1),
                  png_dir=tmp_path / "missing")  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_a_duplicate_in_a_later_chunk_of_the_same_journal_group_is_found(
    tmp_path: Path, ds: CertifiedKey, keyfile: tuple[Path, Path], workers: int
) -> None:
    """Cards are journaled every few chunks: a row repeating one of an earlier chunk not yet
    journaled is a duplicate all the same, and the journal holds each card once. On a pool the
    last chunks are journaled as their results come (the last commit overlaps the last work),
    so there the repeat may find its first in the journal instead."""
    text = csv_rows(6) + csv_rows(1).splitlines()[1] + "\n"
    with Engine(1) if workers == 1 else ProcessEngine(workers) as engine:
        summary, results, db = run_batch(
            tmp_path, "dup", text, job_for(keyfile, ds), engine, chunk_size=2
        )
    assert (summary.issued, summary.duplicate) == (6, 1)
    lines = result_lines(results)
    assert lines[-1]["status"] == "duplicate" and lines[-1]["cti"] == lines[0]["cti"]
    assert [c[1] for c in journal_cards(db)] == [r["cti"] for r in lines[:-1]]
    assert verify_journal(db).ok

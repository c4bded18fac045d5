"""``ecard serve``: its help, a bad configuration refused with the stable message in both
languages, and a real run: the page addresses printed on start, the service's own access log
(no query string), and a clean stop on SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.proc import explain

SRC = Path(__file__).resolve().parents[1] / "src"


def ecard(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "ecard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        **kw,  # type: ignore[call-overload]
    )


def test_help_shows_defaults_and_exit_status() -> None:
    proc = ecard("serve", "--help")
    assert proc.returncode == 0, explain(proc)
    out = " ".join(proc.stdout.split())
    assert "(default: 127.0.0.1)" in out and "(default: 8000)" in out
    assert "--config FILE" in out and "exit status: 0 stopped cleanly" in out


def test_bad_configuration_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "service.toml"
    config.write_text("[counter]\nrequire_binding = 3\n")
    for lang, words in (("en", "service configuration is not valid"), ("zh", "服务配置无效")):
        proc = ecard("serve", "--config", str(config), "--data-dir", str(tmp_path), "--lang", lang)
        assert proc.returncode == 1, explain(proc)
        assert words in proc.stderr and "counter.require_binding" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_prints_pages_and_logs_without_query(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecard",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "ecard serve did not start"
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        page = httpx.get(base + "/counter?purpose=pharmacy&ssn=11010519491231002X")
        assert page.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out, err)
    assert "演示模式" in out and "demo mode" in out
    for path in ("/apply", "/clerk", "/wallet", "/counter", "/api/docs"):
        assert f"http://127.0.0.1:{port}{path}" in out
    assert "验码窗口 / counter (scanner)" in out
    assert "ecard.service.access GET /counter 200 " in err
    assert "ssn" not in err and "11010519491231002X" not in err and "?" not in err
    assert '"GET /counter' not in err  # uvicorn's own access log is off

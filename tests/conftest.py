"""Shared fixtures: real keys, real certificates, a sample card. Nothing is mocked."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from tests.pgserver import PostgresServer, pg_bin

from ecard.card import Card, Holder
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_document_signer, create_root_ca
from ecard.verify.policy import Policy
from ecard.verify.trust import TrustStore
from ecard.verify.verifier import Verifier

settings.register_profile(
    "ecard",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("ecard"), max_examples=1000)
# this module is imported after pytest's --hypothesis-profile is applied, so the choice is made
# here: HYPOTHESIS_PROFILE=thorough python3 dev.py test for 1,000 examples per property
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ecard"))

SETUP_HINT = (
    "run the tests with `python3 dev.py test`, which prepares all of this, or first "
    '`eval "$(bash scripts/system-setup.sh)"`'
)


def missing_system_requirements() -> list[str]:
    """What the tests need from outside Python and do not find: the list scripts/system-setup.sh
    provides. Every item is something a test uses; none of them is optional."""
    missing: list[str] = []
    for tool, package in (
        ("softhsm2-util", "softhsm2"),
        ("pdfsig", "poppler-utils"),
        ("pdftoppm", "poppler-utils"),
        ("pdftocairo", "poppler-utils"),
        ("pdffonts", "poppler-utils"),
        ("pdftotext", "poppler-utils"),
        ("openssl", "openssl"),
        ("zbarimg", "zbar-tools"),
        ("rsvg-convert", "librsvg2-bin"),
    ):
        if shutil.which(tool) is None:
            missing.append(f"the `{tool}` command ({package})")
    for name, what, is_file in (
        ("SOFTHSM2_CONF", "the SoftHSM2 configuration of the test token", True),
        ("ECARD_PKCS11_MODULE", "the SoftHSM2 PKCS#11 library", True),
        ("ECARD_PKCS11_TOKEN", "the test token's label", False),
        ("ECARD_PKCS11_PIN", "the test token's PIN", False),
        ("ECARD_CJK_FONT", "the CJK font the PDF card embeds", True),
    ):
        value = os.environ.get(name)
        if not value:
            missing.append(f"${name}, {what}")
        elif is_file and not Path(value).is_file():
            missing.append(f"${name}={value}, {what}: no such file")
    if shutil.which("openssl") is not None:
        probe = subprocess.run(
            ["openssl", "genpkey", "-algorithm", "SM2"],
            capture_output=True,
            check=False,
        )
        if probe.returncode != 0:
            missing.append("SM2 in the openssl CLI (`openssl genpkey -algorithm SM2` fails)")
    chromium = os.environ.get("ECARD_CHROMIUM") or shutil.which("chromium")
    if not chromium or not Path(chromium).is_file():
        missing.append("$ECARD_CHROMIUM, Debian's Chromium for the browser tests (chromium)")
    if pg_bin() is None:
        missing.append("$ECARD_PG_BIN, PostgreSQL's initdb and pg_ctl (postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing.append("the `runuser` command, to run PostgreSQL unprivileged (util-linux)")
    for module, why in (
        ("gmalg", "the SM2 fallback (test extra)"),
        ("pkcs11", "python-pkcs11"),
        ("sqlalchemy", "the workflow store (test extra)"),
        ("psycopg", "PostgreSQL (db extra)"),
        ("playwright", "the browser tests (test extra)"),
    ):
        if importlib.util.find_spec(module) is None:
            missing.append(f"the Python module {module} ({why}): pip install -e '.[test]'")
    from ecard.crypto.sm2 import sm2_available

    if not sm2_available():
        missing.append("SM2/SM3 in the libcrypto that cryptography uses")
    return missing


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before the first test, loudly, if a system requirement is missing: the tests never
    skip for want of a tool, so a half-prepared machine must not look like a passing run."""
    missing = missing_system_requirements()
    if missing:
        lines = "\n".join(f"  - {m}" for m in missing)
        pytest.exit(
            f"the test environment is incomplete; missing:\n{lines}\n{SETUP_HINT}",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


#: A fixed instant the fixtures' certificates and credentials are built around.
T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def root() -> CertifiedKey:
    return create_root_ca(
        "Test Root CA", organization="ecard tests", not_before=T0 - dt.timedelta(days=30)
    )


@pytest.fixture(scope="session")
def signers(root: CertifiedKey) -> dict[str, CertifiedKey]:
    """One document signer per algorithm, valid T0-1d .. T0+2y."""
    return {
        alg: create_document_signer(
            root,
            f"Test Signer {alg}",
            algorithm=alg,
            not_before=T0 - dt.timedelta(days=1),
            days=730,
        )
        for alg in ("ES256", "ES384", "EdDSA", "PS256", "SM2")
    }


@pytest.fixture(scope="session")
def ds(signers: dict[str, CertifiedKey]) -> CertifiedKey:
    return signers["ES256"]


@pytest.fixture(scope="session")
def card() -> Card:
    return Card(
        holder=Holder(name="张三丰", ssn="11010519491231002X"),
        card_number="A12345678",
        region="110105",
        issued=dt.date(2024, 1, 15),
        expires=dt.date(2034, 1, 15),
    )


@pytest.fixture(scope="session")
def trust(signers: dict[str, CertifiedKey]) -> TrustStore:
    return TrustStore(s.certificate for s in signers.values())


def fixed_clock(when: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: when


@pytest.fixture(scope="session")
def verifier(trust: TrustStore) -> Verifier:
    """Verifies as of T0 + 1 hour."""
    return Verifier(trust, Policy(clock=fixed_clock(T0 + dt.timedelta(hours=1))))


@pytest.fixture(scope="session")
def issuer(ds: CertifiedKey) -> Issuer:
    """Issues at T0."""
    return Issuer(ds.signer(), ds.certificate, clock=fixed_clock(T0))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole test run (tests/pgserver.py), stopped at the end."""
    with PostgresServer() as server:
        yield server


_DATABASES = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: an SQLite file, or a new database on the test run's
    PostgreSQL server. Tests that take it run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"t{os.getpid()}_{next(_DATABASES)}")

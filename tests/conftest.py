"""Shared fixtures: real keys, real certificates, a sample card. Nothing is mocked."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

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

"""Fuzz: certificate files, CRLs, a trust folder with junk in it, and the trust-list manifest.

``load_certificates`` and ``load_crls`` get random bytes and mutations of real PEM and DER
(certificates and CRLs, ES256 and SM2); ``TrustStore.from_paths`` gets a folder where one
certificate file is replaced by junk; the manifest ``ecard trust sign`` reads gets JSON of every
shape through ``ecard.cli.main`` (the command must end with an exit status, never a
traceback).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import T0
from tests.fuzz.fuzzing import check, fuzz_settings, mutants

from ecard.cli import main
from ecard.crypto.crl import load_crls
from ecard.crypto.x509 import certificate_to_pem, load_certificates
from ecard.errors import BadCertificateError
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.verify.paths import PathValidator
from ecard.verify.trust import TrustStore


@pytest.fixture(scope="module")
def pems(signers: dict[str, CertifiedKey], root: CertifiedKey) -> list[bytes]:
    certs = [s.certificate for s in (signers["ES256"], signers["SM2"], root)]
    return [
        *(certificate_to_pem(c) for c in certs),
        *(c.public_bytes(Encoding.DER) for c in certs),
        certificate_to_pem(certs[0]) + certificate_to_pem(certs[1]),
    ]


@pytest.fixture(scope="module")
def crls(root: CertifiedKey, signers: dict[str, CertifiedKey]) -> list[bytes]:
    crl = create_crl(
        root, [(signers["ES256"].certificate, T0 - dt.timedelta(hours=1))], this_update=T0
    )
    return [crl_to_pem(crl), crl.public_bytes(Encoding.DER), crl_to_pem(crl) * 2]


@fuzz_settings(brief=30)
@given(data=st.data())
def test_certificate_bytes(pems: list[bytes], data: st.DataObject) -> None:
    blob = data.draw(st.one_of(st.binary(max_size=300), mutants(pems), mutants(pems, max_ops=12)))
    check("certificate load", lambda: load_certificates(blob))


@fuzz_settings(brief=30)
@given(data=st.data())
def test_crl_bytes(
    crls: list[bytes], root: CertifiedKey, ds: CertifiedKey, data: st.DataObject
) -> None:
    blob = data.draw(st.one_of(st.binary(max_size=300), mutants(crls), mutants(crls, max_ops=12)))
    loaded = check("crl load", lambda: load_crls(blob))
    if isinstance(loaded, list):  # what a verifier does next with them: check a path
        validator = check("crl use", lambda: PathValidator([root.certificate], crls=loaded,
                                                           clock=lambda: T0))  # fmt: skip
        if isinstance(validator, PathValidator):
            check("crl use", lambda: validator.validate(ds.certificate, at=T0))


@fuzz_settings(brief=15)
@given(data=st.data(), name=st.sampled_from(["junk.pem", "junk.crt", "junk.cer", "junk.der"]))
def test_trust_folder_with_junk(
    pems: list[bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, name: str
) -> None:
    folder = tmp_path_factory.mktemp("trust")
    (folder / "good.pem").write_bytes(pems[0])
    (folder / name).write_bytes(data.draw(st.one_of(st.binary(max_size=200), mutants(pems))))
    check("trust from_paths", lambda: TrustStore.from_paths(folder))
    check("trust from_paths", lambda: TrustStore.from_paths(folder / name))


# --- the trust-list manifest ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def list_signer_files(root: CertifiedKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("list-signer")
    ls = create_list_signer(root, "Fuzz Manifest Signer", not_before=T0 - dt.timedelta(days=1))
    (d / "key.pem").write_bytes(ls.key_pem())
    (d / "cert.pem").write_bytes(certificate_to_pem(ls.certificate))
    return d


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _manifest(draw: Any, pem: str) -> str:
    kind = draw(st.sampled_from(["any", "near", "entry", "deep", "numbers"]))
    if kind == "any":
        return json.dumps(draw(_JSON))
    if kind == "deep":
        depth = draw(st.integers(100, 100_000))
        return '{"sequence": 1, "signers": ' + "[" * depth + "]" * depth + "}"
    if kind == "numbers":
        number = draw(st.sampled_from(["1e999", "NaN", "-1", "1" * 5000, "2e19", "3.5", "true"]))
        field = draw(st.sampled_from(["sequence", "next_update_days"]))
        base = {"sequence": 1, "next_update_days": 7, "signers": []}
        return json.dumps(base).replace(f'"{field}": {base[field]}', f'"{field}": {number}')
    entry: dict[str, Any] = {"certificate": pem}
    if kind == "entry":
        for key in draw(
            st.lists(
                st.sampled_from(
                    [
                        "certificate",
                        "chain",
                        "regions",
                        "spec_versions",
                        "retired_at",
                        "compromised_at",
                    ]
                ),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ):
            entry[key] = draw(_JSON | st.just([pem]) | st.just(pem[:-40]))
    else:
        entry.update(draw(st.dictionaries(st.text(max_size=8), _JSON, max_size=2)))
    manifest = {
        "sequence": draw(st.integers(-2, 2**64) | _JSON),
        "next_update_days": draw(st.integers(-2, 10**6) | _JSON),
        "signers": draw(st.just([entry]) | _JSON),
    }
    return json.dumps(manifest)


def _run_cli(argv: list[str]) -> None:
    status = main(argv)
    assert isinstance(status, int)


@fuzz_settings(brief=30)
@given(data=st.data())
def test_trust_sign_manifest(
    list_signer_files: Path,
    signers: dict[str, CertifiedKey],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    data: st.DataObject,
) -> None:
    pem = certificate_to_pem(signers["ES256"].certificate).decode()
    d = tmp_path_factory.mktemp("manifest")
    manifest = d / "manifest.json"
    raw = data.draw(st.just(None) | st.binary(max_size=60))
    if raw is None:
        manifest.write_text(_manifest(data.draw, pem), encoding="utf-8")
    else:
        manifest.write_bytes(raw)
    argv = ["trust", "sign", "--key", str(list_signer_files / "key.pem"), "--cert",
            str(list_signer_files / "cert.pem"), "--out", str(d / "out.ectl"), str(manifest)]  # fmt: skip
    check("cli trust sign manifest", lambda: _run_cli(argv), bound=4.0)
    capsys.readouterr()


@pytest.mark.parametrize(
    "manifest",
    [
        '{"sequence": 1e999, "signers": []}',  # int(inf): OverflowError
        '{"sequence": 1, "next_update_days": -1e999, "signers": []}',  # int(-inf)
        '{"sequence": 1, "next_update_days": 10000000000, "signers": []}',  # timedelta(days=)
        '{"sequence": 1, "next_update_days": -800000000, "signers": []}',  # date out of range
        '{"sequence": 1, "signers": ' + "[" * 100_000 + "]" * 100_000 + "}",  # RecursionError
    ],
    ids=["sequence-inf", "days-inf", "days-huge", "days-negative", "deep"],
)
def test_manifest_defects_found_by_fuzzing_are_typed(
    list_signer_files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    manifest: str,
) -> None:
    """Found by the fuzzer: these manifests crashed ``ecard trust sign`` with a traceback
    (OverflowError, RecursionError) where a BAD_INPUT exit is due; the manifest is now read
    strictly, with ranges for every number."""
    path = tmp_path / "manifest.json"
    path.write_text(manifest)
    argv = ["trust", "sign", "--key", str(list_signer_files / "key.pem"), "--cert",
            str(list_signer_files / "cert.pem"), "--out", str(tmp_path / "o.ectl"), str(path)]  # fmt: skip
    assert main(argv) != 0
    assert "BAD_INPUT" in capsys.readouterr().err


def test_damaged_names_and_extensions_are_refused_at_load(root: CertifiedKey) -> None:
    """Regression found by the fuzzer: cryptography reads a certificate's names and extensions
    lazily, so a DER certificate with a damaged subject loaded fine and then raised ValueError
    inside ``TrustStore`` (and wherever else it was first used). Every one-bit flip of a real
    certificate that still loads now has readable names and extensions."""
    der = root.certificate.public_bytes(Encoding.DER)
    refused = 0
    for at in range(len(der)):
        damaged = bytearray(der)
        damaged[at] ^= 1
        outcome = check("certificate regression", lambda d=bytes(damaged): load_certificates(d))
        if isinstance(outcome, BadCertificateError):
            refused += 1
            continue
        cert = outcome[0]
        _ = cert.subject.rfc4514_string(), cert.issuer, cert.extensions
    assert refused > 0


def test_damaged_crl_issuer_is_refused_at_load(crls: list[bytes]) -> None:
    """Regression found by the fuzzer: a DER CRL with a damaged issuer name (one bit flipped
    at byte 69) loaded, then raised ValueError inside path validation. Every one-bit flip of a
    real CRL either is refused at load or has a readable issuer and extensions."""
    der = crls[1]
    for at in range(len(der)):
        damaged = bytearray(der)
        damaged[at] ^= 1
        outcome = check("crl regression", lambda d=bytes(damaged): load_crls(d))
        if not isinstance(outcome, BadCertificateError):
            _ = outcome[0].issuer.rfc4514_string(), outcome[0].extensions

"""The trust-list manifest: written and read back exactly, read strictly (typed errors, never a
KeyError or TypeError), and signable into a list a verifier accepts."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from tests.conftest import T0

from ecard.errors import BadCertificateError, BadInputError, BadListError, EcardError
from ecard.formats.manifest import ENTRY_KEYS, Manifest, entry_from_dict, entry_to_dict
from ecard.formats.trustlist import TrustListEntry
from ecard.signing.pki import CertifiedKey


@pytest.fixture(scope="module")
def manifest(root: CertifiedKey, signers: dict[str, CertifiedKey]) -> Manifest:
    return Manifest.build(
        [signers["ES256"].certificate, signers["SM2"].certificate],
        chain=[root.certificate],
        regions=["110000"],
        spec_versions=["3.00"],
        sequence=4,
        next_update_days=3,
    )


def test_round_trip(manifest: Manifest) -> None:
    text = manifest.to_json()
    assert text.endswith("\n")
    back = Manifest.from_json(text)
    assert back == manifest
    assert Manifest.from_json(text.encode()) == manifest
    doc = json.loads(text)
    assert doc["sequence"] == 4 and doc["next_update_days"] == 3
    assert set(doc["signers"][0]) == ENTRY_KEYS
    assert doc["signers"][0]["regions"] == ["110000"]


def test_lifecycle_marks_round_trip(ds: CertifiedKey) -> None:
    entry = TrustListEntry(
        ds.certificate,
        retired_at=T0,
        compromised_at=T0.astimezone(dt.timezone(dt.timedelta(hours=8))),
    )
    item = entry_to_dict(entry)
    assert item["retired_at"] == "2026-03-01T08:00:00+00:00"
    assert entry_from_dict(item) == entry
    assert entry_from_dict(json.loads(json.dumps(item))).compromised_at == T0


def test_defaults_and_ignored_fields(ds: CertifiedKey) -> None:
    item: dict[str, Any] = {
        "certificate": entry_to_dict(TrustListEntry(ds.certificate))["certificate"]
    }
    got = Manifest.from_json(json.dumps({"sequence": 0, "signers": [item]}))
    assert got.next_update_days == 7 and got.signers == (TrustListEntry(ds.certificate),)
    item.update(subject="anything a person wrote", kid="not checked")
    assert Manifest.from_json(json.dumps({"sequence": 1, "signers": [item]})).sequence == 1


def _doc(manifest: Manifest) -> dict[str, Any]:
    return copy.deepcopy(manifest.to_dict())


BAD_DOCUMENTS = [
    (lambda d: d.update(extra=1), BadInputError, "unknown key"),
    (lambda d: d.pop("sequence"), BadInputError, "no 'sequence'"),
    (lambda d: d.pop("signers"), BadInputError, "no 'signers'"),
    (lambda d: d.update(sequence="4"), BadInputError, "'sequence' must be an integer"),
    (lambda d: d.update(sequence=True), BadInputError, "'sequence' must be an integer"),
    (lambda d: d.update(sequence=-1), BadInputError, "'sequence' must be an integer"),
    (lambda d: d.update(next_update_days=0), BadInputError, "'next_update_days'"),
    (lambda d: d.update(signers={}), BadInputError, "'signers' must be a list"),
    (lambda d: d["signers"].append(3), BadInputError, r"signers\[2\]: .*JSON object"),
    (lambda d: d["signers"][0].update(colour="red"), BadInputError, r"signers\[0\]: .*unknown key"),
    (lambda d: d["signers"][1].pop("certificate"), BadInputError, r"signers\[1\]: .*needs"),
    (lambda d: d["signers"][0].update(certificate=7), BadInputError, "PEM string"),
    (lambda d: d["signers"][0].update(certificate="junk"), BadCertificateError, r"signers\[0\]"),
    (lambda d: d["signers"][0].update(chain="pem"), BadInputError, "'chain' must be a list"),
    (lambda d: d["signers"][0].update(chain=[1]), BadInputError, "PEM string"),
    (lambda d: d["signers"][0].update(regions="110000"), BadInputError, "list of strings"),
    (lambda d: d["signers"][0].update(regions=[110000]), BadInputError, "list of strings"),
    (lambda d: d["signers"][0].update(regions=["11"]), BadListError, r"signers\[0\]: scope"),
    (lambda d: d["signers"][0].update(spec_versions=["3"]), BadListError, "'3.00'"),
    (lambda d: d["signers"][0].update(retired_at=5), BadInputError, "ISO 8601 time string"),
    (lambda d: d["signers"][0].update(retired_at="soon"), BadInputError, "not an ISO 8601"),
    (lambda d: d["signers"][0].update(retired_at="2026-01-01T00:00"), BadInputError, "zone"),
    (lambda d: d["signers"][0].update(kid=5), BadInputError, "'kid' must be a string"),
]


@pytest.mark.parametrize(("change", "error", "match"), BAD_DOCUMENTS)
def test_strict_reading(
    manifest: Manifest, change: Any, error: type[EcardError], match: str
) -> None:
    doc = _doc(manifest)
    change(doc)
    with pytest.raises(error, match=match) as info:
        Manifest.from_json(json.dumps(doc))
    assert type(info.value) is error


@pytest.mark.parametrize("text", ["", "[1]", "{", '"x"', "null"])
def test_not_a_manifest(text: str) -> None:
    with pytest.raises(BadInputError, match="not a trust-list manifest"):
        Manifest.from_json(text)


def test_two_certificates_in_one_entry(manifest: Manifest) -> None:
    doc = _doc(manifest)
    first = doc["signers"][0]
    first["certificate"] += doc["signers"][1]["certificate"]
    with pytest.raises(BadInputError, match="one certificate, not 2"):
        Manifest.from_json(json.dumps(doc))

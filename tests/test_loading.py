"""List loading from paths: a frozen, picklable ListConfig -> authenticated trust, revocation
list, roots and CRLs -> a Verifier; rollback state; inconsistent paths are typed errors."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest
from tests.conftest import T0

from ecard.card import Card
from ecard.errors import BadCertificateError, BadInputError, ErrorCode, ListRollbackError
from ecard.formats.trustlist import TrustListEntry
from ecard.publish.revocation import revoke
from ecard.signing.crl import create_crl, crl_to_pem
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.signing.trustlist import sign_trust_list
from ecard.verify.loading import ListConfig, read_list_file

DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory, root: CertifiedKey, ds: CertifiedKey
) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("loading")
    lists = create_list_signer(root, "Loading List Signer", not_before=T0 - DAY)
    out = {
        "root": d / "root.pem",
        "ds": d / "ds.pem",
        "crl": d / "root.crl",
        "trust": d / "trust.ectl",
        "trust2": d / "trust2.ectl",
        "revoked": d / "revoked.ecrl",
    }
    out["root"].write_bytes(root.certificate_pem())
    out["ds"].write_bytes(ds.certificate_pem())
    out["crl"].write_bytes(crl_to_pem(create_crl(root, [], days=3650)))
    for name, seq in (("trust", 1), ("trust2", 2)):
        out[name].write_bytes(
            sign_trust_list(
                [TrustListEntry(ds.certificate)],
                sequence=seq,
                issued_at=T0,
                next_update=T0 + 3650 * DAY,
                signer=lists.signer(),
                certificate=lists.certificate,
            )
        )
    return out


def test_config_is_frozen_picklable_and_normalised(files: dict[str, Path]) -> None:
    config = ListConfig(
        trust=[files["ds"]],  # type: ignore[arg-type]
        roots=(files["root"],),  # type: ignore[arg-type]
        algorithms=frozenset({"ES256"}),
    )
    assert config.trust == (str(files["ds"]),) and config.roots == (str(files["root"]),)
    assert pickle.loads(pickle.dumps(config)) == config
    with pytest.raises(AttributeError):
        config.state = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ListConfig(trust=str(files["ds"]))  # type: ignore[arg-type]
    assert config.policy().algorithms == frozenset({"ES256"})


def test_trust_list_revocations_and_state(
    tmp_path: Path, files: dict[str, Path], root: CertifiedKey, ds: CertifiedKey, card: Card
) -> None:
    issued = Issuer(ds.signer(), ds.certificate).issue(card, iat=T0)
    lists = create_list_signer(root, "Loading Revoker", not_before=T0 - DAY)
    files_revoked = tmp_path / "revoked.ecrl"
    from ecard.formats.revocation import entry_from_text

    files_revoked.write_bytes(
        revoke(
            None,
            [entry_from_text(issued.text)],
            signer=lists.signer(),
            certificate=lists.certificate,
            issued_at=T0,
            next_update=T0 + 3650 * DAY,
        )
    )
    state = tmp_path / "state.json"
    base = ListConfig(
        trust_list=str(files["trust2"]),
        roots=(str(files["root"]),),
        crls=(str(files["crl"]),),
        state=str(state),
    )
    loaded = base.load()
    assert loaded.trust is not None and loaded.revocations is None
    assert [c.subject for c in loaded.roots] == [root.certificate.subject] and len(loaded.crls) == 1
    assert base.verifier().verify(issued.text, now=T0 + DAY).valid
    assert state.is_file()
    with pytest.raises(ListRollbackError):
        ListConfig(trust_list=str(files["trust"]), roots=base.roots, state=str(state)).load()
    from dataclasses import replace

    revoked = replace(base, revocation_list=str(files_revoked)).verifier()
    assert revoked.verify(issued.text, now=T0 + DAY).code == ErrorCode.REVOKED


def test_certificates_without_roots(files: dict[str, Path], ds: CertifiedKey, card: Card) -> None:
    config = ListConfig(trust=(str(files["ds"]),))
    assert config.path_validator() is None
    issued = Issuer(ds.signer(), ds.certificate).issue(card, iat=T0)
    assert config.verifier().verify(issued.text, now=T0 + DAY).valid


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"crls": ("x.crl",)}, "need --root"),
        ({"cas": ("ca.pem",)}, "need --root"),
        ({"trust_list": "t.ectl"}, "trust list needs a root"),
        ({"revocation_list": "r.ecrl", "trust": ("ds.pem",)}, "revocation list needs a root"),
        ({"trust": ("a.pem",), "trust_list": "t.ectl"}, "not both"),
        ({}, "needs trust"),
    ],
)
def test_inconsistent_paths_are_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(BadInputError, match=match):
        ListConfig(**kwargs).verifier()  # type: ignore[arg-type]


def test_unreadable_files_are_typed(tmp_path: Path, files: dict[str, Path]) -> None:
    with pytest.raises(BadCertificateError):
        ListConfig(trust=(str(files["ds"]),), roots=(str(tmp_path / "none.pem"),)).load()
    with pytest.raises(BadInputError, match="cannot read"):
        read_list_file(tmp_path / "missing.ectl")

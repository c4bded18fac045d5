"""Key sources: picklable descriptions of where a key is, opened into signers; the option rules
of the ``ecard`` command. A key on a real SoftHSM2 token: ``test_pkcs11.py::test_key_source_*``
(it needs that module's token)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from ecard.errors import BadInputError, BadKeyError
from ecard.signing.keysource import KeyFile, Pkcs11Key, key_source, password_from_env
from ecard.signing.pki import CertifiedKey

DATA = b"signed by a key source"


def signs_with(source: KeyFile | Pkcs11Key, public_der: bytes) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    signer = source.open()
    got = signer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert got == public_der
    signature = signer.sign(DATA)
    assert signer.algorithm.verify(signer.public_key(), signature, DATA)
    assert not signer.algorithm.verify(signer.public_key(), signature, DATA + b"!")


def _spki(ck: CertifiedKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return ck.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_key_file_pickles_round_trips_and_opens(
    tmp_path: Path, ds: CertifiedKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(ds.key_pem(b"secret-pw"))
    monkeypatch.setenv("ECARD_TEST_KEY_PW", "secret-pw")
    source = KeyFile(path, password_env="ECARD_TEST_KEY_PW", algorithm="es256")
    assert source.path == str(path) and source.algorithm == "ES256"
    copy = pickle.loads(pickle.dumps(source))
    assert copy == source and hash(copy) == hash(source)
    assert "secret-pw" not in repr(source) and b"secret-pw" not in pickle.dumps(source)
    signs_with(copy, _spki(ds))


def test_key_file_needs_its_password_variable(tmp_path: Path, ds: CertifiedKey) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(ds.key_pem(b"pw"))
    with pytest.raises(BadInputError, match="ECARD_TEST_UNSET_PW is not set"):
        KeyFile(path, password_env="ECARD_TEST_UNSET_PW").open()
    with pytest.raises(BadKeyError):
        KeyFile(path).open()  # encrypted, no password


def test_key_source_follows_the_command_rules() -> None:
    assert key_source(key="k.pem", key_password_env="PW") == KeyFile("k.pem", "PW")
    assert key_source(key="k.pem", key_password_env="") == KeyFile("k.pem")
    hsm = key_source(pkcs11_module="m.so", token="t", key_label="l", pin_env="P", algorithm="PS256")
    assert hsm == Pkcs11Key("m.so", "t", "l", "P", "PS256")
    with pytest.raises(BadInputError, match="not both"):
        key_source(key="k.pem", pkcs11_module="m.so", token="t", key_label="l", pin_env="P")
    with pytest.raises(BadInputError, match="needs --token"):
        key_source(pkcs11_module="m.so", token="t")
    with pytest.raises(BadInputError, match="give --key FILE"):
        key_source()


def test_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert password_from_env(None) is None and password_from_env("") is None
    monkeypatch.setenv("ECARD_TEST_PW2", "p")
    assert password_from_env("ECARD_TEST_PW2") == b"p"
    monkeypatch.delenv("ECARD_TEST_PW2")
    with pytest.raises(BadInputError):
        password_from_env("ECARD_TEST_PW2")

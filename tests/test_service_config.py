"""Service configuration: demo defaults, a production TOML file with real keys and
certificates (the issuer key from a PEM file, the list signer's encrypted), environment
variables over the file, and one typed error (``CONFIG_INVALID``, English and Chinese) naming
the setting, never its value, for every bad configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import T0
from tests.test_service_api import CARD
from tests.workflow_support import Clock

from ecard.service.app import create_app
from ecard.service.config import (
    DEFAULT_DATA_DIR,
    ConfigError,
    KeyFile,
    Pkcs11Key,
    ServiceConfig,
    load_config,
)
from ecard.service.context import build_context
from ecard.signing.pki import create_document_signer, create_list_signer, create_root_ca

PSEUDONYM = "ab" * 32
PHOTO = "cd" * 32
SECRETS = {"ECARD_SERVICE_PSEUDONYM_KEY": PSEUDONYM, "ECARD_SERVICE_PHOTO_KEY": PHOTO}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    start = T0 - dt.timedelta(days=1)
    root = create_root_ca("Prod Root", organization="ecard tests", not_before=start)
    signer = create_document_signer(
        root, "Prod Signer", organization="ecard tests", not_before=start
    )
    lister = create_list_signer(
        root, "Prod List Signer", organization="ecard tests", not_before=start
    )
    (folder / "root.pem").write_bytes(root.certificate_pem())
    (folder / "signer-cert.pem").write_bytes(signer.certificate_pem())
    (folder / "signer-key.pem").write_bytes(signer.key_pem())
    (folder / "list-cert.pem").write_bytes(lister.certificate_pem())
    (folder / "list-key.pem").write_bytes(lister.key_pem(b"list password"))
    return folder


def production_toml(pki: Path, extra: str = "") -> Path:
    text = f"""
data_dir = "data"
default_lang = "en"

[issuer]
key = "signer-key.pem"
cert = "signer-cert.pem"

[list_signer]
key = "list-key.pem"
key_password_env = "TEST_LIST_PASSWORD"
cert = "list-cert.pem"
chain = ["root.pem"]

[counter]
purposes = ["pharmacy", "treatment"]
presentation_max_age = 60

[limits]
max_body = 32768
verify_burst = 50
{extra}
"""
    path = pki / "service.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_defaults() -> None:
    config = load_config(environ={})
    assert config.demo and config.data_dir == DEFAULT_DATA_DIR and config.issuer is None
    assert config.counter.require_binding is True and config.counter.minimum_scope is True
    assert config.max_body == 64 * 1024 and config.limits.max_photo_body == 6 * 1024 * 1024
    assert config.default_lang == "zh"


def test_production_file(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = production_toml(pki)
    env = {**SECRETS, "ECARD_SERVICE_COUNTER_REQUIRE_BINDING": "false"}
    config = load_config(path, environ=env)
    assert not config.demo and config.data_dir == pki / "data"
    assert isinstance(config.issuer.source, KeyFile)  # type: ignore[union-attr]
    assert config.counter.purposes == {"pharmacy", "treatment"}
    assert config.counter.require_binding is False and config.counter.presentation_max_age == 60
    assert config.limits.max_body == 32768 and config.limits.verify_burst == 50
    assert PSEUDONYM not in repr(config) and PHOTO not in repr(config)

    for name, value in {**SECRETS, "TEST_LIST_PASSWORD": "list password"}.items():
        monkeypatch.setenv(name, value)
    ctx = build_context(config, clock=Clock())
    assert ctx.demo is None and ctx.trust_list() is None
    client = TestClient(create_app(ctx))
    assert client.get("/api/health").json()["demo"] is False
    text = ctx.registry.issuer.issue(CARD).text
    assert client.post("/api/verify", json={"code": text}).json()["code"] == "OK"
    served = client.post("/api/verify", json={"code": text, "purpose": "identity"})
    assert served.status_code == 400 and served.json()["error"] == "PURPOSE_NOT_SERVED"
    # the list signer signs the lists the counter then loads under the configured root
    ctx.registry.refresh_revocation_list(actor="test")
    assert ctx.counter.revocations() is not None
    assert "DEMO" not in client.get("/counter").text


def test_environment_overrides_the_file(pki: Path) -> None:
    env = {
        **SECRETS,
        "ECARD_SERVICE_DB_URL": "sqlite:////tmp/elsewhere.db",
        "ECARD_SERVICE_COUNTER_PURPOSES": "identity, pharmacy",
        "ECARD_SERVICE_LIMITS_MAX_BODY": "1024",
        "ECARD_SERVICE_CONFIG": str(production_toml(pki)),
    }
    config = load_config(environ=env)
    assert config.database_url == "sqlite:////tmp/elsewhere.db"
    assert config.counter.purposes == {"identity", "pharmacy"}
    assert config.max_body == 1024 and not config.demo
    assert load_config(environ=env, db_url="postgresql://x/y").db_url == "postgresql://x/y"


def test_pkcs11_issuer(pki: Path) -> None:
    extra = ""
    path = production_toml(pki, extra)
    text = path.read_text().replace(
        'key = "signer-key.pem"',
        'pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"\ntoken = "ecard"\n'
        'key_label = "issuer"\npin_env = "ECARD_HSM_PIN"',
    )
    path.write_text(text)
    source = load_config(path, environ={}).issuer.source  # type: ignore[union-attr]
    assert source == Pkcs11Key(
        "/usr/lib/softhsm/libsofthsm2.so", "ecard", "issuer", "ECARD_HSM_PIN"
    )


BAD = [
    ("bogus = 1", "bogus"),
    ('[counter]\nrequire_binding = "yes"', "counter.require_binding"),
    ('[counter]\npurposes = ["casino"]', "counter.purposes"),
    ("[counter]\npurposes = []", "counter.purposes"),
    ('[counter]\ndefault_purpose = "identity"\npurposes = ["pharmacy"]', "counter.default_purpose"),
    ('[counter]\nrevocation_list = "rl.cbor"', "counter.roots"),
    ("[counter]\npresentation_max_age = 6000", "counter.presentation_max_age"),
    ('[counter]\ncolour = "red"', "counter.colour"),
    ("[limits]\nmax_body = 0", "limits.max_body"),
    ("[limits]\nmax_body = -3", "limits.max_body"),
    ('[issuer]\nkey = "k.pem"', "issuer.cert"),
    ('[issuer]\ncert = "c.pem"', "issuer.key"),
    ('[issuer]\ncert = "c.pem"\npkcs11_module = "m.so"', "issuer.token"),
    ('[issuer]\nkey = "k.pem"\ncert = "c.pem"', "list_signer"),
    ('[list_signer]\nkey = "k.pem"\ncert = "c.pem"', "issuer"),
    ('default_lang = "fr"', "default_lang"),
    ("issuer = 3", "issuer"),
    ("this is not toml", "service.toml"),
]


@pytest.mark.parametrize(("text", "key"), BAD)
def test_bad_configuration(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "service.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    err = caught.value
    assert err.key.endswith(key) and err.CODE == "CONFIG_INVALID" and err.code.value == "BAD_INPUT"
    assert err.message("en").startswith("service configuration is not valid: ")
    assert err.message("zh").startswith("服务配置无效：")


def test_bad_environment() -> None:
    for env, key in (
        ({"ECARD_SERVICE_NOPE": "1"}, "ECARD_SERVICE_NOPE"),
        ({"ECARD_SERVICE_COUNTER_MINIMUM_SCOPE": "maybe"}, "ECARD_SERVICE_COUNTER_MINIMUM_SCOPE"),
        ({"ECARD_SERVICE_LIMITS_VERIFY_BURST": "lots"}, "ECARD_SERVICE_LIMITS_VERIFY_BURST"),
        ({"ECARD_SERVICE_ISSUER_COLOUR": "x"}, "ECARD_SERVICE_ISSUER_COLOUR"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(environ=env)
        assert caught.value.key == key
        assert env[key] not in caught.value.message("en")
    with pytest.raises(ConfigError) as caught:
        load_config("/nonexistent/service.toml", environ={})
    assert "cannot be read" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [(None, "not set"), ("zz" * 32, "hexadecimal"), ("ab" * 8, "32 bytes")],
)
def test_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, why: str
) -> None:
    config = ServiceConfig(data_dir=tmp_path)
    monkeypatch.setenv("ECARD_SERVICE_PSEUDONYM_KEY", PSEUDONYM)
    if value is None:
        monkeypatch.delenv("ECARD_SERVICE_PHOTO_KEY", raising=False)
    else:
        monkeypatch.setenv("ECARD_SERVICE_PHOTO_KEY", value)
    with pytest.raises(ConfigError) as caught:
        config.secret("photo")
    assert why in str(caught.value) and caught.value.key == "ECARD_SERVICE_PHOTO_KEY"
    if value:
        assert value not in caught.value.message("en") and value not in caught.value.message("zh")
    assert config.secret("pseudonym") == bytes.fromhex(PSEUDONYM)

"""ID photos kept encrypted with their retention, and review deadlines: on SQLite and on
PostgreSQL (the ``db_url`` fixture), real pictures made and decoded by Pillow, real AES-GCM
(the blob is also opened independently with ``cryptography`` from the documented layout)."""

from __future__ import annotations

import datetime as dt
import io
import random
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image
from sqlalchemy import create_engine, text
from tests.conftest import T0
from tests.workflow_support import CONSENTS, PHONE, PHOTO_KEY, RESIDENT, World, make_world

from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.photos import MAX_PHOTO_BYTES, check_photo, open_photo, seal_photo
from ecard.workflow.steps import CONSENT_PERSONAL, OverdueApplication, Settings
from ecard.workflow.store import PhotoRow

OTHER = "110105198001010016"


def _picture(fmt: str, size: tuple[int, int] = (96, 128), seed: int = 1) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    for x in range(0, size[0], 3):  # noise so the bytes are unique to this picture
        for y in range(0, size[1], 3):
            image.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


PNG = _picture("PNG")
JPEG = _picture("JPEG", seed=2)


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Photo List Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    settings = Settings(review_days=5, review_days_by_region={"110000": 3, "310105": 10})
    return make_world(db_url, root, ds, list_signer, settings=settings)


def _window(world: World, number: str = RESIDENT, region: str = "110105", **kw: object) -> str:
    return world.registry.submit(
        channel="window",
        document_type=1,
        document_number=number,
        name="张三丰",
        phone=PHONE,
        region=region,
        actor="clerk:1",
        consents=kw.pop("consents", [CONSENT_PERSONAL]),  # type: ignore[arg-type]
    )


def _online(world: World, number: str = RESIDENT) -> str:
    return world.registry.submit(
        channel="online",
        document_type=1,
        document_number=number,
        name="张三丰",
        phone=PHONE,
        region="110105",
        actor="account:42",
        consents=CONSENTS,
    )


def _code(call: object, *args: object, **kw: object) -> WorkflowCode:
    with pytest.raises(WorkflowError) as err:
        call(*args, **kw)  # type: ignore[operator]
    assert "张三丰" not in err.value.message("zh") and RESIDENT not in err.value.message("en")
    return err.value.workflow_code


def _blob(world: World, app: str) -> bytes:
    with world.registry.store.engine.connect() as conn:
        value = conn.execute(
            text("SELECT blob FROM photos WHERE application_id = :a"), {"a": app}
        ).scalar_one()
    return bytes(value)


# ------------------------------------------------------------------ photos


@pytest.mark.parametrize(("picture", "media"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_photo_round_trip_and_never_in_clear(
    world: World, db_url: str, picture: bytes, media: str
) -> None:
    reg = world.registry
    app = _online(world)
    reg.store_photo(app, picture, actor="account:42")
    photo = reg.read_photo(app, actor="clerk:2")
    assert photo.data == picture and photo.media_type == media
    blob = _blob(world, app)
    assert picture[:64] not in blob and picture[-64:] not in blob
    # the documented layout, opened with cryptography directly
    assert blob[0] == 1
    aad = f"ecard-workflow-photo:1:{app}".encode()
    assert AESGCM(PHOTO_KEY).decrypt(blob[1:13], blob[13:], aad) == picture
    if db_url.startswith("sqlite"):
        reg.store.close()
        path = Path(db_url.removeprefix("sqlite:///"))
        on_disk = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert blob[13:45] in on_disk  # the ciphertext is what the file holds
        for start in range(0, len(picture) - 32, 512):
            assert picture[start : start + 32] not in on_disk
    actions = [e.action for e in reg.events(app)]
    assert actions[-2:] == ["store_photo", "read_photo"]


def test_wrong_key_and_flipped_byte_are_refused(
    world: World, db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    reg = world.registry
    app = _online(world)
    reg.store_photo(app, PNG, actor="account:42")
    other = make_world(db_url, root, ds, list_signer, photo_key=bytes(32))
    assert _code(other.registry.read_photo, app, actor="clerk:2") is WorkflowCode.PHOTO_UNREADABLE
    blob = bytearray(_blob(world, app))
    for index in (0, 5, len(blob) // 2, len(blob) - 1):  # version, nonce, ciphertext, tag
        changed = bytearray(blob)
        changed[index] ^= 0x01
        with reg.store.transaction() as session:
            row = session.get(PhotoRow, app)
            assert row is not None
            row.blob = bytes(changed)
        assert _code(reg.read_photo, app, actor="clerk:2") is WorkflowCode.PHOTO_UNREADABLE
    with reg.store.transaction() as session:
        session.get(PhotoRow, app).blob = bytes(blob[:20])  # type: ignore[union-attr]
    assert _code(reg.read_photo, app, actor="clerk:2") is WorkflowCode.PHOTO_UNREADABLE


def test_a_blob_moved_to_another_application_is_refused(world: World) -> None:
    reg = world.registry
    first, second = _online(world), _online(world, OTHER)
    reg.store_photo(first, PNG, actor="account:42")
    reg.store_photo(second, JPEG, actor="account:42")
    with reg.store.transaction() as session:
        session.get(PhotoRow, second).blob = _blob(world, first)  # type: ignore[union-attr]
    assert _code(reg.read_photo, second, actor="clerk:2") is WorkflowCode.PHOTO_UNREADABLE
    assert reg.read_photo(first, actor="clerk:2").data == PNG


def test_no_photo_without_the_separate_consent(world: World) -> None:
    reg = world.registry
    app = _window(world)
    assert _code(reg.store_photo, app, PNG, actor="clerk:1") is WorkflowCode.CONSENT_REQUIRED
    assert _code(reg.read_photo, app, actor="clerk:2") is WorkflowCode.NOT_FOUND
    reg.record_photo_consent(app, actor="clerk:1")
    reg.store_photo(app, PNG, actor="clerk:1")
    assert reg.read_photo(app, actor="clerk:2").data == PNG


def test_photos_are_purged_after_the_retention(world: World) -> None:
    reg = world.registry
    decided, waiting = _window(world, consents=CONSENTS), _window(world, OTHER, consents=CONSENTS)
    for app in (decided, waiting):
        reg.store_photo(app, JPEG, actor="clerk:1")
    world.clock.advance(days=1)
    reg.review(decided, reviewer="clerk:2", approve=False, reason="photo does not match")
    assert _code(reg.store_photo, decided, PNG, actor="clerk:1") is WorkflowCode.WRONG_STEP
    world.clock.advance(days=19)  # day 20: the waiting application is still being worked on
    reg.record_photo_consent(waiting, actor="clerk:1")
    assert reg.purge_expired_photos(T0 + dt.timedelta(days=30, hours=23)) == 0
    assert reg.purge_expired_photos(T0 + dt.timedelta(days=31)) == 1
    assert _code(reg.read_photo, decided, actor="clerk:2") is WorkflowCode.NOT_FOUND
    assert reg.read_photo(waiting, actor="clerk:2").data == JPEG  # undecided, active: kept
    # no decision and no activity for the retention: abandoned, purged
    assert reg.purge_expired_photos(T0 + dt.timedelta(days=49, hours=23)) == 0
    assert reg.purge_expired_photos(T0 + dt.timedelta(days=50)) == 1
    assert _code(reg.read_photo, waiting, actor="clerk:2") is WorkflowCode.NOT_FOUND
    assert reg.purge_expired_photos(T0 + dt.timedelta(days=400)) == 0
    details = {e.application_id: e.detail for e in reg.events() if e.action == "purge_photo"}
    assert details == {decided: "decided", waiting: "abandoned"}


def test_photo_steps_need_the_key(
    db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey
) -> None:
    world = make_world(db_url, root, ds, list_signer, photo_key=None)
    app = _online(world)
    assert _code(world.registry.store_photo, app, PNG, actor="a") is WorkflowCode.WRONG_STEP
    with pytest.raises(ValueError, match="32 bytes"):
        make_world(db_url, root, ds, list_signer, photo_key=b"short")


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (6000, 6000)).save(out, format="PNG")  # 36 Mpixels in a few kilobytes
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + bytes(100), WorkflowCode.PHOTO_INVALID),
        (b"not a picture", WorkflowCode.PHOTO_INVALID),
        (b"", WorkflowCode.PHOTO_INVALID),
        ("a string", WorkflowCode.PHOTO_INVALID),
        (PNG[: len(PNG) // 2], WorkflowCode.PHOTO_INVALID),  # truncated
        (b"\xff\xd8\xff" + PNG[3:], WorkflowCode.PHOTO_INVALID),  # JPEG magic, PNG body
        (PNG[:8] + bytes(MAX_PHOTO_BYTES), WorkflowCode.PHOTO_TOO_LARGE),
        (_bomb(), WorkflowCode.PHOTO_BOMB),
    ],
    ids=["gif", "text", "empty", "str", "truncated", "wrong-magic", "too-big", "bomb"],
)
def test_bad_photos_are_refused(data: object, code: WorkflowCode) -> None:
    with pytest.raises(WorkflowError) as err:
        check_photo(data)
    assert err.value.workflow_code is code


def test_a_bomb_past_pillows_own_warning_is_refused_without_a_warning() -> None:
    out = io.BytesIO()
    Image.new("1", (10000, 9000)).save(out, format="PNG")  # 90 Mpixels: Pillow only warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(WorkflowError) as err:
            check_photo(out.getvalue())
    assert err.value.workflow_code is WorkflowCode.PHOTO_BOMB


def test_a_bomb_is_refused_by_the_step_and_nothing_is_stored(world: World) -> None:
    reg = world.registry
    app = _online(world)
    assert _code(reg.store_photo, app, _bomb(), actor="a") is WorkflowCode.PHOTO_BOMB
    assert _code(reg.read_photo, app, actor="clerk:2") is WorkflowCode.NOT_FOUND


def test_seal_uses_a_fresh_nonce() -> None:
    one, two = seal_photo(PHOTO_KEY, "a", PNG), seal_photo(PHOTO_KEY, "a", PNG)
    assert one != two
    assert open_photo(PHOTO_KEY, "a", one).data == open_photo(PHOTO_KEY, "a", two).data == PNG


# ------------------------------------------------------------------ review deadlines


def test_overdue_applications_follow_the_region_deadlines(world: World) -> None:
    reg = world.registry
    beijing = _window(world, region="110105")  # province 110000: 3 days
    shanghai = _window(world, OTHER, region="310105")  # its own entry: 10 days
    shenzhen = _window(world, "440305198001010013", region="440305")  # default: 5 days
    decided = _window(world, "110105198001010024", region="110105")
    reg.review(decided, reviewer="clerk:2", approve=True)
    assert reg.overdue_applications(T0 + dt.timedelta(days=2, hours=23)) == []
    day3 = reg.overdue_applications(T0 + dt.timedelta(days=3))
    assert day3 == [OverdueApplication(beijing, "window", "110105", T0, T0 + dt.timedelta(days=3))]
    day5 = reg.overdue_applications(T0 + dt.timedelta(days=5))
    assert [a.application_id for a in day5] == [beijing, shenzhen]
    day10 = reg.overdue_applications(T0 + dt.timedelta(days=10))
    assert [a.application_id for a in day10] == [beijing, shenzhen, shanghai]
    only = reg.overdue_applications(T0 + dt.timedelta(days=10), region="310105")
    assert [a.application_id for a in only] == [shanghai]
    assert set(vars(day10[0])) == {"application_id", "channel", "region", "submitted", "due"}
    assert "张三丰" not in repr(day10) and RESIDENT not in repr(day10)
    assert _code(reg.overdue_applications, T0, region="bad") is WorkflowCode.WRONG_STEP


def test_review_deadline_settings() -> None:
    settings = Settings(review_days=7, review_days_by_region={"440300": 2, "440000": 4})
    assert settings.review_deadline_days("440305") == 2
    assert settings.review_deadline_days("440100") == 4
    assert settings.review_deadline_days("110105") == 7
    for bad in ({"review_days": 0}, {"review_days_by_region": {"4403": 2}}, {"review_days": True}):
        with pytest.raises(ValueError, match="review"):
            Settings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="photo_retention"):
        Settings(photo_retention=dt.timedelta(days=-1))


def test_a_store_at_the_first_schema_is_upgraded(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from ecard.workflow.store import MIGRATIONS, Store

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(db_url)  # the first schema alone, with a row in it
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO applications (id, channel, document_type, document_number, name,"
                " phone, region, subject, relation, applicant, consents, state, submitted_by,"
                " submitted_at, phone_verified, version) VALUES ('a1', 'window', 1, 'x', 'y',"
                " 'p', '110105', 's', 'self', 's', '[]', 'submitted', 'c', 0, false, 1)"
            )
        )
    engine.dispose()
    upgraded = Store(db_url)
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        assert conn.execute(text("SELECT decided_at FROM applications")).all() == [(None,)]
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 0
    upgraded.close()

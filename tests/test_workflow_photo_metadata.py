"""ID photos lose their metadata before they are encrypted, and nothing else: real JPEG and
PNG files written by Pillow with EXIF (GPS, camera, orientation), XMP, comments, ICC profiles
and text chunks come out without any of it, with exactly the same decoded pixels and the
compressed data byte for byte; through the registry on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from tests.conftest import T0
from tests.workflow_support import CONSENTS, PHONE, RESIDENT, World, make_world

from ecard.signing.pki import CertifiedKey, create_list_signer
from ecard.workflow.errors import WorkflowCode, WorkflowError
from ecard.workflow.photo_metadata import PNG_KEPT, strip_metadata
from ecard.workflow.photos import check_photo

GPS_IFD = 0x8825
SECRET = "Shenzhen-Nanshan 22.5431N"
XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"


def _image(mode: str = "RGB", size: tuple[int, int] = (64, 48), seed: int = 3) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(size[0] * size[1])])  # fmt: skip
    return image.convert(mode)


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X 12"  # Model
    exif[0x0132] = "2026:03:01 08:00:00"  # DateTime
    exif[0x0112] = orientation
    # set as a whole IFD: Pillow before 11 writes no GPS IFD filled through get_ifd()
    exif[GPS_IFD] = {1: "N", 2: (22.0, 32.0, 35.0), 3: "E", 4: (113.0, 56.0, 1.0)}
    return exif


def _srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def _with_xmp(data: bytes) -> bytes:
    """``data`` with an XMP APP1 segment after its SOI: Pillow writes XMP only from 11.0."""
    xmp = f"<x:xmpmeta><rdf:Description location='{SECRET}'/></x:xmpmeta>".encode()
    body = XMP_NS + xmp
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


def _xmp_segments(image: Image.Image) -> list[bytes]:
    """The XMP APP1 segments Pillow's JPEG reader saw (``info['xmp']`` exists only from 11.0)."""
    applist: list[tuple[str, bytes]] = getattr(image, "applist", [])
    return [body for marker, body in applist if marker == "APP1" and body.startswith(XMP_NS)]


def jpeg(orientation: int = 6, **kw: object) -> bytes:
    out = io.BytesIO()
    _image().save(
        out,
        "JPEG",
        quality=90,
        exif=_exif(orientation).tobytes(),
        comment=SECRET.encode(),
        icc_profile=_srgb_icc(),
        **kw,
    )
    return _with_xmp(out.getvalue())


def png(mode: str = "RGB", **kw: object) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", SECRET)
    info.add_text("Comment", SECRET, zip=True)
    info.add_itxt("Author", "张三丰 " + SECRET, lang="zh", tkey="作者")
    info.add(b"tIME", struct.pack(">HBBBBB", 2026, 3, 1, 8, 0, 0))
    info.add(b"prVt", b"vendor data " + SECRET.encode())
    out = io.BytesIO()
    _image(mode).save(
        out, "PNG", pnginfo=info, exif=_exif(1).tobytes(), icc_profile=_srgb_icc(), **kw
    )
    return out.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.tobytes()


def png_chunks(data: bytes) -> list[bytes]:
    kinds, at = [], 8
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack_from(">I", data, at + 8 + length)
        assert crc == zlib.crc32(kind + body)  # every chunk kept whole
        kinds.append(kind)
        at += 12 + length
    return kinds


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_metadata_goes_pixels_stay(progressive: bool) -> None:
    original = jpeg(progressive=progressive)
    with Image.open(io.BytesIO(original)) as before:  # the fixture really carries it all
        assert before.getexif().get_ifd(GPS_IFD) and "icc_profile" in before.info
        assert _xmp_segments(before) and before.info.get("comment")
    clean = strip_metadata(original)
    assert check_photo(clean) == "image/jpeg"
    assert pixels(clean) == pixels(original)
    sos = original.index(b"\xff\xda")
    assert clean.endswith(original[sos:])  # the scans untouched, byte for byte
    assert SECRET.encode() not in clean and b"PhoneMaker" not in clean
    assert b"ICC_PROFILE" not in clean and b"http://ns.adobe.com/xap" not in clean
    with Image.open(io.BytesIO(clean)) as after:
        exif = after.getexif()
        assert dict(exif) == {0x0112: 6}  # only which way is up
        assert not exif.get_ifd(GPS_IFD)
        assert "icc_profile" not in after.info and "comment" not in after.info
        assert not _xmp_segments(after)
    assert len(clean) < len(original)


def test_an_upright_jpeg_keeps_no_exif_at_all() -> None:
    clean = strip_metadata(jpeg(orientation=1))
    assert b"Exif\x00\x00" not in clean
    assert pixels(clean) == pixels(jpeg(orientation=1))


def test_a_jpeg_without_metadata_is_unchanged() -> None:
    out = io.BytesIO()
    _image().save(out, "JPEG")
    assert strip_metadata(out.getvalue()) == out.getvalue()


def test_an_adobe_cmyk_jpeg_keeps_its_colour_transform() -> None:
    out = io.BytesIO()
    _image("CMYK").save(out, "JPEG", comment=SECRET.encode())
    original = out.getvalue()
    assert b"Adobe" in original
    clean = strip_metadata(original)
    assert b"Adobe" in clean and SECRET.encode() not in clean
    assert pixels(clean) == pixels(original)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L"])
def test_png_metadata_goes_pixels_stay(mode: str) -> None:
    kw = {"transparency": 0} if mode == "P" else {}
    original = png(mode, **kw)
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME", b"prVt"} <= set(
        png_chunks(original)
    )
    clean = strip_metadata(original)
    assert check_photo(clean) == "image/png"
    assert pixels(clean) == pixels(original)
    kinds = png_chunks(clean)
    assert set(kinds) <= PNG_KEPT and kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert SECRET.encode() not in clean and "张三丰".encode() not in clean
    if mode == "P":
        assert b"tRNS" in kinds and b"PLTE" in kinds
        with Image.open(io.BytesIO(clean)) as after:
            assert after.info.get("transparency") == 0


@pytest.mark.parametrize(
    "bad",
    [
        b"\xff\xd8\xff\xe1\x00",  # a segment cut short
        b"\xff\xd8\xff\xe1\xff\xff" + b"x" * 10,  # a length past the end
        b"\xff\xd8\x00\x00",  # not a marker
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",  # a chunk cut short
        b"\x89PNG\r\n\x1a\n",  # no IEND
        b"GIF89a",
    ],
)
def test_a_broken_structure_is_refused(bad: bytes) -> None:
    with pytest.raises(WorkflowError) as err:
        strip_metadata(bad)
    assert err.value.workflow_code is WorkflowCode.PHOTO_INVALID


@pytest.fixture(scope="module")
def list_signer(root: CertifiedKey) -> CertifiedKey:
    return create_list_signer(root, "Photo List Signer", not_before=T0 - dt.timedelta(days=30))


@pytest.fixture
def world(db_url: str, root: CertifiedKey, ds: CertifiedKey, list_signer: CertifiedKey) -> World:
    return make_world(db_url, root, ds, list_signer)


def test_the_registry_stores_the_photo_without_metadata(world: World) -> None:
    reg = world.registry
    app = reg.submit(
        channel="online",
        document_type=1,
        document_number=RESIDENT,
        name="张三丰",
        phone=PHONE,
        region="110105",
        actor="account:42",
        consents=CONSENTS,
    )
    original = jpeg()
    reg.store_photo(app, original, actor="account:42")
    stored = reg.read_photo(app, actor="clerk:2")
    assert stored.media_type == "image/jpeg" and stored.data == strip_metadata(original)
    assert pixels(stored.data) == pixels(original) and SECRET.encode() not in stored.data
    reg.store_photo(app, png(), actor="account:42")
    stored = reg.read_photo(app, actor="clerk:2")
    assert stored.media_type == "image/png" and SECRET.encode() not in stored.data

"""ID photos stored and read back per second (SQLite), beside the bare primitives.

    python benchmarks/bench_photos.py [--photos N]

One store = the picture checked (magic bytes, header pixel cap, full Pillow decode), sealed
with AES-256-GCM and written in one transaction with its event; one read = the row read,
decrypted and an event written. Printed beside them, measured in the same run: the Pillow
decode alone and the bare AES-GCM encryption of the same bytes, so the ratios say what the
checks and the database cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image
from tests.workflow_support import CONSENTS, PHONE, PHOTO_KEY, make_world

from ecard.signing.pki import create_document_signer, create_list_signer, create_root_ca

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def check17(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def picture() -> bytes:
    """A 358x441 JPEG (the size of a 2-inch ID photo at 300 dpi) of noise."""
    image = Image.frombytes("RGB", (358, 441), os.urandom(358 * 441 * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def rate(n: int, step: object) -> float:
    start = time.perf_counter()
    for i in range(n):
        step(i)  # type: ignore[operator]
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=300)
    n = parser.parse_args().photos
    photo = picture()
    nb = T0 - dt.timedelta(days=30)
    root = create_root_ca("Bench Root", not_before=nb)
    ds = create_document_signer(root, "Bench Signer", not_before=nb)
    ls = create_list_signer(root, "Bench List Signer", not_before=nb)

    def decode(_: int) -> None:
        with Image.open(io.BytesIO(photo), formats=["JPEG"]) as image:
            image.load()

    aead = AESGCM(PHOTO_KEY)
    bare_decode = rate(n, decode)
    bare_aead = rate(n, lambda _: aead.encrypt(os.urandom(12), photo, b"ad"))
    print(f"photo: {len(photo)} bytes JPEG")
    print(f"bare Pillow decode:        {bare_decode:9.1f} /s")
    print(f"bare AES-256-GCM encrypt:  {bare_aead:9.1f} /s")
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(f"sqlite:///{Path(tmp) / 'bench.db'}", root, ds, ls)
        reg = world.registry
        apps = [
            reg.submit(
                channel="online",
                document_type=1,
                document_number=check17(f"110105{1950 + i % 60}0101{i % 1000:03d}"),
                name="张三丰",
                phone=PHONE,
                region="110105",
                actor="bench",
                consents=CONSENTS,
            )
            for i in range(n)
        ]
        stored = rate(n, lambda i: reg.store_photo(apps[i], photo, actor="bench"))
        read = rate(n, lambda i: reg.read_photo(apps[i], actor="bench"))
        reg.store.close()
    print(
        f"store_photo, SQLite:       {stored:9.1f} /s  "
        f"({bare_decode / stored:.1f}x the decode, {bare_aead / stored:.1f}x the encryption)"
    )
    print(f"read_photo, SQLite:        {read:9.1f} /s  ({bare_aead / read:.1f}x the encryption)")


if __name__ == "__main__":
    main()

"""ID photos: accepted only as real pictures, kept only encrypted.

An ID photo is sensitive personal information (PIPL Art. 28). :func:`check_photo` accepts a
JPEG or PNG (magic bytes first, then a full decode with Pillow restricted to those two
formats), at most :data:`MAX_PHOTO_BYTES` bytes and :data:`MAX_PHOTO_PIXELS` pixels: the
dimensions are read from the header and refused before any pixel is decoded, so a
decompression bomb costs nothing. :func:`seal_photo` encrypts with AES-256-GCM under the
operator's 32-byte key with the application id in the associated data, so a blob copied to
another application, a flipped byte or another key fails :func:`open_photo` with
``PHOTO_UNREADABLE``. The blob is ``0x01 || nonce (12) || ciphertext || tag (16)``; the
nonce is random per encryption.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecard.workflow.errors import WorkflowCode, refuse

#: Largest photo accepted, in bytes.
MAX_PHOTO_BYTES: Final = 5_000_000
#: Largest photo accepted, in pixels (width x height), checked before decoding.
MAX_PHOTO_PIXELS: Final = 24_000_000
#: Length of the operator's photo key (AES-256).
PHOTO_KEY_BYTES: Final = 32

MediaType = Literal["image/jpeg", "image/png"]
_MAGIC: Final[tuple[tuple[bytes, MediaType, str], ...]] = (
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
)
_BLOB_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12


@dataclass(frozen=True)
class Photo:
    """A decrypted ID photo: its media type and its bytes (as submitted)."""

    media_type: MediaType
    data: bytes

    def __repr__(self) -> str:
        return f"Photo({self.media_type}, {len(self.data)} bytes)"


def media_type_of(data: bytes) -> MediaType:
    """The media type the magic bytes of ``data`` name; ``PHOTO_INVALID`` for anything else."""
    for magic, media, _ in _MAGIC:
        if data.startswith(magic):
            return media
    raise refuse(WorkflowCode.PHOTO_INVALID, "neither JPEG nor PNG")


def check_photo(data: object) -> MediaType:
    """The media type of ``data`` if it is an acceptable ID photo.

    Raises:
        WorkflowError: ``PHOTO_TOO_LARGE`` (bytes), ``PHOTO_INVALID`` (not a JPEG or PNG, or
            it does not decode), ``PHOTO_BOMB`` (more pixels than :data:`MAX_PHOTO_PIXELS`).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise refuse(WorkflowCode.PHOTO_INVALID, f"expected bytes, not {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > MAX_PHOTO_BYTES:
        raise refuse(WorkflowCode.PHOTO_TOO_LARGE, f"{len(raw)} bytes, limit {MAX_PHOTO_BYTES}")
    media = media_type_of(raw)
    pil_format = next(fmt for _, m, fmt in _MAGIC if m == media)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - the workflow extra installs pillow
        raise refuse(WorkflowCode.PHOTO_INVALID, "pillow is not installed") from None
    try:
        with warnings.catch_warnings():  # Pillow warns (not refuses) from 89 Mpixels: refuse
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(raw), formats=[pil_format])
        with picture:
            width, height = picture.size
            if width < 1 or height < 1:
                raise refuse(WorkflowCode.PHOTO_INVALID, "no pixels")
            if width * height > MAX_PHOTO_PIXELS:
                raise refuse(
                    WorkflowCode.PHOTO_BOMB,
                    f"{width}x{height} pixels, limit {MAX_PHOTO_PIXELS}",
                )
            picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(WorkflowCode.PHOTO_BOMB) from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise refuse(
            WorkflowCode.PHOTO_INVALID, f"does not decode ({type(exc).__name__})"
        ) from None
    return media


def check_photo_key(key: object) -> bytes:
    """``key`` if it is a 32-byte AES-256 key; else :class:`ValueError`."""
    if not isinstance(key, bytes) or len(key) != PHOTO_KEY_BYTES:
        raise ValueError(f"photo_key must be {PHOTO_KEY_BYTES} bytes")
    return key


def _aad(application_id: str) -> bytes:
    return f"ecard-workflow-photo:1:{application_id}".encode()


def seal_photo(key: bytes, application_id: str, data: bytes) -> bytes:
    """``data`` encrypted with AES-256-GCM under ``key``, bound to ``application_id``."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(check_photo_key(key)).encrypt(nonce, data, _aad(application_id))
    return _BLOB_VERSION + nonce + sealed


def open_photo(key: bytes, application_id: str, blob: bytes) -> Photo:
    """The photo :func:`seal_photo` sealed for ``application_id``.

    Raises:
        WorkflowError: ``PHOTO_UNREADABLE`` (another key, another application, a changed
            byte, an unknown blob version).
    """
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _BLOB_VERSION:
        raise refuse(WorkflowCode.PHOTO_UNREADABLE, "not a photo blob")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        data = AESGCM(check_photo_key(key)).decrypt(nonce, sealed, _aad(application_id))
    except InvalidTag:
        raise refuse(WorkflowCode.PHOTO_UNREADABLE) from None
    return Photo(media_type_of(data), data)


__all__ = [
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "PHOTO_KEY_BYTES",
    "MediaType",
    "Photo",
    "check_photo",
    "check_photo_key",
    "media_type_of",
    "open_photo",
    "seal_photo",
]

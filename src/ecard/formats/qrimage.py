"""QR code pictures: render the wire text as PNG, SVG or terminal text, and read QR texts back
from images.

Every rendering carries its own light ground under the code and its quiet zone (4 modules by
default), so that it reads wherever it is put: the PNG is opaque (1-bit greyscale, no
transparency), the SVG has a white ``<rect>`` behind the modules covering the whole picture, and
the terminal rendering sets black-on-white explicitly on every line. A code drawn dark on
nothing (transparent) disappears on a dark page, a dark-mode app or a dark terminal: neither
zxing-cpp nor zbar reads it there.

Rendering uses ``qrcode`` with ``pypng`` (no pillow needed) and always puts text made of the QR
alphanumeric characters (every ``EC1:`` text) in **alphanumeric mode**, as one segment: ``qrcode``
would otherwise split long digit runs into numeric segments (its ``optimize`` default), which
changes the version and makes sizes harder to predict. Any other text goes in byte mode.

Reading needs the optional extra ``ecard[image]`` (``zxing-cpp`` and ``pillow``). Every problem
with the picture (not an image, corrupt or truncated, too many pixels, no QR code in it) raises
:class:`~ecard.errors.BadImageError`.
"""

from __future__ import annotations

import io
import os
from typing import Any, Literal

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.image.pure
import qrcode.image.svg
import qrcode.util

from ecard.errors import BadImageError

__all__ = [
    "ALPHANUMERIC",
    "DEFAULT_LEVEL",
    "MAX_IMAGE_PIXELS",
    "READABLE_FORMATS",
    "ErrorLevel",
    "qr_matrix",
    "qr_version",
    "read_texts",
    "render_png",
    "render_svg",
    "render_terminal",
]

#: QR error correction level: L (7 %), M (15 %), Q (25 %), H (30 %) of codewords recoverable.
ErrorLevel = Literal["L", "M", "Q", "H"]
#: The default level: Q survives creases, glare and a damaged corner.
DEFAULT_LEVEL: ErrorLevel = "Q"
#: The QR alphanumeric character set (also the Base45 alphabet).
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
#: Pictures with more pixels than this are refused before being decoded (decompression bombs).
MAX_IMAGE_PIXELS = 50_000_000
#: The pillow formats :func:`read_texts` opens: camera and screenshot rasters. Others (EPS, which
#: would run Ghostscript, or exotic plugins) are refused as unrecognised.
READABLE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM")

_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
#: The quiet zone of :func:`render_terminal`, in modules (ISO/IEC 18004 asks for 4).
_TERMINAL_QUIET = 4
#: Black foreground on white background, set explicitly (the terminal's own colours are unknown),
#: and the reset that ends every line so the background does not bleed past it.
_ANSI_BLACK_ON_WHITE = "\x1b[30;47m"
_ANSI_RESET = "\x1b[0m"
#: Half-block characters by (upper module dark, lower module dark).
_HALF_BLOCKS = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584",
                (True, True): "\u2588"}  # fmt: skip
_INSTALL_HINT = "reading QR images needs the optional extra: pip install 'ecard[image]'"


def _build(text: str, level: str, scale: int = 1, border: int = 4, factory: Any = None) -> Any:
    """A laid-out ``qrcode.QRCode`` for ``text`` (one alphanumeric segment when possible)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not text:
        raise ValueError("empty text")
    if level not in _LEVELS:
        raise ValueError(f"error level must be one of L, M, Q, H, not {level!r}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError("scale must be a positive integer")
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise ValueError("border must be a non-negative integer")
    mode = (
        qrcode.util.MODE_ALPHA_NUM if ALPHANUMERIC.issuperset(text) else qrcode.util.MODE_8BIT_BYTE
    )
    qr = qrcode.QRCode(
        error_correction=_LEVELS[level],
        box_size=scale,
        border=border,
        image_factory=factory,
    )
    qr.add_data(qrcode.util.QRData(text, mode=mode))
    try:
        qr.make(fit=True)
    except qrcode.exceptions.DataOverflowError:
        raise ValueError(f"text does not fit in a QR code at level {level}") from None
    return qr


def qr_version(text: str, level: ErrorLevel = DEFAULT_LEVEL) -> int:
    """The smallest QR version (1-40) that holds ``text`` at error correction ``level``.

    Raises:
        ValueError: ``text`` is empty or too long for any version at this level.
    """
    qr = _build(text, level)
    return int(qr.version)


def qr_matrix(text: str, level: ErrorLevel = DEFAULT_LEVEL) -> list[list[bool]]:
    """The QR modules for ``text`` (``True`` = dark), without the quiet zone, encoded exactly as
    :func:`render_png` and :func:`render_svg` encode it: for renderers of their own (a PDF, a
    terminal, a page).

    Raises:
        ValueError: ``text`` is empty, too long for any version at ``level``, or ``level`` is
            not one of L, M, Q, H.
    """
    qr = _build(text, level, border=0)
    return [[bool(cell) for cell in row] for row in qr.get_matrix()]


def render_png(
    text: str, *, level: ErrorLevel = DEFAULT_LEVEL, scale: int = 8, border: int = 4
) -> bytes:
    """A PNG (1-bit greyscale) of the QR code for ``text``.

    Args:
        text: what to encode, normally a ``"EC1:"`` text.
        level: error correction level.
        scale: pixels per module.
        border: quiet zone width in modules (the standard asks for 4).

    Raises:
        ValueError: empty text, text too long, or a bad ``level``, ``scale`` or ``border``.
    """
    qr = _build(text, level, scale, border, qrcode.image.pure.PyPNGImage)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


def render_svg(
    text: str, *, level: ErrorLevel = DEFAULT_LEVEL, scale: int = 8, border: int = 4
) -> str:
    """A standalone SVG document of the QR code for ``text``: a white ``<rect>`` covering the
    whole picture (the code and its quiet zone), then the dark modules as one ``<path>``.

    ``scale`` sets the module size: 10 is one millimetre (``qrcode``'s SVG unit), so the default
    8 gives 0.8 mm modules; the document has a ``viewBox`` and scales freely. The white ground
    is part of the code: without it the picture is transparent and a dark page shows through.

    Raises:
        ValueError: empty text, text too long, or a bad ``level``, ``scale`` or ``border``.
    """
    qr = _build(text, level, scale, border, qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue().decode("utf-8")


def render_terminal(text: str, *, level: ErrorLevel = DEFAULT_LEVEL, plain: bool = False) -> str:
    """The QR code for ``text`` as lines of terminal text, with a 4-module quiet zone; every line
    ends with a newline.

    By default each character holds two modules, one above the other (``"\u2580"``,
    ``"\u2584"``, ``"\u2588"`` or a space), so modules come out square, and every line starts
    with explicit ANSI colours, black on white, and ends with a reset: the code reads the same on
    a dark terminal as on a light one.

    ``plain=True`` is the fallback for terminals without colour or without those characters: one
    line per module row, ``"##"`` per dark module and two spaces per light one, in ASCII. It has
    no colours of its own, so it reads as printed only where the text is dark on a light ground
    (a light terminal, paper); on a dark terminal it shows inverted.

    Raises:
        ValueError: empty text, text too long, or a bad ``level``.
    """
    matrix = qr_matrix(text, level)
    quiet = _TERMINAL_QUIET
    width = len(matrix) + 2 * quiet
    blank = [False] * width
    rows = [blank] * quiet + [[False] * quiet + row + [False] * quiet for row in matrix]
    rows += [blank] * quiet
    if plain:
        return "".join("".join("##" if dark else "  " for dark in row) + "\n" for row in rows)
    if len(rows) % 2:
        rows.append(blank)  # the last line's lower half: more quiet zone
    lines = []
    for upper, lower in zip(rows[::2], rows[1::2], strict=True):
        cells = "".join(_HALF_BLOCKS[pair] for pair in zip(upper, lower, strict=True))
        lines.append(f"{_ANSI_BLACK_ON_WHITE}{cells}{_ANSI_RESET}\n")
    return "".join(lines)


def _open(image: bytes | bytearray | memoryview | str | os.PathLike[str]) -> Any:
    """Load ``image`` as an 8-bit greyscale PIL image, or raise :class:`BadImageError`."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise BadImageError(_INSTALL_HINT) from None
    if isinstance(image, bytes | bytearray | memoryview):
        if not image:
            raise BadImageError("empty image data")
        source: Any = io.BytesIO(bytes(image))
        name = "image data"
    elif isinstance(image, str | os.PathLike):
        source = os.fspath(image)
        name = repr(source)
    else:
        raise BadImageError(f"expected image bytes or a path, not {type(image).__name__}")
    try:
        Image.init()  # registers every plugin once; a pillow built without one lacks its name
        formats = [fmt for fmt in READABLE_FORMATS if fmt in Image.OPEN]
        with Image.open(source, formats=formats) as picture:
            width, height = picture.size
            if width < 1 or height < 1:
                raise BadImageError("image has no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise BadImageError(
                    f"image too large ({width}x{height} pixels, limit {MAX_IMAGE_PIXELS})"
                )
            picture.load()
            return picture.convert("L")
    except BadImageError:
        raise
    except FileNotFoundError:
        raise BadImageError(f"no such file: {name}") from None
    except UnidentifiedImageError:
        raise BadImageError(f"{name} is not a recognised image") from None
    except Image.DecompressionBombError:
        raise BadImageError(f"{name} has too many pixels") from None
    except (OSError, ValueError, MemoryError, EOFError) as exc:
        raise BadImageError(f"cannot read {name}: {exc}") from None
    except Exception as exc:  # any other decoder failure on hostile input
        raise BadImageError(f"cannot read {name}: {type(exc).__name__}") from None


def read_texts(image: bytes | bytearray | memoryview | str | os.PathLike[str]) -> list[str]:
    """The texts of every QR code found in ``image`` (encoded picture bytes or a file path).

    The formats in :data:`READABLE_FORMATS` are accepted (PNG, JPEG, WebP...); pictures larger than
    :data:`MAX_IMAGE_PIXELS` are refused before decoding. Codes are returned in the order the
    decoder finds them.

    Raises:
        BadImageError: the optional extra is missing (the message says
            ``pip install 'ecard[image]'``), the file cannot be read, the data is not a readable
            image, it is too large, or it holds no QR code.
    """
    try:
        import zxingcpp
    except ImportError:
        raise BadImageError(_INSTALL_HINT) from None
    picture = _open(image)
    formats: Any
    try:  # zxing-cpp 3 wants a BarcodeFormats set; 2.x converted a single format implicitly
        formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    except (AttributeError, TypeError):  # pragma: no cover - zxing-cpp 2.x
        formats = zxingcpp.BarcodeFormat.QRCode
    try:
        found = zxingcpp.read_barcodes(
            picture,
            formats=formats,
            try_rotate=True,
            try_downscale=True,
        )
    except Exception as exc:  # the native decoder rejecting the buffer
        raise BadImageError(f"QR decoder failed: {type(exc).__name__}") from None
    texts = [str(code.text) for code in found if getattr(code, "valid", True)]
    if not texts:
        raise BadImageError("no QR code found in the image")
    return texts

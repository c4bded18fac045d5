"""Every QR rendering reads back wherever it is put: PNG, SVG, the PDF card and page, and the
terminal, each read by TWO independent decoders (zxing-cpp and zbar's ``zbarimg``), on a dark
ground as well as on white, for real ES256 and SM2 cards and for a long text of version 13.

A rendering that draws dark modules on nothing (a transparent SVG) vanishes on a dark page, a
dark-mode app or a dark terminal; every rendering must carry its own opaque light ground under
the code and its 4-module quiet zone.
"""

from __future__ import annotations

import io
import math
import random
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from tests.conftest import T0, fixed_clock

from ecard.card import Card
from ecard.formats import qrimage, qrtext
from ecard.formats.credential import IssuedCard
from ecard.pdf import render_card_pdf
from ecard.signing.issuer import Issuer
from ecard.signing.pki import CertifiedKey

#: The dark ground of a dark page, a dark-mode app or a dark terminal.
DARK = (0x11, 0x11, 0x11)
WHITE = (0xFF, 0xFF, 0xFF)
#: The default colours of the emulated terminals: light grey text on a dark ground, or the
#: reverse. What the rendering does not colour itself comes out in these.
DARK_TERMINAL = {"fg": (0xCC, 0xCC, 0xCC), "bg": DARK}
LIGHT_TERMINAL = {"fg": (0x00, 0x00, 0x00), "bg": WHITE}
SGR = re.compile(r"\x1b\[([0-9;]*)m")
ANSI_COLOURS = {30: (0, 0, 0), 37: (0xE5, 0xE5, 0xE5), 40: (0, 0, 0), 47: (0xE5, 0xE5, 0xE5)}
QUIET = 4


# --- the texts ------------------------------------------------------------------------------------


def _version_13_text() -> str:
    """The longest ``EC1:`` text of random (incompressible) COSE-like bytes that still fits
    version 13 at level Q."""
    noise = random.Random(13).randbytes(400)
    best = ""
    for size in range(150, 400):
        text = qrtext.encode(b"\xd2\x84" + noise[:size])
        if qrimage.qr_version(text, "Q") > 13:
            break
        best = text
    assert qrimage.qr_version(best, "Q") == 13
    return best


LONG_TEXT = _version_13_text()


@pytest.fixture(scope="module")
def issued(signers: dict[str, CertifiedKey], card: Card) -> dict[str, IssuedCard]:
    """A real card issued at T0 under an ES256 and under an SM2 document signer."""
    return {
        alg: Issuer(signers[alg].signer(), signers[alg].certificate, clock=fixed_clock(T0)).issue(
            card, cti=bytes.fromhex("0123456789abcdef")
        )
        for alg in ("ES256", "SM2")
    }


@pytest.fixture(params=["ES256", "SM2", "v13"])
def text(request: pytest.FixtureRequest, issued: dict[str, IssuedCard]) -> str:
    """An ES256 card text, an SM2 card text and the long version-13 text."""
    name: str = request.param
    return LONG_TEXT if name == "v13" else issued[name].text


# --- the two decoders -----------------------------------------------------------------------------


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def zxing(png: bytes) -> list[str]:
    """zxing-cpp, QR only, without trying the inverted picture (phone scanners often do not)."""
    with Image.open(io.BytesIO(png)) as picture:
        found = zxingcpp.read_barcodes(
            picture.convert("L"),
            formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
            try_invert=False,
        )
    return [str(code.text) for code in found if code.valid]


def zbar(png: bytes, tmp_path: Path) -> list[str]:
    """zbar's ``zbarimg``, QR only; one text per line (exit status 4: no code found)."""
    path = tmp_path / f"zbar-{len(list(tmp_path.iterdir()))}.png"
    path.write_bytes(png)
    proc = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 4), proc.stderr.decode(errors="replace")
    return proc.stdout.decode("utf-8").splitlines() if proc.returncode == 0 else []


def assert_both_read(png: bytes, tmp_path: Path, expected: list[str]) -> None:
    assert zxing(png) == expected, "zxing-cpp does not read the picture"
    assert zbar(png, tmp_path) == expected, "zbar does not read the picture"


def on_ground(picture: Image.Image, ground: tuple[int, int, int], margin: int = 40) -> bytes:
    """``picture`` (with its transparency) placed on a page of colour ``ground``, ``margin``
    pixels wider on every side: the page shows through wherever the picture is transparent."""
    rgba = picture.convert("RGBA")
    page = Image.new("RGBA", (rgba.width + 2 * margin, rgba.height + 2 * margin), (*ground, 255))
    page.alpha_composite(rgba, (margin, margin))
    return png_bytes(page.convert("RGB"))


def rsvg(svg: str, tmp_path: Path, zoom: int = 4) -> Image.Image:
    """The SVG rasterised by librsvg's ``rsvg-convert`` with its transparency (RGBA)."""
    path = tmp_path / "code.svg"
    path.write_text(svg, encoding="utf-8")
    proc = subprocess.run(
        ["rsvg-convert", "--zoom", str(zoom), "--format", "png", str(path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    with Image.open(io.BytesIO(proc.stdout)) as picture:
        picture.load()
        return picture.convert("RGBA")


# --- PNG --------------------------------------------------------------------------------------------


def test_png_is_opaque(text: str) -> None:
    png = qrimage.render_png(text)
    # greyscale (colour type 0), no alpha channel, and no tRNS chunk making white transparent
    assert png[25] == 0, "the PNG is not plain greyscale"
    assert b"tRNS" not in png
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.mode == "1"
        assert "transparency" not in picture.info
        assert not picture.has_transparency_data
        corner = picture.convert("RGBA").getpixel((0, 0))
    assert corner == (*WHITE, 255)


@pytest.mark.parametrize("ground", [DARK, WHITE], ids=["dark", "white"])
def test_png_reads_on_any_ground(text: str, ground: tuple[int, int, int], tmp_path: Path) -> None:
    with Image.open(io.BytesIO(qrimage.render_png(text))) as picture:
        placed = on_ground(picture, ground)
    assert_both_read(placed, tmp_path, [text])


# --- SVG --------------------------------------------------------------------------------------------


SVG_NS = "{http://www.w3.org/2000/svg}"


def test_svg_has_a_white_ground_under_the_code_and_its_quiet_zone(tmp_path: Path) -> None:
    """The SVG's first drawn element is an opaque white rectangle covering the whole viewBox
    (code and quiet zone); the modules are drawn on top of it. Rasterised, the whole quiet zone
    is opaque white."""
    svg = qrimage.render_svg(LONG_TEXT, scale=10)
    root = ET.fromstring(svg.encode("utf-8"))
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    modules = 17 + 4 * 13
    assert width == height == modules + 2 * QUIET
    drawn = [child for child in root if child.tag in (f"{SVG_NS}rect", f"{SVG_NS}path")]
    assert [child.tag for child in drawn] == [f"{SVG_NS}rect", f"{SVG_NS}path"]
    ground = drawn[0]
    assert ground.get("fill") in ("white", "#fff", "#ffffff")
    assert ground.get("fill-opacity", "1") == "1" and ground.get("opacity", "1") == "1"
    assert (float(ground.get("x", "0")), float(ground.get("y", "0"))) == (0, 0)
    for size, side in (("width", width), ("height", height)):
        value = ground.get(size, "")
        assert value == "100%" or float(value) >= side, f"the ground's {size} is {value}"
    zoom = 4
    picture = rsvg(svg, tmp_path, zoom=zoom)
    assert root.get("width") == f"{width:g}mm"
    exact = width / 25.4 * 96 * zoom  # rsvg-convert draws 96 pixels per inch
    side = int(exact)  # the last row and column of pixels are only partly inside the picture
    assert picture.size == (math.ceil(exact),) * 2
    band = int(side * QUIET / width)  # the quiet zone in whole pixels
    for box in ((0, 0, side, band), (0, side - band, side, side), (0, 0, band, side),
                (side - band, 0, side, side)):  # fmt: skip
        assert picture.crop(box).getextrema() == ((255, 255),) * 4, f"quiet zone {box}"


@pytest.mark.parametrize("ground", [DARK, WHITE], ids=["dark", "white"])
def test_svg_reads_on_any_ground(text: str, ground: tuple[int, int, int], tmp_path: Path) -> None:
    """Regression: the SVG had no background, so on a dark page (#111) the black modules
    vanished and neither decoder read it; on white it read with both."""
    picture = rsvg(qrimage.render_svg(text), tmp_path)
    assert_both_read(on_ground(picture, ground), tmp_path, [text])


# --- PDF --------------------------------------------------------------------------------------------


def pdf_pictures(pdf: bytes, tmp_path: Path, dpi: int) -> list[bytes]:
    """The first page rasterised twice: by ``pdftoppm`` on its white paper, and by
    ``pdftocairo -transp`` with a transparent page placed on a dark ground (a dark viewer)."""
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    pictures = []
    for tool, options in (("pdftoppm", []), ("pdftocairo", ["-transp"])):
        prefix = tmp_path / tool
        pages = ["-r", str(dpi), "-f", "1", "-l", "1", "-png", "-singlefile"]
        proc = subprocess.run(
            [tool, *pages, *options, str(path), str(prefix)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        with Image.open(prefix.with_suffix(".png")) as picture:
            picture.load()
            pictures.append(on_ground(picture, DARK) if options else png_bytes(picture))
    return pictures


@pytest.mark.parametrize(
    ("page", "qr", "dpi", "codes"),
    [("card", "vector", 300, 1), ("card", "image", 300, 1), ("a4", "vector", 150, 2)],
)
@pytest.mark.parametrize("alg", ["ES256", "SM2"])
def test_pdf_reads(
    issued: dict[str, IssuedCard],
    alg: str,
    page: str,
    qr: str,
    dpi: int,
    codes: int,
    tmp_path: Path,
) -> None:
    """The card page (one code) and the A4 page (the large code and the card at actual size)."""
    credential = issued[alg]
    pdf = render_card_pdf(credential, page=page, qr=qr)  # type: ignore[arg-type]
    for picture in pdf_pictures(pdf, tmp_path, dpi):
        assert zxing(picture) == [credential.text] * codes
        assert zbar(picture, tmp_path) == [credential.text] * codes


# --- the terminal -------------------------------------------------------------------------------


def parse_terminal(rendering: str, *, plain: bool) -> list[list[bool]]:
    """The module matrix (quiet zone included, ``True`` = dark) the characters stand for."""
    assert rendering.endswith("\n")
    lines = [SGR.sub("", line) for line in rendering.split("\n")[:-1]]
    assert len({len(line) for line in lines}) == 1, "ragged lines"
    if plain:
        assert all(set(line) <= {"#", " "} and rendering.isascii() for line in lines)
        return [[line[i : i + 2] == "##" for i in range(0, len(line), 2)] for line in lines]
    upper = {" ": False, "\u2580": True, "\u2584": False, "\u2588": True}
    lower = {" ": False, "\u2580": False, "\u2584": True, "\u2588": True}
    matrix = []
    for line in lines:
        matrix.append([upper[ch] for ch in line])
        matrix.append([lower[ch] for ch in line])
    return matrix


def emulate(rendering: str, terminal: dict[str, tuple[int, int, int]]) -> bytes:
    """The rendering as a terminal shows it: SGR colours 30-47 and 0 obeyed, the terminal's own
    colours everywhere else, the screen around the text in the terminal's ground. A character
    cell is 8x16 pixels; a half block fills its upper or lower half with the foreground, ``#``
    fills the whole cell."""
    cell_w, cell_h, margin = 8, 16, 32
    lines = rendering.split("\n")[:-1]
    columns = max(len(SGR.sub("", line)) for line in lines)
    screen = Image.new(
        "RGB", (columns * cell_w + 2 * margin, len(lines) * cell_h + 2 * margin), terminal["bg"]
    )
    for row, line in enumerate(lines):
        fg, bg = terminal["fg"], terminal["bg"]
        column = 0
        for token in re.split(r"(\x1b\[[0-9;]*m)", line):
            if match := SGR.fullmatch(token):
                for code in (int(c) if c else 0 for c in match.group(1).split(";")):
                    if code == 0:
                        fg, bg = terminal["fg"], terminal["bg"]
                    elif 30 <= code <= 37:
                        fg = ANSI_COLOURS.get(code, fg)
                    elif 40 <= code <= 47:
                        bg = ANSI_COLOURS.get(code, bg)
                continue
            for ch in token:
                x, y = margin + column * cell_w, margin + row * cell_h
                top = fg if ch in "\u2580\u2588#" else bg
                bottom = fg if ch in "\u2584\u2588#" else bg
                screen.paste(top, (x, y, x + cell_w, y + cell_h // 2))
                screen.paste(bottom, (x, y + cell_h // 2, x + cell_w, y + cell_h))
                column += 1
    return png_bytes(screen)


def with_quiet_zone(matrix: list[list[bool]], rows: int) -> list[list[bool]]:
    """``matrix`` inside a 4-module light border, padded with light rows to ``rows`` rows."""
    width = len(matrix) + 2 * QUIET
    framed = [[False] * width for _ in range(QUIET)]
    framed += [[False] * QUIET + row + [False] * QUIET for row in matrix]
    framed += [[False] * width for _ in range(rows - len(framed))]
    return framed


def test_terminal_matches_the_matrix(text: str) -> None:
    matrix = qrimage.qr_matrix(text)
    for plain in (False, True):
        parsed = parse_terminal(qrimage.render_terminal(text, plain=plain), plain=plain)
        # the half-block rendering pads the last line's lower half with quiet zone
        assert len(parsed) - (len(matrix) + 2 * QUIET) == (0 if plain else 1)
        assert parsed == with_quiet_zone(matrix, len(parsed))


def test_terminal_colours_are_explicit_on_every_line(text: str) -> None:
    rendering = qrimage.render_terminal(text, level="M")
    lines = rendering.split("\n")[:-1]
    assert len(lines) == (len(qrimage.qr_matrix(text, "M")) + 2 * QUIET + 1) // 2
    for line in lines:
        assert line.startswith("\x1b[30;47m") and line.endswith("\x1b[0m")
        assert SGR.sub("", line).strip(" \u2580\u2584\u2588") == ""
    assert qrimage.render_terminal(text, level="M") != qrimage.render_terminal(text, level="H")


@pytest.mark.parametrize(
    ("terminal", "plain"),
    [(DARK_TERMINAL, False), (LIGHT_TERMINAL, False), (LIGHT_TERMINAL, True)],
    ids=["colour-on-dark", "colour-on-light", "plain-on-light"],
)
def test_terminal_reads(
    text: str, terminal: dict[str, tuple[int, int, int]], plain: bool, tmp_path: Path
) -> None:
    screen = emulate(qrimage.render_terminal(text, plain=plain), terminal)
    assert_both_read(screen, tmp_path, [text])


def test_terminal_parsed_and_redrawn_reads(text: str, tmp_path: Path) -> None:
    """The characters parsed back into modules and drawn as a PNG with pillow."""
    for plain in (False, True):
        matrix = parse_terminal(qrimage.render_terminal(text, plain=plain), plain=plain)
        picture = Image.new("1", (len(matrix[0]), len(matrix)), 1)
        picture.putdata([0 if dark else 1 for row in matrix for dark in row])
        scaled = picture.resize((picture.width * 6, picture.height * 6), Image.Resampling.NEAREST)
        assert_both_read(png_bytes(scaled), tmp_path, [text])


def test_plain_terminal_on_a_dark_terminal_is_inverted(tmp_path: Path) -> None:
    """What the plain fallback's docstring warns about: without colours of its own it shows
    light on dark on a dark terminal, which a decoder that does not try inverting misses."""
    screen = emulate(qrimage.render_terminal(LONG_TEXT, plain=True), DARK_TERMINAL)
    assert zxing(screen) == []


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda: qrimage.render_terminal(""), "empty text"),
        (lambda: qrimage.render_terminal("EC1:AB", level="X"), "error level must be one of"),  # type: ignore[arg-type]
        (lambda: qrimage.render_terminal("0" * 4297, level="L"), "Invalid version"),
    ],
)
def test_terminal_bad_input(call: Callable[[], str], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        call()


def test_ecard_issue_prints_the_code_in_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ecard issue --terminal` prints the QR text on stdout (for scripts) and the code on
    stderr, and what it prints reads back as exactly that text with both decoders."""
    from ecard.cli import main

    demo = tmp_path / "demo"
    assert main(["demo", "--out", str(demo)]) == 0
    capsys.readouterr()
    argv = ["issue", "--key", str(demo / "issuer-key.pem"), "--cert", str(demo / "issuer-cert.pem")]
    assert main([*argv, "--terminal", str(demo / "card.json")]) == 0
    out, err = capsys.readouterr()
    issued_text = out.strip()
    assert issued_text.startswith("EC1:") and "\n" not in issued_text
    matrix = parse_terminal(err.removesuffix("\n"), plain=False)  # print adds one
    picture = Image.new("1", (len(matrix[0]), len(matrix)), 1)
    picture.putdata([0 if dark else 1 for row in matrix for dark in row])
    scaled = picture.resize((picture.width * 6, picture.height * 6), Image.Resampling.NEAREST)
    assert_both_read(png_bytes(scaled), tmp_path, [issued_text])

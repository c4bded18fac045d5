"""The page's CBOR and Base45 writers (static/wallet/cose.js) against the library's, on many
generated values in one Chromium run: the same deterministic bytes (RFC 8949 §4.2.1: shortest
heads, map keys in encoded-byte order, whatever order the page gives them) and the same Base45
text, for every size class of head and every kind the page writes."""

from __future__ import annotations

import random
from typing import Any

from playwright.sync_api import Page
from tests.browser.support import RunningService

from ecard.formats import base45, cbor

CONVERT_JS = """async (cases) => {
  const c = await import('/static/wallet/cose.js');
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const unhex = (h) => new Uint8Array(h.match(/../g) || []).map((_, i) => parseInt(h.substr(i * 2, 2), 16));
  const build = (v) => {
    if ('int' in v) return v.int;
    if ('str' in v) return v.str;
    if ('bytes' in v) return unhex(v.bytes);
    if ('bool' in v) return v.bool;
    if ('arr' in v) return v.arr.map(build);
    if ('tag' in v) return new c.Tagged(v.tag, build(v.value));
    return new c.CborMap(v.map.map(([k, x]) => [k, build(x)]));
  };
  return cases.map((v) => hex(c.cborEncode(build(v))));
}"""

BASE45_JS = """async (blobs) => {
  const c = await import('/static/wallet/cose.js');
  const unhex = (h) => new Uint8Array(h.match(/../g) || []).map((_, i) => parseInt(h.substr(i * 2, 2), 16));
  return blobs.map((h) => c.base45Encode(unhex(h)));
}"""

EDGES = (0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1)


def _value(rng: random.Random, depth: int = 0) -> tuple[dict[str, Any], Any]:
    """A value as the page's builder takes it and as the library's encoder does."""
    kind = rng.choice(["int", "str", "bytes", "bool"] + (["arr", "map"] if depth < 3 else []))
    if kind == "int":
        n = rng.choice(EDGES) if rng.random() < 0.5 else rng.randint(0, 2**32 - 1)
        n = -n - 1 if rng.random() < 0.4 else n
        return {"int": n}, n
    if kind == "str":
        s = "".join(rng.choice("aZ09 :张三丰é") for _ in range(rng.choice([0, 1, 23, 24, 30])))
        return {"str": s}, s
    if kind == "bytes":
        b = rng.randbytes(rng.choice([0, 1, 23, 24, 255, 256, 300]))
        return {"bytes": b.hex()}, b
    if kind == "bool":
        flag = rng.random() < 0.5
        return {"bool": flag}, flag
    items = [_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if kind == "arr":
        return {"arr": [js for js, _ in items]}, [py for _, py in items]
    keys = rng.sample([*range(-30, 30), 255, 256, -65537, 65536], len(items))
    return (
        {"map": [[k, js] for k, (js, _) in zip(keys, items, strict=True)]},
        {k: py for k, (_, py) in zip(keys, items, strict=True)},
    )


def test_cbor_bytes_equal_the_library(page: Page, service: RunningService) -> None:
    page.goto(service.base_url + "/wallet")
    rng = random.Random(20260301)
    cases = [_value(rng) for _ in range(300)]
    tagged = ({"tag": 18, "value": {"arr": [{"int": 1}, {"bytes": "00"}]}}, None)
    got = page.evaluate(CONVERT_JS, [js for js, _ in cases] + [tagged[0]])
    for (js, py), hexed in zip(cases, got, strict=False):
        assert bytes.fromhex(hexed) == cbor.encode(py), js
    assert got[-1] == "d28201" + "4100"


def test_base45_equals_the_library(page: Page, service: RunningService) -> None:
    page.goto(service.base_url + "/wallet")
    rng = random.Random(45)
    blobs = [b"", b"\x00", b"\xff", b"\xff\xff", b"AB", b"ietf!"] + [
        rng.randbytes(rng.randint(0, 600)) for _ in range(100)
    ]
    got = page.evaluate(BASE45_JS, [b.hex() for b in blobs])
    assert got == [base45.encode(b) for b in blobs]
    assert got[4] == "BB8"  # RFC 9285 §4.3

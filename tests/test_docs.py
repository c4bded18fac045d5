"""Keep the documentation honest: codes, messages, links and commands match the code.

The ``>>>`` examples in ``docs/*.md`` run as doctests (``--doctest-glob=*.md``); these tests
check what a doctest cannot: that every result code is documented for the counter with its exact
Chinese message, that relative links and their anchors resolve, that every ``ecard`` command
line shown parses, that the extended key usage OIDs quoted are the code's, and that every field
of a trust-list manifest is documented.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from pathlib import Path

import pytest

from ecard.cli import build_parser
from ecard.errors import MESSAGES, ErrorCode
from ecard.verify.verifier import VerificationResult

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
VERIFYING = DOCS / "verifying.md"
MARKDOWN = sorted([ROOT / "README.md", *DOCS.glob("*.md")])

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CODE_ROW = re.compile(r"^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for match in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE):
        slug = _slug(match.group(1))
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


def _code_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for code, zh in _CODE_ROW.findall(VERIFYING.read_text(encoding="utf-8")):
        rows.setdefault(code, []).append(zh)
    return rows


def test_docs_exist() -> None:
    for name in (
        "format.md",
        "verifying.md",
        "issuing.md",
        "threat-model.md",
        "trust.md",
        "operations.md",
    ):
        assert (DOCS / name).is_file(), name


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_code_is_in_the_verifying_guide(code: ErrorCode) -> None:
    assert f"`{code.value}`" in VERIFYING.read_text(encoding="utf-8")


def test_codes_table_has_one_row_per_code_with_the_chinese_message() -> None:
    rows = _code_rows()
    assert set(rows) == {c.value for c in ErrorCode}, "codes table rows != ErrorCode members"
    for code in ErrorCode:
        assert len(rows[code.value]) == 1, f"{code.value} has {len(rows[code.value])} rows"
        assert rows[code.value][0] == MESSAGES[code][1], code.value


def test_json_fields_are_documented() -> None:
    text = VERIFYING.read_text(encoding="utf-8")
    for key in VerificationResult(code=ErrorCode.OK).to_dict():
        assert re.search(rf"^\|[^|\n]*`{key}`", text, re.MULTILINE), key


def _links() -> list[tuple[Path, str]]:
    found = []
    for path in MARKDOWN:
        text = _FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in _LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            found.append((path, target))
    return found


@pytest.mark.parametrize(
    ("source", "target"), _links(), ids=[f"{_rel(p)}->{t}" for p, t in _links()]
)
def test_relative_links_resolve(source: Path, target: str) -> None:
    file_part, _, anchor = target.partition("#")
    dest = (source.parent / file_part).resolve() if file_part else source
    assert dest.exists(), f"{_rel(source)}: broken link {target}"
    if anchor and dest.suffix == ".md":
        assert anchor in _anchors(dest), f"{_rel(source)}: no heading for #{anchor} in {dest.name}"


def test_readme_links_every_guide_it_names() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in re.findall(r"\(docs/([\w.-]+\.md)\)", readme):
        assert (DOCS / name).is_file(), name


_SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&"})


def _commands() -> list[tuple[Path, str]]:
    found = []
    for path in MARKDOWN:
        for lang, body in _FENCE.findall(path.read_text(encoding="utf-8")):
            if lang not in ("sh", "bash", "console", ""):
                continue
            for line in body.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    words.pop(0)  # VAR=value prefixes
                for i, word in enumerate(words):  # the command ends at a redirection or pipe
                    if word in _SHELL_OPERATORS or re.fullmatch(r"\d?[<>].*", word):
                        del words[i:]
                        break
                if words[:1] == ["ecard"] and not any(w.startswith("[") for w in words):
                    found.append((path, shlex.join(words[1:])))
    return found


@pytest.mark.parametrize(
    ("source", "command"), _commands(), ids=[f"{_rel(p)}: {c}" for p, c in _commands()]
)
def test_documented_commands_parse(source: Path, command: str) -> None:
    parser = build_parser()
    try:
        parser.parse_args(shlex.split(command))
    except SystemExit as exc:  # argparse exits 2 on a usage error
        pytest.fail(f"{_rel(source)}: `ecard {command}` does not parse (exit {exc.code})")


def test_extended_key_usages_quoted_in_the_docs_are_the_codes() -> None:
    from ecard.crypto.x509 import ECARD_LIST_SIGNING_EKU, ECARD_SIGNING_EKU

    known = {ECARD_SIGNING_EKU.dotted_string, ECARD_LIST_SIGNING_EKU.dotted_string}
    for path in MARKDOWN:
        for oid in re.findall(r"\b2\.25\.\d+", path.read_text(encoding="utf-8")):
            assert oid in known, f"{_rel(path)}: unknown extended key usage {oid}"


def test_trust_list_manifest_fields_are_documented() -> None:
    from ecard.formats.manifest import entry_to_dict
    from ecard.formats.trustlist import TrustListEntry
    from ecard.signing.pki import create_document_signer, create_root_ca

    text = (DOCS / "trust.md").read_text(encoding="utf-8")
    ds = create_document_signer(create_root_ca("Docs Root"), "Docs Signer")
    keys = [
        "sequence",
        "next_update_days",
        "signers",
        *entry_to_dict(TrustListEntry(ds.certificate)),
    ]
    for key in keys:
        assert re.search(rf"^\|[^|\n]*`{key}`", text, re.MULTILINE), key

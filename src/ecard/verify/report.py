"""Verification reports for people: the text a counter screen or a terminal shows.

The holder's ID number is masked unless ``reveal=True``; the name is shown as signed so staff
can compare it with the person in front of them.
"""

from __future__ import annotations

import unicodedata

from ecard.crypto.algorithms import describe_algorithm
from ecard.errors import Lang
from ecard.verify.verifier import VerificationResult

_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("VALID", "有效"),
    "invalid": ("INVALID", "无效"),
    "name": ("Name", "姓名"),
    "ssn": ("Social security no.", "社会保障号码"),
    "card_number": ("Card no.", "卡号"),
    "region": ("Issuing region", "发卡地区"),
    "card_dates": ("Card valid", "卡片有效期"),
    "status": ("Status", "状态"),
    "issuer": ("Signed by", "签发者"),
    "credential": ("Credential valid", "凭证有效期"),
    "kid": ("Key id", "密钥标识"),
    "alg": ("Algorithm", "签名算法"),
    "code": ("Code", "代码"),
    "warning": ("WARNING", "警告"),
}


def _width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _label(key: str, lang: Lang) -> str:
    en, zh = _LABELS[key]
    return zh if lang == "zh" else en


def render_text(result: VerificationResult, lang: Lang = "en", *, reveal: bool = False) -> str:
    """A short multi-line report of ``result`` for a person, in English or Chinese."""
    lines: list[str] = []
    if result.valid and result.card is not None:
        card = result.card
        lines.append(f"[{_label('valid', lang)}] {result.message(lang)}")
        rows = [
            ("name", card.holder.name),
            ("ssn", card.holder.ssn if reveal else card.holder.masked_ssn),
            ("card_number", card.card_number),
            ("region", card.region),
            ("card_dates", f"{card.issued.isoformat()} .. {card.expires.isoformat()}"),
            ("status", card.status.label(lang)),
            ("issuer", result.issuer or ""),
        ]
        if result.issued_at and result.expires_at:
            rows.append(
                ("credential", f"{result.issued_at.isoformat()} .. {result.expires_at.isoformat()}")
            )
        if result.kid:
            rows.append(("kid", result.kid.hex()))
        if result.alg:
            rows.append(("alg", describe_algorithm(result.alg)))
        width = max(_width(_label(k, lang)) for k, _ in rows)
        lines.extend(f"  {_pad(_label(k, lang), width)}  {v}" for k, v in rows)
        lines.extend(f"  {_label('warning', lang)}: {w}" for w in result.warnings)
    else:
        lines.append(f"[{_label('invalid', lang)}] {result.message(lang)}")
        lines.append(f"  {_label('code', lang)}: {result.code.value}")
        if result.kid:
            lines.append(f"  {_label('kid', lang)}: {result.kid.hex()}")
    return "\n".join(lines)


__all__ = ["render_text"]

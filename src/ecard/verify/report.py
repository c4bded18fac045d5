"""Verification reports for people: the text a counter screen or a terminal shows.

The holder's ID number is masked unless ``reveal=True``; the name is shown as signed so staff
can compare it with the person in front of them (the one-line form masks it too). Times are
China time (Asia/Shanghai, as the PDF card shows), with the zone named; the warnings the JSON
carries are shown; Chinese labels take the full-width colon.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from ecard.cardrecord import is_full, stored_card
from ecard.crypto.algorithms import describe_algorithm
from ecard.errors import Lang
from ecard.verify.regions import region_label
from ecard.verify.verifier import VerificationResult

#: The zone report times are shown in.
SHANGHAI = ZoneInfo("Asia/Shanghai")

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
    "source": ("Source", "来源"),
}


def _colon(lang: Lang) -> str:
    return "：" if lang == "zh" else ": "


def china_time(when: datetime, lang: Lang = "en") -> str:
    """``when`` in China time, to the second, with the zone named."""
    local = when.astimezone(SHANGHAI).replace(microsecond=0)
    zone = "北京时间" if lang == "zh" else "China time"
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')} ({zone}, UTC+08:00)"


def mask_card_number(number: str) -> str:
    """The card number with all but its first two and last two characters masked."""
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


def render_oneline(result: VerificationResult, source: str = "", *, reveal: bool = False) -> str:
    """One line per result: ``OK 张*丰 A1*****78 110105``, masked unless ``reveal``; a failure
    is its code alone. ``source`` (e.g. ``stdin:3``) ends the line when given."""
    parts = [result.code.value]
    card = stored_card(result)  # a verified record is printed as it is, without the models
    if result.valid and card is not None:
        if not is_full(card):  # a counter profile carries the masked name only
            name = card.masked_name
        else:
            name = card.holder.name if reveal else card.holder.masked_name
        number = card.card_number if reveal else mask_card_number(card.card_number)
        parts += [name, number, card.region]
    if source:
        parts.append(source)
    return " ".join(parts)


def _width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _label(key: str, lang: Lang) -> str:
    en, zh = _LABELS[key]
    return zh if lang == "zh" else en


def render_text(
    result: VerificationResult, lang: Lang = "en", *, reveal: bool = False, source: str = ""
) -> str:
    """A short multi-line report of ``result`` for a person, in English or Chinese; ``source``
    (where the code came from, e.g. ``stdin:3``) is shown when given."""
    lines: list[str] = []
    card = stored_card(result)  # a verified record is printed as it is, without the models
    if result.valid and card is not None:
        lines.append(f"[{_label('valid', lang)}] {result.message(lang)}")
        if not is_full(card):  # no ID number in a counter profile
            rows = [("name", card.masked_name)]
        else:
            rows = [
                ("name", card.holder.name),
                ("ssn", card.holder.ssn if reveal else card.holder.masked_ssn),
            ]
        rows += [
            ("card_number", card.card_number),
            ("region", region_label(card.region, lang)),
            (
                "card_dates",
                f"{card.issued.isoformat()} .. {card.expires.isoformat()}"
                if is_full(card)
                else f".. {card.expires.isoformat()}",  # a counter profile has no date of issue
            ),
            ("status", card.status.label(lang)),
            ("issuer", result.issuer or ""),
        ]
        if result.issued_at and result.expires_at:
            rows.append(
                (
                    "credential",
                    f"{china_time(result.issued_at, lang)} .. {china_time(result.expires_at, lang)}",
                )
            )
        if result.kid:
            rows.append(("kid", result.kid.hex()))
        if result.alg:
            rows.append(("alg", describe_algorithm(result.alg)))
        if source:
            rows.append(("source", source))
        width = max(_width(_label(k, lang)) for k, _ in rows)
        lines.extend(f"  {_pad(_label(k, lang), width)}  {v}" for k, v in rows)
    else:
        sep = _colon(lang)
        lines.append(f"[{_label('invalid', lang)}] {result.message(lang)}")
        lines.append(f"  {_label('code', lang)}{sep}{result.code.value}")
        if result.kid:
            lines.append(f"  {_label('kid', lang)}{sep}{result.kid.hex()}")
        if source:
            lines.append(f"  {_label('source', lang)}{sep}{source}")
    lines.extend(f"  {_label('warning', lang)}{_colon(lang)}{w}" for w in result.warnings)
    return "\n".join(lines)


__all__ = ["SHANGHAI", "china_time", "mask_card_number", "render_oneline", "render_text"]

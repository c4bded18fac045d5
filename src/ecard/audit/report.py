"""The audit report: all findings of one run, as JSON data and as text for people (en/zh)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ecard.audit.findings import AuditFinding
from ecard.errors import Lang


@dataclass(frozen=True)
class AuditReport:
    """All findings of one audit run."""

    findings: tuple[AuditFinding, ...]
    validated_at: datetime

    @property
    def all_passed(self) -> bool:
        """True when there are findings and every one is TOTAL-PASSED."""
        return bool(self.findings) and all(f.passed for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "validated_at": self.validated_at.isoformat(),
            "all_passed": self.all_passed,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (UTF-8, indented)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def render(self, lang: Lang = "en") -> str:
        """The report for people, in English or Chinese."""
        return render(self, lang)


def render(report: AuditReport, lang: Lang = "en") -> str:
    """``report`` as text for people, in English (``"en"``) or Chinese (``"zh"``)."""
    t = _LABELS["zh" if lang == "zh" else "en"]
    lines = [f"{t['title']} ({t['at']} {report.validated_at.isoformat()})", ""]
    for n, f in enumerate(report.findings, 1):
        ind = t.get(f.indication, f.indication)
        sub = f" / {f.sub_indication}" if f.sub_indication else ""
        lines.append(f"[{n}] {f.source} ({t.get(f.kind, f.kind)})")
        lines.append(f"    {t['indication']}: {ind} ({f.indication}{sub})")
        if f.detail:
            lines.append(f"    {t['detail']}: {f.detail}")
        rows = [
            ("signer", f.signer),
            ("kid", f.kid),
            ("algorithm", f.algorithm),
            ("path", " <- ".join(f.certificate_path) or None),
            ("claimed", f.signing_time_claimed and f.signing_time_claimed.isoformat()),
            ("timestamp", f.timestamp_time and f.timestamp_time.isoformat()),
            ("revocation", f.revocation_at_signing),
            ("covered", f.covered or None),
            ("credential", f.credential_status),
        ]
        for key, value in rows:
            if value:
                lines.append(f"    {t[key]}: {value}")
        for check in f.checks:
            lines.append(f"    {t['ran']}: {check.name}: {t['o_' + check.outcome]}")
        for own in f.own_checks:
            lines.append(f"    {t['check']}: {own}")
        if f.art13:
            lines.append(f"    {t['art13']}:")
            for c in f.art13:
                lines.append(f"      ({c.number}) {t['c' + str(c.number)]}: {t['s_' + c.status]}")
                lines.append(f"          {c.evidence}")
        lines.append("")
    return "\n".join(lines)


_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Signature audit report", "at": "validated at",
        "TOTAL-PASSED": "passed", "TOTAL-FAILED": "failed", "INDETERMINATE": "indeterminate",
        "qr-text": "QR text", "qr-image": "QR picture", "pdf": "signed PDF",
        "trust-list": "trust list", "revocation-list": "revocation list", "unknown": "unknown",
        "indication": "Indication", "detail": "Detail", "signer": "Signer", "kid": "kid",
        "algorithm": "Algorithm", "path": "Certificate path", "claimed": "Claimed signing time",
        "timestamp": "Trusted time-stamp", "revocation": "Revocation status at signing",
        "covered": "Covered", "credential": "Credential validity", "check": "ecard check",
        "ran": "Check", "o_passed": "passed", "o_failed": "failed",
        "o_not checked": "NOT checked", "o_unknown": "unknown",
        "art13": "Electronic Signature Law Art. 13",
        "c1": "creation data exclusively owned by the signer",
        "c2": "creation data under the signer's sole control at signing",
        "c3": "any change to the signature is detectable",
        "c4": "any change to the data is detectable",
        "s_met": "met", "s_not_met": "NOT met", "s_unknown": "cannot be established",
    },
    "zh": {
        "title": "电子签名审计报告", "at": "验证时间",
        "TOTAL-PASSED": "通过", "TOTAL-FAILED": "失败", "INDETERMINATE": "无法确定",
        "qr-text": "二维码文本", "qr-image": "二维码图片", "pdf": "签名 PDF",
        "trust-list": "信任列表", "revocation-list": "吊销列表", "unknown": "未知",
        "indication": "结论", "detail": "详情", "signer": "签名人", "kid": "密钥标识",
        "algorithm": "算法", "path": "证书路径", "claimed": "声称的签名时间",
        "timestamp": "可信时间戳", "revocation": "签名时的吊销状态",
        "covered": "签名覆盖范围", "credential": "凭证有效性", "check": "ecard 检查",
        "ran": "检查项", "o_passed": "通过", "o_failed": "未通过",
        "o_not checked": "未检查", "o_unknown": "未知",
        "art13": "《电子签名法》第十三条",
        "c1": "电子签名制作数据用于电子签名时，属于电子签名人专有",
        "c2": "签署时电子签名制作数据仅由电子签名人控制",
        "c3": "签署后对电子签名的任何改动能够被发现",
        "c4": "签署后对数据电文内容和形式的任何改动能够被发现",
        "s_met": "满足", "s_not_met": "不满足", "s_unknown": "无法确定",
    },
}  # fmt: skip


__all__ = ["AuditReport", "render"]

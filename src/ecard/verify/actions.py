"""What counter staff do after a verdict, per result code, in English and Chinese.

The counter page and any counter application show :func:`staff_action` beside the verdict;
the table follows docs/holder-binding.md ("Codes and what staff do") and docs/verifying.md.
Every :class:`~ecard.errors.ErrorCode` has an action (a test checks it), so a new code cannot
reach a counter screen without one.
"""

from __future__ import annotations

from typing import Final

from ecard.errors import ErrorCode, Lang

_FORGED = (
    "treat as forged: do not accept; check the physical card and the person's face",
    "按伪造处理：不予受理；核对实体卡和本人",
)
_RESCAN = (
    "scan again; if it fails again, ask for the physical card",
    "请重新扫码；仍失败时请出示实体卡",
)
_IT = (
    "stop accepting codes at this counter and call IT",
    "本窗口暂停受理电子码，请联系信息技术人员",
)

#: Per code: (English, Chinese).
STAFF_ACTIONS: Final[dict[ErrorCode, tuple[str, str]]] = {
    ErrorCode.OK: (
        "accept: compare the name with the person in front of you",
        "受理：请核对姓名与本人是否一致",
    ),
    ErrorCode.BAD_PREFIX: (
        "this is not an e-card code: ask for the e-card QR code",
        "不是电子社保卡二维码：请持卡人出示电子社保卡二维码",
    ),
    ErrorCode.TRUNCATED: _RESCAN,
    ErrorCode.BAD_BASE45: _RESCAN,
    ErrorCode.BAD_COMPRESSION: _RESCAN,
    ErrorCode.BAD_CBOR: _RESCAN,
    ErrorCode.BAD_COSE: _RESCAN,
    ErrorCode.UNSUPPORTED_ALG: (
        "not accepted at this counter: ask for the physical card",
        "本窗口不受理此码：请出示实体卡",
    ),
    ErrorCode.UNKNOWN_KID: (
        "issuer not known here: ask for the physical card; if many cards fail, update the "
        "trust list",
        "签发者未知：请出示实体卡；若大量失败，请更新信任列表",
    ),
    ErrorCode.ALG_KEY_MISMATCH: _FORGED,
    ErrorCode.BAD_SIGNATURE: _FORGED,
    ErrorCode.BAD_CLAIMS: _FORGED,
    ErrorCode.ISSUER_CERT_INVALID: (
        "do not accept: the issuer's certificate is not valid; ask for the physical card",
        "不予受理：签发者证书无效；请出示实体卡",
    ),
    ErrorCode.NOT_YET_VALID: (
        "check this PC's clock; if it is right, ask for the physical card",
        "请检查本机时间；时间无误时请出示实体卡",
    ),
    ErrorCode.EXPIRED: (
        "the code has expired: ask the holder to refresh the card in the app",
        "电子码已过期：请持卡人在应用中刷新",
    ),
    ErrorCode.CARD_EXPIRED: (
        "the card has expired: refer the holder to renew it",
        "卡片已过有效期：请持卡人办理换卡",
    ),
    ErrorCode.REVOKED: (
        "do not accept: the card was reported lost or cancelled; refer the holder to the "
        "social security office",
        "不予受理：该卡已挂失或注销；请持卡人到社保经办机构办理",
    ),
    ErrorCode.CARD_INACTIVE: (
        "do not accept: the card is suspended or cancelled",
        "不予受理：卡片已暂停使用或注销",
    ),
    ErrorCode.ISSUER_NOT_AUTHORISED: _FORGED,
    ErrorCode.TRUST_LIST_STALE: _IT,
    ErrorCode.REVOCATION_LIST_STALE: _IT,
    ErrorCode.BAD_LIST: _IT,
    ErrorCode.LIST_ROLLBACK: _IT,
    ErrorCode.BAD_IMAGE: _RESCAN,
    ErrorCode.BAD_KEY: _IT,
    ErrorCode.BAD_CERTIFICATE: _IT,
    ErrorCode.BAD_INPUT: _RESCAN,
    ErrorCode.BOUND_CARD_AS_PLAIN: (
        "ask for the live code in the app on the holder's own phone",
        "请持卡人在本人手机应用中出示实时二维码",
    ),
    ErrorCode.BINDING_REQUIRED: (
        "ask for the live code; if the holder has none, the physical card, and refer them to enrol",
        "请出示实时二维码；没有时请出示实体卡，并引导持卡人开通",
    ),
    ErrorCode.BAD_PRESENTATION: (
        "ask the holder to refresh the code; if it repeats, report to IT",
        "请持卡人刷新二维码；反复出现时请报告信息技术人员",
    ),
    ErrorCode.HOLDER_ALG_NOT_ALLOWED: _IT,
    ErrorCode.BAD_HOLDER_SIGNATURE: _FORGED,
    ErrorCode.STALE_PRESENTATION: (
        "ask for the code again; if every code fails, check this PC's clock",
        "请持卡人重新出示；若每次都失败，请检查本机时间",
    ),
    ErrorCode.AUDIENCE_MISMATCH: (
        "ask the holder to choose this counter's purpose in the app",
        "请持卡人在应用中选择本窗口的用途",
    ),
    ErrorCode.CHALLENGE_MISMATCH: (
        "show a new challenge and ask the holder to type it",
        "请生成新的验证码并请持卡人输入",
    ),
    ErrorCode.REPLAYED: (
        "refuse this copy: ask for a fresh code from the holder's phone",
        "拒绝此副本：请持卡人在手机上出示新的二维码",
    ),
    ErrorCode.PROFILE_NOT_ACCEPTED: (
        "ask the holder to present the card for this purpose in the app",
        "请持卡人在应用中选择本用途出示",
    ),
    ErrorCode.REPLAY_CACHE_UNUSABLE: _IT,
}


def staff_action(code: ErrorCode, lang: Lang = "en") -> str:
    """What counter staff do after a result with ``code``, in ``lang``."""
    en, zh = STAFF_ACTIONS[code]
    return zh if lang == "zh" else en


__all__ = ["STAFF_ACTIONS", "staff_action"]

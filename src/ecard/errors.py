"""One exception hierarchy for the whole library; every error carries a stable code.

Every failure a verifier can meet maps to exactly one :class:`ErrorCode`. The codes are part of
the public contract (``ecard verify --json`` prints them) and never change meaning. Each error
class fixes its code, so ``except ecard.errors.ExpiredError`` and ``err.code == ErrorCode.EXPIRED``
say the same thing.

Messages exist in English and Chinese: :meth:`EcardError.message` takes ``lang="en"`` or
``lang="zh"``. The technical detail appended after the summary is English, unless the error was
raised with a Chinese one too (``detail_zh``, as the command-line tools and file reading do).

Some errors also say *why* in a machine-readable way, beside their unchanged message:
:class:`IssuerCertInvalidError` carries a :class:`PathFailure` ``reason`` when a certificate path
failed, and :class:`BadListError` a :class:`ListStage` ``stage`` (with the path's ``reason`` when
the list signer's path failed). Callers that classify failures (the audit) use these, never the
message text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import ClassVar, Literal, TypeVar

Lang = Literal["en", "zh"]


class ErrorCode(StrEnum):
    """Stable result codes. ``OK`` means the credential verified."""

    OK = "OK"
    # verification pipeline (docs/verifying.md lists the order in which stages run)
    BAD_PREFIX = "BAD_PREFIX"
    TRUNCATED = "TRUNCATED"
    BAD_BASE45 = "BAD_BASE45"
    BAD_COMPRESSION = "BAD_COMPRESSION"
    BAD_CBOR = "BAD_CBOR"
    BAD_COSE = "BAD_COSE"
    UNSUPPORTED_ALG = "UNSUPPORTED_ALG"
    UNKNOWN_KID = "UNKNOWN_KID"
    ALG_KEY_MISMATCH = "ALG_KEY_MISMATCH"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    BAD_CLAIMS = "BAD_CLAIMS"
    ISSUER_CERT_INVALID = "ISSUER_CERT_INVALID"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    CARD_EXPIRED = "CARD_EXPIRED"
    REVOKED = "REVOKED"
    CARD_INACTIVE = "CARD_INACTIVE"
    ISSUER_NOT_AUTHORISED = "ISSUER_NOT_AUTHORISED"
    TRUST_LIST_STALE = "TRUST_LIST_STALE"
    REVOCATION_LIST_STALE = "REVOCATION_LIST_STALE"
    # trust and revocation lists, when loaded
    BAD_LIST = "BAD_LIST"
    LIST_ROLLBACK = "LIST_ROLLBACK"
    # inputs around the pipeline
    BAD_IMAGE = "BAD_IMAGE"
    BAD_KEY = "BAD_KEY"
    BAD_CERTIFICATE = "BAD_CERTIFICATE"
    BAD_INPUT = "BAD_INPUT"
    # holder binding and EC2 presentations (docs/holder-binding.md)
    BOUND_CARD_AS_PLAIN = "BOUND_CARD_AS_PLAIN"
    BINDING_REQUIRED = "BINDING_REQUIRED"
    BAD_PRESENTATION = "BAD_PRESENTATION"
    HOLDER_ALG_NOT_ALLOWED = "HOLDER_ALG_NOT_ALLOWED"
    BAD_HOLDER_SIGNATURE = "BAD_HOLDER_SIGNATURE"
    STALE_PRESENTATION = "STALE_PRESENTATION"
    AUDIENCE_MISMATCH = "AUDIENCE_MISMATCH"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    REPLAYED = "REPLAYED"
    PROFILE_NOT_ACCEPTED = "PROFILE_NOT_ACCEPTED"
    REPLAY_CACHE_UNUSABLE = "REPLAY_CACHE_UNUSABLE"


class PathFailure(StrEnum):
    """Why a certificate path failed: the value is the word the error detail starts with."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    REVOKED = "revoked"
    KEY_USAGE = "key usage"
    EXTENDED_KEY_USAGE = "extended key usage"
    UNTRUSTED_ROOT = "untrusted root"
    BROKEN_CHAIN = "broken chain"
    NO_REVOCATION_DATA = "no revocation data"
    NOT_A_CA = "not a CA"
    PATH_LENGTH = "path length"
    #: the certificates offered would make path building too costly (too many, too many
    #: alike, too many candidate paths, or too long)
    PATH_BUILDING_LIMIT = "path building limit"


#: What each :class:`PathFailure` means, in Chinese (the value is the English word).
PATH_FAILURES_ZH: dict[PathFailure, str] = {
    PathFailure.EXPIRED: "已过期",
    PathFailure.NOT_YET_VALID: "尚未生效",
    PathFailure.REVOKED: "已吊销",
    PathFailure.KEY_USAGE: "密钥用法不符",
    PathFailure.EXTENDED_KEY_USAGE: "扩展密钥用法不符",
    PathFailure.UNTRUSTED_ROOT: "根证书不受信任",
    PathFailure.BROKEN_CHAIN: "证书链断裂",
    PathFailure.NO_REVOCATION_DATA: "缺少吊销数据",
    PathFailure.NOT_A_CA: "不是 CA 证书",
    PathFailure.PATH_LENGTH: "路径长度超限",
    PathFailure.PATH_BUILDING_LIMIT: "超出路径构建上限",
}


class ListStage(StrEnum):
    """Where opening a signed list failed, in the order of the checks
    (:func:`ecard.verify.lists.open_list`, :class:`ecard.verify.lists.ListState`)."""

    #: not bytes, not a COSE_Sign1 within the size cap, or an unknown algorithm
    ENVELOPE = "envelope"
    #: signed with an algorithm the policy does not allow
    ALGORITHM = "algorithm"
    #: ``x5chain`` missing or unparsable, or ``kid`` not the signer certificate's
    SIGNER_CERTIFICATE = "signer certificate"
    #: the signer certificate's key is unusable for the algorithm
    SIGNER_KEY = "signer key"
    #: the signature does not verify
    SIGNATURE = "signature"
    #: the payload is not a list of the expected type, or its header or body is malformed
    PAYLOAD = "payload"
    #: the signer's certificate path failed (the error's ``reason`` says why)
    SIGNER_PATH = "signer path"
    #: the signer is not issued directly by a trust anchor
    SIGNER_NOT_BY_ROOT = "signer not issued by a root"
    #: a certificate of the signer's path is revoked
    SIGNER_REVOKED = "signer revoked"
    #: the list state file cannot be read or is corrupt
    STATE = "state"


#: A family of stable codes.
K = TypeVar("K", bound=StrEnum)


class MessageTable(Mapping[K, tuple[str, str]]):
    """The messages of one family of stable codes: per code ``(English, Chinese)``, every
    member of the code enum present (checked when the table is made).

    The one shape every message table of the project has (the library's, the workflow's, the
    service's): :meth:`message` is the summary in ``lang``, then the detail after ``: `` (``：``
    in Chinese); a Chinese detail, where given, stands in the Chinese message.
    """

    def __init__(self, codes: type[K], messages: Mapping[K, tuple[str, str]]) -> None:
        missing = [code.value for code in codes if code not in messages]
        if missing:
            raise ValueError(f"codes without messages: {', '.join(missing)}")
        self._messages = dict(messages)

    def __getitem__(self, code: K) -> tuple[str, str]:
        return self._messages[code]

    def __iter__(self) -> Iterator[K]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def summary(self, code: K, lang: Lang = "en") -> str:
        """The message of ``code`` in ``lang``."""
        en, zh = self._messages[code]
        return zh if lang == "zh" else en

    def message(
        self, code: K, lang: Lang = "en", detail: str = "", detail_zh: str | None = None
    ) -> str:
        """The summary of ``code`` in ``lang``, then ``detail`` (``detail_zh`` in Chinese,
        where given)."""
        summary = self.summary(code, lang)
        shown = detail_zh if lang == "zh" and detail_zh else detail
        if not shown:
            return summary
        return f"{summary}{'：' if lang == 'zh' else ': '}{shown}"


#: Short summaries per code: (English, Chinese).
_SUMMARIES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.OK: ("valid electronic social security card", "电子社保卡有效"),
    ErrorCode.BAD_PREFIX: (
        "not an e-card code (wrong or missing 'EC1:' prefix)",
        "不是电子社保卡二维码（前缀“EC1:”错误或缺失）",
    ),
    ErrorCode.TRUNCATED: (
        "the code was read only in part: scan it again",
        "二维码只读取了一部分：请重新扫描",
    ),
    ErrorCode.BAD_BASE45: (
        "the code text is damaged (invalid Base45)",
        "二维码内容已损坏（Base45 无效）",
    ),
    ErrorCode.BAD_COMPRESSION: (
        "the code content is damaged (invalid or oversized compression)",
        "二维码内容已损坏（压缩数据无效或过大）",
    ),
    ErrorCode.BAD_CBOR: (
        "the code content is malformed (invalid CBOR)",
        "二维码内容格式错误（CBOR 无效）",
    ),
    ErrorCode.BAD_COSE: (
        "the signature container is malformed (invalid COSE_Sign1)",
        "签名结构格式错误（COSE_Sign1 无效）",
    ),
    ErrorCode.UNSUPPORTED_ALG: (
        "the signature algorithm is not accepted",
        "签名算法不被接受",
    ),
    ErrorCode.UNKNOWN_KID: (
        "the issuer is not in the trust list",
        "签发机构不在信任列表中",
    ),
    ErrorCode.ALG_KEY_MISMATCH: (
        "the signature algorithm does not match the issuer's key",
        "签名算法与签发机构的密钥不匹配",
    ),
    ErrorCode.BAD_SIGNATURE: (
        "the signature is invalid: the card was altered or forged",
        "签名无效：卡片内容被篡改或伪造",
    ),
    ErrorCode.BAD_CLAIMS: ("the card data is invalid", "卡片数据无效"),
    ErrorCode.ISSUER_CERT_INVALID: (
        "the issuer's certificate does not cover this card",
        "签发机构证书无效或不覆盖此卡",
    ),
    ErrorCode.NOT_YET_VALID: ("the card is not yet valid", "卡片尚未生效"),
    ErrorCode.EXPIRED: (
        "the code has expired: refresh the code in the app (the card itself may still be valid)",
        "二维码已过期：请在应用中刷新二维码（卡片本身可能仍有效）",
    ),
    ErrorCode.CARD_EXPIRED: (
        "the card itself has expired: the holder must renew the card",
        "卡片本身已过期：持卡人需换领新卡",
    ),
    ErrorCode.REVOKED: ("the card has been revoked", "卡片已被吊销"),
    ErrorCode.CARD_INACTIVE: (
        "the card is suspended or cancelled",
        "卡片已挂失、暂停或注销",
    ),
    ErrorCode.ISSUER_NOT_AUTHORISED: (
        "the issuer is not authorised to sign this card (region or card type)",
        "签发机构无权签发此卡（地区或卡类型不符）",
    ),
    ErrorCode.TRUST_LIST_STALE: (
        "the trust list is out of date: update it before accepting cards",
        "信任列表已过期：请先更新信任列表",
    ),
    ErrorCode.REVOCATION_LIST_STALE: (
        "the revocation list is out of date: update it before accepting cards",
        "吊销列表已过期：请先更新吊销列表",
    ),
    ErrorCode.BAD_LIST: (
        "the trust or revocation list is invalid or not authentic",
        "信任列表或吊销列表无效或不可信",
    ),
    ErrorCode.LIST_ROLLBACK: (
        "the list is older than one already accepted (rollback refused)",
        "列表版本早于已接受的版本（拒绝回滚）",
    ),
    ErrorCode.BAD_IMAGE: (
        "no readable e-card code in the image",
        "图片中没有可识别的电子社保卡二维码",
    ),
    ErrorCode.BAD_KEY: ("the key is unusable", "密钥不可用"),
    ErrorCode.BAD_CERTIFICATE: ("the certificate is unusable", "证书不可用"),
    ErrorCode.BAD_INPUT: ("the input is invalid", "输入无效"),
    ErrorCode.BOUND_CARD_AS_PLAIN: (
        "this card is bound to the holder's phone: scan the live code shown in the app",
        "此卡已绑定持卡人手机：请扫描应用中实时显示的二维码",
    ),
    ErrorCode.BINDING_REQUIRED: (
        "this counter accepts only live codes bound to the holder's phone",
        "本窗口只接受绑定持卡人手机的实时二维码",
    ),
    ErrorCode.BAD_PRESENTATION: (
        "the live code is malformed",
        "实时二维码格式错误",
    ),
    ErrorCode.HOLDER_ALG_NOT_ALLOWED: (
        "the holder's device key algorithm is not accepted",
        "持卡人设备密钥算法不被接受",
    ),
    ErrorCode.BAD_HOLDER_SIGNATURE: (
        "the live code was not signed by the phone the card is bound to",
        "实时二维码不是由此卡绑定的手机签名",
    ),
    ErrorCode.STALE_PRESENTATION: (
        "the live code is too old or dated in the future: ask the holder to refresh it",
        "实时二维码已过时或时间超前：请持卡人刷新二维码",
    ),
    ErrorCode.AUDIENCE_MISMATCH: (
        "the live code was made for another purpose than this counter serves",
        "实时二维码的用途与本窗口不符",
    ),
    ErrorCode.CHALLENGE_MISMATCH: (
        "the live code does not answer this counter's challenge",
        "实时二维码与本窗口的验证码不符",
    ),
    ErrorCode.REPLAYED: (
        "this live code was already used: a copy or a screenshot",
        "此实时二维码已被使用过：疑似截图或复制",
    ),
    ErrorCode.PROFILE_NOT_ACCEPTED: (
        "the card profile shown is not the one this purpose needs",
        "出示的卡片类型不符合此用途的要求",
    ),
    ErrorCode.REPLAY_CACHE_UNUSABLE: (
        "the replay cache of this counter cannot be used",
        "本窗口的防重放缓存不可用",
    ),
}
#: The library's message table.
MESSAGES: MessageTable[ErrorCode] = MessageTable(ErrorCode, _SUMMARIES)


def describe(code: ErrorCode, lang: Lang = "en") -> str:
    """Return the short summary of ``code`` in English (``"en"``) or Chinese (``"zh"``)."""
    return MESSAGES.summary(code, lang)


class EcardError(Exception):
    """Base of every error the library raises on purpose.

    ``detail`` is a technical explanation (English) of what exactly was wrong; it never contains
    key material or the full personal data of a card holder. ``detail_zh``, where given, says
    the same in Chinese (``message("zh")`` then shows it instead of ``detail``).
    """

    code: ClassVar[ErrorCode] = ErrorCode.BAD_INPUT

    def __init__(self, detail: str = "", *, detail_zh: str | None = None) -> None:
        self.detail = detail
        self.detail_zh = detail_zh
        super().__init__(self.message("en"))

    def message(self, lang: Lang = "en") -> str:
        """The summary for this error's code in ``lang``, followed by the detail (in Chinese
        for ``"zh"`` where the error has a Chinese detail)."""
        return MESSAGES.message(self.code, lang, self.detail, self.detail_zh)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, detail={self.detail!r})"


class FormatError(EcardError):
    """The bytes or text are not a well-formed e-card credential."""


class BadPrefixError(FormatError):
    """The QR text does not start with the ``EC1:`` prefix."""

    code = ErrorCode.BAD_PREFIX


class TruncatedError(FormatError):
    """The code ends before its end: a scanner (or a copy) delivered only part of it."""

    code = ErrorCode.TRUNCATED


class BadBase45Error(FormatError):
    """The text after the prefix is not valid Base45 (RFC 9285)."""

    code = ErrorCode.BAD_BASE45


class BadCompressionError(FormatError):
    """The zlib stream is invalid, truncated, has trailing data or inflates past the cap."""

    code = ErrorCode.BAD_COMPRESSION


class BadCborError(FormatError):
    """The CBOR is malformed or breaks the strict profile (duplicates, limits, tags...)."""

    code = ErrorCode.BAD_CBOR


class TruncatedCborError(BadCborError):
    """The CBOR input ends inside an item (still ``BAD_CBOR``; a COSE message cut short this way
    is reported as :class:`TruncatedError` by the COSE parser)."""

    def __init__(self, detail: str = "", *, needed: int = 0, detail_zh: str | None = None) -> None:
        super().__init__(detail, detail_zh=detail_zh)
        #: The input length the item that ran past the end would need (at least).
        self.needed = needed


class BadCoseError(FormatError):
    """The COSE_Sign1 structure or its headers are invalid."""

    code = ErrorCode.BAD_COSE


class UnsupportedAlgorithmError(EcardError):
    """The ``alg`` is unknown to the registry or not allowed by the verifier's policy."""

    code = ErrorCode.UNSUPPORTED_ALG


class UnknownKidError(EcardError):
    """No trusted issuer certificate has the credential's ``kid``."""

    code = ErrorCode.UNKNOWN_KID


class AlgKeyMismatchError(EcardError):
    """The ``alg`` does not fit the type or size of the issuer's key."""

    code = ErrorCode.ALG_KEY_MISMATCH


class BadSignatureError(EcardError):
    """The signature does not verify: the credential was altered or not signed by this key."""

    code = ErrorCode.BAD_SIGNATURE


class BadClaimsError(EcardError):
    """The signed claims or the card in them break the schema."""

    code = ErrorCode.BAD_CLAIMS


class IssuerCertInvalidError(EcardError):
    """The issuer certificate does not cover the credential (validity, key usage, path).

    ``reason`` is the :class:`PathFailure` when a certificate path failed (its detail then
    starts with ``reason.value``), ``None`` for the verifier's own checks on a trusted signer.
    """

    code = ErrorCode.ISSUER_CERT_INVALID

    def __init__(
        self, detail: str = "", *, reason: PathFailure | None = None, detail_zh: str | None = None
    ) -> None:
        super().__init__(detail, detail_zh=detail_zh)
        self.reason = reason


class NotYetValidError(EcardError):
    """The verifier's clock is before the credential's ``iat`` (or ``nbf``), beyond the skew."""

    code = ErrorCode.NOT_YET_VALID


class ExpiredError(EcardError):
    """The verifier's clock is past the credential's ``exp``, beyond the skew."""

    code = ErrorCode.EXPIRED


class CardExpiredError(EcardError):
    """The card's own expiry date has passed (the credential may still be within its ``exp``)."""

    code = ErrorCode.CARD_EXPIRED


class RevokedError(EcardError):
    """The credential is on a revocation list."""

    code = ErrorCode.REVOKED


class CardInactiveError(EcardError):
    """The credential is genuine but the card's signed status is not one the policy accepts."""

    code = ErrorCode.CARD_INACTIVE


class IssuerNotAuthorisedError(EcardError):
    """The signer is trusted, but its scope (regions, card types) does not include this card."""

    code = ErrorCode.ISSUER_NOT_AUTHORISED


class TrustListStaleError(EcardError):
    """The trust list is past its next-update time and its grace period."""

    code = ErrorCode.TRUST_LIST_STALE


class RevocationListStaleError(EcardError):
    """The revocation list is past its next-update time and its grace period."""

    code = ErrorCode.REVOCATION_LIST_STALE


class BadListError(EcardError):
    """A trust or revocation list is malformed, of the wrong type, or fails its signature or
    signer path.

    ``stage`` is the :class:`ListStage` that failed (``None`` where no stage is known);
    ``reason`` the :class:`PathFailure` when the stage is the signer's path.
    """

    code = ErrorCode.BAD_LIST

    def __init__(
        self,
        detail: str = "",
        *,
        stage: ListStage | None = None,
        reason: PathFailure | None = None,
        detail_zh: str | None = None,
    ) -> None:
        super().__init__(detail, detail_zh=detail_zh)
        self.stage = stage
        self.reason = reason


class ListRollbackError(EcardError):
    """A list's sequence number is lower than one accepted before (or equal, with other
    content)."""

    code = ErrorCode.LIST_ROLLBACK


class BadImageError(EcardError):
    """The picture cannot be read or holds no QR code."""

    code = ErrorCode.BAD_IMAGE


class BadKeyError(EcardError):
    """A key cannot be loaded, has the wrong type, or does not match its certificate."""

    code = ErrorCode.BAD_KEY


class BadCertificateError(EcardError):
    """A certificate cannot be loaded or is unfit for its purpose."""

    code = ErrorCode.BAD_CERTIFICATE


class BoundCardAsPlainError(EcardError):
    """A card bound to a device key (``cnf``) was presented as a plain ``EC1:`` code."""

    code = ErrorCode.BOUND_CARD_AS_PLAIN


class BindingRequiredError(EcardError):
    """The policy requires a device-bound presentation and a plain card was shown."""

    code = ErrorCode.BINDING_REQUIRED


class BadPresentationError(FormatError):
    """An ``EC2:`` presentation is not well formed (layout, claims, inner card unbound)."""

    code = ErrorCode.BAD_PRESENTATION


class HolderAlgNotAllowedError(EcardError):
    """The device key's algorithm is not one the policy allows for holders."""

    code = ErrorCode.HOLDER_ALG_NOT_ALLOWED


class BadHolderSignatureError(EcardError):
    """The presentation's signature does not verify under the card's ``cnf`` key."""

    code = ErrorCode.BAD_HOLDER_SIGNATURE


class StalePresentationError(EcardError):
    """The presentation's ``iat`` is outside the verifier's window or the card's validity."""

    code = ErrorCode.STALE_PRESENTATION


class AudienceMismatchError(EcardError):
    """The presentation's ``aud`` (purpose) is not one the verifier serves."""

    code = ErrorCode.AUDIENCE_MISMATCH


class ChallengeMismatchError(EcardError):
    """The presentation's ``cnonce`` is missing, wrong or already consumed."""

    code = ErrorCode.CHALLENGE_MISMATCH


class ReplayedError(EcardError):
    """The same presentation (by hash of protected header and payload) was already accepted."""

    code = ErrorCode.REPLAYED


class ProfileNotAcceptedError(EcardError):
    """The credential's profile (full card, counter profile) is not one the policy accepts for
    the presentation's purpose."""

    code = ErrorCode.PROFILE_NOT_ACCEPTED


class ReplayCacheError(EcardError):
    """The replay cache cannot be opened or written: the verifier cannot run."""

    code = ErrorCode.REPLAY_CACHE_UNUSABLE


class BadInputError(EcardError):
    """Any other invalid input (a file that cannot be read, a malformed card record...)."""

    code = ErrorCode.BAD_INPUT


__all__ = [
    "MESSAGES",
    "PATH_FAILURES_ZH",
    "AlgKeyMismatchError",
    "AudienceMismatchError",
    "BadBase45Error",
    "BadCborError",
    "BadCertificateError",
    "BadClaimsError",
    "BadCompressionError",
    "BadCoseError",
    "BadHolderSignatureError",
    "BadImageError",
    "BadInputError",
    "BadKeyError",
    "BadListError",
    "BadPrefixError",
    "BadPresentationError",
    "BadSignatureError",
    "BindingRequiredError",
    "BoundCardAsPlainError",
    "CardExpiredError",
    "CardInactiveError",
    "ChallengeMismatchError",
    "EcardError",
    "ErrorCode",
    "ExpiredError",
    "FormatError",
    "HolderAlgNotAllowedError",
    "IssuerCertInvalidError",
    "IssuerNotAuthorisedError",
    "Lang",
    "ListRollbackError",
    "ListStage",
    "MessageTable",
    "NotYetValidError",
    "PathFailure",
    "ProfileNotAcceptedError",
    "ReplayCacheError",
    "ReplayedError",
    "RevocationListStaleError",
    "RevokedError",
    "StalePresentationError",
    "TruncatedCborError",
    "TruncatedError",
    "TrustListStaleError",
    "UnknownKidError",
    "UnsupportedAlgorithmError",
    "describe",
]

"""Workflow errors: one stable :class:`WorkflowCode` per refusal, with English and Chinese
messages.

Every error is an :class:`~ecard.errors.EcardError` with the ``ErrorCode`` ``BAD_INPUT`` (the
``verify --json`` codes are for counters); ``workflow_code`` says which step refused and why,
the way :class:`~ecard.errors.IssuerCertInvalidError` carries its ``reason``. No message or
detail carries a document number, a name, a phone number, a code or a PIN.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Final

from ecard.errors import BadInputError, Lang, MessageTable


class WorkflowCode(StrEnum):
    """Why a workflow step refused."""

    NAME_INVALID = "NAME_INVALID"
    GUARDIAN_REQUIRED = "GUARDIAN_REQUIRED"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    FAMILY_LIMIT = "FAMILY_LIMIT"
    PHONE_INVALID = "PHONE_INVALID"
    CODE_FORMAT = "CODE_FORMAT"
    CODE_WRONG = "CODE_WRONG"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED = "CODE_USED"
    CODE_TRIES_EXCEEDED = "CODE_TRIES_EXCEEDED"
    RESEND_TOO_SOON = "RESEND_TOO_SOON"
    DAILY_CAP = "DAILY_CAP"
    LIVENESS_FAILED = "LIVENESS_FAILED"
    PIN_WEAK = "PIN_WEAK"
    PIN_WRONG = "PIN_WRONG"
    PIN_LOCKED = "PIN_LOCKED"
    REASON_REQUIRED = "REASON_REQUIRED"
    OWN_CASE = "OWN_CASE"
    WRONG_STEP = "WRONG_STEP"
    CONFLICT = "CONFLICT"
    ACTIVE_CARD_EXISTS = "ACTIVE_CARD_EXISTS"
    TRANSITION_REFUSED = "TRANSITION_REFUSED"
    NOT_FOUND = "NOT_FOUND"
    PHOTO_INVALID = "PHOTO_INVALID"
    PHOTO_TOO_LARGE = "PHOTO_TOO_LARGE"
    PHOTO_BOMB = "PHOTO_BOMB"
    PHOTO_UNREADABLE = "PHOTO_UNREADABLE"
    ENROL_PROFILE_UNKNOWN = "ENROL_PROFILE_UNKNOWN"
    ENROL_CARD_NOT_NORMAL = "ENROL_CARD_NOT_NORMAL"
    ENROL_NONCE_WRONG = "ENROL_NONCE_WRONG"
    ENROL_NONCE_USED = "ENROL_NONCE_USED"
    ENROL_NONCE_EXPIRED = "ENROL_NONCE_EXPIRED"
    ENROL_SAME_KEY = "ENROL_SAME_KEY"
    ENROL_REQUEST_INVALID = "ENROL_REQUEST_INVALID"
    ENROL_PROOF_INVALID = "ENROL_PROOF_INVALID"
    EVENTS_TAMPERED = "EVENTS_TAMPERED"
    CHECKPOINT_INVALID = "CHECKPOINT_INVALID"


#: Per code: (English, Chinese).
_MESSAGES: Final[dict[WorkflowCode, tuple[str, str]]] = {
    WorkflowCode.NAME_INVALID: ("the name is not valid", "姓名不符合规定"),
    WorkflowCode.GUARDIAN_REQUIRED: (
        "a person under 16 applies through a guardian with proof of relationship",
        "未满 16 周岁须由监护人凭关系证明代为申请",
    ),
    WorkflowCode.CONSENT_REQUIRED: (
        "the required consent has not been given",
        "缺少必要的同意授权",
    ),
    WorkflowCode.FAMILY_LIMIT: (
        "the applicant has reached the number of relatives allowed",
        "代办亲属人数已达上限",
    ),
    WorkflowCode.PHONE_INVALID: (
        "the phone number is not a mainland China mobile number",
        "手机号码不是中国大陆手机号码",
    ),
    WorkflowCode.CODE_FORMAT: ("the verification code has 6 digits", "验证码应为 6 位数字"),
    WorkflowCode.CODE_WRONG: ("the verification code is wrong", "验证码错误"),
    WorkflowCode.CODE_EXPIRED: (
        "the verification code has expired: request a new one",
        "验证码已过期：请重新获取",
    ),
    WorkflowCode.CODE_USED: (
        "the verification code was already used: request a new one",
        "验证码已使用：请重新获取",
    ),
    WorkflowCode.CODE_TRIES_EXCEEDED: (
        "too many wrong codes: request a new one",
        "验证码错误次数过多：请重新获取",
    ),
    WorkflowCode.RESEND_TOO_SOON: (
        "a code was sent less than 60 seconds ago",
        "获取验证码过于频繁：请 60 秒后再试",
    ),
    WorkflowCode.DAILY_CAP: (
        "no more codes can be sent to this number today",
        "今日发送验证码次数已达上限",
    ),
    WorkflowCode.LIVENESS_FAILED: ("the face liveness check did not pass", "人脸活体检测未通过"),
    WorkflowCode.PIN_WEAK: (
        "the PIN must be 6 digits, not a sequence, a repeat or part of the ID number",
        "服务密码须为 6 位数字，不能是连续、重复数字或证件号码的一部分",
    ),
    WorkflowCode.PIN_WRONG: ("the PIN is wrong", "服务密码错误"),
    WorkflowCode.PIN_LOCKED: (
        "the PIN is locked after too many wrong tries: reset it at a window",
        "服务密码错误次数过多已锁定：请到窗口重置",
    ),
    WorkflowCode.REASON_REQUIRED: ("a reason is required", "必须填写原因"),
    WorkflowCode.OWN_CASE: (
        "nobody may decide their own case",
        "不得审核本人经办或本人的申请",
    ),
    WorkflowCode.WRONG_STEP: (
        "the application is not at the step this needs",
        "申请当前所处环节不允许此操作",
    ),
    WorkflowCode.CONFLICT: (
        "someone else changed this record at the same time: reload and try again",
        "该记录已被他人同时修改：请刷新后重试",
    ),
    WorkflowCode.ACTIVE_CARD_EXISTS: (
        "the person already has an active card in this region",
        "该人员在本地区已有有效卡",
    ),
    WorkflowCode.TRANSITION_REFUSED: (
        "the card's status does not allow this",
        "卡片当前状态不允许此操作",
    ),
    WorkflowCode.NOT_FOUND: ("no such application or card", "申请或卡片不存在"),
    WorkflowCode.PHOTO_INVALID: (
        "the ID photo is not a JPEG or PNG picture",
        "证件照片不是 JPEG 或 PNG 图片",
    ),
    WorkflowCode.PHOTO_TOO_LARGE: ("the ID photo file is too large", "证件照片文件过大"),
    WorkflowCode.PHOTO_BOMB: ("the ID photo has too many pixels", "证件照片像素过多"),
    WorkflowCode.PHOTO_UNREADABLE: (
        "the stored ID photo cannot be decrypted: wrong key, or the record was altered or moved",
        "无法解密已存储的证件照片：密钥错误，或记录被篡改或移动",
    ),
    WorkflowCode.ENROL_PROFILE_UNKNOWN: (
        "the profile is not one a card can be enrolled for (full, counter)",
        "不支持该卡片用途版本（仅限 full、counter）",
    ),
    WorkflowCode.ENROL_CARD_NOT_NORMAL: (
        "only a card in normal status can be enrolled on a device",
        "仅状态正常的卡片可以绑定设备",
    ),
    WorkflowCode.ENROL_NONCE_WRONG: (
        "the enrolment request does not answer this card's challenge: request a new one",
        "绑定请求与本卡的挑战值不符：请重新获取",
    ),
    WorkflowCode.ENROL_NONCE_USED: (
        "the enrolment challenge was already used: request a new one",
        "绑定挑战值已使用：请重新获取",
    ),
    WorkflowCode.ENROL_NONCE_EXPIRED: (
        "the enrolment challenge has expired: request a new one",
        "绑定挑战值已过期：请重新获取",
    ),
    WorkflowCode.ENROL_SAME_KEY: (
        "each profile needs its own new device key",
        "每个用途版本须使用各自新的设备密钥",
    ),
    WorkflowCode.ENROL_REQUEST_INVALID: (
        "the enrolment request is malformed or uses a key type not allowed",
        "绑定请求格式错误或使用了不允许的密钥类型",
    ),
    WorkflowCode.ENROL_PROOF_INVALID: (
        "the enrolment request is not signed by the device key it carries",
        "绑定请求未由其携带的设备密钥签名",
    ),
    WorkflowCode.EVENTS_TAMPERED: (
        "the event log's hash chain is broken: a record was changed, removed or moved",
        "事件日志哈希链断裂：有记录被修改、删除或移动",
    ),
    WorkflowCode.CHECKPOINT_INVALID: (
        "the event log checkpoint is malformed, of another kind, or not signed by the given "
        "certificate",
        "事件日志检查点格式错误、类型不符或并非由所给证书签名",
    ),
}
WORKFLOW_MESSAGES: Final = MessageTable(WorkflowCode, _MESSAGES)


class WorkflowError(BadInputError):
    """A workflow step refused. ``workflow_code`` is the stable reason."""

    workflow_code: ClassVar[WorkflowCode] = WorkflowCode.WRONG_STEP

    def __init__(self, detail: str = "", code: WorkflowCode | None = None) -> None:
        if code is not None:
            self.workflow_code = code  # type: ignore[misc]
        super().__init__(detail)

    def message(self, lang: Lang = "en") -> str:
        """The summary for :attr:`workflow_code` in ``lang``, then the (English) detail."""
        return WORKFLOW_MESSAGES.message(self.workflow_code, lang, self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.workflow_code.value!r}, detail={self.detail!r})"


def refuse(code: WorkflowCode, detail: str = "") -> WorkflowError:
    """A :class:`WorkflowError` for ``code`` (``raise refuse(...)``)."""
    return WorkflowError(detail, code)


__all__ = ["WORKFLOW_MESSAGES", "WorkflowCode", "WorkflowError", "refuse"]

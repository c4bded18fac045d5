"""One message-table type serves the library, the workflow and the service: every code of
its family has both messages, and the detail follows the summary the same way in each."""

from __future__ import annotations

from enum import StrEnum

import pytest

from ecard.errors import MESSAGES, ErrorCode, MessageTable
from ecard.service.accounts import AUTH_MESSAGES, AuthCode, AuthError
from ecard.service.errors import SERVICE_MESSAGES, ServiceCode, ServiceError
from ecard.workflow.errors import WORKFLOW_MESSAGES, WorkflowCode, refuse


class _Colour(StrEnum):
    RED = "RED"
    BLUE = "BLUE"


def test_a_table_missing_a_code_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="BLUE"):
        MessageTable(_Colour, {_Colour.RED: ("red", "红")})


def test_the_detail_follows_the_summary_in_each_language() -> None:
    table = MessageTable(_Colour, {_Colour.RED: ("red", "红"), _Colour.BLUE: ("blue", "蓝")})
    assert table.message(_Colour.RED, "en") == "red"
    assert table.message(_Colour.RED, "en", "why") == "red: why"
    assert table.message(_Colour.RED, "zh", "why") == "红：why"
    assert table.message(_Colour.RED, "zh", "why", "原因") == "红：原因"
    assert dict(table) == {_Colour.RED: ("red", "红"), _Colour.BLUE: ("blue", "蓝")}


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (MESSAGES, ErrorCode),
        (WORKFLOW_MESSAGES, WorkflowCode),
        (SERVICE_MESSAGES, ServiceCode),
        (AUTH_MESSAGES, AuthCode),
    ],
)
def test_every_family_is_one_table_type_covering_its_codes(
    table: MessageTable[StrEnum], codes: type[StrEnum]
) -> None:
    assert isinstance(table, MessageTable)
    assert set(table) == set(codes)


def test_errors_word_their_messages_through_their_table() -> None:
    assert refuse(WorkflowCode.CODE_WRONG, "d").message("zh") == "验证码错误：d"
    assert AuthError(AuthCode.AUTH_FAILED).message("zh") == "账号或密码错误"
    body = ServiceError(
        ServiceCode.BODY_TOO_LARGE, 413, "at most 9 bytes", detail_zh="最多 9 字节"
    ).body()
    assert (body.message, body.message_zh) == (
        "the request body is too large: at most 9 bytes",
        "请求内容过大：最多 9 字节",
    )

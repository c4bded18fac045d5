"""The card status lifecycle as an explicit transition table.

The e-SSC takes its card's status (一一对应，状态相同). :data:`TRANSITIONS` is the whole
table: a pair ``(state, event)`` not in it is refused. :func:`invalidates` says which moves
put the card's credentials on the revocation list, :func:`restores` which take them off.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ecard.workflow.errors import WorkflowCode, refuse


class CardState(StrEnum):
    """Card statuses in practice."""

    #: 封存: made, not yet enabled
    SEALED = "sealed"
    #: 正常
    NORMAL = "normal"
    #: 临时挂失: lifted when found, lapses after the configured 5-15 days
    TEMPORARY_LOSS = "temporary_loss"
    #: 正式挂失: in person; cannot be lifted
    FORMAL_LOSS = "formal_loss"
    #: 冻结
    FROZEN = "frozen"
    #: 已补换: replaced by a new card
    REPLACED = "replaced"
    #: 注销: moved away, emigrated, died
    CANCELLED = "cancelled"


class CardEvent(StrEnum):
    """What can happen to a card."""

    ACTIVATE = "activate"
    REPORT_LOSS = "report_loss"
    LIFT_LOSS = "lift_loss"
    LOSS_LAPSED = "loss_lapsed"
    FORMAL_LOSS = "formal_loss"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    REPLACE = "replace"
    CANCEL = "cancel"


S, E = CardState, CardEvent

#: ``(state, event) -> next state``; everything else is refused.
TRANSITIONS: Final = MappingProxyType(
    {
        (S.SEALED, E.ACTIVATE): S.NORMAL,
        (S.SEALED, E.CANCEL): S.CANCELLED,
        (S.NORMAL, E.REPORT_LOSS): S.TEMPORARY_LOSS,
        (S.NORMAL, E.FORMAL_LOSS): S.FORMAL_LOSS,
        (S.NORMAL, E.FREEZE): S.FROZEN,
        (S.NORMAL, E.REPLACE): S.REPLACED,
        (S.NORMAL, E.CANCEL): S.CANCELLED,
        (S.TEMPORARY_LOSS, E.LIFT_LOSS): S.NORMAL,
        (S.TEMPORARY_LOSS, E.LOSS_LAPSED): S.NORMAL,
        (S.TEMPORARY_LOSS, E.FORMAL_LOSS): S.FORMAL_LOSS,
        (S.TEMPORARY_LOSS, E.REPLACE): S.REPLACED,
        (S.TEMPORARY_LOSS, E.CANCEL): S.CANCELLED,
        (S.FORMAL_LOSS, E.REPLACE): S.REPLACED,
        (S.FORMAL_LOSS, E.CANCEL): S.CANCELLED,
        (S.FROZEN, E.UNFREEZE): S.NORMAL,
        (S.FROZEN, E.CANCEL): S.CANCELLED,
    }
)

#: States in which a person "has" the card: at most one per person and region.
ACTIVE_STATES: Final = frozenset({S.SEALED, S.NORMAL, S.TEMPORARY_LOSS, S.FROZEN})


def next_state(state: CardState, event: CardEvent) -> CardState:
    """The state after ``event``, or :class:`~ecard.workflow.errors.WorkflowError`
    ``TRANSITION_REFUSED`` naming both."""
    target = TRANSITIONS.get((state, event))
    if target is None:
        raise refuse(
            WorkflowCode.TRANSITION_REFUSED, f"{event.value} is not allowed from {state.value}"
        )
    return target


def usable(state: CardState, *, use_during_temporary_loss: bool = False) -> bool:
    """Whether credentials of a card in ``state`` may verify (the province's policy decides
    about a temporary loss report; default no)."""
    return state is S.NORMAL or (use_during_temporary_loss and state is S.TEMPORARY_LOSS)


def invalidates(
    before: CardState, after: CardState, *, use_during_temporary_loss: bool = False
) -> bool:
    """True when the move makes the card's credentials unusable (they go on the list)."""
    policy = use_during_temporary_loss
    return usable(before, use_during_temporary_loss=policy) and not usable(
        after, use_during_temporary_loss=policy
    )


def restores(
    before: CardState, after: CardState, *, use_during_temporary_loss: bool = False
) -> bool:
    """True when the move makes listed credentials usable again (they come off the list)."""
    policy = use_during_temporary_loss
    return (
        before is not S.SEALED
        and not usable(before, use_during_temporary_loss=policy)
        and usable(after, use_during_temporary_loss=policy)
    )


__all__ = [
    "ACTIVE_STATES",
    "TRANSITIONS",
    "CardEvent",
    "CardState",
    "invalidates",
    "next_state",
    "restores",
    "usable",
]

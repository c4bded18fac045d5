"""What a verifier accepts: algorithms, clock skew, card statuses, and where "now" comes from.

A :class:`Policy` is explicit and immutable; a verifier never guesses. The defaults are the
safe choice for a hospital or pharmacy counter.

>>> from datetime import timedelta
>>> Policy(algorithms=frozenset({"ES256"}), clock_skew=timedelta(minutes=2)).algorithms
frozenset({'ES256'})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from ecard._time import system_clock, utc
from ecard.card import CardStatus
from ecard.crypto.algorithms import ALGORITHMS, get_algorithm

#: Every registered algorithm, by name.
ALL_ALGORITHMS: Final = frozenset(a.name for a in ALGORITHMS.values())
#: Largest clock skew a policy may allow.
MAX_CLOCK_SKEW: Final = timedelta(hours=24)


@dataclass(frozen=True)
class Policy:
    """Verification policy.

    * ``algorithms``: names of the algorithms accepted (default: all registered ones);
      anything else is ``UNSUPPORTED_ALG``.
    * ``clock_skew``: tolerance applied to ``iat``/``nbf`` and ``exp`` (default 5 minutes).
    * ``clock``: returns the current aware time; inject one for tests and audits (it is
      called once here: a clock returning naive datetimes is a :class:`TypeError`).
    * ``accepted_statuses``: card statuses reported valid (default: active only); a card whose
      signed status is suspended or cancelled is reported as ``CARD_INACTIVE``.
    * ``trust_list_grace`` / ``revocation_list_grace``: how long past a list's next-update
      time verification goes on (with a warning in every result) before it fails with
      ``TRUST_LIST_STALE`` / ``REVOCATION_LIST_STALE``. Default 3 days each.
    """

    algorithms: frozenset[str] = ALL_ALGORITHMS
    clock_skew: timedelta = timedelta(minutes=5)
    clock: Callable[[], datetime] = field(default=system_clock, compare=False)
    accepted_statuses: frozenset[CardStatus] = frozenset({CardStatus.ACTIVE})
    trust_list_grace: timedelta = timedelta(days=3)
    revocation_list_grace: timedelta = timedelta(days=3)

    def __post_init__(self) -> None:
        names = frozenset(get_algorithm(a).name for a in self.algorithms)
        object.__setattr__(self, "algorithms", names)
        if not timedelta(0) <= self.clock_skew <= MAX_CLOCK_SKEW:
            raise ValueError(f"clock_skew must be between 0 and {MAX_CLOCK_SKEW}")
        if not self.algorithms:
            raise ValueError("a policy must accept at least one algorithm")
        for name in ("trust_list_grace", "revocation_list_grace"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative")
        if self.clock is not system_clock:  # a naive clock is refused here, not at every scan
            utc(self.clock(), "the policy's clock")


__all__ = ["ALL_ALGORITHMS", "MAX_CLOCK_SKEW", "Policy", "system_clock"]

"""What a verifier accepts: algorithms, clock skew, card statuses, and where "now" comes from.

A :class:`Policy` is explicit and immutable; a verifier never guesses. The defaults are the
safe choice for a hospital or pharmacy counter that reads today's ``EC1:`` cards; a new
deployment starts from :meth:`Policy.counter` (holder binding required, minimum scope).

>>> from datetime import timedelta
>>> Policy(algorithms=frozenset({"ES256"}), clock_skew=timedelta(minutes=2)).algorithms
frozenset({'ES256'})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from ecard._time import system_clock, utc
from ecard.cardbase import CardStatus
from ecard.crypto.algorithms import ALGORITHMS, get_algorithm
from ecard.formats.cosekey import DEVICE_ALGORITHMS
from ecard.formats.presentation import PURPOSES

#: Every registered algorithm, by name.
ALL_ALGORITHMS: Final = frozenset(a.name for a in ALGORITHMS.values())
#: Largest clock skew a policy may allow.
MAX_CLOCK_SKEW: Final = timedelta(hours=24)
#: Credential profiles: the whole card, and the counter profile (no ID number).
PROFILES: Final = frozenset({"full", "counter"})
#: Every profile for every purpose (the default).
ANY_PROFILE: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {p: PROFILES for p in sorted(PURPOSES)}
)
#: PIPL Art. 6 minimum scope: only identity checks see the full card.
MINIMUM_SCOPE: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {p: frozenset({"full" if p == "identity" else "counter"}) for p in sorted(PURPOSES)}
)
#: Widest presentation window a policy may allow on either side of "now".
MAX_PRESENTATION_WINDOW: Final = timedelta(minutes=10)


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

    Holder binding (``EC2:`` presentations, docs/holder-binding.md):

    * ``require_binding``: refuse plain ``EC1:`` cards (``BINDING_REQUIRED``). Off in
      ``Policy()`` so that existing counters keep working (the ``EC1:`` contract is fixed);
      **new deployments start from** :meth:`Policy.counter`, which turns it on. Whatever it
      says, a bound card shown as ``EC1:`` is ``BOUND_CARD_AS_PLAIN``: binding is never
      inferred from what was presented.
    * ``purposes``: the purpose codes (``aud``) this counter serves (default: all).
    * ``holder_algorithms``: device key algorithms accepted (default ES256, EdDSA, SM2).
    * ``presentation_max_age`` / ``presentation_max_ahead``: the ``iat`` window of a
      presentation around "now" (default 90 s back, 30 s ahead; at most 10 minutes each).
    * ``profiles``: per purpose, the credential profiles accepted (``"full"``: the whole card;
      ``"counter"``: :class:`~ecard.countercard.CounterCard`, no ID number). Default: both for every
      purpose; :data:`MINIMUM_SCOPE` keeps every purpose but identity to the counter profile.
    """

    algorithms: frozenset[str] = ALL_ALGORITHMS
    clock_skew: timedelta = timedelta(minutes=5)
    clock: Callable[[], datetime] = field(default=system_clock, compare=False)
    accepted_statuses: frozenset[CardStatus] = frozenset({CardStatus.ACTIVE})
    trust_list_grace: timedelta = timedelta(days=3)
    revocation_list_grace: timedelta = timedelta(days=3)
    require_binding: bool = False
    purposes: frozenset[str] = PURPOSES
    holder_algorithms: frozenset[str] = DEVICE_ALGORITHMS
    presentation_max_age: timedelta = timedelta(seconds=90)
    presentation_max_ahead: timedelta = timedelta(seconds=30)
    profiles: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: dict(ANY_PROFILE), hash=False
    )

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
        unknown = set(self.purposes) - PURPOSES
        if unknown or not self.purposes:
            raise ValueError(f"purposes must be a non-empty subset of {sorted(PURPOSES)}")
        holders = frozenset(get_algorithm(a).name for a in self.holder_algorithms)
        if not holders or not holders <= DEVICE_ALGORITHMS:
            raise ValueError(f"holder_algorithms must be some of {sorted(DEVICE_ALGORITHMS)}")
        object.__setattr__(self, "holder_algorithms", holders)
        object.__setattr__(self, "purposes", frozenset(self.purposes))
        for name in ("presentation_max_age", "presentation_max_ahead"):
            if not timedelta(0) <= getattr(self, name) <= MAX_PRESENTATION_WINDOW:
                raise ValueError(f"{name} must be between 0 and {MAX_PRESENTATION_WINDOW}")
        profiles = {p: frozenset(self.profiles.get(p, ())) for p in PURPOSES}
        for purpose, names in profiles.items():
            if not names <= PROFILES:
                raise ValueError(f"profiles for {purpose} must be some of {sorted(PROFILES)}")
        if set(self.profiles) - PURPOSES:
            raise ValueError(f"profiles are named per purpose ({sorted(PURPOSES)})")
        object.__setattr__(self, "profiles", MappingProxyType(profiles))
        if self.clock is not system_clock:  # a naive clock is refused here, not at every scan
            utc(self.clock(), "the policy's clock")

    @classmethod
    def counter(cls, *, purposes: Iterable[str], **options: Any) -> Policy:
        """The policy for a new deployment: binding required and minimum scope.

        Live ``EC2:`` codes only (``require_binding=True``: a plain ``EC1:`` card is
        ``BINDING_REQUIRED``), for the ``purposes`` this counter serves (named, never "all"),
        and the full card accepted only for identity checks (:data:`MINIMUM_SCOPE`: a
        pharmacy never receives the ID number). ``options`` set any other field (the clock,
        the window, the algorithms), or override these on purpose; ``ecard verify --counter
        --purpose P`` is the same policy.

        >>> p = Policy.counter(purposes={"pharmacy"})
        >>> p.require_binding, sorted(p.purposes), sorted(p.profiles["pharmacy"])
        (True, ['pharmacy'], ['counter'])
        """
        served = frozenset(purposes) if not isinstance(purposes, str) else frozenset({purposes})
        if not served:
            raise ValueError("a counter names the purposes it serves")
        preset: dict[str, Any] = {
            "require_binding": True,
            "purposes": served,
            "profiles": MINIMUM_SCOPE,
        }
        return cls(**{**preset, **options})


__all__ = [
    "ALL_ALGORITHMS",
    "ANY_PROFILE",
    "MAX_CLOCK_SKEW",
    "MAX_PRESENTATION_WINDOW",
    "MINIMUM_SCOPE",
    "PROFILES",
    "Policy",
    "system_clock",
]

"""The local settings of a region's operator (:class:`Settings`): code rules, loss-report
lapse, family limit, card validity, list validity, photo retention, review deadlines per
region, device binding. Plain values checked at construction; no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ecard.workflow.secrets import CodeRules


@dataclass(frozen=True)
class Settings:
    """Local settings of a region's operator."""

    #: One-time code rules.
    codes: CodeRules = field(default_factory=CodeRules)
    #: Days after which a temporary loss report lapses by itself (5-15).
    temporary_loss_days: int = 10
    #: Whether an e-SSC may be used during a temporary loss report (default no).
    use_during_temporary_loss: bool = False
    #: Relatives one person may apply for through family service.
    family_limit: int = 3
    #: Years a card is valid.
    card_years: int = 10
    #: How long each signed revocation list is valid.
    list_validity: timedelta = timedelta(days=1)
    #: How long an ID photo is kept after the application's decision (then purged).
    photo_retention: timedelta = timedelta(days=30)
    #: Calendar days a submitted application may wait for review (the default).
    review_days: int = 5
    #: Per region (6-digit code; ``xxxx00`` for a city, ``xx0000`` for a province), the review
    #: days where they differ from :attr:`review_days`; the most specific entry wins.
    review_days_by_region: Mapping[str, int] = field(default_factory=dict)
    #: Whether :meth:`~ecard.workflow.steps.Registry.issue` signs no bearer credential: the
    #: holder's device enrolment (:meth:`~ecard.workflow.steps.Registry.enrol_device`) makes
    #: the card's credentials, each bound to a device key. Off by default so that existing
    #: callers keep working; a deployment should turn it on (the web service does).
    require_binding: bool = False
    #: How long an enrolment challenge (nonce) may be answered.
    enrolment_lifetime: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if not 5 <= self.temporary_loss_days <= 15:
            raise ValueError("temporary_loss_days must be 5..15")
        if self.family_limit < 0 or not 1 <= self.card_years <= 50:
            raise ValueError("family_limit must be >= 0 and card_years 1..50")
        if not timedelta(seconds=1) <= self.enrolment_lifetime <= timedelta(hours=1):
            raise ValueError("enrolment_lifetime must be 1 s..1 h")
        if not timedelta(0) <= self.photo_retention <= timedelta(days=3650):
            raise ValueError("photo_retention must be 0..3650 days")
        for region, days in {"default": self.review_days, **self.review_days_by_region}.items():
            if region != "default" and not (len(region) == 6 and region.isdigit()):
                raise ValueError("review_days_by_region keys are 6-digit region codes")
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
                raise ValueError("review days must be 1..365")

    def review_deadline_days(self, region: str) -> int:
        """The review days for ``region``: its own entry, else its city's (``xxxx00``), else
        its province's (``xx0000``), else :attr:`review_days`."""
        for key in (region, region[:4] + "00", region[:2] + "0000"):
            if key in self.review_days_by_region:
                return self.review_days_by_region[key]
        return self.review_days


__all__ = ["Settings"]

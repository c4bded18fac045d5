"""The checks of an ``EC2:`` presentation after its inner card passed the card pipeline.

Order (first failure wins; docs/holder-binding.md)::

    inner card exactly as an EC1 card (every stage and code of the card pipeline)
      -> binding: the card carries cnf                          BAD_PRESENTATION
      -> device key algorithm allowed by the policy             HOLDER_ALG_NOT_ALLOWED
      -> presentation alg is the cnf key's, signature verifies  BAD_HOLDER_SIGNATURE
      -> iat within the window, and within the card's iat..exp  STALE_PRESENTATION
      -> aud served by this counter                             AUDIENCE_MISMATCH
      -> the credential's profile accepted for that purpose     PROFILE_NOT_ACCEPTED
      -> replay cache: first time this presentation is seen     REPLAYED
      -> challenge asked for, answered and consumed             CHALLENGE_MISMATCH

Whether binding is required is the policy's (``Policy.require_binding``), never inferred from
what was presented; a bound card is refused as ``EC1:`` by the pipeline whatever the policy.
"""

from __future__ import annotations

import hashlib
import hmac

from ecard.cardrecord import claims_card
from ecard.errors import (
    AudienceMismatchError,
    BadHolderSignatureError,
    BadPresentationError,
    ChallengeMismatchError,
    HolderAlgNotAllowedError,
    ProfileNotAcceptedError,
    ReplayedError,
    StalePresentationError,
)
from ecard.formats.cwt import Claims
from ecard.formats.presentation import Presentation
from ecard.verify.policy import Policy
from ecard.verify.replay import ReplayCache


def check_presentation(
    presentation: Presentation,
    claims: Claims,
    policy: Policy,
    cache: ReplayCache,
    t: float,
    challenge: str | None,
) -> None:
    """Run the holder checks (module docstring) on a presentation whose card verified."""
    key = claims.cnf
    if key is None:
        raise BadPresentationError("the card inside is not bound to a device key (no cnf)")
    if key.alg.name not in policy.holder_algorithms:
        raise HolderAlgNotAllowedError(f"device key algorithm {key.alg.name}")
    if presentation.alg != key.alg.cose_id:
        raise BadHolderSignatureError(
            f"presentation alg {presentation.alg} is not the bound key's ({key.alg.name})"
        )
    signed = presentation.to_be_signed()
    if not key.verifier()(presentation.signature, signed):
        raise BadHolderSignatureError(
            f"signature does not verify under the bound device key {key.thumbprint[:8].hex()}"
        )
    iat = presentation.iat
    max_age = int(policy.presentation_max_age.total_seconds())
    ahead = int(policy.presentation_max_ahead.total_seconds())
    now = int(t)
    if iat < t - max_age:
        raise StalePresentationError(f"made {now - iat} s ago (at most {max_age} s)")
    if iat > t + ahead:
        raise StalePresentationError(f"dated {iat - now} s ahead (at most {ahead} s)")
    if not claims.iat <= iat < claims.exp:
        raise StalePresentationError("presentation time outside the card's iat..exp")
    if presentation.aud not in policy.purposes:
        raise AudienceMismatchError(
            f"made for {presentation.aud!r}; this counter serves {sorted(policy.purposes)}"
        )
    profile = claims_card(claims).profile
    if profile not in policy.profiles[presentation.aud]:
        raise ProfileNotAcceptedError(
            f"a {profile} card for {presentation.aud}; this counter accepts "
            f"{sorted(policy.profiles[presentation.aud])}"
        )
    # the replay key (Presentation.replay_key) from the Sig_structure already built
    if not cache.record(hashlib.sha256(signed).digest(), expires=iat + max_age + 1, now=now):
        raise ReplayedError("this presentation was accepted before")
    if challenge is None:
        if presentation.cnonce is not None:
            raise ChallengeMismatchError("answers a challenge this counter did not ask")
        return
    answer = presentation.cnonce
    if answer is None:
        raise ChallengeMismatchError("no challenge answer; the counter asked for one")
    if not hmac.compare_digest(answer, challenge.encode("ascii", "replace")):
        raise ChallengeMismatchError("answers another challenge")
    if not cache.consume_challenge(challenge, now=now):
        raise ChallengeMismatchError("the challenge expired or was already used")


__all__ = ["check_presentation"]

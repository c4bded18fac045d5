"""The holder's device side: device keys, enrolment, ``EC2:`` presentations and their clock.

This room imports only the neutral layers (:mod:`ecard.formats`, :mod:`ecard.crypto`) and
never ``signing``, ``verify``, ``publish`` or ``journal``: a phone is neither an issuer nor a
counter (contract ``holder-never-signs`` in pyproject.toml).

* :mod:`ecard.holder.keys`: :class:`~ecard.holder.keys.DeviceSigner` (the protocol) and the
  encrypted software key file (P-256, Ed25519 or SM2: its private key type is the neutral
  :mod:`ecard.crypto.sm2.private`).
* :mod:`ecard.holder.wallet`: the enrolment request (proof of possession), the clock (server
  offset plus a monotonic clock) and the presentation builder that re-signs every 30 s.
"""

"""The workflow room: from application to card and back.

Applications (online and window channels), real-name checks (one-time code through an SMS
port, face liveness through a port), review (automatic rules online, a clerk at the window),
issuance through :class:`ecard.signing.issuer.Issuer` and the issuance journal, the card status
lifecycle (:mod:`ecard.workflow.lifecycle`) with revocation lists signed through
:mod:`ecard.publish.revocation`, on SQLite or PostgreSQL (:mod:`ecard.workflow.store`); ID photos kept only encrypted
(:mod:`ecard.workflow.photos`, stripped of their metadata by
:mod:`ecard.workflow.photo_metadata`), review deadlines per region, device enrolment
(:mod:`ecard.workflow.enrolment`) and a hash-chained event log
(:mod:`ecard.workflow.eventlog`).
docs/workflow.md describes both channels step by step.
"""

"""The workflow room: from application to card and back.

Applications (online and window channels), real-name checks (one-time code through an SMS
port, face liveness through a port), review (automatic rules online, a clerk at the window),
issuance through :class:`ecard.signing.issuer.Issuer` and the issuance journal, the card status
lifecycle (:mod:`ecard.workflow.lifecycle`) with revocation lists signed through
:mod:`ecard.publish.revocation`, on SQLite or PostgreSQL (:mod:`ecard.workflow.store`); ID photos kept only encrypted
(:mod:`ecard.workflow.photos`) and review deadlines per region.
docs/workflow.md describes both channels step by step.
"""

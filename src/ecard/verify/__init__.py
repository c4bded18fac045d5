"""Offline verification: trust store, certificate paths, authenticated lists, policy, the
verifier pipeline and result reports.

Rule (checked by the test suite, including a process that verifies cards and must not load
them): nothing here imports :mod:`ecard.signing`, so a verifier never loads a private key type
or a CA builder. It builds on :mod:`ecard.formats` and :mod:`ecard.crypto`.
"""

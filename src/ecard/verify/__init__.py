"""Offline verification: trust store, policy, the verifier pipeline and result reports.

Nothing here imports a private key type.
"""

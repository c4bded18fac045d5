"""Algorithms, COSE_Sign1, signers, the issuer and PKI helpers for demos, pilots and tests."""

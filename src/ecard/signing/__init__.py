"""Everything that holds a private key: signers (in memory, PKCS#11), SM2 private keys, the
issuer, COSE signing, list signing, and the PKI builders for demos, pilots and tests.

Rule (checked by the test suite): nothing here imports :mod:`ecard.verify`; what both sides
need lives in :mod:`ecard.crypto` and :mod:`ecard.formats`.
"""

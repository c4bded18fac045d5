"""The neutral layer both sides share: what an issuer and a verifier must agree on about keys
and signatures, and nothing that holds a private key.

- :mod:`~ecard.crypto.algorithms`: the algorithm registry (COSE id <-> hash, key type, raw
  signature size), public key types and loading a certificate's key;
- :mod:`~ecard.crypto.sm2`: SM2 with SM3, public side (curve, backends, strict key parsing,
  verification);
- :mod:`~ecard.crypto.x509`: reading certificates, the ecard certificate profile (extended key
  usages, :func:`~ecard.crypto.x509.signing_unfitness`), key identifiers;
- :mod:`~ecard.crypto.x509sig`: checking signatures on certificates and CRLs, every algorithm;
- :mod:`~ecard.crypto.crl`: reading CRLs.

Rule (checked by the test suite): nothing here imports :mod:`ecard.formats`,
:mod:`ecard.signing`, :mod:`ecard.verify` or any room above them.
"""

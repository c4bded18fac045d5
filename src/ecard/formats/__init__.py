"""Bytes <-> text <-> pictures: every wire format ecard reads or writes, and nothing else.

- :mod:`~ecard.formats.cbor`: deterministic CBOR out, strict CBOR in (caps on size and depth);
- :mod:`~ecard.formats.cose`: COSE_Sign1 in the ecard profile (assembly and strict parse);
- :mod:`~ecard.formats.cwt`: the CWT claims and the card map inside them;
- :mod:`~ecard.formats.base45`, :mod:`~ecard.formats.qrtext`: the ``EC1:`` QR text;
- :mod:`~ecard.formats.qrimage`: QR pictures (render; read with the ``image`` extra);
- :mod:`~ecard.formats.lists`, :mod:`~ecard.formats.trustlist`, :mod:`~ecard.formats.revocation`:
  signed lists, their header and their two bodies;
- :mod:`~ecard.formats.credential`: an issued credential in all its encodings.

Rule (checked by the test suite): nothing here holds a key or makes a trust decision; it
imports :mod:`ecard.crypto` at most, never :mod:`ecard.signing` or :mod:`ecard.verify`.
"""

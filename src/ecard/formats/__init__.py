"""Bytes <-> text <-> pictures: deterministic CBOR, Base45, the EC1 QR text and QR images.

Nothing here holds a key or makes a trust decision.
"""

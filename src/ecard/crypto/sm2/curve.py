"""The SM2 curve sm2p256v1 and prime-field curves for SM2 (GB/T 32918.5): domain parameters,
point encoding and decoding with an on-curve check. Pure Python, no backend, no keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ecard.errors import BadKeyError

#: Default SM2 distinguishing ID (GB/T 35276-2017, section 5.3).
DEFAULT_ID: Final = b"1234567812345678"
#: Size in bytes of a raw ``r || s`` SM2 signature.
SIGNATURE_SIZE: Final = 64
#: Longest distinguishing ID: ``ENTL``, its length in *bits*, has 16 bits.
_MAX_UID: Final = 0x1FFF


@dataclass(frozen=True)
class Sm2Curve:
    """Domain parameters of a prime-field curve ``y^2 = x^3 + a*x + b (mod p)`` for SM2.

    ``(gx, gy)`` is the base point, of prime order ``n``; the cofactor must be 1, so every
    finite point on the curve is in the group. :data:`SM2P256V1` is the curve SM2 uses; other
    instances exist for the standards' examples (GB/T 32918 uses a separate example curve).
    """

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def size(self) -> int:
        """Bytes in one encoded field element (32 for a 256-bit curve)."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, x: int, y: int) -> bool:
        """Whether the affine point ``(x, y)`` is on the curve (coordinates reduced mod ``p``)."""
        p = self.p
        return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x + self.a * x + self.b)) % p == 0

    def decode_point(self, data: bytes) -> tuple[int, int]:
        """Decode a SEC 1 point (``04`` uncompressed, ``02``/``03`` compressed, ``06``/``07``
        hybrid) and check it is on the curve; :class:`~ecard.errors.BadKeyError` otherwise."""
        data = bytes(data)
        size = self.size
        if not data:
            raise BadKeyError("empty EC point")
        form, body = data[0], data[1:]
        if form in (0x04, 0x06, 0x07) and len(body) == 2 * size:
            x = int.from_bytes(body[:size], "big")
            y = int.from_bytes(body[size:], "big")
            if form != 0x04 and (y & 1) != (form & 1):
                raise BadKeyError("hybrid EC point whose parity byte does not match y")
        elif form in (0x02, 0x03) and len(body) == size:
            x = int.from_bytes(body, "big")
            y = self._lift_x(x, form & 1)
        elif form == 0x00:
            raise BadKeyError("the point at infinity is not a public key")
        else:
            raise BadKeyError(
                f"malformed EC point for {self.name} (form byte {form:#04x}, {len(data)} bytes)"
            )
        if not self.contains(x, y):
            raise BadKeyError(f"the public key point is not on the curve {self.name}")
        return x, y

    def encode_point(self, x: int, y: int) -> bytes:
        """The uncompressed encoding ``04 || x || y``."""
        return b"\x04" + x.to_bytes(self.size, "big") + y.to_bytes(self.size, "big")

    def _lift_x(self, x: int, parity: int) -> int:
        p = self.p
        if p % 4 != 3:
            raise BadKeyError(f"compressed points on {self.name} are not supported")
        if not 0 <= x < p:
            raise BadKeyError(f"compressed point x out of range for {self.name}")
        rhs = (x * x * x + self.a * x + self.b) % p
        y = pow(rhs, (p + 1) // 4, p)
        if y * y % p != rhs:
            raise BadKeyError(f"the public key point is not on the curve {self.name}")
        return y if (y & 1) == parity else p - y


#: The SM2 curve sm2p256v1 (GB/T 32918.5-2017, OID 1.2.156.10197.1.301).
SM2P256V1: Final = Sm2Curve(
    name="sm2p256v1",
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
)
#: Order ``n`` of the SM2 curve (GB/T 32918.5).
SM2_ORDER: Final = SM2P256V1.n

"""The clinician PIN at rest, as the C stub keeps it: a salted PBKDF2 hash and a wrapped proof key.

A v1 LOGIN proof is keyed with ``K = SHA-256(PIN digits)``, so the generator must hold
``K`` to check one; ``K`` is as good as the PIN. The state file therefore holds neither
the digits nor ``K`` but this record: a random salt (new at every PIN change), PBKDF2-HMAC-
SHA256 of the digits with that salt (says whether a PIN is the stored one) and ``K`` XOR
HMAC-SHA256(device key, label + salt). The device key lives in a file of its own
(``state_store.DEVICE_KEY_FILE``), never in the state file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from ..protocol.limits import PIN_HASH_BYTES, PIN_PBKDF2_ITERATIONS, PIN_SALT_BYTES
from ..protocol.login import pin_key

WRAP_LABEL = b"STIMFW-PROOF-KEY"  #: the stub's label (firmware_stub/src/pin.c)
_SHA256_BYTES = 32


def pin_hash(pin: str, salt: bytes) -> bytes:
    """PBKDF2-HMAC-SHA256 of the PIN's ASCII digits, as the stub computes it."""
    return hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, PIN_PBKDF2_ITERATIONS, PIN_HASH_BYTES)


def _mask(device_key: bytes, salt: bytes) -> bytes:
    return hmac.new(device_key, WRAP_LABEL + salt, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class PinRecord:
    salt: bytes
    hash: bytes | None  #: None: migrated from a state file that kept only ``K`` (no digits to hash)
    wrapped: bytes

    @classmethod
    def make(cls, device_key: bytes, pin: str, salt: bytes | None = None) -> PinRecord:
        """The record of ``pin`` with a fresh random salt (or ``salt``)."""
        salt = secrets.token_bytes(PIN_SALT_BYTES) if salt is None else salt
        return cls(salt, pin_hash(pin, salt), _xor(pin_key(pin), _mask(device_key, salt)))

    @classmethod
    def from_proof_key(cls, device_key: bytes, key: bytes) -> PinRecord:
        """A record for a proof key read from an older state file (which kept ``K`` itself)."""
        salt = secrets.token_bytes(PIN_SALT_BYTES)
        return cls(salt, None, _xor(key, _mask(device_key, salt)))

    def matches(self, pin: str) -> bool:
        if self.hash is None:
            return False
        return hmac.compare_digest(pin_hash(pin, self.salt), self.hash)

    def proof_key(self, device_key: bytes) -> bytes:
        """``K``, unwrapped with the device key (kept in RAM only)."""
        return _xor(self.wrapped, _mask(device_key, self.salt))

    def to_data(self) -> dict[str, str | None]:
        return {"salt": self.salt.hex(), "pbkdf2_sha256": None if self.hash is None else self.hash.hex(),
                "wrapped_key": self.wrapped.hex()}

    @classmethod
    def from_data(cls, data: Any) -> PinRecord:
        """ValueError naming the field when a stored record is not usable."""
        if not isinstance(data, dict):
            raise ValueError("pin: not an object")
        fields: list[bytes | None] = []
        for name, size in (("salt", PIN_SALT_BYTES), ("pbkdf2_sha256", PIN_HASH_BYTES),
                           ("wrapped_key", _SHA256_BYTES)):
            text = data.get(name)
            if text is None and name == "pbkdf2_sha256":
                fields.append(None)
                continue
            try:
                raw = bytes.fromhex(text) if isinstance(text, str) else b""
            except ValueError:
                raw = b""
            if len(raw) != size:
                raise ValueError(f"pin.{name}: not {size} bytes in hex")
            fields.append(raw)
        salt, digest, wrapped = fields
        assert salt is not None and wrapped is not None
        return cls(salt, digest, wrapped)

"""Challenge-response login: the PIN never crosses the wire and a recorded login is useless.

``LOGIN`` hands out a fresh nonce (16 upper-case hex digits, good for one answer);
``LOGIN PROOF=`` must carry HMAC-SHA256(key = SHA-256(PIN digits), message = the nonce's
16 characters) in hex. Both sides compute the proof here (the generator's lockout guard
lives in ``generator.login_guard``), so hosts and tests compute proofs exactly as the
device checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from .limits import PIN_MAX_DIGITS, PIN_MIN_DIGITS

_PIN_RE = re.compile(rf"^[0-9]{{{PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}$")
PROOF_RE = re.compile(r"^[0-9A-Fa-f]{64}$")  #: a proof as it may be sent: 64 hex digits, either case


def valid_pin(pin: str) -> bool:
    """A PIN is 4 to 8 decimal digits."""
    return bool(_PIN_RE.match(pin))


def pin_key(pin: str) -> bytes:
    """The HMAC key: the raw 32-byte SHA-256 digest of the PIN's ASCII digits."""
    return hashlib.sha256(pin.encode("ascii")).digest()


def proof_with_key(key: bytes, nonce: str) -> str:
    """The proof for ``nonce`` under a PIN key (the device keeps only the key)."""
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


def proof(pin: str, nonce: str) -> str:
    """The lowercase hex proof a host sends as ``LOGIN PROOF=`` for ``nonce``."""
    return proof_with_key(pin_key(pin), nonce)

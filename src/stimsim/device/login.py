"""Challenge-response login: the PIN never crosses the wire and a recorded login is useless.

``LOGIN`` hands out a fresh nonce (16 upper-case hex digits, good for one answer);
``LOGIN PROOF=`` must carry HMAC-SHA256(key = SHA-256(PIN digits), message = the nonce's
16 characters) in hex. Five wrong proofs in a row lock LOGIN for 60 s of real time.
``proof()`` is public so hosts and tests compute proofs exactly as the device checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import re

from .limits import LOCKOUT_S, NONCE_DIGITS, PIN_MAX_DIGITS, PIN_MIN_DIGITS
from .limits import LOGIN_TRIES as MAX_WRONG
from .refusal import Refusal, bad_arg

_PIN_RE = re.compile(rf"^[0-9]{{{PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}$")
_PROOF_RE = re.compile(r"^[0-9A-Fa-f]{64}$")


def valid_pin(pin: str) -> bool:
    """A PIN is 4 to 8 decimal digits."""
    return bool(_PIN_RE.match(pin))


def pin_key(pin: str) -> bytes:
    """The HMAC key: the raw 32-byte SHA-256 digest of the PIN's ASCII digits."""
    return hashlib.sha256(pin.encode("ascii")).digest()


def proof_with_key(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()


def proof(pin: str, nonce: str) -> str:
    """The lowercase hex proof a host sends as ``LOGIN PROOF=`` for ``nonce``."""
    return proof_with_key(pin_key(pin), nonce)


class LoginGuard:
    """The device side: the outstanding nonce, wrong proofs in a row, the lockout."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.nonce: str | None = None
        self.wrong = 0
        self.locked_until: float | None = None

    def retry_s(self, now: float) -> int:
        """Whole seconds until LOGIN works again (0: not locked)."""
        if self.locked_until is None or now >= self.locked_until:
            return 0
        return max(1, math.ceil(self.locked_until - now))

    def _check_lock(self, now: float) -> None:
        retry = self.retry_s(now)
        if retry:
            raise Refusal("LOCKED", [("RETRY_S", str(retry))])

    def check_challenge(self, now: float) -> None:
        """LOCKED RETRY_S= while locked out."""
        self._check_lock(now)

    def challenge(self) -> str:
        """A fresh nonce, replacing any outstanding one."""
        self.nonce = f"{self._rng.getrandbits(4 * NONCE_DIGITS):0{NONCE_DIGITS}X}"
        return self.nonce

    def check_answer(self, now: float, proof_text: str) -> None:
        """The checks that refuse without counting: LOCKED, then a malformed PROOF."""
        self._check_lock(now)
        if not _PROOF_RE.match(proof_text):
            raise bad_arg("PROOF")

    def answer(self, now: float, key: bytes, proof_text: str) -> None:
        """Judge a proof (after ``check_answer``). Right: returns. Wrong (or no fresh nonce):
        counts, uses up the nonce and raises DENIED REASON=PROOF / STATE REASON=NONCE, or
        LOCKED RETRY_S=60 at the fifth wrong proof in a row."""
        nonce, self.nonce = self.nonce, None
        if nonce is not None and hmac.compare_digest(proof_with_key(key, nonce), proof_text.lower()):
            self.wrong = 0
            return
        self.wrong += 1
        if self.wrong >= MAX_WRONG:
            self.wrong = 0
            self.locked_until = now + LOCKOUT_S
            raise Refusal("LOCKED", [("RETRY_S", str(int(LOCKOUT_S)))])
        if nonce is None:
            raise Refusal("STATE", [("REASON", "NONCE")])
        raise Refusal("DENIED", [("REASON", "PROOF")])

    def forget_nonce(self) -> None:
        self.nonce = None

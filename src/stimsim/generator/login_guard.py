"""The generator's side of LOGIN: the outstanding nonce, wrong proofs in a row, the lockout.

Five wrong proofs in a row lock LOGIN for 60 s of real time; the proof itself is computed
by ``protocol.login``, as a host computes it. The count and the lock are memory, not RAM
(they are saved at every wrong proof): SIM RESET and a restart keep them, and a lock
found at a boot lasts a full ``LOCKOUT_S`` from that boot, as on the C stub (a device has
no clock that runs while it is off).
"""

from __future__ import annotations

import hmac
import math
import random

from ..protocol.limits import LOCKOUT_S, NONCE_DIGITS
from ..protocol.limits import LOGIN_TRIES as MAX_WRONG
from ..protocol.login import PROOF_RE, proof_with_key
from .refusal import Refusal, bad_arg


class LoginGuard:
    """The device side: the outstanding nonce, wrong proofs in a row, the lockout."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.nonce: str | None = None
        self.wrong = 0  #: wrong proofs in a row (memory)
        self.locked = False  #: the lock is on (memory); ``locked_until`` is its RAM deadline
        self.locked_until: float | None = None

    def boot(self, now: float) -> None:
        """A power-up: no nonce; a stored lock starts over, in full, now."""
        self.nonce = None
        self.locked_until = now + LOCKOUT_S if self.locked else None

    def expire(self, now: float) -> bool:
        """Clear a lock that has run out; True when it just did (the caller saves)."""
        if self.locked and self.locked_until is not None and now >= self.locked_until:
            self.locked, self.locked_until = False, None
            return True
        return False

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
        if not PROOF_RE.match(proof_text):
            raise bad_arg("PROOF")

    def answer(self, now: float, key: bytes, proof_text: str) -> None:
        """Judge a proof (after ``check_answer``). Right: returns. Wrong (or no fresh nonce):
        counts, uses up the nonce and raises (the caller saves the count either way) DENIED REASON=PROOF / STATE REASON=NONCE, or
        LOCKED RETRY_S=60 at the fifth wrong proof in a row."""
        nonce, self.nonce = self.nonce, None
        if nonce is not None and hmac.compare_digest(proof_with_key(key, nonce), proof_text.lower()):
            self.wrong = 0
            return
        self.wrong += 1
        if self.wrong >= MAX_WRONG:
            self.wrong = 0
            self.locked = True
            self.locked_until = now + LOCKOUT_S
            raise Refusal("LOCKED", [("RETRY_S", str(int(LOCKOUT_S)))])
        if nonce is None:
            raise Refusal("STATE", [("REASON", "NONCE")])
        raise Refusal("DENIED", [("REASON", "PROOF")])

    def forget_nonce(self) -> None:
        self.nonce = None

"""Protocol v1 limits: the one home of the numbers both generators must agree on.

The virtual generator, the codec and the client read them here; the C firmware stub gets
them through its generated header (firmware_stub/tools/gen_params_header.py), like the
parameter ranges of ``engine.params``.
"""

from __future__ import annotations

# Lines
MAX_REQUEST = 320  #: request bytes before EOL
MAX_REPLY = 512  #: reply bytes before EOL
MAX_VERB = 16
MAX_KEY = 20  #: the grammar says 16, but the protocol's own CONFIG key IMPEDANCE_DEFAULT has 17
MAX_VALUE = 64
SEQ_MAX = 65535

# Sequencing
SEQ_WINDOW = 1024  #: strict mode: a new SEQ is 1..1024 ahead of the last accepted one
RESEND_RING = 8  #: replies remembered for byte-identical resends

# Sessions and roles
TEST_LEASE_S = 10  #: a TEST ends this long (real time) after the last OK-answered request
LOGIN_TRIES = 5  #: the fifth wrong proof in a row locks LOGIN ...
LOCKOUT_S = 60  #: ... for this long (real time)
NONCE_DIGITS = 16
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
DEFAULT_PIN = "0000"  #: the clinician PIN of a new emulator, stub or built-in generator
IDLE_TIMEOUT_S = 60  #: a TCP client that sends nothing this long is disconnected (frees the one slot)
IDLE_TIMEOUT_MAX_S = 86400  #: the largest --idle-timeout the emulator and the stub's host build take

# The PIN at rest: PBKDF2-HMAC-SHA256 over the PIN's ASCII digits with a fresh random salt.
# 2048 iterations are 4098 SHA-256 blocks: about 0.3 s on a Cortex-M0+ at 125 MHz, paid at
# a PIN change and never at LOGIN.
PIN_SALT_BYTES = 16
PIN_PBKDF2_ITERATIONS = 2048
PIN_HASH_BYTES = 32
DEVICE_KEY_BYTES = 32  #: the key that wraps the proof key, kept apart from the slots state

# Verbs
AMP_STEP_MAX = 200  #: AMP STEP=+n / -n takes n in 1..200 patient steps
SIM_SPEED_MIN = 0.1
SIM_SPEED_MAX = 100_000
LOG_RING = 64  #: audit entries kept (numbering goes on)

# Login
DEFAULT_PIN = "0000"  #: the clinician PIN a fresh generator, emulator or firmware stub starts with

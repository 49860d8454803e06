/* limits_local.h -- constants the firmware needs that the Python limits table
 * (stimsim.protocol.limits, generated into params_gen.h) does not hold yet. Written by
 * hand; when the table grows these names, params_gen.h carries them and this goes. */
#ifndef STIMFW_LIMITS_LOCAL_H
#define STIMFW_LIMITS_LOCAL_H

/* A TCP client that sends no byte for this long is disconnected (stimfw-host --tcp;
 * --idle-timeout S overrides it), so an idle client cannot hold the one slot forever. */
#define FW_IDLE_TIMEOUT_S_DEFAULT 60

/* The PIN at rest (pin.h): PBKDF2-HMAC-SHA256 (RFC 8018) over the PIN's ASCII digits
 * with a fresh random salt of FW_PIN_SALT_LEN bytes, FW_PIN_PBKDF2_ITERS iterations,
 * FW_PIN_HASH_LEN bytes derived. 2048 iterations are 4098 SHA-256 blocks: about 0.3 s on
 * a Cortex-M0+ at 125 MHz (about 70 us a block: see README.md), paid at a PIN change,
 * never at LOGIN; under 1 ms on a PC. */
#define FW_PIN_SALT_LEN 16
#ifndef FW_PIN_PBKDF2_ITERS
#define FW_PIN_PBKDF2_ITERS 2048 /* the fuzz build alone sets 2, so every input boots fast */
#endif
#define FW_PIN_HASH_LEN 32

#endif

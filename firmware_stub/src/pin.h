/* pin.h -- the login PIN at rest. The LOGIN proof (protocol v1) is
 * HMAC-SHA256(key = SHA-256(PIN digits), nonce), so checking a proof needs that key;
 * the banks never hold it, nor the digits:
 *   salt        FW_PIN_SALT_LEN random bytes, new at every PIN change
 *   hash        PBKDF2-HMAC-SHA256(PIN digits, salt, FW_PIN_PBKDF2_ITERS, 32): says
 *               whether a given PIN is the stored one (--pin at start-up)
 *   wrapped     SHA-256(PIN digits) XOR HMAC-SHA256(device key, "STIMFW-PROOF-KEY" || salt):
 *               the proof key, readable only with the device key, which lives in the
 *               device record outside the banks (store.h)
 * See README.md "The PIN at rest" for what each piece gives an attacker. */
#ifndef STIMFW_PIN_H
#define STIMFW_PIN_H

#include <stddef.h>
#include <stdint.h>
#include "params_gen.h"
#include "sha256.h"

#define FW_DEVICE_KEY_LEN 32

typedef struct {
    uint8_t salt[FW_PIN_SALT_LEN];
    uint8_t hash[FW_PIN_HASH_LEN];
    uint8_t wrapped[FW_SHA256_LEN];
} fw_pin_record_t;

/* A PIN is FW_PIN_MIN..FW_PIN_MAX ASCII digits. */
int fw_pin_valid(const char *pin, size_t len);
/* Fill rec for pin with the given fresh salt. */
void fw_pin_record_set(fw_pin_record_t *rec, const uint8_t device_key[FW_DEVICE_KEY_LEN], const char *pin,
                       size_t len, const uint8_t salt[FW_PIN_SALT_LEN]);
/* 1 when pin is the PIN rec was made for (PBKDF2 over pin, compared in constant time). */
int fw_pin_record_matches(const fw_pin_record_t *rec, const char *pin, size_t len);
/* The LOGIN proof key SHA-256(PIN digits), unwrapped with the device key. */
void fw_pin_proof_key(const fw_pin_record_t *rec, const uint8_t device_key[FW_DEVICE_KEY_LEN],
                      uint8_t key[FW_SHA256_LEN]);

#endif

/* pin.c -- see pin.h. */
#include "pin.h"
#include "params_gen.h"

static const char wrap_label[] = "STIMFW-PROOF-KEY";

int fw_pin_valid(const char *pin, size_t len)
{
    size_t i;
    if (len < FW_PIN_MIN || len > FW_PIN_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (pin[i] < '0' || pin[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* HMAC-SHA256(device key, label || salt): the mask over the proof key. */
static void wrap_mask(const uint8_t device_key[FW_DEVICE_KEY_LEN], const uint8_t salt[FW_PIN_SALT_LEN],
                      uint8_t mask[FW_SHA256_LEN])
{
    uint8_t msg[sizeof wrap_label - 1 + FW_PIN_SALT_LEN];
    size_t i;
    for (i = 0; i < sizeof wrap_label - 1; i++) {
        msg[i] = (uint8_t)wrap_label[i];
    }
    for (i = 0; i < FW_PIN_SALT_LEN; i++) {
        msg[sizeof wrap_label - 1 + i] = salt[i];
    }
    fw_hmac_sha256(device_key, FW_DEVICE_KEY_LEN, msg, sizeof msg, mask);
}

void fw_pin_record_set(fw_pin_record_t *rec, const uint8_t device_key[FW_DEVICE_KEY_LEN], const char *pin,
                       size_t len, const uint8_t salt[FW_PIN_SALT_LEN])
{
    uint8_t key[FW_SHA256_LEN], mask[FW_SHA256_LEN];
    size_t i;
    for (i = 0; i < FW_PIN_SALT_LEN; i++) {
        rec->salt[i] = salt[i];
    }
    fw_pbkdf2_sha256((const uint8_t *)pin, len, rec->salt, FW_PIN_SALT_LEN, FW_PIN_PBKDF2_ITERS, rec->hash,
                     FW_PIN_HASH_LEN);
    fw_sha256((const uint8_t *)pin, len, key);
    wrap_mask(device_key, rec->salt, mask);
    for (i = 0; i < FW_SHA256_LEN; i++) {
        rec->wrapped[i] = (uint8_t)(key[i] ^ mask[i]);
        key[i] = 0;
    }
}

int fw_pin_record_matches(const fw_pin_record_t *rec, const char *pin, size_t len)
{
    uint8_t hash[FW_PIN_HASH_LEN];
    unsigned diff = 0;
    size_t i;
    fw_pbkdf2_sha256((const uint8_t *)pin, len, rec->salt, FW_PIN_SALT_LEN, FW_PIN_PBKDF2_ITERS, hash,
                     FW_PIN_HASH_LEN);
    for (i = 0; i < FW_PIN_HASH_LEN; i++) {
        diff |= (unsigned)(hash[i] ^ rec->hash[i]);
    }
    return diff == 0;
}

void fw_pin_proof_key(const fw_pin_record_t *rec, const uint8_t device_key[FW_DEVICE_KEY_LEN],
                      uint8_t key[FW_SHA256_LEN])
{
    uint8_t mask[FW_SHA256_LEN];
    size_t i;
    wrap_mask(device_key, rec->salt, mask);
    for (i = 0; i < FW_SHA256_LEN; i++) {
        key[i] = (uint8_t)(rec->wrapped[i] ^ mask[i]);
    }
}

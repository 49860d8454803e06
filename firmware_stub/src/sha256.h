/* sha256.h -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the LOGIN proof,
 * PBKDF2-HMAC-SHA256 (RFC 8018) for the PIN at rest. */
#ifndef STIMFW_SHA256_H
#define STIMFW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FW_SHA256_LEN 32
#define FW_SHA256_BLOCK 64

typedef struct {
    uint32_t state[8];
    uint64_t bytes;              /* message length so far */
    uint8_t block[FW_SHA256_BLOCK];
    size_t fill;                 /* bytes waiting in block, 0..63 */
} fw_sha256_t;

void fw_sha256_init(fw_sha256_t *ctx);
void fw_sha256_update(fw_sha256_t *ctx, const uint8_t *data, size_t len);
void fw_sha256_final(fw_sha256_t *ctx, uint8_t out[FW_SHA256_LEN]);
void fw_sha256(const uint8_t *data, size_t len, uint8_t out[FW_SHA256_LEN]);

/* HMAC-SHA256 with a key of any length (keys over 64 bytes are hashed first). */
void fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                    uint8_t out[FW_SHA256_LEN]);

/* PBKDF2 (RFC 8018 section 5.2) with HMAC-SHA256 as the PRF: out_len bytes derived from
 * the password and salt with iterations >= 1. Each iteration costs two SHA-256 blocks. */
void fw_pbkdf2_sha256(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations, uint8_t *out, size_t out_len);

#endif

/* sha256.h -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the LOGIN proof. */
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

#endif

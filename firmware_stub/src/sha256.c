/* sha256.c -- compact SHA-256 and HMAC; every index stays inside its fixed buffer. */
#include "sha256.h"

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

static void compress(uint32_t st[8], const uint8_t blk[FW_SHA256_BLOCK])
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h, t1, t2;
    unsigned i;
    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)blk[4 * i] << 24) | ((uint32_t)blk[4 * i + 1] << 16) |
               ((uint32_t)blk[4 * i + 2] << 8) | (uint32_t)blk[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = st[0]; b = st[1]; c = st[2]; d = st[3]; e = st[4]; f = st[5]; g = st[6]; h = st[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

void fw_sha256_init(fw_sha256_t *ctx)
{
    static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    unsigned i;
    for (i = 0; i < 8; i++) {
        ctx->state[i] = iv[i];
    }
    ctx->bytes = 0;
    ctx->fill = 0;
}

void fw_sha256_update(fw_sha256_t *ctx, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        ctx->block[ctx->fill++] = data[i];
        if (ctx->fill == FW_SHA256_BLOCK) {
            compress(ctx->state, ctx->block);
            ctx->fill = 0;
        }
    }
    ctx->bytes += len;
}

void fw_sha256_final(fw_sha256_t *ctx, uint8_t out[FW_SHA256_LEN])
{
    uint64_t bits = ctx->bytes * 8u;
    unsigned i;
    ctx->block[ctx->fill++] = 0x80;
    if (ctx->fill > FW_SHA256_BLOCK - 8) {
        while (ctx->fill < FW_SHA256_BLOCK) {
            ctx->block[ctx->fill++] = 0;
        }
        compress(ctx->state, ctx->block);
        ctx->fill = 0;
    }
    while (ctx->fill < FW_SHA256_BLOCK - 8) {
        ctx->block[ctx->fill++] = 0;
    }
    for (i = 0; i < 8; i++) {
        ctx->block[FW_SHA256_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
    }
    compress(ctx->state, ctx->block);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        out[4 * i + 3] = (uint8_t)ctx->state[i];
    }
    ctx->fill = 0;
}

void fw_sha256(const uint8_t *data, size_t len, uint8_t out[FW_SHA256_LEN])
{
    fw_sha256_t ctx;
    fw_sha256_init(&ctx);
    fw_sha256_update(&ctx, data, len);
    fw_sha256_final(&ctx, out);
}

/* The two HMAC contexts with the padded key absorbed: each HMAC after that costs the
 * message's blocks only (one each for PBKDF2's 32-byte U values). */
static void hmac_keyed(const uint8_t *key, size_t key_len, fw_sha256_t *inner, fw_sha256_t *outer)
{
    uint8_t k0[FW_SHA256_BLOCK];
    uint8_t pad[FW_SHA256_BLOCK];
    size_t i;
    for (i = 0; i < FW_SHA256_BLOCK; i++) {
        k0[i] = 0;
    }
    if (key_len > FW_SHA256_BLOCK) {
        fw_sha256(key, key_len, k0);
    } else {
        for (i = 0; i < key_len; i++) {
            k0[i] = key[i];
        }
    }
    for (i = 0; i < FW_SHA256_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x36u);
    }
    fw_sha256_init(inner);
    fw_sha256_update(inner, pad, FW_SHA256_BLOCK);
    for (i = 0; i < FW_SHA256_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x5cu);
    }
    fw_sha256_init(outer);
    fw_sha256_update(outer, pad, FW_SHA256_BLOCK);
}

static void hmac_finish(const fw_sha256_t *inner_keyed, const fw_sha256_t *outer_keyed, const uint8_t *msg,
                        size_t msg_len, const uint8_t *msg2, size_t msg2_len, uint8_t out[FW_SHA256_LEN])
{
    fw_sha256_t ctx = *inner_keyed;
    uint8_t inner[FW_SHA256_LEN];
    fw_sha256_update(&ctx, msg, msg_len);
    fw_sha256_update(&ctx, msg2, msg2_len);
    fw_sha256_final(&ctx, inner);
    ctx = *outer_keyed;
    fw_sha256_update(&ctx, inner, FW_SHA256_LEN);
    fw_sha256_final(&ctx, out);
}

void fw_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                    uint8_t out[FW_SHA256_LEN])
{
    fw_sha256_t inner, outer;
    hmac_keyed(key, key_len, &inner, &outer);
    hmac_finish(&inner, &outer, msg, msg_len, 0, 0, out);
}

void fw_pbkdf2_sha256(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
                      uint32_t iterations, uint8_t *out, size_t out_len)
{
    fw_sha256_t inner, outer;
    uint8_t u[FW_SHA256_LEN], t[FW_SHA256_LEN], index[4];
    uint32_t block = 1, it;
    size_t i, n;
    hmac_keyed(pw, pw_len, &inner, &outer);
    while (out_len > 0) {
        index[0] = (uint8_t)(block >> 24);
        index[1] = (uint8_t)(block >> 16);
        index[2] = (uint8_t)(block >> 8);
        index[3] = (uint8_t)block;
        hmac_finish(&inner, &outer, salt, salt_len, index, sizeof index, u); /* U1 = PRF(P, S || INT(i)) */
        for (i = 0; i < FW_SHA256_LEN; i++) {
            t[i] = u[i];
        }
        for (it = 1; it < iterations; it++) {
            hmac_finish(&inner, &outer, u, FW_SHA256_LEN, 0, 0, u); /* Uj = PRF(P, Uj-1) */
            for (i = 0; i < FW_SHA256_LEN; i++) {
                t[i] ^= u[i];
            }
        }
        n = out_len < FW_SHA256_LEN ? out_len : FW_SHA256_LEN;
        for (i = 0; i < n; i++) {
            out[i] = t[i];
        }
        out += n;
        out_len -= n;
        block++;
    }
}

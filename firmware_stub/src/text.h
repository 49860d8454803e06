/* text.h -- bounded text building and number parsing without libc (the core is
 * freestanding). A builder never writes past its buffer; it records the overflow. */
#ifndef STIMFW_TEXT_H
#define STIMFW_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap;      /* bytes in buf, including room for the terminating NUL */
    size_t len;      /* characters written, always < cap */
    int overflow;    /* set when something did not fit (it was cut) */
} fw_buf_t;

void fw_buf_init(fw_buf_t *b, char *storage, size_t cap);
void fw_buf_char(fw_buf_t *b, char c);
void fw_buf_str(fw_buf_t *b, const char *s);
void fw_buf_mem(fw_buf_t *b, const char *s, size_t n);
void fw_buf_u64(fw_buf_t *b, uint64_t v);
void fw_buf_i64(fw_buf_t *b, int64_t v);
void fw_buf_hex(fw_buf_t *b, uint32_t v, unsigned digits, int upper);
/* v/10^decimals with that many decimals, v already rounded by the caller. */
void fw_buf_fixed(fw_buf_t *b, int64_t v, unsigned decimals);
/* " KEY=" then the value: the reply/event argument helpers. */
void fw_buf_kv_str(fw_buf_t *b, const char *key, const char *value);
void fw_buf_kv_i64(fw_buf_t *b, const char *key, int64_t value);

size_t fw_strlen(const char *s);
int fw_streq(const char *a, const char *b);
/* Equal ignoring ASCII case, a of length n against NUL-terminated b. */
int fw_memeq_nocase(const char *a, size_t n, const char *b);
void fw_memcpy(void *dst, const void *src, size_t n);
void fw_memset(void *dst, int value, size_t n);
int fw_memcmp(const void *a, const void *b, size_t n);
char fw_upper(char c);
int fw_is_digit(char c);
int fw_hex_value(char c); /* 0..15, or -1 */

/* Python int() on [+-]digits: 1 when well formed (value saturated to +-2^31-1 so an
 * overlong number is simply out of range), 0 when malformed. */
int fw_parse_int(const char *s, size_t n, int32_t *out);
/* Unsigned decimal digits only (no sign). */
int fw_parse_uint(const char *s, size_t n, uint32_t *out);

#endif

/* text.c -- see text.h. */
#include "text.h"

#define FW_INT_SAT 2147483647L

void fw_buf_init(fw_buf_t *b, char *storage, size_t cap)
{
    b->buf = storage;
    b->cap = cap;
    b->len = 0;
    b->overflow = 0;
    if (cap > 0) {
        storage[0] = '\0';
    }
}

void fw_buf_char(fw_buf_t *b, char c)
{
    if (b->cap == 0 || b->len + 1 >= b->cap) {
        b->overflow = 1;
        return;
    }
    b->buf[b->len++] = c;
    b->buf[b->len] = '\0';
}

void fw_buf_mem(fw_buf_t *b, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        fw_buf_char(b, s[i]);
    }
}

void fw_buf_str(fw_buf_t *b, const char *s)
{
    while (*s) {
        fw_buf_char(b, *s++);
    }
}

void fw_buf_u64(fw_buf_t *b, uint64_t v)
{
    char tmp[21];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0 && n < sizeof tmp);
    while (n > 0) {
        fw_buf_char(b, tmp[--n]);
    }
}

void fw_buf_i64(fw_buf_t *b, int64_t v)
{
    if (v < 0) {
        fw_buf_char(b, '-');
        fw_buf_u64(b, (uint64_t)(-(v + 1)) + 1u);
    } else {
        fw_buf_u64(b, (uint64_t)v);
    }
}

void fw_buf_hex(fw_buf_t *b, uint32_t v, unsigned digits, int upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned i;
    if (digits > 8) {
        digits = 8;
    }
    for (i = digits; i > 0; i--) {
        fw_buf_char(b, set[(v >> (4 * (i - 1))) & 0xFu]);
    }
}

void fw_buf_fixed(fw_buf_t *b, int64_t v, unsigned decimals)
{
    uint64_t mag, scale = 1, whole, frac;
    unsigned i;
    for (i = 0; i < decimals; i++) {
        scale *= 10u;
    }
    if (v < 0) {
        fw_buf_char(b, '-');
        mag = (uint64_t)(-(v + 1)) + 1u;
    } else {
        mag = (uint64_t)v;
    }
    whole = mag / scale;
    frac = mag % scale;
    fw_buf_u64(b, whole);
    if (decimals > 0) {
        fw_buf_char(b, '.');
        for (i = decimals; i > 0; i--) {
            uint64_t div = 1;
            unsigned j;
            for (j = 1; j < i; j++) {
                div *= 10u;
            }
            fw_buf_char(b, (char)('0' + (int)((frac / div) % 10u)));
        }
    }
}

void fw_buf_kv_str(fw_buf_t *b, const char *key, const char *value)
{
    fw_buf_char(b, ' ');
    fw_buf_str(b, key);
    fw_buf_char(b, '=');
    fw_buf_str(b, value);
}

void fw_buf_kv_i64(fw_buf_t *b, const char *key, int64_t value)
{
    fw_buf_char(b, ' ');
    fw_buf_str(b, key);
    fw_buf_char(b, '=');
    fw_buf_i64(b, value);
}

size_t fw_strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

int fw_streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

char fw_upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }

int fw_memeq_nocase(const char *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (b[i] == '\0' || fw_upper(a[i]) != fw_upper(b[i])) {
            return 0;
        }
    }
    return b[n] == '\0';
}

void fw_memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    while (n--) {
        *d++ = *s++;
    }
}

void fw_memset(void *dst, int value, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    while (n--) {
        *d++ = (unsigned char)value;
    }
}

int fw_memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;
    size_t i;
    for (i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

int fw_is_digit(char c) { return c >= '0' && c <= '9'; }

int fw_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int fw_parse_uint(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!fw_is_digit(s[i])) {
            return 0;
        }
        if (v <= 0xFFFFFFFFu) {
            v = v * 10u + (uint64_t)(s[i] - '0');
        }
    }
    *out = v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)v;
    return 1;
}

int fw_parse_int(const char *s, size_t n, int32_t *out)
{
    int neg = 0;
    uint32_t mag;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    if (!fw_parse_uint(s, n, &mag)) {
        return 0;
    }
    if (mag > (uint32_t)FW_INT_SAT) {
        mag = (uint32_t)FW_INT_SAT;
    }
    *out = neg ? -(int32_t)mag : (int32_t)mag;
    return 1;
}

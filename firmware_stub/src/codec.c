/* codec.c -- see codec.h. Mirrors stimsim.protocol.codec so both generators frame alike. */
#include "codec.h"
#include "crc.h"

void fw_line_reset(fw_linebuf_t *lb)
{
    lb->len = 0;
    lb->skipping = 0;
    lb->buf[0] = '\0';
}

int fw_line_feed(fw_linebuf_t *lb, uint8_t byte)
{
    if (lb->len > FW_LINE_MAX + 1) { /* cannot happen; keeps the index provably in range */
        fw_line_reset(lb);
    }
    if (byte == '\n') {
        if (lb->skipping) {
            fw_line_reset(lb);
            return FW_LINE_TOO_LONG;
        }
        if (lb->len > 0 && lb->buf[lb->len - 1] == '\r') {
            lb->len--;
        }
        if (lb->len > FW_LINE_MAX) {
            fw_line_reset(lb);
            return FW_LINE_TOO_LONG;
        }
        lb->buf[lb->len] = '\0';
        return FW_LINE_READY;
    }
    if (lb->skipping) {
        return FW_LINE_NONE;
    }
    if (lb->len < FW_LINE_MAX + 1) {
        lb->buf[lb->len++] = (char)byte;
        lb->buf[lb->len] = '\0';
    } else {
        lb->skipping = 1;
        lb->len = 0;
    }
    return FW_LINE_NONE;
}

static int py_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C;
}

int fw_line_is_blank(const char *line, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (line[i] != ' ') {
            return 0;
        }
    }
    return 1;
}

static int name_char(char c) { return (c >= 'A' && c <= 'Z') || fw_is_digit(c) || c == '_'; }

static int value_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || fw_is_digit(c) || c == '.' || c == '-' ||
           c == '+' || c == ':' || c == ',' || c == '_';
}

static int is_name(const char *s, size_t n, size_t max) /* after upper-casing */
{
    size_t i;
    if (n < 1 || n > max) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!name_char(fw_upper(s[i]))) {
            return 0;
        }
    }
    return 1;
}

static int is_value(const char *s, size_t n)
{
    size_t i;
    if (n < 1 || n > FW_VALUE_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!value_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* "#" 1*5DIGIT with value 1..65535, else -1. */
static int32_t seq_token(const char *s, size_t n)
{
    uint32_t v;
    if (n < 2 || n > 6 || s[0] != '#' || !fw_parse_uint(s + 1, n - 1, &v)) {
        return -1;
    }
    return (v >= 1 && v <= FW_SEQ_MAX) ? (int32_t)v : -1;
}

/* Next space-separated token in [*pos, end): returns 0 when none is left. */
static int next_token(const char *line, size_t end, size_t *pos, size_t *start, size_t *tlen)
{
    size_t i = *pos;
    while (i < end && line[i] == ' ') {
        i++;
    }
    if (i >= end) {
        *pos = i;
        return 0;
    }
    *start = i;
    while (i < end && line[i] != ' ') {
        i++;
    }
    *tlen = i - *start;
    *pos = i;
    return 1;
}

int fw_parse_request(const char *line, size_t len, fw_request_t *req)
{
    size_t i, end = len, pos = 0, ts = 0, tl = 0;
    int32_t crc = -1;

    req->line = line;
    req->len = len;
    req->seq = -1;
    req->has_crc = 0;
    req->nargs = 0;
    req->verb_off = 0;
    req->verb_len = 0;

    /* A SEQ prefix is recognised before anything else so every error can echo it. */
    if (len >= 3 && line[0] == '#') {
        size_t d = 1;
        while (d < len && d <= 6 && fw_is_digit(line[d])) {
            d++;
        }
        if (d >= 2 && d <= 6 && d < len && line[d] == ' ') {
            req->seq = seq_token(line, d);
        }
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c > 0x7E) {
            return FW_PARSE_BAD_SYNTAX;
        }
    }
    /* The last " *" followed by exactly four hex digits and the end is the CRC. */
    for (i = len; i >= 2; i--) {
        if (line[i - 2] == ' ' && line[i - 1] == '*') {
            if (len - i == 4 && fw_hex_value(line[i]) >= 0 && fw_hex_value(line[i + 1]) >= 0 &&
                fw_hex_value(line[i + 2]) >= 0 && fw_hex_value(line[i + 3]) >= 0) {
                crc = (int32_t)((fw_hex_value(line[i]) << 12) | (fw_hex_value(line[i + 1]) << 8) |
                                (fw_hex_value(line[i + 2]) << 4) | fw_hex_value(line[i + 3]));
                end = i - 2;
            }
            break;
        }
    }
    req->has_crc = crc >= 0;

    if (!next_token(line, end, &pos, &ts, &tl)) {
        return FW_PARSE_BAD_SYNTAX; /* no verb */
    }
    if (line[ts] == '#') {
        int32_t s = seq_token(line + ts, tl);
        if (s < 0) {
            req->seq = -1;
            return FW_PARSE_BAD_SYNTAX;
        }
        req->seq = s;
        if (!next_token(line, end, &pos, &ts, &tl)) {
            return FW_PARSE_BAD_SYNTAX;
        }
    }
    if (!is_name(line + ts, tl, FW_VERB_MAX)) {
        return FW_PARSE_BAD_SYNTAX;
    }
    req->verb_off = (uint16_t)ts;
    req->verb_len = (uint8_t)tl;
    while (next_token(line, end, &pos, &ts, &tl)) {
        size_t eq = 0;
        fw_arg_t *a;
        while (eq < tl && line[ts + eq] != '=') {
            eq++;
        }
        if (req->nargs >= FW_MAX_ARGS) {
            return FW_PARSE_BAD_SYNTAX; /* unreachable for a 320-byte line */
        }
        a = &req->args[req->nargs];
        if (eq < tl) {
            if (!is_name(line + ts, eq, FW_KEY_MAX) || !is_value(line + ts + eq + 1, tl - eq - 1)) {
                return FW_PARSE_BAD_SYNTAX;
            }
            a->key_off = (uint16_t)ts;
            a->key_len = (uint8_t)eq;
            a->val_off = (uint16_t)(ts + eq + 1);
            a->val_len = (uint8_t)(tl - eq - 1);
        } else {
            if (!is_value(line + ts, tl)) {
                return FW_PARSE_BAD_SYNTAX;
            }
            a->key_off = (uint16_t)ts;
            a->key_len = 0;
            a->val_off = (uint16_t)ts;
            a->val_len = (uint8_t)tl;
        }
        req->nargs++;
    }
    if (crc >= 0 && fw_crc16(0xFFFFu, (const uint8_t *)line, end) != (uint16_t)crc) {
        return FW_PARSE_BAD_CRC;
    }
    return FW_PARSE_OK;
}

static int any_space(unsigned char c) { return py_space(c) || (c >= 0x1C && c <= 0x1F); }

int fw_is_stop_line(const char *line, size_t len)
{
    size_t i = 0, s;
    int first = 1;
    for (s = 0; s < len; s++) {
        if ((unsigned char)line[s] > 0x7F) {
            return 0;
        }
    }
    for (;;) {
        while (i < len && any_space((unsigned char)line[i])) {
            i++;
        }
        if (i >= len) {
            return 0;
        }
        s = i;
        while (i < len && !any_space((unsigned char)line[i])) {
            i++;
        }
        if (first && line[s] == '#') {
            first = 0;
            continue;
        }
        return fw_memeq_nocase(line + s, i - s, "STOP");
    }
}

int fw_arg_key_is(const fw_request_t *req, const fw_arg_t *a, const char *key)
{
    return a->key_len > 0 && fw_memeq_nocase(req->line + a->key_off, a->key_len, key);
}

int fw_arg_token_is(const fw_request_t *req, const fw_arg_t *a, const char *token)
{
    return a->key_len == 0 && fw_memeq_nocase(req->line + a->val_off, a->val_len, token);
}

int fw_arg_value_is(const fw_request_t *req, const fw_arg_t *a, const char *value)
{
    return fw_memeq_nocase(req->line + a->val_off, a->val_len, value);
}

const char *fw_arg_val(const fw_request_t *req, const fw_arg_t *a) { return req->line + a->val_off; }

int fw_verb_is(const fw_request_t *req, const char *verb)
{
    return fw_memeq_nocase(req->line + req->verb_off, req->verb_len, verb);
}

void fw_buf_arg_name(fw_buf_t *b, const fw_request_t *req, const fw_arg_t *a)
{
    size_t i, off = a->key_len ? a->key_off : a->val_off;
    size_t n = a->key_len ? a->key_len : a->val_len;
    for (i = 0; i < n; i++) {
        fw_buf_char(b, fw_upper(req->line[off + i]));
    }
}

void fw_reply_begin(fw_buf_t *b, int32_t seq, const char *err_code)
{
    if (seq > 0) {
        fw_buf_char(b, '#');
        fw_buf_u64(b, (uint64_t)seq);
        fw_buf_char(b, ' ');
    }
    if (err_code) {
        fw_buf_str(b, "ERR ");
        fw_buf_str(b, err_code);
    } else {
        fw_buf_str(b, "OK");
    }
}

void fw_event_begin(fw_buf_t *b, const char *name)
{
    fw_buf_char(b, '!');
    fw_buf_str(b, name);
}

int fw_line_seal(fw_buf_t *b)
{
    uint16_t crc;
    if (b->overflow || b->len > FW_REPLY_MAX) {
        return 0;
    }
    crc = fw_crc16(0xFFFFu, (const uint8_t *)b->buf, b->len);
    fw_buf_str(b, " *");
    fw_buf_hex(b, crc, 4, 1);
    fw_buf_str(b, "\r\n");
    return !b->overflow;
}

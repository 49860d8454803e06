/* codec.h -- protocol lines: the bounded line assembler, the request parser and the
 * reply/event sealer (protocol.md section 1, DEVICE-DECISIONS "Framing"). */
#ifndef STIMFW_CODEC_H
#define STIMFW_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "text.h"
#include "params_gen.h"

#define FW_MAX_ARGS 160      /* a 320-byte line holds at most 160 one-letter tokens */
#define FW_OUT_MAX (FW_REPLY_MAX + 9) /* text + " *XXXX\r\n" + NUL */

/* ---- line assembly ---- */
typedef struct {
    char buf[FW_LINE_MAX + 2]; /* a 320-byte line plus the CR of its CR LF, plus NUL */
    uint16_t len;
    uint8_t skipping;          /* discarding an overlong line up to its LF */
} fw_linebuf_t;

enum { FW_LINE_NONE = 0, FW_LINE_READY = 1, FW_LINE_TOO_LONG = 2 };

void fw_line_reset(fw_linebuf_t *lb);
/* Feed one byte. READY: lb->buf[0..lb->len) is a line without EOL (NUL-terminated);
 * the caller consumes it before the next feed (lb->len is cleared by the next call). */
int fw_line_feed(fw_linebuf_t *lb, uint8_t byte);
/* Empty or spaces only: the line is ignored. */
int fw_line_is_blank(const char *line, size_t len);

/* ---- requests ---- */
typedef struct {
    uint16_t key_off;   /* key_len 0: a bare token */
    uint8_t key_len;
    uint16_t val_off;
    uint8_t val_len;
} fw_arg_t;

typedef struct fw_request {
    const char *line;   /* the caller's line (not copied) */
    size_t len;
    int32_t seq;        /* -1: no SEQ */
    int has_crc;
    uint16_t verb_off;
    uint8_t verb_len;
    uint16_t nargs;
    fw_arg_t args[FW_MAX_ARGS];
} fw_request_t;

enum { FW_PARSE_OK = 0, FW_PARSE_BAD_SYNTAX, FW_PARSE_BAD_CRC };

/* Parse a line exactly as stimsim.protocol.codec.parse_request does: SEQ prefix,
 * printable bytes, optional " *CRC", verb, then KEY=VALUE / TOKEN arguments; the CRC
 * is checked last (BAD_SYNTAX comes before BAD_CRC). req->seq is set as far as it
 * parsed, so errors can echo it. */
int fw_parse_request(const char *line, size_t len, fw_request_t *req);
/* The line's verb is STOP, whatever its SEQ, CRC or arguments (codec.is_stop_line). */
int fw_is_stop_line(const char *line, size_t len);

/* Argument helpers: key compare ignores case; value pointers point into the line. */
int fw_arg_key_is(const fw_request_t *req, const fw_arg_t *a, const char *key);
int fw_arg_token_is(const fw_request_t *req, const fw_arg_t *a, const char *token);
int fw_arg_value_is(const fw_request_t *req, const fw_arg_t *a, const char *value); /* nocase */
const char *fw_arg_val(const fw_request_t *req, const fw_arg_t *a);
int fw_verb_is(const fw_request_t *req, const char *verb);
/* Write an argument's key (upper-cased) or bare token as it names itself in BAD_ARG. */
void fw_buf_arg_name(fw_buf_t *b, const fw_request_t *req, const fw_arg_t *a);

/* ---- replies and events ---- */
/* "#SEQ OK" / "#SEQ ERR CODE" (no "#SEQ " when seq < 0). */
void fw_reply_begin(fw_buf_t *b, int32_t seq, const char *err_code);
void fw_event_begin(fw_buf_t *b, const char *name);
/* Append " *XXXX\r\n" (CRC of everything so far). Returns 0 when the line overflowed. */
int fw_line_seal(fw_buf_t *b);

#endif

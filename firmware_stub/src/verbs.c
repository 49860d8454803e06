/* verbs.c -- one handler per verb (protocol.md section 4, DEVICE-DECISIONS). Every
 * handler checks all its arguments before it changes anything, in the protocol's
 * order: BAD_ARG, OUT_OF_RANGE, UNSAFE, LIMIT, STATE. */
#include "device_api.h"
#include "hal.h"
#include "sha256.h"
#include "verbs.h"

/* what a verb leaves for after its reply (d->after) */
enum { FW_AFTER_NONE = 0, FW_AFTER_LOG, FW_AFTER_REBOOT, FW_AFTER_SWEEP };

#define MAX_KEYS 28
#define MAX_TOKENS 4

/* Where each known key / token of a verb sits among the request's arguments. */
typedef struct {
    int16_t key_at[MAX_KEYS];
    int16_t tok_at[MAX_TOKENS];
    int16_t bad;       /* first unknown or repeated argument, in line order, or -1 */
} args_t;

static void collect(const fw_request_t *r, const char *const *keys, unsigned nkeys, const char *const *toks,
                    unsigned ntoks, args_t *a)
{
    unsigned i, j;
    for (j = 0; j < MAX_KEYS; j++) {
        a->key_at[j] = -1;
    }
    for (j = 0; j < MAX_TOKENS; j++) {
        a->tok_at[j] = -1;
    }
    a->bad = -1;
    for (i = 0; i < r->nargs && i < FW_MAX_ARGS; i++) {
        const fw_arg_t *arg = &r->args[i];
        int16_t *slot = 0;
        if (arg->key_len == 0) {
            for (j = 0; j < ntoks && j < MAX_TOKENS; j++) {
                if (fw_arg_token_is(r, arg, toks[j])) {
                    slot = &a->tok_at[j];
                    break;
                }
            }
        } else {
            for (j = 0; j < nkeys && j < MAX_KEYS; j++) {
                if (fw_arg_key_is(r, arg, keys[j])) {
                    slot = &a->key_at[j];
                    break;
                }
            }
        }
        if (!slot || *slot >= 0) {
            if (a->bad < 0) {
                a->bad = (int16_t)i;
            }
        } else {
            *slot = (int16_t)i;
        }
    }
}

/* An unknown or repeated argument (the first in line order) is BAD_ARG naming it. */
static int plain_args_bad(fw_device_t *d, const args_t *a)
{
    if (a->bad >= 0) {
        fw_reply_bad_arg(d, a->bad);
        return 1;
    }
    return 0;
}

static int arg_int(const fw_request_t *r, int16_t at, int32_t *out)
{
    const fw_arg_t *a = &r->args[at];
    return fw_parse_int(fw_arg_val(r, a), a->val_len, out);
}

static const char *role_name(uint8_t role) { return role == FW_ROLE_CLINICIAN ? "CLINICIAN" : "PATIENT"; }

static void reply_range(fw_device_t *d, const char *key, int64_t lo, int64_t hi)
{
    fw_reply_err_key(d, "OUT_OF_RANGE", key);
    fw_buf_kv_i64(&d->rb, "MIN", lo);
    fw_buf_kv_i64(&d->rb, "MAX", hi);
}

static void reply_state(fw_device_t *d, const char *reason)
{
    fw_reply_err(d, "STATE");
    fw_buf_kv_str(&d->rb, "REASON", reason);
}

/* SLOT=: required, an integer 1..16. Returns the slot, or 0 after replying. */
static int slot_arg(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"SLOT"};
    args_t a;
    int32_t v;
    collect(r, keys, 1, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return 0;
    }
    if (a.key_at[0] < 0) {
        fw_reply_err_key(d, "BAD_ARG", "SLOT");
        return 0;
    }
    if (!arg_int(r, a.key_at[0], &v)) {
        fw_reply_bad_arg(d, a.key_at[0]);
        return 0;
    }
    if (v < 1 || v > FW_N_SLOTS) {
        reply_range(d, "SLOT", 1, FW_N_SLOTS);
        return 0;
    }
    return (int)v;
}

/* ---- HELLO, STATUS ---- */

static void v_hello(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"STRICT"};
    args_t a;
    uint8_t strict = 0;
    collect(r, keys, 1, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] >= 0) {
        const fw_arg_t *arg = &r->args[a.key_at[0]];
        if (fw_arg_value_is(r, arg, "1")) {
            strict = 1;
        } else if (!fw_arg_value_is(r, arg, "0")) {
            fw_reply_bad_arg(d, a.key_at[0]);
            return;
        }
    }
    d->role = FW_ROLE_PATIENT;
    d->nonce_valid = 0;
    d->strict = strict;
    fw_test_end(d, "HELLO");
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "PROTO", "1");
    fw_buf_kv_str(&d->rb, "MODEL", d->port.model);
    fw_buf_kv_str(&d->rb, "FW", d->port.fw);
    fw_buf_kv_str(&d->rb, "SN", d->port.sn);
    fw_buf_str(&d->rb, " BOOT=");
    fw_buf_hex(&d->rb, d->boot_id, 8, 1);
    fw_buf_kv_str(&d->rb, "ROLE", role_name(d->role));
    fw_buf_kv_i64(&d->rb, "SLOTS", FW_N_SLOTS);
    fw_buf_kv_i64(&d->rb, "CONTACTS", FW_N_CONTACTS);
    fw_buf_kv_str(&d->rb, "FAMILY", d->fam->wire);
    fw_buf_kv_i64(&d->rb, "STRICT", d->strict);
    fw_buf_kv_i64(&d->rb, "NEXT", d->last_seq < 0 ? 1 : (d->last_seq >= FW_SEQ_MAX ? 1 : d->last_seq + 1));
    if (d->img.p.defaults_flag) {
        fw_buf_kv_str(&d->rb, "STATE", "DEFAULTS");
    }
}

static void v_status(fw_device_t *d, const fw_request_t *r)
{
    args_t a;
    collect(r, 0, 0, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    fw_batt_sync(d);
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "STIM", d->stim_on ? "ON" : "OFF");
    fw_buf_kv_i64(&d->rb, "SLOT", d->img.p.active_slot);
    fw_buf_kv_i64(&d->rb, "AMP", fw_output_amp(d));
    fw_buf_kv_i64(&d->rb, "BATT", fw_batt_permille(&d->batt));
    fw_buf_kv_i64(&d->rb, "CHG", d->batt.charging);
    fw_buf_kv_str(&d->rb, "ROLE", role_name(d->role));
    fw_buf_kv_str(&d->rb, "COMPLIANCE", d->limited ? "LIMITED" : "OK");
    fw_buf_kv_i64(&d->rb, "MRI", d->mri);
    fw_buf_kv_i64(&d->rb, "TEST", d->test_on);
}

/* ---- PROG and TEST ---- */

/* the closed-loop keys (params.LOOP_TABLE) follow ELEC, as in protocol.program_args.PROGRAM_KEYS */
#define K_LOOP0 (K_ELEC + 1)
enum { K_SLOT, K_MODE, K_AMP, K_PW, K_RATE, K_IPG, K_RECHARGE, K_BURST_N, K_INTRA, K_CON, K_COFF, K_RAMP, K_ELEC,
       K_AMP_MIN = K_LOOP0 + FW_LK_COUNT, K_AMP_MAX, K_PW_MIN, K_PW_MAX, K_RATE_MIN, K_RATE_MAX, K_NAME, K_ACK,
       K_COUNT };
static const char *const prog_keys[K_COUNT] = {
    "SLOT", "MODE", "AMP", "PW", "RATE", "IPG", "RECHARGE", "BURST_N", "INTRA_HZ", "CYCLE_ON_MS", "CYCLE_OFF_MS",
    "RAMP_MS", "ELEC", FW_LOOP_WIRE_LIST, "AMP_MIN", "AMP_MAX", "PW_MIN", "PW_MAX", "RATE_MIN", "RATE_MAX", "NAME",
    "ACK"};
/* which FW_P_* a numeric key fills (-1: not a parameter; the loop keys are set apart) */
static int8_t prog_param(unsigned k)
{
    static const int8_t head[K_ELEC + 1] = {-1, -1, FW_P_AMP, FW_P_PW, FW_P_RATE, FW_P_IPG, -1, FW_P_BURST_N,
                                            FW_P_INTRA, FW_P_CYCLE_ON, FW_P_CYCLE_OFF, FW_P_RAMP, -1};
    return k <= K_ELEC ? head[k] : -1;
}

/* SENSE=a,b: one or two digits each (program_args._PAIR_RE). 1 when well formed. */
static int parse_sense(const char *s, size_t n, uint8_t out[2])
{
    size_t comma = 0;
    uint32_t a, b;
    while (comma < n && s[comma] != ',') {
        comma++;
    }
    if (comma < 1 || comma > 2 || n - comma - 1 < 1 || n - comma - 1 > 2 || !fw_parse_uint(s, comma, &a) ||
        !fw_parse_uint(s + comma + 1, n - comma - 1, &b)) {
        return 0;
    }
    out[0] = (uint8_t)a;
    out[1] = (uint8_t)b;
    return 1;
}

/* The loop keys' values, in the table's order (program_args.closed_loop_from_values). */
static int parse_loop_keys(fw_device_t *d, const fw_request_t *r, const args_t *a, fw_loop_keys_t *k)
{
    unsigned i;
    fw_loop_keys_default(k);
    for (i = 0; i < FW_LK_COUNT; i++) {
        int16_t at = a->key_at[K_LOOP0 + i];
        const fw_arg_t *arg;
        int ok = 1;
        if (at < 0) {
            continue;
        }
        k->given = 1;
        arg = &r->args[at];
        if (i == FW_LK_LOOP) {
            int m;
            ok = 0;
            for (m = 0; m < 2; m++) {
                if (fw_arg_value_is(r, arg, fw_loop_mode_wire[m])) {
                    k->v[i] = m;
                    ok = 1;
                }
            }
        } else if (i == FW_LK_SENSE) {
            ok = parse_sense(fw_arg_val(r, arg), arg->val_len, k->sense);
        } else {
            ok = arg_int(r, at, &k->v[i]);
        }
        if (!ok) {
            fw_reply_bad_arg(d, at);
            return 0;
        }
    }
    return 1;
}

static int find_mode(const fw_request_t *r, const fw_arg_t *arg)
{
    int m;
    for (m = 0; m < FW_MODE_COUNT; m++) {
        if (fw_arg_value_is(r, arg, fw_mode_wire[m])) {
            return m;
        }
    }
    return -1;
}

/* Parse and check PROG / TEST arguments into *p, in wire_program.parse_program's order:
 * unknown / repeated keys (line order), missing keys, malformed values (MODE, numbers,
 * limits, RECHARGE, ELEC, ACK, SLOT), the engine's BAD_ARGs (keys the mode does not
 * take or needs, unknown contacts), SLOT's range, then check_program's first problem.
 * Returns 1 when the program may be written, 0 after replying the error. */
static int parse_program(fw_device_t *d, const fw_request_t *r, int with_slot, fw_program_t *p, int *slot, int *ack)
{
    static const uint8_t required[] = {K_SLOT, K_MODE, K_AMP, K_PW, K_RATE, K_ELEC};
    static const uint8_t value_order[] = {K_MODE, K_AMP, K_PW, K_RATE, K_IPG, K_BURST_N, K_INTRA, K_CON, K_COFF,
                                          K_RAMP, K_AMP_MIN, K_AMP_MAX, K_PW_MIN, K_PW_MAX, K_RATE_MIN,
                                          K_RATE_MAX, K_RECHARGE, K_ELEC, K_ACK, K_SLOT};
    args_t a;
    unsigned i;
    int mode = -1, elec = 1;
    int32_t v;
    fw_problem_t prob;

    /* TEST takes no SLOT: listing it as unknown keeps the line order of the offenders */
    collect(r, with_slot ? prog_keys : prog_keys + 1, with_slot ? K_COUNT : K_COUNT - 1, 0, 0, &a);
    if (!with_slot) {
        for (i = K_COUNT - 1; i > 0; i--) {
            a.key_at[i] = a.key_at[i - 1];
        }
        a.key_at[K_SLOT] = -1;
    }
    if (plain_args_bad(d, &a)) {
        return 0;
    }
    /* the loop keys on a family without a loop, however they are written */
    for (i = 0; !d->fam->loop_modes && i < FW_LK_COUNT; i++) {
        if (a.key_at[K_LOOP0 + i] >= 0) {
            fw_reply_err_key(d, "BAD_ARG", fw_loop_wire[FW_LK_LOOP]);
            return 0;
        }
    }
    for (i = with_slot ? 0u : 1u; i < sizeof required; i++) {
        if (a.key_at[required[i]] < 0) {
            fw_reply_err_key(d, "BAD_ARG", prog_keys[required[i]]);
            return 0;
        }
    }
    fw_memset(p, 0, sizeof *p);
    *ack = 0;
    *slot = 1;
    for (i = 0; i < sizeof value_order; i++) {
        unsigned k = value_order[i];
        int16_t at = a.key_at[k];
        const fw_arg_t *arg;
        int ok = 1;
        if (at < 0) {
            continue;
        }
        arg = &r->args[at];
        switch (k) {
        case K_MODE:
            mode = find_mode(r, arg);
            ok = mode >= 0;
            break;
        case K_RECHARGE:
            ok = fw_arg_value_is(r, arg, "ACTIVE") || fw_arg_value_is(r, arg, "PASSIVE");
            p->recharge = fw_arg_value_is(r, arg, "ACTIVE") ? FW_RECHARGE_ACTIVE : FW_RECHARGE_PASSIVE;
            break;
        case K_ELEC:
            elec = fw_elec_parse(fw_arg_val(r, arg), arg->val_len, p->pairs, &p->npairs);
            ok = elec != 0;
            break;
        case K_ACK:
            ok = fw_arg_value_is(r, arg, "CHARGE");
            *ack = ok;
            break;
        default:
            ok = arg_int(r, at, &v);
            if (k == K_SLOT) {
                *slot = v;
            } else if (prog_param(k) >= 0) {
                p->v[prog_param(k)] = v;
            } else {
                p->lim[k - K_AMP_MIN] = v;
                p->lim_set = (uint8_t)(p->lim_set | (1u << (k - K_AMP_MIN)));
            }
            break;
        }
        if (!ok) {
            fw_reply_bad_arg(d, at);
            return 0;
        }
    }
    if (!parse_loop_keys(d, r, &a, &p->loop)) {
        return 0;
    }
    if (a.key_at[K_NAME] >= 0) {
        const fw_arg_t *arg = &r->args[a.key_at[K_NAME]];
        unsigned c;
        for (c = 0; c < arg->val_len && c < FW_NAME_MAX; c++) {
            char ch = fw_arg_val(r, arg)[c];
            p->name[c] = ch == '_' ? ' ' : ch;
        }
        p->name[c] = '\0';
    }
    p->mode = (uint8_t)mode;
    if (a.key_at[K_RECHARGE] < 0) {
        p->recharge = fw_recharge_default(p->mode);
    }
    /* check_program's BAD_ARGs: a mode the family lacks (alone: nothing else is judged) ... */
    if (!fw_family_has_mode(d->fam, p->mode)) {
        fw_reply_err_key(d, "BAD_ARG", "MODE");
        return 0;
    }
    /* ... burst keys outside burst, missing ones in burst ... */
    for (i = K_BURST_N; i <= K_INTRA; i++) {
        int used = fw_param_spec(d->fam, p->mode, (unsigned)prog_param(i))->used;
        if (used != (a.key_at[i] >= 0)) {
            fw_reply_err_key(d, "BAD_ARG", prog_keys[i]);
            return 0;
        }
    }
    /* ... LOOP=ECAP outside the loop's modes, LOOP=ECAP without SENSE ... */
    if (fw_prog_closed(p) && !((d->fam->loop_modes >> p->mode) & 1u)) {
        fw_reply_err_key(d, "BAD_ARG", fw_loop_wire[FW_LK_LOOP]);
        return 0;
    }
    if (fw_prog_closed(p) && p->loop.sense[0] == FW_SENSE_NONE) {
        fw_reply_err_key(d, "BAD_ARG", fw_loop_wire[FW_LK_SENSE]);
        return 0;
    }
    /* ... and contacts that do not exist (on this family: DRG and ETS have no case) */
    for (i = 0; elec > 0 && i < p->npairs; i++) {
        if (!fw_family_has_contact(d->fam, p->pairs[i].contact)) {
            elec = -1;
        }
    }
    if (elec < 0) {
        fw_reply_err_key(d, "BAD_ARG", "ELEC");
        return 0;
    }
    if (with_slot && (*slot < 1 || *slot > FW_N_SLOTS)) {
        reply_range(d, "SLOT", 1, FW_N_SLOTS);
        return 0;
    }
    fw_prog_check(d->fam, p, d->img.p.impedance_default, *ack, &prob);
    if (prob.code) {
        fw_reply_err(d, prob.code);
        fw_buf_str(&d->rb, prob.args);
        return 0;
    }
    /* amplitude limits default to the mode's range; PW / RATE ones stay unset */
    if (!(p->lim_set & 1u)) {
        p->lim[0] = fw_param_spec(d->fam, p->mode, FW_P_AMP)->min;
    }
    if (!(p->lim_set & 2u)) {
        p->lim[1] = fw_param_spec(d->fam, p->mode, FW_P_AMP)->max;
    }
    p->lim_set = (uint8_t)(p->lim_set | 3u);
    return 1;
}

static void v_prog(fw_device_t *d, const fw_request_t *r)
{
    fw_program_t p;
    int slot, ack;
    fw_slot_t *s;
    if (!parse_program(d, r, 1, &p, &slot, &ack)) {
        return;
    }
    s = &d->img.p.slots[(slot - 1) % FW_N_SLOTS];
    s->used = 1;
    s->clin_amp_ua = p.v[FW_P_AMP];
    s->ack = (uint8_t)ack;
    s->prog = p;
    fw_log_add(d, FW_LOG_PROG, (uint8_t)slot, d->role);
    d->img.p.defaults_flag = 0;
    fw_persist(d);
    if (slot == d->img.p.active_slot && !d->test_on) {
        fw_output_changed(d);
    }
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "SLOT", slot);
}

static void v_test(fw_device_t *d, const fw_request_t *r)
{
    static const char *const toks[] = {"END"};
    fw_program_t p;
    int slot, ack;
    unsigned i;
    uint8_t active = d->img.p.active_slot;
    for (i = 0; i < r->nargs; i++) {
        if (r->args[i].key_len == 0) {
            /* a bare token: TEST END and nothing else */
            args_t a;
            collect(r, 0, 0, toks, 1, &a);
            if (plain_args_bad(d, &a)) {
                return;
            }
            if (d->test_on) {
                fw_test_end(d, "END");
                fw_log_add(d, FW_LOG_TEST, active, d->role);
                fw_persist(d);
            }
            fw_reply_ok(d);
            fw_buf_kv_str(&d->rb, "TEST", "OFF");
            return;
        }
    }
    if (!parse_program(d, r, 0, &p, &slot, &ack)) {
        return;
    }
    if (active < 1 || active > FW_N_SLOTS || !d->img.p.slots[active - 1].used) {
        reply_state(d, "EMPTY"); /* TEST tries settings on the active slot: there must be one */
        return;
    }
    d->test_prog = p;
    d->test_ack = (uint8_t)ack;
    d->test_clin_amp = p.v[FW_P_AMP];
    d->test_on = 1;
    d->test_lease_us = hal_now_us();
    fw_log_add(d, FW_LOG_TEST, active, d->role);
    fw_persist(d);
    fw_output_changed(d);
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "TEST", "ON");
}

/* ---- READ, ERASE, SELECT ---- */

static void v_read(fw_device_t *d, const fw_request_t *r)
{
    int slot = slot_arg(d, r);
    const fw_slot_t *s;
    const fw_program_t *p;
    unsigned i;
    if (!slot) {
        return;
    }
    s = &d->img.p.slots[(slot - 1) % FW_N_SLOTS];
    if (!s->used) {
        reply_state(d, "EMPTY");
        return;
    }
    p = &s->prog;
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "SLOT", slot);
    fw_buf_kv_str(&d->rb, "MODE", fw_mode_wire[p->mode % FW_MODE_COUNT]);
    fw_buf_kv_i64(&d->rb, "AMP", p->v[FW_P_AMP]);
    fw_buf_kv_i64(&d->rb, "PW", p->v[FW_P_PW]);
    fw_buf_kv_i64(&d->rb, "RATE", p->v[FW_P_RATE]);
    fw_buf_kv_i64(&d->rb, "IPG", p->v[FW_P_IPG]);
    fw_buf_kv_str(&d->rb, "RECHARGE", fw_recharge_wire[p->recharge & 1u]);
    if (p->mode == FW_MODE_BURST) {
        fw_buf_kv_i64(&d->rb, "BURST_N", p->v[FW_P_BURST_N]);
        fw_buf_kv_i64(&d->rb, "INTRA_HZ", p->v[FW_P_INTRA]);
    }
    fw_buf_kv_i64(&d->rb, "CYCLE_ON_MS", p->v[FW_P_CYCLE_ON]);
    fw_buf_kv_i64(&d->rb, "CYCLE_OFF_MS", p->v[FW_P_CYCLE_OFF]);
    fw_buf_kv_i64(&d->rb, "RAMP_MS", p->v[FW_P_RAMP]);
    fw_buf_str(&d->rb, " ELEC=");
    fw_elec_format(&d->rb, p->pairs, p->npairs);
    if (p->loop.given) {
        fw_buf_kv_str(&d->rb, fw_loop_wire[FW_LK_LOOP], fw_loop_mode_wire[p->loop.v[FW_LK_LOOP] & 1]);
        fw_buf_kv_i64(&d->rb, fw_loop_wire[FW_LK_TARGET_UV], p->loop.v[FW_LK_TARGET_UV]);
        fw_buf_kv_i64(&d->rb, fw_loop_wire[FW_LK_GAIN], p->loop.v[FW_LK_GAIN]);
        if (p->loop.sense[0] != FW_SENSE_NONE) {
            fw_buf_str(&d->rb, " ");
            fw_buf_str(&d->rb, fw_loop_wire[FW_LK_SENSE]);
            fw_buf_char(&d->rb, '=');
            fw_buf_u64(&d->rb, p->loop.sense[0]);
            fw_buf_char(&d->rb, ',');
            fw_buf_u64(&d->rb, p->loop.sense[1]);
        }
    }
    for (i = 0; i < FW_LIMIT_COUNT; i++) {
        if (i < 2 || (p->lim_set & (1u << i))) {
            fw_buf_kv_i64(&d->rb, fw_limit_wire(i), p->lim[i]);
        }
    }
    if (p->name[0]) {
        fw_buf_str(&d->rb, " NAME=");
        for (i = 0; i < FW_NAME_MAX && p->name[i]; i++) {
            fw_buf_char(&d->rb, p->name[i] == ' ' ? '_' : p->name[i]);
        }
    }
}

static void v_erase(fw_device_t *d, const fw_request_t *r)
{
    int slot = slot_arg(d, r);
    if (!slot) {
        return;
    }
    if (slot == d->img.p.active_slot && d->test_on) {
        reply_state(d, "TEST");
        return;
    }
    if (slot == d->img.p.active_slot && d->stim_on) {
        reply_state(d, "ACTIVE");
        return;
    }
    fw_memset(&d->img.p.slots[(slot - 1) % FW_N_SLOTS], 0, sizeof(fw_slot_t));
    fw_log_add(d, FW_LOG_ERASE, (uint8_t)slot, d->role);
    fw_persist(d);
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "SLOT", slot);
}

static void v_select(fw_device_t *d, const fw_request_t *r)
{
    int slot = slot_arg(d, r);
    if (!slot) {
        return;
    }
    if (d->test_on) {
        reply_state(d, "TEST");
        return;
    }
    if (!d->img.p.slots[(slot - 1) % FW_N_SLOTS].used) {
        reply_state(d, "EMPTY");
        return;
    }
    d->img.p.active_slot = (uint8_t)slot;
    fw_log_add(d, FW_LOG_SELECT, (uint8_t)slot, d->role);
    fw_persist(d);
    fw_output_changed(d);
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "SLOT", slot);
}

/* ---- STIM, STOP, MRI ---- */

/* ON / OFF as the verb's only argument: 1 = ON, 0 = OFF, -1 after replying. */
static int on_off_arg(fw_device_t *d, const fw_request_t *r, const char *verb)
{
    static const char *const toks[] = {"ON", "OFF"};
    args_t a;
    collect(r, 0, 0, toks, 2, &a);
    if (plain_args_bad(d, &a)) {
        return -1;
    }
    if (a.tok_at[0] < 0 && a.tok_at[1] < 0) {
        fw_reply_err_key(d, "BAD_ARG", verb);
        return -1;
    }
    if (a.tok_at[0] >= 0 && a.tok_at[1] >= 0) {
        fw_reply_bad_arg(d, a.tok_at[0] > a.tok_at[1] ? a.tok_at[0] : a.tok_at[1]);
        return -1;
    }
    return a.tok_at[0] >= 0;
}

static void v_stim(fw_device_t *d, const fw_request_t *r)
{
    int on = on_off_arg(d, r, "STIM");
    const fw_program_t *p = fw_active_prog(d);
    uint8_t c;
    if (on < 0) {
        return;
    }
    if (on) {
        fw_batt_sync(d);
        if (!p) {
            reply_state(d, "EMPTY");
            return;
        }
        if (d->mri) {
            reply_state(d, "MRI");
            return;
        }
        if (fw_batt_blocks_stim(&d->batt)) {
            reply_state(d, "BATTERY");
            return;
        }
        c = fw_faulted_contact(d, p);
        if (c) {
            reply_state(d, "FAULT");
            fw_buf_str(&d->rb, " CONTACT=");
            fw_contact_name(&d->rb, c);
            return;
        }
        if (!d->stim_on) {
            fw_stim_start(d);
        }
    } else {
        fw_stim_stop(d, 0);
    }
    fw_log_add(d, FW_LOG_STIM, d->img.p.active_slot, d->role);
    fw_persist(d);
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "STIM", d->stim_on ? "ON" : "OFF");
}

static void v_stop(fw_device_t *d, const fw_request_t *r)
{
    int was_on = d->stim_on;
    (void)r; /* STOP is executed whatever follows it */
    fw_stim_stop(d, was_on ? "STOP" : 0);
    fw_log_add(d, FW_LOG_STOP, 0, d->role);
    fw_persist(d);
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "STIM", "OFF");
}

static void v_mri(fw_device_t *d, const fw_request_t *r)
{
    int on = on_off_arg(d, r, "MRI");
    if (on < 0) {
        return;
    }
    d->mri = (uint8_t)on;
    if (on) {
        fw_stim_stop(d, "MRI");
    }
    fw_log_add(d, FW_LOG_MRI, 0, d->role);
    fw_persist(d);
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "MRI", d->mri);
}

/* ---- AMP ---- */

static void v_amp(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"SET", "STEP"};
    args_t a;
    int32_t v = 0;
    int64_t target;
    fw_program_t *p;
    fw_problem_t prob;
    const fw_param_spec_t *spec;
    uint8_t slot = d->img.p.active_slot;
    collect(r, keys, 2, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] < 0 && a.key_at[1] < 0) {
        fw_reply_err_key(d, "BAD_ARG", "SET");
        return;
    }
    if (a.key_at[0] >= 0 && a.key_at[1] >= 0) {
        fw_reply_bad_arg(d, a.key_at[0] > a.key_at[1] ? a.key_at[0] : a.key_at[1]);
        return;
    }
    if (a.key_at[0] >= 0 && !arg_int(r, a.key_at[0], &v)) {
        fw_reply_bad_arg(d, a.key_at[0]);
        return;
    }
    if (a.key_at[1] >= 0) {
        const fw_arg_t *arg = &r->args[a.key_at[1]];
        char sign = fw_arg_val(r, arg)[0];
        if ((sign != '+' && sign != '-') || !arg_int(r, a.key_at[1], &v)) {
            fw_reply_bad_arg(d, a.key_at[1]); /* STEP=+n / -n: the sign is required */
            return;
        }
        if (v == 0 || v > FW_STEP_MAX || v < -FW_STEP_MAX) {
            reply_range(d, "STEP", 1, FW_STEP_MAX);
            return;
        }
    }
    p = d->test_on ? &d->test_prog
                   : ((slot >= 1 && slot <= FW_N_SLOTS && d->img.p.slots[slot - 1].used) ? &d->img.p.slots[slot - 1].prog
                                                                                           : 0);
    if (!p) {
        reply_state(d, "EMPTY");
        return;
    }
    target = a.key_at[0] >= 0 ? (int64_t)v : fw_amp_patient_step(d->fam, p->v[FW_P_AMP], v);
    spec = fw_param_spec(d->fam, p->mode, FW_P_AMP);
    if (target < spec->min || target > spec->max) {
        reply_range(d, "AMP", spec->min, spec->max);
        return;
    }
    if (!fw_grid_holds(&d->fam->grid[FW_P_AMP], target)) {
        reply_range(d, "AMP", spec->min, spec->max);
        fw_buf_kv_i64(&d->rb, "STEP", fw_grid_spacing(&d->fam->grid[FW_P_AMP], target));
        return;
    }
    /* the charge-density zone is refused only when raising above the clinician's amplitude */
    fw_prog_check_safety(d->fam, p, (int32_t)target, d->img.p.impedance_default,
                         target > p->v[FW_P_AMP] && target > fw_active_clin_amp(d), &prob);
    if (prob.code) {
        fw_reply_err(d, prob.code);
        fw_buf_str(&d->rb, prob.args);
        return;
    }
    if (target < p->lim[0] || target > p->lim[1]) {
        fw_reply_err_key(d, "LIMIT", "AMP");
        fw_buf_kv_i64(&d->rb, "MIN", p->lim[0]);
        fw_buf_kv_i64(&d->rb, "MAX", p->lim[1]);
        return;
    }
    p->v[FW_P_AMP] = (int32_t)target;
    fw_log_add(d, FW_LOG_AMP, slot, d->role);
    fw_persist(d);
    fw_output_amp_changed(d);
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "AMP", target);
}

/* ---- IMPEDANCE, BATT, CONFIG ---- */

static void v_impedance(fw_device_t *d, const fw_request_t *r)
{
    args_t a;
    uint8_t c;
    collect(r, 0, 0, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    fw_reply_ok(d);
    for (c = 1; c <= FW_CASE_CONTACT; c++) {
        if (!fw_family_has_contact(d->fam, c)) {
            continue; /* no ZCASE where there is no case */
        }
        fw_buf_str(&d->rb, c == FW_CASE_CONTACT ? " ZCASE=" : " Z");
        if (c != FW_CASE_CONTACT) {
            fw_buf_u64(&d->rb, c);
            fw_buf_char(&d->rb, '=');
        }
        if (d->fault[c] == FW_FAULT_OPEN) {
            fw_buf_str(&d->rb, "OPEN");
        } else if (d->fault[c] == FW_FAULT_SHORT) {
            fw_buf_str(&d->rb, "SHORT");
        } else {
            fw_buf_u64(&d->rb, c == FW_CASE_CONTACT ? FW_CASE_IMPEDANCE_OHM : d->img.p.impedance_default);
        }
    }
}

static void v_batt(fw_device_t *d, const fw_request_t *r)
{
    args_t a;
    collect(r, 0, 0, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    fw_batt_sync(d);
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "BATT", fw_batt_permille(&d->batt));
    fw_buf_kv_i64(&d->rb, "VBAT_MV", fw_batt_vbat_mv(&d->batt));
    fw_buf_kv_str(&d->rb, "CHEM", fw_batt_chem_name(d->batt.chem));
    fw_buf_kv_i64(&d->rb, "CHG", d->batt.charging);
    fw_buf_kv_str(&d->rb, "STATE", fw_batt_level_name(d->batt.level));
    fw_buf_str(&d->rb, " EST_H=");
    fw_buf_fixed(&d->rb, (int64_t)fw_batt_est_tenth_h(&d->batt), 1);
}

static void v_config(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"PIN", "IMPEDANCE_DEFAULT"};
    args_t a;
    int32_t z = 0;
    const fw_arg_t *pin = 0;
    collect(r, keys, 2, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] >= 0) {
        pin = &r->args[a.key_at[0]];
        if (!fw_pin_valid(fw_arg_val(r, pin), pin->val_len)) {
            fw_reply_err_key(d, "BAD_ARG", "PIN");
            return;
        }
    }
    if (a.key_at[1] >= 0) {
        if (!arg_int(r, a.key_at[1], &z)) {
            fw_reply_bad_arg(d, a.key_at[1]);
            return;
        }
        if (z < FW_IMPEDANCE_SHORT_OHM || z > FW_IMPEDANCE_OPEN_OHM) {
            reply_range(d, "IMPEDANCE_DEFAULT", FW_IMPEDANCE_SHORT_OHM, FW_IMPEDANCE_OPEN_OHM);
            return;
        }
    }
    if (pin || a.key_at[1] >= 0) {
        if (pin) {
            fw_pin_change(d, fw_arg_val(r, pin), pin->val_len);
        }
        if (a.key_at[1] >= 0) {
            d->img.p.impedance_default = (uint32_t)z;
        }
        fw_log_add(d, FW_LOG_CONFIG, 0, d->role);
        d->img.p.defaults_flag = 0;
        fw_persist(d);
        fw_output_amp_changed(d);
    }
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "IMPEDANCE_DEFAULT", d->img.p.impedance_default);
}

/* ---- LOGIN, LOGOUT ---- */

static int locked(fw_device_t *d)
{
    uint64_t now = hal_now_us();
    if (d->locked_until_us == 0) {
        return 0;
    }
    if (now >= d->locked_until_us) {
        d->locked_until_us = 0;
        d->img.p.locked = 0;
        fw_persist(d);
        return 0;
    }
    fw_reply_err(d, "LOCKED");
    fw_buf_kv_i64(&d->rb, "RETRY_S", (int64_t)((d->locked_until_us - now + 999999u) / 1000000u));
    return 1;
}

static int proof_matches(const fw_device_t *d, const char *hex)
{
    uint8_t mac[FW_SHA256_LEN];
    unsigned i, diff = 0;
    fw_hmac_sha256(d->proof_key, sizeof d->proof_key, (const uint8_t *)d->nonce, 16, mac);
    for (i = 0; i < FW_SHA256_LEN; i++) {
        int hi = fw_hex_value(hex[2 * i]), lo = fw_hex_value(hex[2 * i + 1]);
        diff |= (unsigned)(((hi << 4) | lo) ^ mac[i]); /* constant time */
    }
    return diff == 0;
}

static void v_login(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"PROOF"};
    args_t a;
    const fw_arg_t *proof;
    unsigned i;
    int right;
    collect(r, keys, 1, 0, 0, &a);
    if (locked(d) || plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] < 0) {
        fw_buf_t nb;
        fw_buf_init(&nb, d->nonce, sizeof d->nonce);
        fw_buf_hex(&nb, hal_random32(), 8, 1);
        fw_buf_hex(&nb, hal_random32(), 8, 1);
        d->nonce_valid = 1;
        fw_reply_ok(d);
        fw_buf_kv_str(&d->rb, "NONCE", d->nonce);
        return;
    }
    proof = &r->args[a.key_at[0]];
    if (proof->val_len != 2 * FW_SHA256_LEN) {
        fw_reply_bad_arg(d, a.key_at[0]);
        return;
    }
    for (i = 0; i < proof->val_len; i++) {
        if (fw_hex_value(fw_arg_val(r, proof)[i]) < 0) {
            fw_reply_bad_arg(d, a.key_at[0]);
            return;
        }
    }
    right = d->nonce_valid && proof_matches(d, fw_arg_val(r, proof));
    if (right) {
        uint8_t was = d->role;
        d->nonce_valid = 0;
        d->img.p.wrong_proofs = 0;
        d->role = FW_ROLE_CLINICIAN;
        fw_log_add(d, FW_LOG_LOGIN, 0, was);
        fw_persist(d);
        fw_reply_ok(d);
        fw_buf_kv_str(&d->rb, "ROLE", "CLINICIAN");
        return;
    }
    /* the count and the lock are stored at once: a reset or power cycle keeps them */
    d->img.p.wrong_proofs++;
    if (d->img.p.wrong_proofs >= FW_LOCK_TRIES) {
        d->img.p.wrong_proofs = 0;
        d->img.p.locked = 1;
        fw_persist(d);
        d->nonce_valid = 0;
        d->locked_until_us = hal_now_us() + FW_LOCK_US;
        if (d->locked_until_us == 0) {
            d->locked_until_us = 1;
        }
        fw_reply_err(d, "LOCKED");
        fw_buf_kv_i64(&d->rb, "RETRY_S", (int64_t)(FW_LOCK_US / 1000000u));
        return;
    }
    fw_persist(d);
    if (!d->nonce_valid) {
        reply_state(d, "NONCE");
        return;
    }
    d->nonce_valid = 0;
    fw_reply_err(d, "DENIED");
    fw_buf_kv_str(&d->rb, "REASON", "PROOF");
}

static void v_logout(fw_device_t *d, const fw_request_t *r)
{
    args_t a;
    uint8_t was = d->role;
    collect(r, 0, 0, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    d->role = FW_ROLE_PATIENT;
    d->nonce_valid = 0;
    fw_test_end(d, "LOGOUT");
    fw_log_add(d, FW_LOG_LOGOUT, 0, was);
    fw_persist(d);
    fw_reply_ok(d);
    fw_buf_kv_str(&d->rb, "ROLE", "PATIENT");
}

/* ---- LOG ---- */

static void v_log(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"FROM"};
    args_t a;
    int32_t from = 0;
    const fw_persist_t *p = &d->img.p;
    unsigned i, n = 0;
    collect(r, keys, 1, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] >= 0) {
        uint32_t u;
        const fw_arg_t *arg = &r->args[a.key_at[0]];
        if (!fw_parse_uint(fw_arg_val(r, arg), arg->val_len, &u)) {
            fw_reply_bad_arg(d, a.key_at[0]); /* FROM is a plain unsigned number */
            return;
        }
        from = u > 0x7FFFFFFFu ? 0x7FFFFFFF : (int32_t)u;
    }
    for (i = 0; i < p->log_count && i < FW_LOG_SIZE; i++) {
        if ((int64_t)p->log[(p->log_head + i) % FW_LOG_SIZE].i >= (int64_t)from) {
            n++;
        }
    }
    d->after = FW_AFTER_LOG;
    d->after_from = from;
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "N", n);
}

static const char *log_what(uint8_t what)
{
    static const char *const names[] = {"?", "PROG", "ERASE", "SELECT", "STIM", "AMP", "TEST",
                                        "MRI", "LOGIN", "LOGOUT", "CONFIG", "STOP"};
    return what < sizeof names / sizeof names[0] ? names[what] : "?";
}

static void send_log(fw_device_t *d, int64_t from)
{
    const fw_persist_t *p = &d->img.p;
    unsigned i;
    for (i = 0; i < p->log_count && i < FW_LOG_SIZE; i++) {
        const fw_log_entry_t *e = &p->log[(p->log_head + i) % FW_LOG_SIZE];
        char line[FW_EV_MAX];
        fw_buf_t b;
        if ((int64_t)e->i < from) {
            continue;
        }
        fw_buf_init(&b, line, sizeof line);
        fw_event_begin(&b, "LOG");
        fw_buf_kv_i64(&b, "I", e->i);
        fw_buf_kv_i64(&b, "T_MS", e->t_ms);
        fw_buf_kv_str(&b, "ROLE", role_name(e->role));
        fw_buf_kv_str(&b, "WHAT", log_what(e->what));
        if (e->slot) {
            fw_buf_char(&b, ':');
            fw_buf_u64(&b, e->slot);
        }
        if (fw_line_seal(&b)) {
            hal_io_write(b.buf, b.len);
        }
    }
}

/* ---- SIM ---- */

/* "0.1" .. "100000": 1..6 digits, optionally "." and 1..6 decimals; in millionths. */
static int parse_speed(const char *s, size_t n, uint64_t *micro)
{
    size_t i, dot = n;
    uint64_t v = 0;
    unsigned decimals = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '.' && dot == n) {
            dot = i;
        } else if (!fw_is_digit(s[i])) {
            return 0;
        }
    }
    if (dot == 0 || dot > 6 || (dot < n && (n - dot - 1 < 1 || n - dot - 1 > 6))) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (i == dot) {
            continue;
        }
        if (i > dot) {
            decimals++;
        }
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    while (decimals++ < 6) {
        v *= 10u;
    }
    *micro = v;
    return 1;
}

/* The speed as params.fmt_number writes it: "10", "0.5", "2.25". */
static void buf_speed(fw_buf_t *b, uint64_t micro)
{
    uint64_t frac = micro % 1000000u;
    unsigned digits = 6;
    fw_buf_u64(b, micro / 1000000u);
    if (frac == 0) {
        return;
    }
    while (frac % 10u == 0) {
        frac /= 10u;
        digits--;
    }
    fw_buf_char(b, '.');
    {
        uint64_t scale = 1;
        unsigned j;
        for (j = 1; j < digits; j++) {
            scale *= 10u;
        }
        for (; scale > 0; scale /= 10u) {
            fw_buf_char(b, (char)('0' + (int)((frac / scale) % 10u)));
        }
    }
}

enum { FAULT_HOT = 3, FAULT_CLEAR = 4 };

/* OPEN:n / SHORT:n (1..2 digits) / HOT / NONE. Returns 0 when malformed. */
static int parse_fault(const char *s, size_t n, int *kind, uint32_t *contact)
{
    size_t colon = 0;
    if (fw_memeq_nocase(s, n, "HOT")) {
        *kind = FAULT_HOT;
        return 1;
    }
    if (fw_memeq_nocase(s, n, "NONE")) {
        *kind = FAULT_CLEAR;
        return 1;
    }
    while (colon < n && s[colon] != ':') {
        colon++;
    }
    if (colon >= n || n - colon - 1 < 1 || n - colon - 1 > 2) {
        return 0;
    }
    if (fw_memeq_nocase(s, colon, "OPEN")) {
        *kind = FW_FAULT_OPEN;
    } else if (fw_memeq_nocase(s, colon, "SHORT")) {
        *kind = FW_FAULT_SHORT;
    } else {
        return 0;
    }
    return fw_parse_uint(s + colon + 1, n - colon - 1, contact);
}

static void charge_event(fw_device_t *d, const char *state)
{
    fw_buf_t *b = fw_event_open(d, "CHARGE");
    fw_buf_kv_str(b, "STATE", state);
    fw_event_close(d);
}

static void apply_fault(fw_device_t *d, int kind, uint32_t contact)
{
    fw_batt_t *b = &d->batt;
    if (kind == FW_FAULT_OPEN || kind == FW_FAULT_SHORT) {
        d->fault[contact % (FW_CASE_CONTACT + 1u)] = (uint8_t)kind;
        fw_faults_changed(d);
    } else if (kind == FAULT_HOT) {
        if (!b->hot && b->charger) {
            charge_event(d, "HOT");
        }
        fw_batt_set_hot(b, 1);
    } else { /* NONE: every fault clears; a charger that was too hot resumes */
        int resume = b->hot && b->charger && !b->full;
        fw_memset(d->fault, 0, sizeof d->fault);
        fw_batt_set_hot(b, 0);
        if (resume) {
            charge_event(d, "ON");
        }
    }
}

static int within(uint64_t v, uint64_t lo, uint64_t hi) { return v >= lo && v <= hi; }

static const char *const posture_wire[FW_NERVE_POSTURE_COUNT] = FW_NERVE_POSTURE_WIRE_TABLE;

static void v_sim(fw_device_t *d, const fw_request_t *r)
{
    enum { S_SPEED, S_FAULT, S_BATT, S_CHARGE, S_POSTURE, S_NOISE, S_EPS, S_NKEYS };
    static const char *const keys[S_NKEYS] = {"SPEED", "FAULT", "BATT", "CHARGE", "POSTURE", "ECAP_NOISE", "EPS"};
    static const char *const toks[] = {"RESET", "COUGH"};
    args_t a;
    uint64_t speed = 0, noise = 0, eps = 0;
    uint32_t contact = 0;
    int32_t level = 0;
    int kind = 0, charge = 0, posture = -1;
    unsigned i, first = FW_MAX_ARGS, first_nerve = FW_MAX_ARGS, any = 0;
    const fw_arg_t *arg;
    collect(r, keys, S_NKEYS, toks, 2, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    for (i = 0; i < S_NKEYS; i++) {
        if (a.key_at[i] >= 0) {
            any = 1;
            first = (unsigned)a.key_at[i] < first ? (unsigned)a.key_at[i] : first;
            if (i >= S_POSTURE && (unsigned)a.key_at[i] < first_nerve) {
                first_nerve = (unsigned)a.key_at[i];
            }
        }
    }
    if (a.tok_at[0] >= 0) {
        if (any || a.tok_at[1] >= 0) {
            fw_reply_bad_arg(d, any ? (int)first : a.tok_at[1]);
            return;
        }
        d->after = FW_AFTER_REBOOT;
        fw_reply_ok(d);
        return;
    }
    if (!any && a.tok_at[1] < 0) {
        fw_reply_err_key(d, "BAD_ARG", "SIM");
        return;
    }
    /* the nerve's controls: a family without a nerve does not take them */
    if (first_nerve < FW_MAX_ARGS || a.tok_at[1] >= 0) {
        if (!d->fam->loop_modes) {
            fw_reply_bad_arg(d, first_nerve < FW_MAX_ARGS ? (int)first_nerve : a.tok_at[1]);
            return;
        }
        if (a.key_at[S_POSTURE] >= 0) {
            arg = &r->args[a.key_at[S_POSTURE]];
            for (i = 0; i < FW_NERVE_POSTURE_COUNT; i++) {
                if (fw_arg_value_is(r, arg, posture_wire[i])) {
                    posture = (int)i;
                }
            }
            if (posture < 0) {
                fw_reply_bad_arg(d, a.key_at[S_POSTURE]);
                return;
            }
        }
        if (a.key_at[S_NOISE] >= 0) {
            arg = &r->args[a.key_at[S_NOISE]];
            if (!parse_speed(fw_arg_val(r, arg), arg->val_len, &noise)) {
                fw_reply_bad_arg(d, a.key_at[S_NOISE]);
                return;
            }
        }
        if (a.key_at[S_EPS] >= 0) {
            arg = &r->args[a.key_at[S_EPS]];
            if (!parse_speed(fw_arg_val(r, arg), arg->val_len, &eps)) {
                fw_reply_bad_arg(d, a.key_at[S_EPS]);
                return;
            }
        }
    }
    /* malformed values, then ranges, then state: all before any change */
    if (a.key_at[S_SPEED] >= 0) {
        arg = &r->args[a.key_at[S_SPEED]];
        if (!parse_speed(fw_arg_val(r, arg), arg->val_len, &speed)) {
            fw_reply_bad_arg(d, a.key_at[S_SPEED]);
            return;
        }
    }
    if (a.key_at[S_FAULT] >= 0) {
        arg = &r->args[a.key_at[S_FAULT]];
        if (!parse_fault(fw_arg_val(r, arg), arg->val_len, &kind, &contact)) {
            fw_reply_bad_arg(d, a.key_at[S_FAULT]);
            return;
        }
    }
    if (a.key_at[S_BATT] >= 0 && !arg_int(r, a.key_at[S_BATT], &level)) {
        fw_reply_bad_arg(d, a.key_at[S_BATT]);
        return;
    }
    if (a.key_at[S_CHARGE] >= 0) {
        arg = &r->args[a.key_at[S_CHARGE]];
        if (!fw_arg_value_is(r, arg, "0") && !fw_arg_value_is(r, arg, "1")) {
            fw_reply_bad_arg(d, a.key_at[S_CHARGE]);
            return;
        }
        charge = fw_arg_value_is(r, arg, "1");
    }
    if (a.key_at[S_SPEED] >= 0 && (speed < FW_SPEED_MIN_MICRO || speed > FW_SPEED_MAX_MICRO)) {
        fw_reply_err_key(d, "OUT_OF_RANGE", "SPEED");
        fw_buf_str(&d->rb, " MIN=0.1 MAX=100000");
        return;
    }
    if (a.key_at[S_FAULT] >= 0 && kind <= FW_FAULT_SHORT && (contact < 1 || contact > FW_N_CONTACTS)) {
        reply_range(d, "FAULT", 1, FW_N_CONTACTS);
        return;
    }
    if (a.key_at[S_BATT] >= 0 && (level < 0 || level > 1000)) {
        reply_range(d, "BATT", 0, 1000);
        return;
    }
    if (a.key_at[S_CHARGE] >= 0 && charge && d->batt.chem != FW_CHEM_LIION) {
        reply_state(d, fw_batt_chem_name(d->batt.chem)); /* PRIMARY, or PACK: no charger */
        return;
    }
    if (a.key_at[S_NOISE] >= 0 && !within(noise, FW_ECAP_NOISE_MIN_MICRO, FW_ECAP_NOISE_MAX_MICRO)) {
        fw_reply_err_key(d, "OUT_OF_RANGE", "ECAP_NOISE");
        fw_buf_str(&d->rb, " MIN=");
        buf_speed(&d->rb, FW_ECAP_NOISE_MIN_MICRO);
        fw_buf_str(&d->rb, " MAX=");
        buf_speed(&d->rb, FW_ECAP_NOISE_MAX_MICRO);
        return;
    }
    if (a.key_at[S_EPS] >= 0 && !within(eps, FW_EPS_MIN_MICRO, FW_EPS_MAX_MICRO)) {
        fw_reply_err_key(d, "OUT_OF_RANGE", "EPS");
        fw_buf_str(&d->rb, " MIN=");
        buf_speed(&d->rb, FW_EPS_MIN_MICRO);
        fw_buf_str(&d->rb, " MAX=");
        buf_speed(&d->rb, FW_EPS_MAX_MICRO);
        return;
    }
    fw_batt_sync(d);
    fw_reply_ok(d);
    if (a.key_at[S_SPEED] >= 0) {
        d->batt.speed_micro = speed;
        fw_buf_str(&d->rb, " SPEED=");
        buf_speed(&d->rb, speed);
    }
    if (a.key_at[S_FAULT] >= 0) {
        apply_fault(d, kind, contact);
        arg = &r->args[a.key_at[S_FAULT]];
        fw_buf_str(&d->rb, " FAULT=");
        for (i = 0; i < arg->val_len; i++) {
            fw_buf_char(&d->rb, fw_upper(fw_arg_val(r, arg)[i]));
        }
    }
    if (a.key_at[S_BATT] >= 0) {
        fw_batt_apply_events(d, fw_batt_set_permille(&d->batt, (uint32_t)level));
        fw_buf_kv_i64(&d->rb, "BATT", level);
    }
    if (a.key_at[S_CHARGE] >= 0) {
        if (charge != d->batt.charger) {
            fw_batt_set_charger(&d->batt, charge);
            charge_event(d, !charge ? "OFF" : (d->batt.hot ? "HOT" : "ON"));
        }
        fw_buf_kv_i64(&d->rb, "CHARGE", charge);
    }
    if (posture >= 0) {
        d->nerve.posture = (uint8_t)posture;
        fw_buf_kv_str(&d->rb, "POSTURE", posture_wire[posture]);
    }
    if (a.key_at[S_NOISE] >= 0) {
        d->nerve.noise_micro = noise;
        fw_buf_str(&d->rb, " ECAP_NOISE=");
        buf_speed(&d->rb, noise);
    }
    if (a.key_at[S_EPS] >= 0) {
        d->nerve.eps_micro = eps;
        fw_buf_str(&d->rb, " EPS=");
        buf_speed(&d->rb, eps);
    }
    if (a.tok_at[1] >= 0) {
        uint64_t until = hal_now_us() + FW_ECAP_COUGH_US; /* coughs do not stack: the later end holds */
        d->nerve.cough_until_us = until > d->nerve.cough_until_us ? until : d->nerve.cough_until_us;
        fw_buf_kv_str(&d->rb, "COUGH", "1");
    }
    fw_persist(d);
    fw_output_amp_changed(d);
}


/* ---- ECAP (the closed-loop family) ---- */

/* ECAP SWEEP FROM= TO= STEP= (clinician, stimulation on): N= now, one !ECAPPT per amplitude after. */
static void ecap_sweep(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"FROM", "TO", "STEP"};
    static const char *const toks[] = {"SWEEP"};
    args_t a;
    int32_t v[3];
    unsigned i;
    const fw_program_t *p;
    const fw_param_spec_t *spec;
    fw_clamp_t c;
    int64_t fewest, span, most;
    if (d->role != FW_ROLE_CLINICIAN) {
        fw_reply_err(d, "DENIED");
        fw_buf_kv_str(&d->rb, "NEED", "CLINICIAN");
        return;
    }
    collect(r, keys, 3, toks, 1, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    for (i = 0; i < 3; i++) {
        if (a.key_at[i] < 0) {
            fw_reply_err_key(d, "BAD_ARG", keys[i]);
            return;
        }
    }
    for (i = 0; i < 3; i++) {
        if (!arg_int(r, a.key_at[i], &v[i])) {
            fw_reply_bad_arg(d, a.key_at[i]);
            return;
        }
    }
    p = fw_active_prog(d);
    if (!p) {
        reply_state(d, "EMPTY");
        return;
    }
    fw_loop_clamp(d->fam, p, d->img.p.impedance_default, fw_active_ack(d), 0, &c);
    spec = fw_param_spec(d->fam, p->mode, FW_P_AMP);
    if (v[0] < spec->min || v[0] > c.high_ua) {
        reply_range(d, "FROM", spec->min, c.high_ua);
        return;
    }
    if (v[1] < v[0] || v[1] > c.high_ua) {
        reply_range(d, "TO", v[0], c.high_ua);
        return;
    }
    span = (int64_t)v[1] - v[0];
    fewest = (span + FW_SWEEP_MAX_POINTS - 2) / (FW_SWEEP_MAX_POINTS - 1);
    fewest = fewest < 1 ? 1 : fewest;
    most = span > fewest ? span : fewest;
    if (v[2] < fewest || v[2] > most) {
        reply_range(d, "STEP", fewest, most);
        return;
    }
    if (!d->stim_on) {
        reply_state(d, "STIM_OFF");
        return;
    }
    fw_loop_sync(d);
    d->sweep_from = v[0];
    d->sweep_step = v[2];
    d->sweep_n = (uint16_t)(span / v[2] + 1);
    d->after = FW_AFTER_SWEEP;
    fw_reply_ok(d);
    fw_buf_kv_i64(&d->rb, "N", d->sweep_n);
}

static void send_sweep(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    uint16_t i;
    uint64_t now = hal_now_us();
    for (i = 0; p && i < d->sweep_n; i++) {
        char line[FW_EV_MAX];
        fw_buf_t b;
        int32_t amp = d->sweep_from + (int32_t)i * d->sweep_step;
        fw_buf_init(&b, line, sizeof line);
        fw_event_begin(&b, "ECAPPT");
        fw_buf_kv_i64(&b, "AMP", amp);
        fw_buf_str(&b, " UV=");
        fw_ecap_format(&b, hal_ecap_measure_uv(p, d->img.p.impedance_default, amp, &d->nerve, now));
        if (fw_line_seal(&b)) {
            hal_io_write(b.buf, b.len);
        }
    }
}

/* ECAP: the ECAP of the moment; ECAP STREAM=1/0; ECAP SWEEP. Other families do not know it. */
static void v_ecap(fw_device_t *d, const fw_request_t *r)
{
    static const char *const keys[] = {"STREAM"};
    args_t a;
    unsigned i;
    const fw_program_t *p;
    int32_t amp, e;
    uint64_t now = hal_now_us();
    if (!d->fam->loop_modes) {
        fw_reply_err(d, "UNKNOWN_VERB");
        return;
    }
    for (i = 0; i < r->nargs && i < FW_MAX_ARGS; i++) {
        if (r->args[i].key_len == 0) { /* the first bare token decides */
            if (fw_arg_token_is(r, &r->args[i], "SWEEP")) {
                ecap_sweep(d, r);
                return;
            }
            break;
        }
    }
    collect(r, keys, 1, 0, 0, &a);
    if (plain_args_bad(d, &a)) {
        return;
    }
    if (a.key_at[0] >= 0) {
        const fw_arg_t *arg = &r->args[a.key_at[0]];
        int on = fw_arg_value_is(r, arg, "1");
        if (!on && !fw_arg_value_is(r, arg, "0")) {
            fw_reply_bad_arg(d, a.key_at[0]);
            return;
        }
        if (on && !d->stream) {
            d->stream_next_us = now + FW_ECAP_STREAM_US;
        }
        d->stream = (uint8_t)on;
        fw_reply_ok(d);
        fw_buf_kv_i64(&d->rb, "STREAM", on);
        return;
    }
    fw_loop_sync(d);
    p = fw_active_prog(d);
    e = fw_loop_reading(d, now, &amp);
    if (!d->stim_on) {
        amp = fw_output_amp(d);
    }
    fw_reply_ok(d);
    fw_buf_str(&d->rb, " ECAP_UV=");
    fw_ecap_format(&d->rb, e);
    fw_buf_kv_i64(&d->rb, "AMP", amp);
    fw_buf_kv_i64(&d->rb, "T_UA", p ? hal_ecap_threshold_ua(p, d->img.p.impedance_default, &d->nerve, now) : 0);
    fw_buf_kv_str(&d->rb, "SLOPE", FW_ECAP_SLOPE_TEXT);
    if (!p || !p->loop.given) {
        fw_loop_keys_t none;
        fw_loop_keys_default(&none);
        fw_buf_kv_i64(&d->rb, "TARGET_UV", none.v[FW_LK_TARGET_UV]);
    } else {
        fw_buf_kv_i64(&d->rb, "TARGET_UV", p->loop.v[FW_LK_TARGET_UV]);
    }
    fw_buf_kv_i64(&d->rb, "LOOP", p ? fw_prog_closed(p) : 0);
}

/* ---- dispatch ---- */

typedef void (*verb_fn)(fw_device_t *d, const fw_request_t *r);
typedef struct {
    const char *name;
    uint8_t clinician;
    verb_fn fn;
} verb_t;

static const verb_t verbs[] = {
    {"HELLO", 0, v_hello},   {"STATUS", 0, v_status}, {"PROG", 1, v_prog},     {"TEST", 1, v_test},
    {"READ", 0, v_read},     {"ERASE", 1, v_erase},   {"SELECT", 0, v_select}, {"STIM", 0, v_stim},
    {"AMP", 0, v_amp},       {"IMPEDANCE", 1, v_impedance}, {"BATT", 0, v_batt}, {"CONFIG", 1, v_config},
    {"STOP", 0, v_stop},     {"LOGIN", 0, v_login},   {"LOGOUT", 0, v_logout}, {"MRI", 0, v_mri},
    {"LOG", 0, v_log},       {"SIM", 0, v_sim},       {"ECAP", 0, v_ecap},
};

void fw_dispatch(fw_device_t *d, const fw_request_t *r)
{
    unsigned i;
    d->after = FW_AFTER_NONE;
    for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (fw_verb_is(r, verbs[i].name)) {
            if (verbs[i].fn == v_sim && !d->port.sim) {
                break;
            }
            if (verbs[i].clinician && d->role != FW_ROLE_CLINICIAN) {
                fw_reply_err(d, "DENIED");
                fw_buf_kv_str(&d->rb, "NEED", "CLINICIAN");
                return;
            }
            if (d->fam->loop_modes) {
                fw_loop_advance(d, hal_now_us()); /* the loop's time up to now, then the verb */
            }
            verbs[i].fn(d, r);
            if (d->fam->loop_modes) {
                fw_loop_sync(d);
            }
            return;
        }
    }
    fw_reply_err(d, "UNKNOWN_VERB");
}

void fw_after_reply(fw_device_t *d)
{
    uint8_t after = d->after;
    d->after = FW_AFTER_NONE;
    if (after == FW_AFTER_LOG) {
        send_log(d, d->after_from);
    } else if (after == FW_AFTER_SWEEP) {
        send_sweep(d);
    } else if (after == FW_AFTER_REBOOT) {
        fw_batt_sync(d);
        fw_persist(d); /* the battery level survives the reset */
        fw_reboot(d);
    }
}

const fw_verbs_t fw_verbs = {fw_dispatch, fw_after_reply};

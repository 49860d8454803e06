/* device.c -- framing, sequencing, resend cache, roles and the output: everything
 * between a received line and its reply except the verbs themselves (verbs.c).
 * Order of checks: TOO_LONG, BAD_SYNTAX, BAD_CRC, STALE, then the verb's own
 * (UNKNOWN_VERB, DENIED, LOCKED, BAD_ARG, OUT_OF_RANGE, UNSAFE, LIMIT, STATE). */
#include "device_api.h"
#include "hal.h"

fw_device_t fw_dev;

/* ---- output ---- */

void fw_reply_ok(fw_device_t *d)
{
    fw_buf_init(&d->rb, d->out, sizeof d->out);
    fw_reply_begin(&d->rb, d->cur_seq, 0);
}

void fw_reply_err(fw_device_t *d, const char *code)
{
    fw_buf_init(&d->rb, d->out, sizeof d->out);
    fw_reply_begin(&d->rb, d->cur_seq, code);
}

void fw_reply_err_key(fw_device_t *d, const char *code, const char *key)
{
    fw_reply_err(d, code);
    fw_buf_kv_str(&d->rb, "KEY", key);
}

void fw_reply_bad_arg(fw_device_t *d, int arg_index)
{
    fw_reply_err(d, "BAD_ARG");
    fw_buf_str(&d->rb, " KEY=");
    if (arg_index >= 0 && arg_index < (int)d->req.nargs) {
        fw_buf_arg_name(&d->rb, &d->req, &d->req.args[arg_index]);
    }
}

static void send_line(fw_buf_t *b)
{
    hal_io_write(b->buf, b->len);
}

fw_buf_t *fw_event_open(fw_device_t *d, const char *name)
{
    if (d->evn >= FW_EVQ_N) {
        hal_diag("event queue full: event dropped");
        fw_buf_init(&d->eb, d->ev_sink, 1); /* a sink: everything overflows, nothing is queued */
        return &d->eb;
    }
    fw_buf_init(&d->eb, d->evq[d->evn], FW_EV_MAX);
    fw_event_begin(&d->eb, name);
    return &d->eb;
}

void fw_event_close(fw_device_t *d)
{
    if (d->eb.cap > 1 && fw_line_seal(&d->eb)) {
        d->evn++;
    }
}

static void fw_events_flush(fw_device_t *d)
{
    uint8_t i;
    for (i = 0; i < d->evn && i < FW_EVQ_N; i++) {
        hal_io_write(d->evq[i], fw_strlen(d->evq[i]));
    }
    d->evn = 0;
}

/* ---- persistent state ---- */

void fw_persist(fw_device_t *d)
{
    d->img.p.batt_e_pj = d->batt.e_pj;
    d->img.p.batt_eos = d->batt.eos;
    if (fw_store_save(&d->img, &d->bank) != 0) {
        hal_diag("persistent store write failed; the change holds until power-off only");
    }
    d->batt_saved_pm = fw_batt_permille(&d->batt);
}

void fw_log_add(fw_device_t *d, uint8_t what, uint8_t slot, uint8_t role)
{
    fw_persist_t *p = &d->img.p;
    uint8_t at;
    fw_log_entry_t *e;
    if (p->log_count < FW_LOG_SIZE) {
        at = (uint8_t)((p->log_head + p->log_count) % FW_LOG_SIZE);
        p->log_count++;
    } else {
        at = p->log_head;
        p->log_head = (uint8_t)((p->log_head + 1u) % FW_LOG_SIZE);
    }
    e = &p->log[at % FW_LOG_SIZE];
    e->i = p->log_next_i++;
    e->t_ms = (uint32_t)((hal_now_us() - d->boot_us) / 1000u);
    e->role = role;
    e->what = what;
    e->slot = slot;
}

/* ---- the output stage ---- */

const fw_program_t *fw_active_prog(const fw_device_t *d)
{
    uint8_t a = d->img.p.active_slot;
    if (d->test_on) {
        return &d->test_prog;
    }
    if (a >= 1 && a <= FW_N_SLOTS && d->img.p.slots[a - 1].used) {
        return &d->img.p.slots[a - 1].prog;
    }
    return 0;
}

int32_t fw_active_clin_amp(const fw_device_t *d)
{
    uint8_t a = d->img.p.active_slot;
    if (d->test_on) {
        return d->test_clin_amp;
    }
    return (a >= 1 && a <= FW_N_SLOTS) ? d->img.p.slots[a - 1].clin_amp_ua : 0;
}

/* The first contact of p with a simulated fault, or 0. */
uint8_t fw_faulted_contact(const fw_device_t *d, const fw_program_t *p)
{
    uint8_t i;
    for (i = 0; p && i < p->npairs && i < FW_MAX_PAIRS; i++) {
        uint8_t c = p->pairs[i].contact;
        if (c <= FW_CASE_CONTACT && d->fault[c] != FW_FAULT_NONE) {
            return c;
        }
    }
    return 0;
}

static void batt_tick(fw_device_t *d);

/* Recompute what the battery supplies for the output as it is now. */
static void update_draw(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    fw_compliance_t c;
    uint64_t pps, phases, on_num = 1, on_den = 1;
    d->limited = 0;
    if (p) {
        fw_prog_compliance(p, p->v[FW_P_AMP], d->img.p.impedance_default, &c);
        d->limited = (uint8_t)c.limited;
    }
    if (!d->stim_on || !p) {
        fw_batt_set_draw(&d->batt, FW_QUIESCENT_NW);
        return;
    }
    pps = (uint64_t)p->v[FW_P_RATE] * (p->mode == FW_MODE_BURST ? (uint64_t)p->v[FW_P_BURST_N] : 1u);
    phases = p->recharge == FW_RECHARGE_ACTIVE ? 2u : 1u;
    if (p->v[FW_P_CYCLE_ON] > 0 && p->v[FW_P_CYCLE_OFF] > 0) {
        on_num = (uint64_t)p->v[FW_P_CYCLE_ON];
        on_den = (uint64_t)p->v[FW_P_CYCLE_ON] + (uint64_t)p->v[FW_P_CYCLE_OFF];
    }
    fw_batt_set_draw(&d->batt, fw_batt_stim_draw_nw(c.delivered_ua, c.rail_mv, pps * phases * (uint64_t)p->v[FW_P_PW],
                                                    on_num, on_den));
}

static void start_timeline(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    fw_sched_program_t sp;
    fw_compliance_t c;
    if (!p) {
        return;
    }
    fw_prog_compliance(p, p->v[FW_P_AMP], d->img.p.impedance_default, &c);
    sp.mode = p->mode;
    sp.recharge = p->recharge;
    sp.burst_n = (uint8_t)(p->mode == FW_MODE_BURST ? p->v[FW_P_BURST_N] : 0);
    sp.pw_us = (uint32_t)p->v[FW_P_PW];
    sp.ipg_us = (uint32_t)p->v[FW_P_IPG];
    sp.rate_hz = (uint32_t)p->v[FW_P_RATE];
    sp.intra_hz = (uint32_t)(p->mode == FW_MODE_BURST ? p->v[FW_P_INTRA] : 0);
    sp.cycle_on_ms = (uint32_t)p->v[FW_P_CYCLE_ON];
    sp.cycle_off_ms = (uint32_t)p->v[FW_P_CYCLE_OFF];
    sp.ramp_ms = (uint32_t)p->v[FW_P_RAMP];
    sp.amp_ua = c.delivered_ua;
    d->t0_us = hal_now_us();
    fw_sched_start(&d->sched, &sp);
    hal_phase_begin(d->t0_us);
}

void fw_stim_start(fw_device_t *d)
{
    batt_tick(d);
    d->stim_on = 1;
    start_timeline(d);
    update_draw(d);
}

void fw_stim_stop(fw_device_t *d, const char *reason)
{
    if (!d->stim_on) {
        return;
    }
    batt_tick(d);
    d->stim_on = 0;
    fw_sched_stop(&d->sched);
    hal_phase_off(hal_now_us());
    update_draw(d);
    if (reason) {
        fw_buf_t *b = fw_event_open(d, "STIM");
        fw_buf_kv_str(b, "STIM", "OFF");
        fw_buf_kv_str(b, "REASON", reason);
        fw_event_close(d);
    }
}

/* Contacts of the active program faulted while stimulating: report each, then stop. */
static void check_output_faults(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    uint8_t i;
    if (!d->stim_on || !fw_faulted_contact(d, p)) {
        return;
    }
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        uint8_t c = p->pairs[i].contact;
        if (c <= FW_CASE_CONTACT && d->fault[c] != FW_FAULT_NONE) {
            fw_buf_t *b = fw_event_open(d, "FAULT");
            fw_buf_str(b, " CONTACT=");
            fw_contact_name(b, c);
            fw_buf_kv_str(b, "KIND", d->fault[c] == FW_FAULT_SHORT ? "SHORT" : "OPEN");
            fw_event_close(d);
        }
    }
    fw_stim_stop(d, "FAULT");
}

void fw_output_changed(fw_device_t *d)
{
    batt_tick(d);
    if (d->stim_on) {
        if (!fw_active_prog(d)) {
            fw_stim_stop(d, 0);
        } else {
            hal_phase_off(hal_now_us());
            start_timeline(d);
        }
    }
    update_draw(d);
    check_output_faults(d);
}

void fw_output_amp_changed(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    fw_compliance_t c;
    batt_tick(d);
    if (p && d->stim_on) {
        fw_prog_compliance(p, p->v[FW_P_AMP], d->img.p.impedance_default, &c);
        fw_sched_set_amp(&d->sched, c.delivered_ua);
    }
    update_draw(d);
}

void fw_faults_changed(fw_device_t *d) { check_output_faults(d); }

void fw_test_end(fw_device_t *d, const char *reason)
{
    fw_buf_t *b;
    if (!d->test_on) {
        return;
    }
    d->test_on = 0;
    if (reason) {
        b = fw_event_open(d, "TEST");
        fw_buf_kv_str(b, "TEST", "OFF");
        fw_buf_kv_str(b, "REASON", reason);
        fw_event_close(d);
    }
    fw_output_changed(d);
}

/* ---- battery ---- */

static void batt_events(fw_device_t *d, unsigned ev)
{
    static const uint8_t order[4] = {FW_BATT_LOW, FW_BATT_EMPTY, FW_BATT_ERI, FW_BATT_EOS};
    unsigned i;
    for (i = 0; i < 4; i++) {
        if (ev & (1u << order[i])) {
            fw_buf_t *b = fw_event_open(d, "BATT");
            fw_buf_kv_str(b, "STATE", fw_batt_level_name(order[i]));
            fw_buf_kv_i64(b, "BATT", fw_batt_permille(&d->batt));
            fw_event_close(d);
        }
    }
    if (ev & FW_BATT_EV_FULL) {
        fw_buf_t *b = fw_event_open(d, "CHARGE");
        fw_buf_kv_str(b, "STATE", "FULL");
        fw_event_close(d);
    }
    if (fw_batt_blocks_stim(&d->batt) && d->stim_on) {
        fw_stim_stop(d, "BATTERY");
    }
}

static void batt_tick(fw_device_t *d)
{
    uint64_t now = hal_now_us();
    unsigned ev;
    uint32_t pm;
    if (now <= d->batt_last_us) {
        return;
    }
    ev = fw_batt_advance(&d->batt, now - d->batt_last_us);
    d->batt_last_us = now;
    if (ev) {
        batt_events(d, ev);
    }
    pm = fw_batt_permille(&d->batt);
    if ((pm > d->batt_saved_pm ? pm - d->batt_saved_pm : d->batt_saved_pm - pm) >= d->port.batt_persist_step) {
        fw_persist(d);
    }
}

void fw_batt_apply_events(fw_device_t *d, unsigned ev)
{
    batt_events(d, ev);
}

void fw_batt_sync(fw_device_t *d) { batt_tick(d); }

static void housekeeping(fw_device_t *d)
{
    uint64_t now = hal_now_us();
    if (d->test_on && now - d->test_lease_us >= FW_TEST_LEASE_US) {
        fw_test_end(d, "TIMEOUT");
    }
    if (d->img.p.locked && now >= d->locked_until_us) {
        d->img.p.locked = 0; /* the lockout is over: a restart from now on does not re-arm it */
        d->locked_until_us = 0;
        fw_persist(d);
    }
    batt_tick(d);
    d->next_housekeeping_us = now + FW_HOUSEKEEPING_US;
}

/* ---- boot ---- */

static void send_boot(fw_device_t *d)
{
    char line[FW_EV_MAX];
    fw_buf_t b;
    fw_buf_init(&b, line, sizeof line);
    fw_event_begin(&b, "BOOT");
    fw_buf_str(&b, " BOOT=");
    fw_buf_hex(&b, d->boot_id, 8, 1);
    fw_buf_kv_str(&b, "FW", d->port.fw);
    if (d->img.p.defaults_flag) {
        fw_buf_kv_str(&b, "STATE", "DEFAULTS");
    }
    if (fw_line_seal(&b)) {
        send_line(&b);
    }
}

static void random_bytes(uint8_t *out, size_t n)
{
    size_t i;
    uint32_t r = 0;
    for (i = 0; i < n; i++) {
        if (i % 4u == 0) {
            r = hal_random32();
        }
        out[i] = (uint8_t)(r >> (8u * (i % 4u)));
    }
}

void fw_pin_change(fw_device_t *d, const char *pin, size_t len)
{
    uint8_t salt[FW_PIN_SALT_LEN];
    random_bytes(salt, sizeof salt);
    fw_pin_record_set(&d->img.p.pin, d->device_key, pin, len, salt);
    fw_pin_proof_key(&d->img.p.pin, d->device_key, d->proof_key);
}

/* The device record (device key; "the banks have been written"): 1 when it was there. */
static int load_device_record(fw_device_t *d, int *record)
{
    fw_devrec_t rec;
    *record = fw_devrec_load(&rec);
    if (*record != FW_STORE_OK) {
        fw_memset(&rec, 0, sizeof rec);
        random_bytes(rec.key, sizeof rec.key);
        if (fw_devrec_save(&rec) != 0) {
            hal_diag("device record write failed; the PIN holds until power-off only");
        }
    }
    fw_memcpy(d->device_key, rec.key, sizeof d->device_key);
    return *record == FW_STORE_OK;
}

/* Every stored program is one the device's family takes (a state written under another
 * family is not: the Python generator refuses it alike). */
static int slots_fit_family(const fw_device_t *d)
{
    unsigned i;
    uint8_t c;
    fw_problem_t prob;
    for (i = 0; i < FW_N_SLOTS; i++) {
        const fw_program_t *p = &d->img.p.slots[i].prog;
        if (!d->img.p.slots[i].used) {
            continue;
        }
        for (c = 0; c < p->npairs && c < FW_MAX_PAIRS; c++) {
            if (!fw_family_has_contact(d->fam, p->pairs[c].contact)) {
                return 0;
            }
        }
        fw_prog_check(d->fam, p, d->img.p.impedance_default, 1, &prob);
        if (prob.code) {
            return 0;
        }
    }
    return 1;
}

/* Load the persistent state; anything but a valid state under a valid device record
 * starts from defaults, flagged (STATE=DEFAULTS) unless the device is new. */
static void load_state(fw_device_t *d)
{
    int64_t full = fw_batt_chem_capacity_pj(d->port.chem);
    int record, st = fw_store_load(&d->img, &d->bank);
    const char *why = 0;
    /* the device record goes first: its presence says the banks have been written */
    int had_record = load_device_record(d, &record);
    if (st == FW_STORE_OK && !had_record) {
        why = "device record missing or corrupt, so the stored PIN cannot be read: starting from defaults "
              "(HELLO reports STATE=DEFAULTS)";
    } else if (st == FW_STORE_CORRUPT) {
        why = "persistent state is corrupt: starting from defaults (HELLO reports STATE=DEFAULTS)";
        d->img.seq = 0;
    } else if (st == FW_STORE_EMPTY && record != FW_STORE_EMPTY) {
        why = "persistent state was written before and both banks are now empty: starting from defaults "
              "(HELLO reports STATE=DEFAULTS)";
        d->img.seq = 0;
    } else if (st == FW_STORE_EMPTY) {
        d->img.seq = 0; /* a new device: defaults, quietly */
    } else if (!slots_fit_family(d)) {
        why = "persistent state holds a program this device family does not take: starting from defaults "
              "(HELLO reports STATE=DEFAULTS)";
    } else {
        fw_pin_proof_key(&d->img.p.pin, d->device_key, d->proof_key);
        return;
    }
    /* a valid bank under a lost device record keeps its seq, so the defaults outrank it */
    fw_persist_defaults(&d->img.p, full, d->fam->contact_ohm);
    fw_pin_change(d, FW_DEFAULT_PIN, sizeof FW_DEFAULT_PIN - 1);
    if (why) {
        d->img.p.defaults_flag = 1; /* saved, so it lasts until a PROG / CONFIG write */
        hal_diag(why);
    }
    if (fw_store_save(&d->img, &d->bank) != 0) {
        hal_diag("persistent store write failed; the change holds until power-off only");
    }
}

void fw_reboot(fw_device_t *d)
{
    uint8_t i, charger = d->batt.charger, hot = d->batt.hot, was_full = d->batt.full;
    uint64_t speed = d->batt.speed_micro;
    uint32_t previous_boot = d->boot_id;
    if (d->stim_on) {
        hal_phase_off(hal_now_us());
    }
    d->stim_on = 0;
    fw_sched_stop(&d->sched);
    d->role = FW_ROLE_PATIENT;
    d->strict = 0;
    d->last_seq = -1;
    for (i = 0; i < FW_CACHE_N; i++) {
        d->cache[i].seq = -1;
    }
    d->cache_next = 0;
    d->nonce_valid = 0;
    d->mri = 0;
    d->test_on = 0;
    d->evn = 0;
    d->run.on = 0;   /* the closed loop's run and stream are RAM; its nerve is environment */
    d->stream = 0;
    load_state(d);
    fw_batt_init(&d->batt, d->port.chem, d->img.p.batt_e_pj, d->img.p.batt_eos);
    /* the simulated environment (speed, charger, heat) is not the device's to forget */
    d->batt.speed_micro = speed ? speed : 1000000u;
    d->batt.charger = charger;
    d->batt.full = was_full;
    fw_batt_set_hot(&d->batt, hot);
    d->batt_saved_pm = fw_batt_permille(&d->batt);
    d->boot_us = hal_now_us();
    /* a lockout outlives a reset or a power cycle: it starts over, in full, at the boot */
    d->locked_until_us = d->img.p.locked ? d->boot_us + FW_LOCK_US : 0;
    if (d->img.p.locked && d->locked_until_us == 0) {
        d->locked_until_us = 1;
    }
    d->batt_last_us = d->boot_us;
    d->next_housekeeping_us = d->boot_us;
    do {
        d->boot_id = hal_random32();
    } while (d->boot_id == previous_boot);
    update_draw(d);
    send_boot(d);
}

void fw_init(fw_device_t *d, const fw_port_t *port, const fw_verbs_t *verbs)
{
    fw_memset(d, 0, sizeof *d);
    d->port = *port;
    d->verbs = verbs;
    if (d->port.family >= FW_FAMILY_COUNT) {
        d->port.family = 0;
    }
    d->fam = fw_family(d->port.family);
    {
        uint8_t i, chem = d->fam->chems[0]; /* the family's default, unless the port names another of its own */
        for (i = 0; i < d->fam->nchems; i++) {
            if (d->fam->chems[i] == d->port.chem) {
                chem = d->port.chem;
            }
        }
        d->port.chem = chem;
    }
    if (d->port.batt_persist_step == 0) {
        d->port.batt_persist_step = 1;
    }
    d->batt.speed_micro = 1000000u;
    fw_loop_env_defaults(d);
    fw_line_reset(&d->lb);
    fw_reboot(d);
}

int fw_set_pin(fw_device_t *d, const char *pin)
{
    size_t n = fw_strlen(pin);
    if (!fw_pin_valid(pin, n)) {
        return -1;
    }
    if (fw_pin_record_matches(&d->img.p.pin, pin, n)) {
        return 0;
    }
    fw_pin_change(d, pin, n);
    fw_persist(d);
    return 0;
}

/* ---- sequencing ---- */

static int fw_reply_text_is_ok(const char *reply);

static uint32_t seq_ahead(int32_t new_seq, int32_t last)
{
    return (uint32_t)(((new_seq - last) % FW_SEQ_MAX + FW_SEQ_MAX) % FW_SEQ_MAX);
}

static int in_window(const fw_device_t *d, int32_t seq)
{
    uint32_t ahead;
    if (d->last_seq < 0) {
        return 1;
    }
    ahead = seq_ahead(seq, d->last_seq);
    return ahead >= 1 && ahead <= FW_SEQ_WINDOW;
}

static char upper_ascii(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Resends are compared with the CRC's hex digits in either case: line noise that only
   changes the case of a CRC letter still checks, and must not turn a resend into STALE. */
static int same_line(const char *a, const char *b, size_t len)
{
    size_t body = len;
    size_t i;
    if (len >= 6 && b[len - 6] == ' ' && b[len - 5] == '*') {
        body = len - 4;
    }
    if (fw_memcmp(a, b, body) != 0) {
        return 0;
    }
    for (i = body; i < len; i++) {
        if (upper_ascii(a[i]) != upper_ascii(b[i])) {
            return 0;
        }
    }
    return 1;
}

static const fw_cache_entry_t *cache_find(const fw_device_t *d, int32_t seq, const char *line, size_t len)
{
    uint8_t i;
    for (i = 0; i < FW_CACHE_N; i++) {
        const fw_cache_entry_t *c = &d->cache[i];
        if (c->seq == seq && c->line_len == len && same_line(c->line, line, len)) {
            return c;
        }
    }
    return 0;
}

static void cache_put(fw_device_t *d, int32_t seq, const char *line, size_t len, const fw_buf_t *reply)
{
    fw_cache_entry_t *c = &d->cache[d->cache_next % FW_CACHE_N];
    if (len > FW_LINE_MAX || reply->len >= sizeof c->reply) {
        return;
    }
    c->seq = seq;
    c->line_len = (uint16_t)len;
    fw_memcpy(c->line, line, len);
    c->reply_len = (uint16_t)reply->len;
    fw_memcpy(c->reply, reply->buf, reply->len);
    d->cache_next = (uint8_t)((d->cache_next + 1u) % FW_CACHE_N);
}

static void finish_reply(fw_device_t *d)
{
    if (!fw_line_seal(&d->rb)) {
        /* cannot happen with the replies this device builds; answer something valid */
        fw_reply_err(d, "STATE");
        (void)fw_line_seal(&d->rb);
    }
}

static void reply_now(fw_device_t *d, int32_t seq, const char *code, const char *args)
{
    d->cur_seq = seq;
    if (code) {
        fw_reply_err(d, code);
    } else {
        fw_reply_ok(d);
    }
    if (args) {
        fw_buf_str(&d->rb, args);
    }
    finish_reply(d);
    send_line(&d->rb);
}

/* STOP is executed whatever its CRC, SEQ or mode (and then touches no SEQ state). */
static void stop_anyway(fw_device_t *d, int32_t seq)
{
    uint8_t role = d->role;
    int was_on = d->stim_on;
    reply_now(d, seq, 0, " STIM=OFF");
    fw_stim_stop(d, was_on ? "STOP" : 0);
    fw_log_add(d, FW_LOG_STOP, 0, role);
    fw_persist(d);
    fw_events_flush(d);
}

static void process_line(fw_device_t *d, const char *line, size_t len)
{
    fw_request_t *r = &d->req;
    int stop = fw_is_stop_line(line, len);
    int rc = fw_parse_request(line, len, r);
    int is_hello;
    const fw_cache_entry_t *hit;

    if (rc != FW_PARSE_OK) {
        if (stop) {
            stop_anyway(d, r->seq);
        } else if (rc == FW_PARSE_BAD_CRC && d->strict && r->seq < 0) {
            reply_now(d, r->seq, "BAD_SYNTAX", " NEED=SEQ,CRC"); /* BAD_SYNTAX comes first */
        } else {
            reply_now(d, r->seq, rc == FW_PARSE_BAD_CRC ? "BAD_CRC" : "BAD_SYNTAX", 0);
        }
        return;
    }
    if (r->seq > 0) {
        hit = cache_find(d, r->seq, line, len);
        if (hit) {
            if (stop) {
                stop_anyway(d, r->seq); /* stopping again is always safe, and never skipped */
                return;
            }
            hal_io_write(hit->reply, hit->reply_len);
            if (d->test_on && fw_reply_text_is_ok(hit->reply)) {
                d->test_lease_us = hal_now_us();
            }
            return;
        }
    }
    if (d->strict && (r->seq < 0 || !r->has_crc)) {
        if (stop) {
            stop_anyway(d, r->seq);
        } else {
            reply_now(d, r->seq, "BAD_SYNTAX", " NEED=SEQ,CRC");
        }
        return;
    }
    is_hello = fw_verb_is(r, "HELLO");
    if (d->strict && r->seq > 0 && !is_hello && !in_window(d, r->seq)) {
        if (stop) {
            stop_anyway(d, r->seq);
        } else {
            reply_now(d, r->seq, "STALE", 0);
        }
        return;
    }
    /* accepted */
    if (r->seq > 0 && (!is_hello || in_window(d, r->seq))) {
        d->last_seq = r->seq;
    }
    d->cur_seq = r->seq;
    d->evn = 0;
    d->verbs->dispatch(d, r);
    finish_reply(d);
    if (r->seq > 0) {
        cache_put(d, r->seq, line, len, &d->rb);
    }
    send_line(&d->rb);
    if (d->test_on && fw_reply_text_is_ok(d->rb.buf)) {
        d->test_lease_us = hal_now_us();
    }
    d->verbs->after_reply(d);
    fw_events_flush(d);
}

static int fw_reply_text_is_ok(const char *p)
{
    if (p[0] == '#') {
        while (*p && *p != ' ') {
            p++;
        }
        if (*p == ' ') {
            p++;
        }
    }
    return p[0] == 'O' && p[1] == 'K';
}

void fw_rx(fw_device_t *d, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        int st = fw_line_feed(&d->lb, data[i]);
        if (st == FW_LINE_NONE) {
            continue;
        }
        housekeeping(d);
        fw_events_flush(d); /* what happened before this line is reported before its reply */
        if (st == FW_LINE_TOO_LONG) {
            reply_now(d, -1, "TOO_LONG", 0);
            fw_events_flush(d);
        } else if (!fw_line_is_blank(d->lb.buf, d->lb.len)) {
            process_line(d, d->lb.buf, d->lb.len);
        }
        d->lb.len = 0;
        d->lb.buf[0] = '\0';
    }
}

void fw_link_reset(fw_device_t *d)
{
    fw_line_reset(&d->lb);
    d->role = FW_ROLE_PATIENT;
    d->nonce_valid = 0;
    d->strict = 0;
    d->stream = 0;
    fw_test_end(d, 0);
    fw_events_flush(d); /* what the output stage reported (a fault stop) goes to the new client */
}

void fw_poll(fw_device_t *d, uint64_t horizon_us)
{
    uint64_t now = hal_now_us();
    const fw_edge_t *e;
    unsigned guard = 0;
    if (now >= d->next_housekeeping_us || (d->test_on && now - d->test_lease_us >= FW_TEST_LEASE_US)) {
        housekeeping(d);
        fw_events_flush(d);
    }
    if (d->fam->loop_modes) {
        fw_loop_advance(d, now);
        if (d->evn) {
            fw_events_flush(d);
        }
    }
    while (d->stim_on && (e = fw_sched_peek(&d->sched)) != 0) {
        uint64_t due = d->t0_us + e->t_us;
        if (due > now + horizon_us) {
            break;
        }
        if (due + 1000000u < now || ++guard > 100000u) {
            /* stalled for over a second (or a flood): resynchronise instead of replaying */
            hal_diag("output fell behind by over 1 s: resynchronised to the next pulse");
            hal_phase_off(now);
            fw_sched_skip_to(&d->sched, now - d->t0_us);
            break;
        }
        hal_phase_edge(d->t0_us, e);
        fw_sched_pop(&d->sched);
    }
}

uint64_t fw_next_wake_us(const fw_device_t *d, uint64_t horizon_us)
{
    uint64_t wake = d->next_housekeeping_us;
    if (d->test_on && d->test_lease_us + FW_TEST_LEASE_US < wake) {
        wake = d->test_lease_us + FW_TEST_LEASE_US;
    }
    if (d->stim_on && d->sched.running && d->sched.qi < d->sched.qn) {
        uint64_t due = d->t0_us + d->sched.q[d->sched.qi].t_us;
        due = due > horizon_us ? due - horizon_us : 0;
        if (due < wake) {
            wake = due;
        }
    } else if (d->stim_on) {
        uint64_t now = hal_now_us();
        if (now < wake) {
            wake = now; /* the next pulse is not computed yet: poll at once */
        }
    }
    return wake;
}

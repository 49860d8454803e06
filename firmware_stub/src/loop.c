/* loop.c -- see loop.h. */
#include "loop.h"

static int32_t interlock_max_ua(const fw_program_t *p)
{
    int32_t worst = 0;
    uint8_t i;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        int32_t share = p->pairs[i].percent < 0 ? -p->pairs[i].percent : p->pairs[i].percent;
        if (p->pairs[i].contact != FW_CASE_CONTACT && share > worst) {
            worst = share;
        }
    }
    return worst ? (int32_t)((int64_t)FW_CONTACT_CURRENT_MAX_UA * FW_PERCENT_TOTAL / worst) : INT32_MAX;
}

/* nerve.Output.of: the largest amplitude the rail delivers in full. */
static int32_t compliance_max_ua(const fw_program_t *p, uint32_t lead_ohm)
{
    fw_compliance_t c;
    int64_t top;
    fw_prog_compliance(p, 1000, lead_ohm, &c);
    if (c.load_ohm <= 0.0) {
        return INT32_MAX;
    }
    top = (int64_t)((FW_RAIL_MAX_V_D - FW_RAIL_HEADROOM_V_D) * 1e6 / c.load_ohm);
    if (top > INT32_MAX - 1) {
        return INT32_MAX;
    }
    for (;;) {
        fw_prog_compliance(p, (int32_t)(top + 1), lead_ohm, &c);
        if (c.limited) {
            break;
        }
        top++;
    }
    for (;;) {
        if (top <= 0) {
            break;
        }
        fw_prog_compliance(p, (int32_t)top, lead_ohm, &c);
        if (!c.limited) {
            break;
        }
        top--;
    }
    return (int32_t)top;
}

static int in_charge_zone(const fw_family_t *f, const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm)
{
    fw_charge_t ch[FW_MAX_PAIRS];
    unsigned i, n = fw_prog_charges(f, p, amp_ua, lead_ohm, ch);
    for (i = 0; i < n; i++) {
        if (ch[i].warning) {
            return 1;
        }
    }
    return 0;
}

void fw_loop_clamp(const fw_family_t *f, const fw_program_t *p, uint32_t lead_ohm, int acknowledged,
                   int with_limits, fw_clamp_t *out)
{
    const fw_param_spec_t *spec = fw_param_spec(f, p->mode, FW_P_AMP);
    int32_t low = spec->min, high = spec->max, v;
    if (with_limits) {
        low = p->lim[0] > low ? p->lim[0] : low;
        high = p->lim[1] < high ? p->lim[1] : high;
    }
    v = interlock_max_ua(p);
    high = v < high ? v : high;
    v = compliance_max_ua(p, lead_ohm);
    high = v < high ? v : high;
    if (!acknowledged && in_charge_zone(f, p, high, lead_ohm)) {
        int32_t lo = 0, hi = high; /* inside(hi); the smallest amplitude inside the zone */
        if (in_charge_zone(f, p, 0, lead_ohm)) {
            hi = 0;
        }
        while (hi - lo > 1) {
            int32_t mid = lo + (hi - lo) / 2;
            if (in_charge_zone(f, p, mid, lead_ohm)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        high = hi - 1;
    }
    out->low_ua = low;
    out->high_ua = high;
}

int32_t fw_loop_step(int32_t amp_ua, int32_t ecap_q, int32_t target_uv, int32_t gain, const fw_clamp_t *c)
{
    /* I + GAIN * (TARGET - E) in uA * 2^16, exact */
    int64_t x = ((int64_t)amp_ua << FW_ECAP_Q) + (int64_t)gain * (((int64_t)target_uv << FW_ECAP_Q) - ecap_q);
    int64_t a = x < 0 ? -x : x;
    int64_t r = (a + (FW_ECAP_ONE / 2)) >> FW_ECAP_Q; /* halves away from zero */
    int64_t next = x < 0 ? -r : r;
    if (next < c->low_ua) {
        next = c->low_ua;
    }
    if (next > c->high_ua) {
        next = c->high_ua;
    }
    return (int32_t)next;
}

uint64_t fw_loop_update_pulse(uint64_t n, uint32_t rate_hz)
{
    if (rate_hz <= FW_LOOP_MAX_UPDATE_HZ) {
        return n;
    }
    return (n * rate_hz + FW_LOOP_MAX_UPDATE_HZ - 1) / FW_LOOP_MAX_UPDATE_HZ;
}

uint64_t fw_loop_update_us(uint64_t n, uint32_t rate_hz)
{
    uint64_t pulse = fw_loop_update_pulse(n, rate_hz);
    return rate_hz ? (pulse * 1000000u + rate_hz - 1) / rate_hz : 0;
}

uint64_t fw_loop_first_update_at(uint64_t t_us, uint32_t rate_hz)
{
    uint64_t pulse;
    if (t_us == 0 || rate_hz == 0) {
        return 0;
    }
    pulse = (t_us * rate_hz + 999999u) / 1000000u; /* the first pulse at or after t */
    if (rate_hz <= FW_LOOP_MAX_UPDATE_HZ) {
        return pulse;
    }
    return (pulse - 1) * FW_LOOP_MAX_UPDATE_HZ / rate_hz + 1;
}

void fw_ecap_format(fw_buf_t *b, int32_t ecap_q)
{
    /* tenths, ties to even (Python's round(x, 1) of the value) */
    int64_t x = (int64_t)ecap_q * 10;
    int64_t a = x < 0 ? -x : x;
    int64_t t = a >> FW_ECAP_Q, rem = a & (FW_ECAP_ONE - 1);
    if (rem > FW_ECAP_ONE / 2 || (rem == FW_ECAP_ONE / 2 && (t & 1))) {
        t++;
    }
    if (x < 0 && t != 0) {
        fw_buf_char(b, '-');
    }
    fw_buf_u64(b, (uint64_t)(t / 10));
    if (t % 10) {
        fw_buf_char(b, '.');
        fw_buf_char(b, (char)('0' + (int)(t % 10)));
    }
}

/* sched.c -- see sched.h. */
#include "sched.h"
#include "params_gen.h"

static uint64_t pulse_time(const fw_sched_t *s, uint64_t k, uint32_t m)
{
    if (s->mode == FW_MODE_BURST) {
        uint64_t num = k * 1000000u * s->intra + (uint64_t)m * 1000000u * s->rate;
        return num / ((uint64_t)s->rate * s->intra);
    }
    return k * 1000000u / s->rate;
}

/* The first pulse at or after (k, m) whose start is in an on interval. */
static void first_delivered(const fw_sched_t *s, uint64_t k, uint32_t m, uint64_t *ok, uint32_t *om,
                            uint64_t *ot)
{
    uint64_t t = pulse_time(s, k, m);
    if (s->on_us > 0) {
        uint64_t cycle = s->on_us + s->off_us;
        uint64_t into = t % cycle;
        if (into >= s->on_us) {
            uint64_t b = t - into + cycle; /* next on interval starts here */
            if (s->mode == FW_MODE_BURST) {
                /* burst j0 contains or precedes b; its first pulse at or after b */
                uint64_t j0 = b * s->rate / 1000000u;
                uint32_t mm = 0;
                while (mm < s->burst_n && pulse_time(s, j0, mm) < b) {
                    mm++;
                }
                if (mm >= s->burst_n) {
                    j0++;
                    mm = 0;
                }
                k = j0;
                m = mm;
            } else {
                /* smallest k with k*1e6/rate >= b */
                k = (b * s->rate + 999999u) / 1000000u;
            }
            t = pulse_time(s, k, m);
        }
    }
    *ok = k;
    *om = m;
    *ot = t;
}

static void advance(const fw_sched_t *s, uint64_t k, uint32_t m, uint64_t *nk, uint32_t *nm)
{
    if (s->mode == FW_MODE_BURST) {
        if (m + 1u < s->burst_n) {
            *nk = k;
            *nm = m + 1u;
        } else {
            *nk = k + 1u;
            *nm = 0;
        }
    } else {
        *nk = k + 1u;
        *nm = 0;
    }
}

static uint32_t ramp_amp(const fw_sched_t *s, uint64_t t)
{
    uint64_t since = t;
    if (s->ramp_us == 0) {
        return s->amp_ua;
    }
    if (s->on_us > 0) {
        since = t % (s->on_us + s->off_us);
    }
    if (since >= s->ramp_us) {
        return s->amp_ua;
    }
    return (uint32_t)((uint64_t)s->amp_ua * since / s->ramp_us);
}

static void push(fw_sched_t *s, uint64_t t, uint8_t out, uint8_t level, uint32_t amp)
{
    if (s->qn < sizeof s->q / sizeof s->q[0]) {
        s->q[s->qn].t_us = t;
        s->q[s->qn].out = out;
        s->q[s->qn].level = level;
        s->q[s->qn].amp_ua = amp;
        s->qn++;
    }
}

/* Fill the queue with the edges of the next delivered pulse. */
static void emit_pulse(fw_sched_t *s)
{
    uint64_t k, t, nk, nt;
    uint32_t m, nm, amp;
    if (!s->have_next) {
        first_delivered(s, s->k, s->m, &s->next_k, &s->next_m, &s->next_t);
        s->have_next = 1;
    }
    k = s->next_k;
    m = s->next_m;
    t = s->next_t;
    advance(s, k, m, &nk, &nm);
    first_delivered(s, nk, nm, &s->next_k, &s->next_m, &nt);
    s->next_t = nt;
    s->k = s->next_k;
    s->m = s->next_m;
    amp = ramp_amp(s, t);
    s->qn = 0;
    s->qi = 0;
    if (s->recharge == FW_RECHARGE_ACTIVE) {
        push(s, t, FW_OUT_CATH, 1, amp);
        push(s, t + s->pw, FW_OUT_CATH, 0, amp);
        push(s, t + s->pw + s->ipg, FW_OUT_ANOD, 1, amp);
        push(s, t + 2u * s->pw + s->ipg, FW_OUT_ANOD, 0, amp);
        return;
    }
    if (s->anod_level) {
        push(s, t, FW_OUT_ANOD, 0, amp); /* break before make */
    }
    push(s, t, FW_OUT_CATH, 1, amp);
    push(s, t + s->pw, FW_OUT_CATH, 0, amp);
    /* the recharge path closes unless the next delivered pulse is in the same burst */
    if (s->mode != FW_MODE_BURST || s->next_k != k) {
        push(s, t + s->pw + s->ipg, FW_OUT_ANOD, 1, amp);
    }
}

void fw_sched_start(fw_sched_t *s, const fw_sched_program_t *p)
{
    s->mode = p->mode;
    s->recharge = p->recharge;
    s->burst_n = p->mode == FW_MODE_BURST ? (p->burst_n ? p->burst_n : 1) : 1;
    s->pw = p->pw_us;
    s->ipg = p->ipg_us;
    s->rate = p->rate_hz ? p->rate_hz : 1;
    s->intra = p->intra_hz ? p->intra_hz : 1;
    s->on_us = (p->cycle_on_ms && p->cycle_off_ms) ? (uint64_t)p->cycle_on_ms * 1000u : 0;
    s->off_us = (p->cycle_on_ms && p->cycle_off_ms) ? (uint64_t)p->cycle_off_ms * 1000u : 0;
    s->ramp_us = (uint64_t)p->ramp_ms * 1000u;
    s->amp_ua = p->amp_ua;
    s->k = 0;
    s->m = 0;
    s->have_next = 0;
    s->qn = 0;
    s->qi = 0;
    s->anod_level = 0;
    s->running = 1;
}

void fw_sched_stop(fw_sched_t *s)
{
    s->running = 0;
    s->qn = 0;
    s->qi = 0;
    s->anod_level = 0;
}

void fw_sched_set_amp(fw_sched_t *s, uint32_t amp_ua) { s->amp_ua = amp_ua; }

const fw_edge_t *fw_sched_peek(fw_sched_t *s)
{
    if (!s->running) {
        return 0;
    }
    if (s->qi >= s->qn) {
        emit_pulse(s);
    }
    return s->qi < s->qn ? &s->q[s->qi] : 0;
}

void fw_sched_pop(fw_sched_t *s)
{
    if (s->qi < s->qn) {
        if (s->q[s->qi].out == FW_OUT_ANOD) {
            s->anod_level = s->q[s->qi].level;
        }
        s->qi++;
    }
}

void fw_sched_skip_to(fw_sched_t *s, uint64_t t_us)
{
    if (!s->running) {
        return;
    }
    /* the first pulse (tonic) or burst (burst) starting after t_us */
    s->k = t_us * s->rate / 1000000u + 1u;
    s->m = 0;
    s->have_next = 0;
    s->qn = 0;
    s->qi = 0;
    s->anod_level = 0;
}

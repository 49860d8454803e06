/* ecap_run.c -- the closed loop run in the device's time (generator.ecap_loop): a run starts
 * at the program's amplitude when stimulation starts or what it runs changes (program,
 * amplitude, load, ACK=CHARGE) and ends when stimulation stops; its updates fall on
 * fw_loop_update_us after the start, and !ECAP goes out every FW_ECAP_STREAM_US while
 * streaming. What SIM sets of the nerve is environment: it survives SIM RESET. */
#include "device_api.h"

void fw_loop_env_defaults(fw_device_t *d)
{
    d->nerve.posture = FW_NERVE_POSTURE_DEFAULT;
    d->nerve.cough_until_us = 0;
    d->nerve.noise_micro = FW_ECAP_NOISE_DEFAULT_MICRO;
    d->nerve.eps_micro = 1000000u;
}

static int mem_equal(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    while (n--) {
        if (*x++ != *y++) {
            return 0;
        }
    }
    return 1;
}

uint8_t fw_active_ack(const fw_device_t *d)
{
    uint8_t a = d->img.p.active_slot;
    if (d->test_on) {
        return d->test_ack;
    }
    return (a >= 1 && a <= FW_N_SLOTS && d->img.p.slots[a - 1].used) ? d->img.p.slots[a - 1].ack : 0;
}

void fw_loop_sync(fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    fw_loop_run_t *run = &d->run;
    uint32_t ohm = d->img.p.impedance_default;
    uint8_t ack = fw_active_ack(d);
    if (!d->fam->loop_modes || !d->stim_on || !p) {
        run->on = 0;
        return;
    }
    if (run->on && run->lead_ohm == ohm && run->ack == ack && mem_equal(&run->prog, p, sizeof *p)) {
        return;
    }
    run->on = 1;
    run->prog = *p;
    run->lead_ohm = ohm;
    run->ack = ack;
    fw_loop_clamp(d->fam, p, ohm, ack, 1, &run->clamp);
    run->start_us = hal_now_us();
    run->amp_ua = p->v[FW_P_AMP];
    run->next = 0;
    run->has_last = 0;
    if (d->stream) {
        d->stream_next_us = run->start_us;
    }
}

static void update(fw_device_t *d, uint64_t t_us)
{
    fw_loop_run_t *run = &d->run;
    int32_t e = hal_ecap_measure_uv(&run->prog, run->lead_ohm, run->amp_ua, &d->nerve, t_us);
    run->last_q = e;
    run->last_amp_ua = run->amp_ua;
    run->has_last = 1;
    run->amp_ua = fw_loop_step(run->amp_ua, e, run->prog.loop.v[FW_LK_TARGET_UV], run->prog.loop.v[FW_LK_GAIN],
                               &run->clamp);
    run->next++;
}

int32_t fw_loop_reading(fw_device_t *d, uint64_t now_us, int32_t *amp_ua)
{
    fw_loop_run_t *run = &d->run;
    if (!run->on) {
        *amp_ua = 0;
        return 0;
    }
    if (fw_prog_closed(&run->prog) && run->has_last) {
        *amp_ua = run->last_amp_ua;
        return run->last_q;
    }
    *amp_ua = run->amp_ua;
    return hal_ecap_measure_uv(&run->prog, run->lead_ohm, run->amp_ua, &d->nerve, now_us);
}

void fw_loop_advance(fw_device_t *d, uint64_t now_us)
{
    fw_loop_run_t *run = &d->run;
    uint32_t rate;
    int closed;
    fw_loop_sync(d);
    if (!run->on || now_us <= run->start_us) {
        return;
    }
    rate = (uint32_t)run->prog.v[FW_P_RATE];
    closed = fw_prog_closed(&run->prog);
    if (now_us - run->start_us > FW_ECAP_CATCH_UP_US) { /* a long silence: only its last part is played */
        uint64_t since = now_us - FW_ECAP_CATCH_UP_US;
        uint64_t first = fw_loop_first_update_at(since - run->start_us, rate);
        run->next = first > run->next ? first : run->next;
        d->stream_next_us = since > d->stream_next_us ? since : d->stream_next_us;
    }
    for (;;) {
        uint64_t t_update = closed ? run->start_us + fw_loop_update_us(run->next, rate) : UINT64_MAX;
        uint64_t t_event = d->stream ? d->stream_next_us : UINT64_MAX;
        uint64_t t = t_update < t_event ? t_update : t_event;
        if (t > now_us) {
            return;
        }
        if (t_update <= t_event) {
            update(d, t);
        } else {
            int32_t amp, e = fw_loop_reading(d, t, &amp);
            fw_buf_t *b = fw_event_open(d, "ECAP");
            fw_buf_str(b, " UV=");
            fw_ecap_format(b, e);
            fw_buf_kv_i64(b, "AMP", amp);
            fw_event_close(d);
            d->stream_next_us += FW_ECAP_STREAM_US;
        }
    }
}

int32_t fw_output_amp(const fw_device_t *d)
{
    const fw_program_t *p = fw_active_prog(d);
    if (d->fam->loop_modes && d->run.on) {
        return d->run.amp_ua;
    }
    return p ? p->v[FW_P_AMP] : 0;
}

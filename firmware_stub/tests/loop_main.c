/* loop_main.c -- the stub's closed loop run by itself, update after update, on the host
 * build's virtual nerve: the firmware's own loop core (loop.c) and HAL measurement
 * (host/hal_nerve.c), without the protocol or real time, so the tests can hold 10,000
 * updates of it against the Python loop, and the benchmark can time it.
 *
 *   stimfw-loop AMP PW RATE ELEC TARGET GAIN AMP_MIN AMP_MAX N [SCHEDULE] [--quiet]
 *
 * SCHEDULE: comma items, each taking effect at an update index: "sitting@0,supine@3000,
 * cough@6000" (a cough covers the next second of updates). Prints "amp_ua ecap_q" per
 * update (the amplitude measured and its ECAP, uV * 2^16); --quiet prints only the count
 * and the final amplitude. Noise 0, eps 1, the family's default contact impedance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal.h"
#include "loop.h"

static const char *const postures[FW_NERVE_POSTURE_COUNT] = FW_NERVE_POSTURE_WIRE_TABLE;

static int posture_index(const char *name, size_t n)
{
    int i;
    for (i = 0; i < FW_NERVE_POSTURE_COUNT; i++) {
        if (strlen(postures[i]) == n && fw_memeq_nocase(name, n, postures[i])) {
            return i;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    fw_program_t p;
    fw_clamp_t c;
    fw_nerve_env_t env;
    const fw_family_t *f = fw_family(FW_FAMILY_SCS_CL);
    long n, i, changes[64][2];
    int nchanges = 0, quiet = argc > 11 && strcmp(argv[argc - 1], "--quiet") == 0;
    int32_t amp;
    uint32_t rate;
    if (argc < 10) {
        fprintf(stderr, "usage: %s AMP PW RATE ELEC TARGET GAIN AMP_MIN AMP_MAX N [SCHEDULE] [--quiet]\n", argv[0]);
        return 2;
    }
    memset(&p, 0, sizeof p);
    p.mode = FW_MODE_TONIC;
    p.recharge = fw_recharge_default(p.mode);
    p.v[FW_P_AMP] = atoi(argv[1]);
    p.v[FW_P_PW] = atoi(argv[2]);
    p.v[FW_P_RATE] = atoi(argv[3]);
    if (fw_elec_parse(argv[4], strlen(argv[4]), p.pairs, &p.npairs) != 1) {
        fprintf(stderr, "bad ELEC %s\n", argv[4]);
        return 2;
    }
    fw_loop_keys_default(&p.loop);
    p.loop.given = 1;
    p.loop.v[FW_LK_LOOP] = FW_LOOP_MODE_ECAP;
    p.loop.v[FW_LK_TARGET_UV] = atoi(argv[5]);
    p.loop.v[FW_LK_GAIN] = atoi(argv[6]);
    p.lim[0] = atoi(argv[7]);
    p.lim[1] = atoi(argv[8]);
    p.lim_set = 3u;
    n = atol(argv[9]);
    if (argc > 10 && argv[10][0] != '-') {
        char *item = argv[10];
        while (*item && nchanges < 64) {
            char *at = strchr(item, '@'), *end = strchr(item, ',');
            size_t len = at ? (size_t)(at - item) : 0;
            if (!at) {
                fprintf(stderr, "bad schedule item %s\n", item);
                return 2;
            }
            changes[nchanges][0] = atol(at + 1);
            changes[nchanges][1] = len == 5 && fw_memeq_nocase(item, 5, "COUGH") ? -1 : posture_index(item, len);
            if (changes[nchanges][1] < -1 || (changes[nchanges][1] == -1 && len != 5)) {
                fprintf(stderr, "bad schedule item %s\n", item);
                return 2;
            }
            nchanges++;
            item = end ? end + 1 : item + strlen(item);
        }
    }
    env.posture = FW_NERVE_POSTURE_DEFAULT;
    env.cough_until_us = 0;
    env.noise_micro = 0;
    env.eps_micro = 1000000u;
    rate = (uint32_t)p.v[FW_P_RATE];
    fw_loop_clamp(f, &p, f->contact_ohm, 0, 1, &c);
    amp = p.v[FW_P_AMP];
    for (i = 0; i < n; i++) {
        uint64_t t = fw_loop_update_us((uint64_t)i, rate) + 1u; /* time from 1 us: a cough from 0 covers it */
        int32_t e;
        int k;
        for (k = 0; k < nchanges; k++) {
            if (changes[k][0] == i) {
                if (changes[k][1] < 0) {
                    uint64_t until = t + FW_ECAP_COUGH_US;
                    env.cough_until_us = until > env.cough_until_us ? until : env.cough_until_us;
                } else {
                    env.posture = (uint8_t)changes[k][1];
                }
            }
        }
        e = hal_ecap_measure_uv(&p, f->contact_ohm, amp, &env, t);
        if (!quiet) {
            printf("%ld %ld\n", (long)amp, (long)e);
        }
        amp = fw_loop_step(amp, e, p.loop.v[FW_LK_TARGET_UV], p.loop.v[FW_LK_GAIN], &c);
    }
    if (quiet) {
        printf("%ld %ld\n", n, (long)amp);
    }
    return 0;
}

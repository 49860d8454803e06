/* loop.h -- the closed loop of family SCS-CL in fixed point (stimsim.closedloop.loop).
 *
 * An ECAP is a microvolt figure in Q16.16 (int32: uV * 2^16, FW_ECAP_Q), as a board's ADC
 * path or the host build's virtual nerve hands it over (hal_ecap_measure_uv). One update:
 *     I(n+1) = clamp(round(I(n) + GAIN * (TARGET - E(n))))
 * in whole uA, halves away from zero, computed exactly in 64-bit integers from the Q16.16
 * ECAP. The clamp is the program's AMP_MIN..AMP_MAX, the mode's range, the contact
 * interlock, the compliance limit and, unless the slot was written with ACK=CHARGE, the
 * start of the charge-density zone; when the ends cross the upper one wins. */
#ifndef STIMFW_LOOP_H
#define STIMFW_LOOP_H

#include <stdint.h>
#include "program.h"
#include "text.h"

#define FW_ECAP_Q 16
#define FW_ECAP_ONE (1L << FW_ECAP_Q) /* 1 uV */

typedef struct {
    int32_t low_ua, high_ua;
} fw_clamp_t;

/* Stimulation under one program: where the loop stands (generator.ecap_loop._Run). */
typedef struct {
    uint8_t on;            /* stimulating under prog */
    uint8_t ack;           /* prog was written (or tried) with ACK=CHARGE */
    uint8_t has_last;      /* an update has measured */
    uint32_t lead_ohm;
    fw_program_t prog;     /* what the run started under: another program, amplitude or load restarts it */
    fw_clamp_t clamp;
    uint64_t start_us;
    int32_t amp_ua;        /* the amplitude of the moment */
    uint64_t next;         /* the next update's index */
    int32_t last_q;        /* the last update's ECAP and the amplitude that evoked it */
    int32_t last_amp_ua;
} fw_loop_run_t;

/* The loop's clamp for p (closedloop.clamp_for); with_limits 0: without the program's
 * AMP_MIN..AMP_MAX (the most an ECAP SWEEP may deliver). */
void fw_loop_clamp(const fw_family_t *f, const fw_program_t *p, uint32_t lead_ohm, int acknowledged,
                   int with_limits, fw_clamp_t *out);
/* One update: the next amplitude in uA. */
int32_t fw_loop_step(int32_t amp_ua, int32_t ecap_q, int32_t target_uv, int32_t gain, const fw_clamp_t *c);
/* The pulse (0 = the first) of update n at rate_hz: every pulse up to FW_LOOP_MAX_UPDATE_HZ, else
 * the first pulse at or after each multiple of 1/FW_LOOP_MAX_UPDATE_HZ s. */
uint64_t fw_loop_update_pulse(uint64_t n, uint32_t rate_hz);
/* The time (us after the start, rounded up) of update n. */
uint64_t fw_loop_update_us(uint64_t n, uint32_t rate_hz);
/* The index of the first update at or after t_us after the start. */
uint64_t fw_loop_first_update_at(uint64_t t_us, uint32_t rate_hz);
/* An ECAP as the wire writes it: one decimal, "41.3", "0", "-2.5" (generator.ecap_loop.fmt_uv). */
void fw_ecap_format(fw_buf_t *b, int32_t ecap_q);

#endif

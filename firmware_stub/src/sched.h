/* sched.h -- the pulse scheduler: the edge times of the active program (model.md
 * section 3) in integer microseconds from the moment stimulation turned on (t = 0).
 *
 * Pulse k starts at floor(k*1e6/RATE) (tonic, hf); burst j's pulse m at
 * floor((j*1e6*INTRA + m*1e6*RATE) / (RATE*INTRA)), exact rationals floored once, so
 * no error accumulates. Each pulse: cathodic for PW, the gap, then with active recharge
 * the anodic phase for PW. With passive recharge the ANOD output is the recharge switch:
 * it opens (0) at each cathodic start and closes (1) at the end of the cathodic phase
 * plus IPG (tonic) or of the burst's last delivered pulse plus IPG (burst). Cycling
 * drops every pulse whose start is in an off interval; the ramp scales amplitude by
 * min(1, s/RAMP), s measured from the start of stimulation or of the on interval. */
#ifndef STIMFW_SCHED_H
#define STIMFW_SCHED_H

#include <stdint.h>

enum { FW_OUT_CATH = 0, FW_OUT_ANOD = 1 };

typedef struct {
    uint64_t t_us;    /* from the timeline's t = 0 */
    uint32_t amp_ua;  /* amplitude of the pulse this edge belongs to */
    uint8_t out;      /* FW_OUT_* */
    uint8_t level;    /* 1 = driven (or switch closed), 0 = off */
} fw_edge_t;

typedef struct {
    uint8_t mode, recharge, burst_n;
    uint32_t pw, ipg, rate, intra;
    uint64_t on_us, off_us, ramp_us;  /* on_us == 0: continuous */
    uint32_t amp_ua;                  /* delivered amplitude */
    /* iterator: the next pulse to emit (k for tonic/hf; j, m for burst) */
    uint64_t k;
    uint32_t m;
    int have_next;
    uint64_t next_t;
    uint64_t next_k;
    uint32_t next_m;
    /* edges of the pulse being emitted */
    fw_edge_t q[5];
    uint8_t qn, qi;
    uint8_t anod_level;
    uint8_t running;
} fw_sched_t;

typedef struct {
    uint8_t mode, recharge, burst_n;
    uint32_t pw_us, ipg_us, rate_hz, intra_hz;
    uint32_t cycle_on_ms, cycle_off_ms, ramp_ms;
    uint32_t amp_ua;
} fw_sched_program_t;

void fw_sched_start(fw_sched_t *s, const fw_sched_program_t *p);
void fw_sched_stop(fw_sched_t *s);
/* Change the amplitude of pulses not yet started (AMP while stimulating). */
void fw_sched_set_amp(fw_sched_t *s, uint32_t amp_ua);
/* The next edge, or NULL when stopped. Never NULL while running (trains are endless). */
const fw_edge_t *fw_sched_peek(fw_sched_t *s);
void fw_sched_pop(fw_sched_t *s);
/* Skip every pulse starting before t_us (resync after a long stall); outputs low. */
void fw_sched_skip_to(fw_sched_t *s, uint64_t t_us);

#endif

/* hal.h -- what the portable core needs from a board (or from the host build).
 * The core calls these; each port (host/, board/rp2040/) implements them once. */
#ifndef STIMFW_HAL_H
#define STIMFW_HAL_H

#include <stddef.h>
#include <stdint.h>
#include "program.h"
#include "sched.h"

/* Monotonic microseconds since power-up. */
uint64_t hal_now_us(void);

/* Bytes to the host (USB CDC, UART, pty, TCP). Never blocks for long: a port that
 * cannot send drops the bytes rather than stall stimulation. */
void hal_io_write(const char *data, size_t len);

/* Unpredictable 32 bits for login nonces, BOOT ids, PIN salts and the device key. */
uint32_t hal_random32(void);

/* Persistent store: two banks of FW_STORE_BANK_SIZE bytes (areas 0 and 1), and area 2,
 * the small device record (store.h, at most 4 KB), written once at the first start and
 * kept apart from the banks (its own file or flash sector).
 * read: returns the bytes read into buf (0..len), or -1 when the area holds nothing.
 * write: replaces the whole bank; returns 0 on success. A power loss during a write
 * may leave that bank torn, never the other one: the core writes only the bank that
 * is not current and trusts a bank only with a valid CRC (store.c). */
int hal_store_read(unsigned bank, void *buf, size_t len);
int hal_store_write(unsigned bank, const void *buf, size_t len);

/* Phase outputs (cathodic, anodic). A timeline starts at absolute time t0_us; each
 * edge is due at t0_us + e->t_us. The core hands edges over up to its horizon ahead
 * of time, in order; a board queues them for a hardware alarm, the host writes them
 * to its trace. hal_phase_off: both outputs low at once, queued edges dropped. */
void hal_phase_begin(uint64_t t0_us);
void hal_phase_edge(uint64_t t0_us, const fw_edge_t *e);
void hal_phase_off(uint64_t now_us);

/* The closed loop's measurement (family SCS-CL). After a pulse of amp_ua (as programmed;
 * the output stage limits it to what the rail delivers) under program p, the evoked
 * compound action potential on p's sense contacts (p->loop.sense), in microvolts as Q16.16
 * fixed point (loop.h: uV * 2^16). A board reads its ECAP amplifier through its ADC; the
 * host build answers from its virtual nerve, which the SIM controls in env move (a board
 * ignores env). t_us is the pulse's time (a cough covers [start, start + 1 s)). */
typedef struct {
    uint8_t posture;          /* FW_NERVE_POSTURE_WIRE_TABLE index */
    uint64_t cough_until_us;  /* a cough until then (0: none) */
    uint64_t noise_micro;     /* Gaussian noise sigma, uV x 1e6 */
    uint64_t eps_micro;       /* the patient's threshold factor x 1e6 */
} fw_nerve_env_t;
int32_t hal_ecap_measure_uv(const fw_program_t *p, uint32_t lead_ohm, int32_t amp_ua, const fw_nerve_env_t *env,
                            uint64_t t_us);
/* The ECAP threshold T in uA for p at t_us (ECAP T_UA=): the host's nerve knows it; a board
 * that has no estimate of its own answers 0 (ECAP SWEEP's growth curve shows it). */
int32_t hal_ecap_threshold_ua(const fw_program_t *p, uint32_t lead_ohm, const fw_nerve_env_t *env, uint64_t t_us);

/* A diagnostic line for people (stderr on the host, nothing on a board). */
void hal_diag(const char *text);

#endif

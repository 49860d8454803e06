/* hal.h -- what the portable core needs from a board (or from the host build).
 * The core calls these; each port (host/, board/rp2040/) implements them once. */
#ifndef STIMFW_HAL_H
#define STIMFW_HAL_H

#include <stddef.h>
#include <stdint.h>
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

/* A diagnostic line for people (stderr on the host, nothing on a board). */
void hal_diag(const char *text);

#endif

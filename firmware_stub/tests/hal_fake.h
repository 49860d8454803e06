/* hal_fake.h -- a HAL for tests: a clock the test sets, output captured in memory,
 * an in-memory two-bank store that can tear a write, edges handed to a callback. */
#ifndef STIMFW_HAL_FAKE_H
#define STIMFW_HAL_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include "hal.h"

#define FAKE_OUT_CAP 65536

extern uint64_t fake_now_us;
extern char fake_out[FAKE_OUT_CAP];
extern size_t fake_out_len;
extern int fake_store_fail_at;   /* bank write number (1-based) that tears halfway; 0: never */
extern int fake_store_writes;
extern void (*fake_edge_cb)(uint64_t t0_us, const fw_edge_t *e);
extern void (*fake_off_cb)(uint64_t now_us);

void fake_reset_all(void);
void fake_out_clear(void);
/* Corrupt one byte of a bank (to test the CRC). */
void fake_store_poke(unsigned bank, size_t offset, uint8_t xor_value);
/* A factory-fresh store: both banks and the device record gone. */
void fake_store_wipe(void);
/* Both banks gone, the device record kept (a state that was written and is lost). */
void fake_store_wipe_banks(void);
void fake_store_wipe_device_record(void);
/* The raw bytes of an area (2: the device record). */
void fake_store_copy(unsigned bank, uint8_t *out, size_t len);

#endif

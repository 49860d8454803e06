/* hal_rp2040.c -- the HAL on a Raspberry Pi Pico (pico-sdk).
 *
 * - clock: the 64-bit microsecond timer (time_us_64).
 * - phase outputs: GP14 (cathodic) and GP15 (anodic), driven from a hardware alarm
 *   interrupt at each edge's exact time; the main loop queues edges about 1 ms ahead
 *   (fw_poll horizon), the interrupt pops and drives them.
 * - store: the last 16 KB of flash as two 8 KB banks (erase + program a whole bank), and
 *   the device record in the 4 KB sector below them.
 *   Interrupts are off while a sector is erased or programmed (tens of ms), so edges
 *   are late during a store write; a product would keep the state in FRAM or write
 *   between pulse trains.
 * - byte I/O: USB CDC through pico_stdio_usb, without CR/LF translation.
 * - random: pico_rand (ring oscillator and timer entropy).
 * - ECAP (family SCS-CL): the sense amplifier's output on GP26 / ADC0, mid-rail at 0 uV,
 *   ECAP_FRONTEND_GAIN from the sense contacts; sampled once per call, after the pulse. */
#include <string.h>

#include "board_pins.h"
#include "hal.h"
#include "hardware/adc.h"
#include "hardware/flash.h"
#include "hardware/gpio.h"
#include "hardware/sync.h"
#include "hardware/timer.h"
#include "pico/rand.h"
#include "pico/stdlib.h"
#include "loop.h"
#include "store.h"

void hal_rp2040_init(void);

/* ---- phase edges: a single-producer (main loop) single-consumer (alarm IRQ) ring ---- */

#define EDGE_RING 256u /* 10 kHz x 4 edges x 1 ms horizon = 40 edges; room to spare */

typedef struct {
    uint64_t at_us;
    uint8_t pin;
    uint8_t level;
} queued_edge_t;

static queued_edge_t ring[EDGE_RING];
static volatile uint32_t ring_head; /* written by the main loop */
static volatile uint32_t ring_tail; /* written by the interrupt */

static void on_alarm(uint alarm)
{
    (void)alarm;
    for (;;) {
        uint32_t tail = ring_tail;
        queued_edge_t *e;
        if (tail == ring_head) {
            return; /* nothing queued: the alarm stays idle until hal_phase_edge arms it */
        }
        e = &ring[tail % EDGE_RING];
        if (e->at_us > time_us_64()) {
            /* set_target returns true when the time has already passed: then loop */
            if (!hardware_alarm_set_target(ALARM_NUM, from_us_since_boot(e->at_us))) {
                return;
            }
            continue;
        }
        gpio_put(e->pin, e->level);
        ring_tail = tail + 1u;
    }
}

void hal_phase_begin(uint64_t t0_us)
{
    (void)t0_us;
    gpio_put(PIN_STIM_LED, 1);
}

void hal_phase_edge(uint64_t t0_us, const fw_edge_t *e)
{
    uint32_t head = ring_head;
    queued_edge_t *q;
    if (head - ring_tail >= EDGE_RING) {
        return; /* cannot happen with the 1 ms horizon; never overwrite a pending edge */
    }
    q = &ring[head % EDGE_RING];
    q->at_us = t0_us + e->t_us;
    q->pin = e->out == FW_OUT_CATH ? PIN_CATHODIC : PIN_ANODIC;
    q->level = e->level;
    ring_head = head + 1u;
    if (head == ring_tail) {
        /* the ring was empty, so the alarm is idle: arm it (or run at once if due) */
        if (hardware_alarm_set_target(ALARM_NUM, from_us_since_boot(q->at_us))) {
            uint32_t irq = save_and_disable_interrupts();
            on_alarm(ALARM_NUM);
            restore_interrupts(irq);
        }
    }
}

void hal_phase_off(uint64_t now_us)
{
    uint32_t irq = save_and_disable_interrupts();
    (void)now_us;
    hardware_alarm_cancel(ALARM_NUM);
    ring_tail = ring_head;
    gpio_put(PIN_CATHODIC, 0);
    gpio_put(PIN_ANODIC, 0);
    gpio_put(PIN_STIM_LED, 0);
    restore_interrupts(irq);
}

/* ---- clock, random, I/O, diagnostics ---- */

uint64_t hal_now_us(void) { return time_us_64(); }

uint32_t hal_random32(void) { return get_rand_32(); }

void hal_io_write(const char *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        putchar_raw((unsigned char)data[i]);
    }
    stdio_flush();
}

void hal_diag(const char *text) { (void)text; /* the USB port carries protocol lines only */ }

/* ---- store: two 8 KB banks at the end of flash, the device record in the 4 KB sector
 * before them ---- */

#define BANK_OFFSET(b) (PICO_FLASH_SIZE_BYTES - 2u * FW_STORE_BANK_SIZE + (b) * FW_STORE_BANK_SIZE)
#define DEVICE_OFFSET (PICO_FLASH_SIZE_BYTES - 2u * FW_STORE_BANK_SIZE - FLASH_SECTOR_SIZE)
#define AREA_OFFSET(b) ((b) == FW_STORE_DEVICE_AREA ? DEVICE_OFFSET : BANK_OFFSET(b))
#define AREA_SIZE(b) ((b) == FW_STORE_DEVICE_AREA ? FLASH_SECTOR_SIZE : FW_STORE_BANK_SIZE)

int hal_store_read(unsigned bank, void *buf, size_t len)
{
    const uint8_t *flash;
    static const uint8_t erased[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    if (bank > FW_STORE_DEVICE_AREA || len > AREA_SIZE(bank)) {
        return -1;
    }
    flash = (const uint8_t *)(XIP_BASE + AREA_OFFSET(bank));
    if (memcmp(flash, erased, sizeof erased) == 0) {
        return -1; /* an erased area holds nothing */
    }
    memcpy(buf, flash, len);
    return (int)len;
}

int hal_store_write(unsigned bank, const void *buf, size_t len)
{
    static uint8_t page[FLASH_PAGE_SIZE];
    size_t off;
    uint32_t irq;
    if (bank > FW_STORE_DEVICE_AREA || len > AREA_SIZE(bank)) {
        return -1;
    }
    irq = save_and_disable_interrupts();
    flash_range_erase(AREA_OFFSET(bank), AREA_SIZE(bank));
    for (off = 0; off < len; off += FLASH_PAGE_SIZE) {
        size_t n = len - off < FLASH_PAGE_SIZE ? len - off : FLASH_PAGE_SIZE;
        memset(page, 0xFF, sizeof page);
        memcpy(page, (const uint8_t *)buf + off, n);
        flash_range_program(AREA_OFFSET(bank) + off, page, FLASH_PAGE_SIZE);
    }
    restore_interrupts(irq);
    return memcmp((const void *)(XIP_BASE + AREA_OFFSET(bank)), buf, len) == 0 ? 0 : -1;
}

/* ---- ECAP: the sense amplifier through the ADC ---- */

int32_t hal_ecap_measure_uv(const fw_program_t *p, uint32_t lead_ohm, int32_t amp_ua, const fw_nerve_env_t *env,
                            uint64_t t_us)
{
    static int ready;
    int64_t counts;
    (void)p, (void)lead_ohm, (void)amp_ua, (void)env, (void)t_us; /* the nerve answers, not a model */
    if (!ready) {
        adc_init();
        adc_gpio_init(PIN_ECAP_ADC);
        ready = 1;
    }
    adc_select_input(ECAP_ADC_INPUT);
    counts = (int64_t)adc_read() - ECAP_ADC_COUNTS / 2;
    /* counts * (mV per count) * 1000 uV/mV / gain, in Q16.16 */
    return (int32_t)(counts * ((int64_t)ECAP_ADC_MV * 1000 << FW_ECAP_Q) / ((int64_t)ECAP_ADC_COUNTS * ECAP_FRONTEND_GAIN));
}

int32_t hal_ecap_threshold_ua(const fw_program_t *p, uint32_t lead_ohm, const fw_nerve_env_t *env, uint64_t t_us)
{
    (void)p, (void)lead_ohm, (void)env, (void)t_us;
    return 0; /* a board knows no threshold beforehand: ECAP SWEEP's growth curve shows it */
}

/* null_port.c -- a do-nothing Cortex-M port: the vector table, reset handler, the
 * mem* functions a freestanding build must supply, and HAL stubs. It exists only so
 * `make cortex-m` can link the core for a Cortex-M0+ and report the flash and RAM a
 * real port (board/rp2040/) would need for it; it is never flashed. */
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "verbs.h"
#include "hal.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void reset_handler(void);
int main(void);

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) {
            *d++ = *s++;
        }
    } else {
        while (n--) {
            d[n] = s[n];
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x < *y ? -1 : 1;
        }
    }
    return 0;
}

static volatile uint64_t ticks;
uint64_t hal_now_us(void) { return ticks++; }
void hal_io_write(const char *data, size_t len) { (void)data; (void)len; }
uint32_t hal_random32(void) { return (uint32_t)ticks * 2654435761u; }
int hal_store_read(unsigned bank, void *buf, size_t len) { (void)bank; (void)buf; (void)len; return -1; }
int hal_store_write(unsigned bank, const void *buf, size_t len) { (void)bank; (void)buf; (void)len; return 0; }
void hal_phase_begin(uint64_t t0_us) { (void)t0_us; }
void hal_phase_edge(uint64_t t0_us, const fw_edge_t *e) { (void)t0_us; (void)e; }
void hal_phase_off(uint64_t now_us) { (void)now_us; }
void hal_diag(const char *text) { (void)text; }
int32_t hal_ecap_measure_uv(const fw_program_t *p, uint32_t lead_ohm, int32_t amp_ua, const fw_nerve_env_t *env,
                            uint64_t t_us)
{
    (void)p, (void)lead_ohm, (void)amp_ua, (void)env, (void)t_us;
    return 0;
}
int32_t hal_ecap_threshold_ua(const fw_program_t *p, uint32_t lead_ohm, const fw_nerve_env_t *env, uint64_t t_us)
{
    (void)p, (void)lead_ohm, (void)env, (void)t_us;
    return 0;
}

int main(void)
{
    static const fw_port_t port = {"STIMFW-NULL", "0.1.0", "0", FW_CHEM_FAMILY, 1, 10, STIMFW_FAMILY};
    static volatile uint8_t rx;
    fw_init(&fw_dev, &port, &fw_verbs);
    for (;;) {
        uint8_t b = rx;
        fw_rx(&fw_dev, &b, 1);
        fw_poll(&fw_dev, 2000);
    }
}

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;

void reset_handler(void)
{
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start; dst < &__bss_end; dst++) {
        *dst = 0;
    }
    (void)main();
}

typedef void (*vector_fn)(void);
__attribute__((section(".vectors"), used)) static const vector_fn vectors[2] = {
    (vector_fn)(uintptr_t)&__stack_top, /* initial stack pointer */
    reset_handler,
};

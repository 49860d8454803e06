/* hal_fake.c -- see hal_fake.h. */
#include "hal_fake.h"
#include "store.h"
#include "text.h"

uint64_t fake_now_us = 1000;
char fake_out[FAKE_OUT_CAP];
size_t fake_out_len;
int fake_store_fail_at;
int fake_store_writes;
void (*fake_edge_cb)(uint64_t t0_us, const fw_edge_t *e);
void (*fake_off_cb)(uint64_t now_us);

static uint8_t banks[3][FW_STORE_BANK_SIZE]; /* bank 0, bank 1, the device record */
static int bank_len[3] = {-1, -1, -1};
static uint32_t rng = 0x12345678u;

void fake_reset_all(void)
{
    fake_now_us = 1000;
    fake_out_len = 0;
    fake_store_fail_at = 0;
    fake_store_writes = 0;
    fake_edge_cb = 0;
    fake_off_cb = 0;
    fake_store_wipe();
}

void fake_store_wipe(void)
{
    bank_len[0] = bank_len[1] = bank_len[2] = -1;
}

void fake_store_wipe_banks(void)
{
    bank_len[0] = bank_len[1] = -1;
}

void fake_store_wipe_device_record(void)
{
    bank_len[FW_STORE_DEVICE_AREA] = -1;
}

void fake_store_copy(unsigned bank, uint8_t *out, size_t len)
{
    if (bank < 3 && len <= FW_STORE_BANK_SIZE) {
        fw_memcpy(out, banks[bank], len);
    }
}

void fake_out_clear(void)
{
    fake_out_len = 0;
    fake_out[0] = '\0';
}

void fake_store_poke(unsigned bank, size_t offset, uint8_t xor_value)
{
    if (bank < 3 && offset < FW_STORE_BANK_SIZE) {
        banks[bank][offset] ^= xor_value;
    }
}

uint64_t hal_now_us(void) { return fake_now_us; }

void hal_io_write(const char *data, size_t len)
{
    if (fake_out_len + len >= FAKE_OUT_CAP) {
        fake_out_len = 0; /* a long soak: keep only the recent output */
    }
    fw_memcpy(fake_out + fake_out_len, data, len);
    fake_out_len += len;
    fake_out[fake_out_len] = '\0';
}

uint32_t hal_random32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

int hal_store_read(unsigned bank, void *buf, size_t len)
{
    size_t n;
    if (bank > 2 || bank_len[bank] < 0) {
        return -1;
    }
    n = (size_t)bank_len[bank] < len ? (size_t)bank_len[bank] : len;
    fw_memcpy(buf, banks[bank], n);
    return (int)n;
}

int hal_store_write(unsigned bank, const void *buf, size_t len)
{
    if (bank > 2 || len > FW_STORE_BANK_SIZE) {
        return -1;
    }
    if (bank == FW_STORE_DEVICE_AREA) {
        fw_memcpy(banks[bank], buf, len);
        bank_len[bank] = (int)len;
        return 0;
    }
    fake_store_writes++;
    if (fake_store_fail_at && fake_store_writes == fake_store_fail_at) {
        fw_memcpy(banks[bank], buf, len / 2); /* torn: power lost halfway */
        bank_len[bank] = (int)(len / 2);
        return -1;
    }
    fw_memcpy(banks[bank], buf, len);
    bank_len[bank] = (int)len;
    return 0;
}

void hal_phase_begin(uint64_t t0_us) { (void)t0_us; }

void hal_phase_edge(uint64_t t0_us, const fw_edge_t *e)
{
    if (fake_edge_cb) {
        fake_edge_cb(t0_us, e);
    }
}

void hal_phase_off(uint64_t now_us)
{
    if (fake_off_cb) {
        fake_off_cb(now_us);
    }
}

void hal_diag(const char *text) { (void)text; }

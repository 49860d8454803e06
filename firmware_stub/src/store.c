/* store.c -- see store.h. Everything read from a bank is range-checked before use. */
#include "store.h"
#include "crc.h"
#include "hal.h"
#include "text.h"

typedef char fw_image_fits_bank[(sizeof(fw_image_t) <= FW_STORE_BANK_SIZE) ? 1 : -1];

static uint32_t image_crc(const fw_image_t *img)
{
    return fw_crc32(0, (const uint8_t *)img, (size_t)((const char *)&img->crc - (const char *)img));
}

void fw_persist_defaults(fw_persist_t *p, int64_t batt_full_pj, uint32_t contact_ohm)
{
    fw_memset(p, 0, sizeof *p);
    p->active_slot = 1;
    p->impedance_default = contact_ohm;
    p->log_next_i = 1;
    p->batt_e_pj = batt_full_pj;
}

static int program_sane(const fw_program_t *g)
{
    uint8_t i;
    if (g->mode >= FW_MODE_COUNT || g->recharge > FW_RECHARGE_PASSIVE || g->npairs > FW_MAX_PAIRS ||
        g->name[FW_NAME_MAX] != '\0') {
        return 0;
    }
    for (i = 0; i < g->npairs; i++) {
        if (g->pairs[i].contact < 1 || g->pairs[i].contact > FW_CASE_CONTACT) {
            return 0;
        }
    }
    if (g->v[FW_P_RATE] < 1 || (g->mode == FW_MODE_BURST && (g->v[FW_P_INTRA] < 1 || g->v[FW_P_BURST_N] < 1))) {
        return 0;
    }
    return 1;
}

static int persist_sane(const fw_persist_t *p)
{
    unsigned i;
    if (p->active_slot < 1 || p->active_slot > FW_N_SLOTS || p->log_head >= FW_LOG_SIZE ||
        p->log_count > FW_LOG_SIZE || p->impedance_default < FW_IMPEDANCE_SHORT_OHM ||
        p->impedance_default > FW_IMPEDANCE_OPEN_OHM || p->batt_e_pj < 0 || p->wrong_proofs >= FW_LOCK_TRIES ||
        p->locked > 1) {
        return 0;
    }
    for (i = 0; i < FW_N_SLOTS; i++) {
        if (p->slots[i].used && !program_sane(&p->slots[i].prog)) {
            return 0;
        }
    }
    return 1;
}

/* 1: valid image in img; 0: bank torn or corrupt; -1: bank empty / missing. */
static int read_bank(unsigned bank, fw_image_t *img)
{
    int n = hal_store_read(bank, img, sizeof *img);
    if (n < 0) {
        return -1;
    }
    if ((size_t)n != sizeof *img || img->magic != FW_STORE_MAGIC || img->version != FW_STORE_VERSION ||
        img->size != sizeof *img || img->crc != image_crc(img) || !persist_sane(&img->p)) {
        return n == 0 ? -1 : 0;
    }
    return 1;
}

int fw_store_load(fw_image_t *img, uint8_t *bank)
{
    int v0, v1;
    uint32_t seq0 = 0, seq1;
    v0 = read_bank(0, img);
    if (v0 == 1) {
        seq0 = img->seq;
    }
    v1 = read_bank(1, img);
    if (v1 == 1) {
        seq1 = img->seq;
        if (v0 != 1 || (int32_t)(seq1 - seq0) > 0) {
            *bank = 1;
            return FW_STORE_OK;
        }
    }
    if (v0 == 1) {
        *bank = 0;
        return read_bank(0, img) == 1 ? FW_STORE_OK : FW_STORE_CORRUPT;
    }
    *bank = 1; /* so the first save goes to bank 0 */
    return (v0 == -1 && v1 == -1) ? FW_STORE_EMPTY : FW_STORE_CORRUPT;
}

int fw_store_save(fw_image_t *img, uint8_t *bank)
{
    uint8_t target = (uint8_t)(*bank ^ 1u);
    img->magic = FW_STORE_MAGIC;
    img->version = FW_STORE_VERSION;
    img->size = sizeof *img;
    img->seq++;
    img->crc = image_crc(img);
    if (hal_store_write(target, img, sizeof *img) != 0) {
        img->seq--;
        return -1;
    }
    *bank = target;
    return 0;
}

static uint32_t devrec_crc(const fw_devrec_t *rec)
{
    return fw_crc32(0, (const uint8_t *)rec, (size_t)((const char *)&rec->crc - (const char *)rec));
}

int fw_devrec_load(fw_devrec_t *rec)
{
    int n = hal_store_read(FW_STORE_DEVICE_AREA, rec, sizeof *rec);
    if (n < 0) {
        return FW_STORE_EMPTY;
    }
    if ((size_t)n != sizeof *rec || rec->magic != FW_DEVREC_MAGIC || rec->version != FW_DEVREC_VERSION ||
        rec->crc != devrec_crc(rec)) {
        return FW_STORE_CORRUPT;
    }
    return FW_STORE_OK;
}

int fw_devrec_save(fw_devrec_t *rec)
{
    rec->magic = FW_DEVREC_MAGIC;
    rec->version = FW_DEVREC_VERSION;
    rec->crc = devrec_crc(rec);
    return hal_store_write(FW_STORE_DEVICE_AREA, rec, sizeof *rec);
}

/* battery.c -- see battery.h. All integer; no drift: remainders are carried. */
#include "battery.h"
#include "params_gen.h"

typedef struct {
    int32_t permille;
    int32_t mv;
} ocv_point_t;

static const ocv_point_t ocv_liion[FW_OCV_LIION_COUNT] = FW_OCV_LIION_TABLE;
static const ocv_point_t ocv_primary[FW_OCV_PRIMARY_COUNT] = FW_OCV_PRIMARY_TABLE;
static const ocv_point_t ocv_pack[FW_OCV_PACK_COUNT] = FW_OCV_PACK_TABLE;
static const char *const chem_names[FW_CHEM_COUNT] = FW_CHEM_WIRE_TABLE;

#define STEP_MAX_US 1000000000ull /* simulated us per integration step: nW*us stays in int64 */

int64_t fw_batt_chem_capacity_pj(uint8_t chem)
{
    switch (chem) {
    case FW_CHEM_PRIMARY:
        return FW_PRIMARY_CAPACITY_PJ;
    case FW_CHEM_PACK:
        return FW_PACK_CAPACITY_PJ;
    default:
        return FW_LIION_CAPACITY_PJ;
    }
}

int64_t fw_batt_capacity_pj(const fw_batt_t *b) { return fw_batt_chem_capacity_pj(b->chem); }

const char *fw_batt_chem_name(uint8_t chem) { return chem_names[chem < FW_CHEM_COUNT ? chem : FW_CHEM_LIION]; }

/* The stop level (EMPTY / EOS) and the warning level (LOW / ERI) of the chemistry. */
static int32_t stop_permille(uint8_t chem)
{
    return chem == FW_CHEM_PRIMARY ? FW_PRIMARY_EOS_PERMILLE
                                   : (chem == FW_CHEM_PACK ? FW_PACK_EMPTY_PERMILLE : FW_LIION_STOP_PERMILLE);
}

static int32_t warn_permille(uint8_t chem)
{
    return chem == FW_CHEM_PRIMARY ? FW_PRIMARY_ERI_PERMILLE
                                   : (chem == FW_CHEM_PACK ? FW_PACK_LOW_PERMILLE : FW_LIION_LOW_PERMILLE);
}

/* E <= capacity * permille / 1000, exactly. */
static int at_or_below(const fw_batt_t *b, int32_t permille)
{
    return b->e_pj <= fw_batt_capacity_pj(b) / 1000 * permille;
}

static uint8_t level_of(const fw_batt_t *b)
{
    if (b->chem == FW_CHEM_PRIMARY) {
        if (b->eos || at_or_below(b, FW_PRIMARY_EOS_PERMILLE)) {
            return FW_BATT_EOS;
        }
        return at_or_below(b, FW_PRIMARY_ERI_PERMILLE) ? FW_BATT_ERI : FW_BATT_OK;
    }
    /* Li-ion and the pack: EMPTY holds while at or below its level (a charge or a fresh pack ends it) */
    if (at_or_below(b, stop_permille(b->chem))) {
        return FW_BATT_EMPTY;
    }
    return at_or_below(b, warn_permille(b->chem)) ? FW_BATT_LOW : FW_BATT_OK;
}

/* Re-derive the level; report every threshold passed on the way down. */
static unsigned update_level(fw_batt_t *b)
{
    uint8_t now = level_of(b);
    unsigned ev = 0;
    uint8_t l;
    if (now > b->level) {
        for (l = (uint8_t)(b->level + 1u); l <= now; l++) {
            if (b->chem == FW_CHEM_PRIMARY ? (l == FW_BATT_ERI || l == FW_BATT_EOS)
                                           : (l == FW_BATT_LOW || l == FW_BATT_EMPTY)) {
                ev |= 1u << l;
            }
        }
    }
    if (now == FW_BATT_EOS) {
        b->eos = 1;
    }
    b->level = now;
    return ev;
}

void fw_batt_init(fw_batt_t *b, uint8_t chem, int64_t e_pj, uint8_t eos)
{
    b->chem = chem < FW_CHEM_COUNT ? chem : FW_CHEM_LIION;
    b->e_pj = e_pj;
    if (b->e_pj < 0) {
        b->e_pj = 0;
    }
    if (b->e_pj > fw_batt_capacity_pj(b)) {
        b->e_pj = fw_batt_capacity_pj(b);
    }
    b->eos = (uint8_t)(b->chem == FW_CHEM_PRIMARY && eos);
    b->rem_fj = 0;
    b->rem_us_micro = 0;
    b->charger = 0;
    b->charging = 0;
    b->hot = 0;
    b->full = 0;
    b->speed_micro = 1000000u;
    b->draw_nw = FW_QUIESCENT_NW;
    b->level = FW_BATT_OK;
    (void)update_level(b); /* a boot at a low level reports no crossing */
}

int64_t fw_batt_stim_draw_nw(uint32_t amp_ua, uint32_t rail_mv, uint64_t driven_us_per_s, uint64_t on_num,
                             uint64_t on_den)
{
    /* I_out in nA = amp_uA * driven_us_per_s / 1e6 * 1000, cycling fraction applied */
    uint64_t i_na = (uint64_t)amp_ua * driven_us_per_s / 1000u;
    uint64_t p;
    if (on_den == 0) {
        on_den = on_num = 1;
    }
    i_na = i_na * on_num / on_den;
    /* I(nA) * V(mV) = pW * 1e3 ... P(nW) = I_nA * V_mV / 1e3 / eta */
    p = i_na * rail_mv / FW_EFFICIENCY_PERMILLE; /* (x/1000)/(eff/1000) */
    return FW_QUIESCENT_NW + (int64_t)p;
}

void fw_batt_set_draw(fw_batt_t *b, int64_t draw_nw) { b->draw_nw = draw_nw < 0 ? 0 : draw_nw; }

unsigned fw_batt_advance(fw_batt_t *b, uint64_t dt_real_us)
{
    unsigned ev = 0;
    uint64_t sim_us, total;
    int64_t cap = fw_batt_capacity_pj(b);
    if (dt_real_us > 100000000ull) {
        dt_real_us = 100000000ull; /* a stall of minutes counts as 100 s (keeps the product in range) */
    }
    total = dt_real_us * b->speed_micro + b->rem_us_micro;
    sim_us = total / 1000000u;
    b->rem_us_micro = total % 1000000u;
    while (sim_us > 0) {
        uint64_t step = sim_us > STEP_MAX_US ? STEP_MAX_US : sim_us;
        int64_t net_nw = -b->draw_nw;
        int64_t fj;
        sim_us -= step;
        if (b->charging) {
            net_nw += FW_LIION_CHARGE_NW;
        }
        fj = net_nw * (int64_t)step + b->rem_fj;
        b->e_pj += fj / 1000;
        b->rem_fj = fj % 1000;
        if (b->e_pj <= 0) {
            b->e_pj = 0;
            b->rem_fj = 0;
        }
        if (b->e_pj >= cap) {
            b->e_pj = cap;
            b->rem_fj = 0;
            if (b->charging) {
                b->charging = 0;
                b->full = 1;
                ev |= FW_BATT_EV_FULL;
            }
        }
    }
    return ev | update_level(b);
}

unsigned fw_batt_set_permille(fw_batt_t *b, uint32_t permille)
{
    if (permille > 1000) {
        permille = 1000;
    }
    b->e_pj = fw_batt_capacity_pj(b) / 1000 * (int64_t)permille;
    b->rem_fj = 0;
    return update_level(b);
}

void fw_batt_set_charger(fw_batt_t *b, int on)
{
    if ((uint8_t)(on != 0) != b->charger) {
        b->full = 0; /* a new charging session */
    }
    b->charger = (uint8_t)(on != 0);
    b->charging = (uint8_t)(b->charger && !b->hot && !b->full && b->chem == FW_CHEM_LIION);
}

void fw_batt_set_hot(fw_batt_t *b, int hot)
{
    b->hot = (uint8_t)(hot != 0);
    b->charging = (uint8_t)(b->charger && !b->hot && !b->full && b->chem == FW_CHEM_LIION);
}

uint32_t fw_batt_permille(const fw_batt_t *b)
{
    int64_t cap = fw_batt_capacity_pj(b);
    /* floor(E * 1000 / cap) without overflow: cap is a multiple of 1000 */
    return (uint32_t)(b->e_pj / (cap / 1000));
}

uint32_t fw_batt_vbat_mv(const fw_batt_t *b)
{
    const ocv_point_t *t = b->chem == FW_CHEM_PRIMARY ? ocv_primary : (b->chem == FW_CHEM_PACK ? ocv_pack : ocv_liion);
    unsigned n = b->chem == FW_CHEM_PRIMARY ? FW_OCV_PRIMARY_COUNT
                                            : (b->chem == FW_CHEM_PACK ? FW_OCV_PACK_COUNT : FW_OCV_LIION_COUNT);
    int64_t cap = fw_batt_capacity_pj(b);
    int64_t x = b->e_pj / (cap / 1000000); /* state of charge in ppm */
    unsigned i;
    for (i = 1; i < n; i++) {
        int64_t x0 = (int64_t)t[i - 1].permille * 1000, x1 = (int64_t)t[i].permille * 1000;
        if (x <= x1 || i == n - 1) {
            if (x < x0) {
                x = x0;
            }
            if (x > x1) {
                x = x1;
            }
            return (uint32_t)(t[i - 1].mv + (int64_t)(t[i].mv - t[i - 1].mv) * (x - x0) / (x1 - x0));
        }
    }
    return (uint32_t)t[0].mv;
}

uint64_t fw_batt_est_tenth_h(const fw_batt_t *b)
{
    int32_t stop = stop_permille(b->chem);
    int64_t left = b->e_pj - fw_batt_capacity_pj(b) / 1000 * stop;
    uint64_t d;
    if (left <= 0 || b->draw_nw <= 0) {
        return 0;
    }
    d = (uint64_t)b->draw_nw * 360000u; /* pJ per tenth of an hour at draw_nw */
    return ((uint64_t)left * 2u + d) / (2u * d);
}

const char *fw_batt_level_name(uint8_t level)
{
    switch (level) {
    case FW_BATT_LOW:
        return "LOW";
    case FW_BATT_EMPTY:
        return "EMPTY";
    case FW_BATT_ERI:
        return "ERI";
    case FW_BATT_EOS:
        return "EOS";
    default:
        return "OK";
    }
}

int fw_batt_blocks_stim(const fw_batt_t *b) { return b->level == FW_BATT_EMPTY || b->level == FW_BATT_EOS; }

/* battery.h -- fixed-point battery model (model.md section 5): energy in pJ, power in
 * nW, time in us; P = P_q + I_out * V_rail / eta while stimulating, P_q otherwise;
 * Li-ion with charger (LOW 20 %, EMPTY 5 %), primary cell (ERI 10 %, EOS 2 %) or the trial
 * stimulator's replaceable pack (LOW 20 %, EMPTY 5 % until a fresh pack, no charger); the
 * chemistry codes FW_CHEM_* are generated (params_gen.h).
 * Battery time runs at SIM SPEED x real time. */
#ifndef STIMFW_BATTERY_H
#define STIMFW_BATTERY_H

#include <stdint.h>
#include "params_gen.h"

/* Levels, least severe first (the order thresholds are crossed going down). */
enum { FW_BATT_OK = 0, FW_BATT_LOW, FW_BATT_EMPTY, FW_BATT_ERI, FW_BATT_EOS };
/* fw_batt_advance / fw_batt_set_permille report these bits. */
#define FW_BATT_EV_LOW (1u << FW_BATT_LOW)
#define FW_BATT_EV_EMPTY (1u << FW_BATT_EMPTY)
#define FW_BATT_EV_ERI (1u << FW_BATT_ERI)
#define FW_BATT_EV_EOS (1u << FW_BATT_EOS)
#define FW_BATT_EV_FULL (1u << 7)


typedef struct {
    uint8_t chem;
    uint8_t level;        /* FW_BATT_* */
    uint8_t eos;          /* end of service is final */
    uint8_t charger;      /* on the charger (SIM CHARGE=1) */
    uint8_t charging;     /* charging now (not full, not hot) */
    uint8_t hot;          /* charger over-temperature */
    uint8_t full;         /* charged to 100 % on this charger session */
    int64_t e_pj;         /* energy left */
    int64_t rem_fj;       /* energy below 1 pJ carried to the next step */
    uint64_t rem_us_micro;/* simulated time below 1 us carried (x1e6) */
    uint64_t speed_micro; /* SIM SPEED x 1e6 */
    int64_t draw_nw;      /* what the device draws now */
} fw_batt_t;

void fw_batt_init(fw_batt_t *b, uint8_t chem, int64_t e_pj, uint8_t eos);
int64_t fw_batt_capacity_pj(const fw_batt_t *b);
int64_t fw_batt_chem_capacity_pj(uint8_t chem);
/* BATT CHEM=: LIION, PRIMARY, PACK. */
const char *fw_batt_chem_name(uint8_t chem);
/* Draw while stimulating with delivered amplitude amp_ua, rail rail_mv, pulses/s times
 * driven phases x PW (us of rail current per second), and the on fraction num/den. */
int64_t fw_batt_stim_draw_nw(uint32_t amp_ua, uint32_t rail_mv, uint64_t driven_us_per_s, uint64_t on_num,
                             uint64_t on_den);
void fw_batt_set_draw(fw_batt_t *b, int64_t draw_nw);
/* Run the model over dt_real_us of real time. Returns FW_BATT_EV_* bits crossed. */
unsigned fw_batt_advance(fw_batt_t *b, uint64_t dt_real_us);
unsigned fw_batt_set_permille(fw_batt_t *b, uint32_t permille);
/* Charger connected / removed, charger too hot / cooled (charging follows both). */
void fw_batt_set_charger(fw_batt_t *b, int on);
void fw_batt_set_hot(fw_batt_t *b, int hot);
uint32_t fw_batt_permille(const fw_batt_t *b);
uint32_t fw_batt_vbat_mv(const fw_batt_t *b);
/* Hours to the stop level at the present draw, in tenths (EST_H=x.y). */
uint64_t fw_batt_est_tenth_h(const fw_batt_t *b);
const char *fw_batt_level_name(uint8_t level);
/* Stimulation refused / stopped: EMPTY (until charged above 5 %) or EOS. */
int fw_batt_blocks_stim(const fw_batt_t *b);

#endif

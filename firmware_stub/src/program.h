/* program.h -- a stimulation program in canonical integers, its electrode
 * configuration, and the engine's validation rules (stimsim.engine.program
 * check_program, load.py) reproduced so the stub refuses exactly what the engine does. */
#ifndef STIMFW_PROGRAM_H
#define STIMFW_PROGRAM_H

#include <stdint.h>
#include "params_gen.h"
#include "text.h"

#define FW_CASE_CONTACT (FW_N_CONTACTS + 1) /* contact numbers 1..16, 17 = CASE */
#define FW_MAX_PAIRS (FW_N_CONTACTS + 1)
#define FW_VALUE_LIMIT FW_VALUE_MAX /* a wire VALUE */

typedef struct {
    uint8_t contact;  /* 1..FW_CASE_CONTACT */
    int16_t percent;  /* signed share, cathodes negative (range checked by validation) */
} fw_pair_t;

/* A program's closed-loop keys (params.LOOP_TABLE): only a family with a loop takes them. */
typedef struct {
    uint8_t given;                  /* any loop key was given: READ reports LOOP, TARGET_UV, GAIN */
    uint8_t sense[2];               /* SENSE=a,b as parsed (0..99); sense[0] == 0xFF: not given */
    int32_t v[FW_LK_COUNT];         /* by FW_LK_*: LOOP's FW_LOOP_MODE_*, TARGET_UV, GAIN (table defaults) */
} fw_loop_keys_t;

#define FW_SENSE_NONE 0xFFu

typedef struct {
    uint8_t mode;                   /* FW_MODE_* */
    uint8_t recharge;               /* FW_RECHARGE_* */
    uint8_t npairs;
    uint8_t lim_set;                /* bit i: limit i of FW_LIMIT_TABLE was given */
    int32_t v[FW_P_COUNT];          /* numeric parameters by FW_P_* (0 where unused) */
    int32_t lim[FW_LIMIT_COUNT];    /* clinician limits (amplitude ones default to the range) */
    fw_pair_t pairs[FW_MAX_PAIRS];  /* sorted by contact */
    char name[FW_NAME_MAX + 1];     /* spaces as spaces ('_' on the wire) */
    fw_loop_keys_t loop;            /* closed-loop keys (none given: open loop) */
} fw_program_t;

/* A refusal: protocol code and its reply arguments (" RULE=FIT KEY=PW MAX=480"). */
typedef struct {
    const char *code;   /* NULL: no problem */
    char args[112];
} fw_problem_t;

typedef struct {
    uint8_t contact;
    double charge_uc, density, k;
    int warning;
} fw_charge_t;

typedef struct {
    double load_ohm;
    double delivered_ma;
    int limited;
    uint32_t delivered_ua;  /* floor of delivered_ma * 1000 */
    uint32_t rail_mv;
} fw_compliance_t;

extern const char *const fw_mode_wire[FW_MODE_COUNT];
extern const char *const fw_recharge_wire[2];
extern const char *const fw_param_wire[FW_P_COUNT];

typedef struct {
    uint8_t used;
    int32_t min, max;
    uint8_t zero_off;
} fw_param_spec_t;

/* The values a parameter may take: bands of even spacing from ascending starts, the first
 * at 0 (params.Grid); no bands: every value in range. */
typedef struct {
    uint8_t nbands;
    struct {
        int32_t start, spacing;
    } band[FW_GRID_BANDS_MAX];
} fw_grid_t;

/* One device family (params.FAMILIES), generated into FW_FAMILY_TABLE. */
typedef struct {
    const char *wire;            /* HELLO FAMILY= */
    uint8_t case_anode;          /* the case may be an anode (else CASE is no contact) */
    uint8_t bipolar_per_lead;    /* every lead in use carries a cathode and an anode */
    uint8_t nleads;
    uint8_t modes;               /* bit FW_MODE_*: the modes it offers */
    uint8_t nchems;
    uint8_t chems[FW_CHEM_COUNT];/* battery chemistries, the first the default */
    uint32_t contact_ohm;        /* default contact impedance */
    double contact_area_cm2;
    uint32_t patient_grid;       /* bit FW_P_*: a patient step moves to the next grid point */
    uint8_t lead_of[FW_N_CONTACTS + 1]; /* contact -> its lead 1..nleads; 0: no such contact */
    uint8_t loop_modes;          /* bit FW_MODE_*: modes with LOOP=ECAP; 0: no closed loop (no loop keys) */
    fw_param_spec_t spec[FW_MODE_COUNT][FW_P_COUNT];
    fw_grid_t grid[FW_P_COUNT];
} fw_family_t;

extern const char *const fw_family_wire[FW_FAMILY_COUNT];
extern const char *const fw_loop_wire[FW_LK_COUNT];
extern const char *const fw_loop_mode_wire[2];
/* The family by FW_FAMILY_* (an unknown index gives the default family). */
const fw_family_t *fw_family(uint8_t family);
int fw_family_has_mode(const fw_family_t *f, uint8_t mode);
/* The contact exists on the family (CASE only where it has a case). */
int fw_family_has_contact(const fw_family_t *f, uint8_t contact);

const fw_param_spec_t *fw_param_spec(const fw_family_t *f, uint8_t mode, unsigned param);
uint8_t fw_recharge_default(uint8_t mode);
const char *fw_limit_wire(unsigned i);

/* params.Grid: is value on the grid, the spacing where it lies (STEP=), and the grid point
 * steps points away (negative: downward; below the first point it goes on by the first
 * band's spacing, for the range check to refuse). */
int fw_grid_holds(const fw_grid_t *g, int64_t value);
int64_t fw_grid_spacing(const fw_grid_t *g, int64_t value);
int64_t fw_grid_moved(const fw_grid_t *g, int64_t value, int32_t steps);
/* Where steps patient steps take the amplitude value (params.patient_step): the next grid
 * point each where the family says so, else FW_AMP_PATIENT_STEP_UA each. */
int64_t fw_amp_patient_step(const fw_family_t *f, int64_t value, int32_t steps);

/* "4:-100,5:+50,CASE:+100" -> pairs sorted by contact. 1: parsed; 0: malformed
 * (bad item, repeated contact, canonical text over 64 characters); -1: well formed
 * but naming a contact that does not exist. Both refusals are BAD_ARG KEY=ELEC, the
 * second one after the other BAD_ARG checks (it is the engine's). */
int fw_elec_parse(const char *s, size_t n, fw_pair_t *pairs, uint8_t *npairs);
void fw_elec_format(fw_buf_t *b, const fw_pair_t *pairs, uint8_t npairs);
void fw_contact_name(fw_buf_t *b, uint8_t contact);
int fw_prog_uses_contact(const fw_program_t *p, uint8_t contact);

/* check_program() on family f: the first problem in the protocol's order, acknowledged =
 * ACK=CHARGE. The mode and the contacts must be the family's (BAD_ARG, checked by the
 * caller in the wire's order). */
void fw_prog_check(const fw_family_t *f, const fw_program_t *p, uint32_t lead_ohm, int acknowledged,
                   fw_problem_t *out);
/* The safety rules alone for amplitude amp_ua: contact current always, charge density
 * only when check_density. Used by AMP. */
void fw_prog_check_safety(const fw_family_t *f, const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm,
                          int check_density, fw_problem_t *out);

/* The loop keys' defaults (none given). */
void fw_loop_keys_default(fw_loop_keys_t *k);
/* The program runs the ECAP loop (LOOP=ECAP). */
int fw_prog_closed(const fw_program_t *p);
/* The lead (1..nleads) carrying the most cathodic current, the first on a tie; 0: none. */
uint8_t fw_cathode_lead(const fw_family_t *f, const fw_program_t *p);

void fw_prog_compliance(const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm, fw_compliance_t *out);
/* Q, D, k per contact of the configuration at the delivered amplitude, with the family's
 * contact area; returns the count. */
unsigned fw_prog_charges(const fw_family_t *f, const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm,
                         fw_charge_t *out);

#endif

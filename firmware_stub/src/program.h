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

typedef struct {
    uint8_t mode;                   /* FW_MODE_* */
    uint8_t recharge;               /* FW_RECHARGE_* */
    uint8_t npairs;
    uint8_t lim_set;                /* bit i: limit i of FW_LIMIT_TABLE was given */
    int32_t v[FW_P_COUNT];          /* numeric parameters by FW_P_* (0 where unused) */
    int32_t lim[FW_LIMIT_COUNT];    /* clinician limits (amplitude ones default to the range) */
    fw_pair_t pairs[FW_MAX_PAIRS];  /* sorted by contact */
    char name[FW_NAME_MAX + 1];     /* spaces as spaces ('_' on the wire) */
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
const fw_param_spec_t *fw_param_spec(uint8_t mode, unsigned param);
uint8_t fw_recharge_default(uint8_t mode);
const char *fw_limit_wire(unsigned i);

/* "4:-100,5:+50,CASE:+100" -> pairs sorted by contact. 1: parsed; 0: malformed
 * (bad item, repeated contact, canonical text over 64 characters); -1: well formed
 * but naming a contact that does not exist. Both refusals are BAD_ARG KEY=ELEC, the
 * second one after the other BAD_ARG checks (it is the engine's). */
int fw_elec_parse(const char *s, size_t n, fw_pair_t *pairs, uint8_t *npairs);
void fw_elec_format(fw_buf_t *b, const fw_pair_t *pairs, uint8_t npairs);
void fw_contact_name(fw_buf_t *b, uint8_t contact);
int fw_prog_uses_contact(const fw_program_t *p, uint8_t contact);

/* check_program(): the first problem in the protocol's order, acknowledged = ACK=CHARGE. */
void fw_prog_check(const fw_program_t *p, uint32_t lead_ohm, int acknowledged, fw_problem_t *out);
/* The safety rules alone for amplitude amp_ua: contact current always, charge density
 * only when check_density. Used by AMP. */
void fw_prog_check_safety(const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm, int check_density,
                          fw_problem_t *out);

void fw_prog_compliance(const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm, fw_compliance_t *out);
/* Q, D, k per contact of the configuration at the delivered amplitude; returns the count. */
unsigned fw_prog_charges(const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm, fw_charge_t *out);

#endif

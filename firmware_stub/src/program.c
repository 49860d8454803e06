/* program.c -- see program.h. The order of checks follows check_program(): the family's
 * mode, ranges (table order), recharge, cycling pair, limits' ranges, the loop keys' ranges,
 * grids, electrodes, fit, limits, the sense contacts, safety. */
#include "program.h"
#include "fwmath.h"

const char *const fw_mode_wire[FW_MODE_COUNT] = FW_MODE_WIRE_TABLE;
const char *const fw_recharge_wire[2] = FW_RECHARGE_WIRE_TABLE;
const char *const fw_param_wire[FW_P_COUNT] = FW_PARAM_WIRE_TABLE;
const char *const fw_family_wire[FW_FAMILY_COUNT] = FW_FAMILY_WIRE_TABLE;
const char *const fw_loop_wire[FW_LK_COUNT] = FW_LOOP_WIRE_TABLE;
const char *const fw_loop_mode_wire[2] = FW_LOOP_MODE_WIRE_TABLE;

typedef struct {
    uint8_t ranged;
    int32_t min, max, def;
} loop_spec_t;
static const loop_spec_t loop_spec[FW_LK_COUNT] = FW_LOOP_SPEC_TABLE;

static const fw_family_t family_table[FW_FAMILY_COUNT] = FW_FAMILY_TABLE;

typedef struct {
    uint8_t count;
    uint8_t choice[2];
} recharge_choices_t;
static const recharge_choices_t recharge_table[FW_MODE_COUNT] = FW_RECHARGE_TABLE;

typedef struct {
    const char *wire;
    uint8_t param;
    uint8_t is_max;
} limit_spec_t;
static const limit_spec_t limit_table[FW_LIMIT_COUNT] = FW_LIMIT_TABLE;


uint8_t fw_recharge_default(uint8_t mode) { return recharge_table[mode < FW_MODE_COUNT ? mode : 0].choice[0]; }

const char *fw_limit_wire(unsigned i) { return i < FW_LIMIT_COUNT ? limit_table[i].wire : ""; }

/* ---- families and grids ---- */

const fw_family_t *fw_family(uint8_t family) { return &family_table[family < FW_FAMILY_COUNT ? family : 0]; }

int fw_family_has_mode(const fw_family_t *f, uint8_t mode) { return mode < FW_MODE_COUNT && ((f->modes >> mode) & 1u); }

int fw_family_has_contact(const fw_family_t *f, uint8_t contact)
{
    if (contact == FW_CASE_CONTACT) {
        return f->case_anode;
    }
    return contact <= FW_N_CONTACTS && f->lead_of[contact] != 0;
}

const fw_param_spec_t *fw_param_spec(const fw_family_t *f, uint8_t mode, unsigned param)
{
    if (mode >= FW_MODE_COUNT || param >= FW_P_COUNT) {
        return &family_table[0].spec[0][FW_P_BURST_N]; /* an unused spec */
    }
    return &f->spec[mode][param];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The band holding value: the last starting at or below it (the first for anything below). */
static unsigned grid_band(const fw_grid_t *g, int64_t value)
{
    unsigned i, at = 0;
    for (i = 1; i < g->nbands && i < FW_GRID_BANDS_MAX; i++) {
        if (g->band[i].start <= value) {
            at = i;
        }
    }
    return at;
}

int fw_grid_holds(const fw_grid_t *g, int64_t value)
{
    unsigned b;
    if (g->nbands == 0) {
        return 1;
    }
    b = grid_band(g, value);
    return (value - g->band[b].start) - floor_div(value - g->band[b].start, g->band[b].spacing) * g->band[b].spacing == 0;
}

int64_t fw_grid_spacing(const fw_grid_t *g, int64_t value) { return g->nbands ? g->band[grid_band(g, value)].spacing : 1; }

int64_t fw_grid_moved(const fw_grid_t *g, int64_t value, int32_t steps)
{
    int32_t n = steps < 0 ? -steps : steps;
    if (g->nbands == 0) {
        return value + steps;
    }
    while (n-- > 0) {
        if (steps > 0) {
            unsigned b = grid_band(g, value);
            int64_t start = g->band[b].start, spacing = g->band[b].spacing;
            value = start + (floor_div(value - start, spacing) + 1) * spacing;
            if (b + 1 < g->nbands && value > g->band[b + 1].start) {
                value = g->band[b + 1].start;
            }
        } else {
            unsigned b = grid_band(g, value - 1);
            int64_t start = g->band[b].start, spacing = g->band[b].spacing;
            value = start + floor_div(value - 1 - start, spacing) * spacing;
        }
    }
    return value;
}

int64_t fw_amp_patient_step(const fw_family_t *f, int64_t value, int32_t steps)
{
    if (((f->patient_grid >> FW_P_AMP) & 1u) && f->grid[FW_P_AMP].nbands) {
        return fw_grid_moved(&f->grid[FW_P_AMP], value, steps);
    }
    return value + (int64_t)steps * FW_AMP_PATIENT_STEP_UA;
}

static void problem(fw_problem_t *out, const char *code, const char *rule, const char *key);
static void problem_range(fw_problem_t *out, const char *rule, const char *key, int64_t lo, int64_t hi);

/* ---- closed-loop keys ---- */

void fw_loop_keys_default(fw_loop_keys_t *k)
{
    unsigned i;
    k->given = 0;
    k->sense[0] = k->sense[1] = FW_SENSE_NONE;
    for (i = 0; i < FW_LK_COUNT; i++) {
        k->v[i] = loop_spec[i].def;
    }
}

int fw_prog_closed(const fw_program_t *p) { return p->loop.given && p->loop.v[FW_LK_LOOP] == FW_LOOP_MODE_ECAP; }

uint8_t fw_cathode_lead(const fw_family_t *f, const fw_program_t *p)
{
    uint8_t lead, i, best = 0;
    int32_t best_current = 0;
    for (lead = 1; lead <= f->nleads; lead++) {
        int32_t current = 0;
        for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
            uint8_t c = p->pairs[i].contact;
            if (c <= FW_N_CONTACTS && f->lead_of[c] == lead && p->pairs[i].percent < 0) {
                current -= p->pairs[i].percent;
            }
        }
        if (current > 0 && current > best_current) {
            best_current = current;
            best = lead;
        }
    }
    return best;
}

/* OUT_OF_RANGE KEY= MIN= MAX= for a loop key outside its range, in the table's order. */
static int loop_range_checks(const fw_program_t *p, fw_problem_t *out)
{
    unsigned k;
    for (k = 0; p->loop.given && k < FW_LK_COUNT; k++) {
        if (loop_spec[k].ranged && (p->loop.v[k] < loop_spec[k].min || p->loop.v[k] > loop_spec[k].max)) {
            problem_range(out, NULL, fw_loop_wire[k], loop_spec[k].min, loop_spec[k].max);
            return 1;
        }
    }
    return 0;
}

/* SENSE: two different contacts of the cathode's lead, neither in the configuration. */
static int sense_checks(const fw_family_t *f, const fw_program_t *p, fw_problem_t *out)
{
    uint8_t lead, i;
    int bad = 0;
    if (!p->loop.given || p->loop.sense[0] == FW_SENSE_NONE || !f->loop_modes) {
        return 0;
    }
    lead = fw_cathode_lead(f, p);
    bad = p->loop.sense[0] == p->loop.sense[1] || lead == 0;
    for (i = 0; i < 2 && !bad; i++) {
        uint8_t c = p->loop.sense[i];
        bad = c < 1 || c > FW_N_CONTACTS || f->lead_of[c] != lead || fw_prog_uses_contact(p, c);
    }
    if (bad) {
        problem(out, "OUT_OF_RANGE", "SENSE", fw_loop_wire[FW_LK_SENSE]);
    }
    return bad;
}

/* ---- electrodes ---- */

void fw_contact_name(fw_buf_t *b, uint8_t contact)
{
    if (contact == FW_CASE_CONTACT) {
        fw_buf_str(b, "CASE");
    } else {
        fw_buf_u64(b, contact);
    }
}

/* One item: (1..2 digits | CASE) ":" [+-] 1..3 digits, as wire_program._ELEC_ITEM. */
static int elec_item(const char *s, size_t n, uint32_t *contact, int32_t *pct, int *known)
{
    size_t colon = 0, d;
    while (colon < n && s[colon] != ':') {
        colon++;
    }
    if (colon >= n) {
        return 0;
    }
    d = colon + 1;
    if (d < n && (s[d] == '+' || s[d] == '-')) {
        d++;
    }
    if (n - d < 1 || n - d > 3 || !fw_parse_int(s + colon + 1, n - colon - 1, pct)) {
        return 0;
    }
    if (fw_memeq_nocase(s, colon, "CASE")) {
        *contact = FW_CASE_CONTACT;
        *known = 1;
        return 1;
    }
    if (colon < 1 || colon > 2 || !fw_parse_uint(s, colon, contact)) {
        return 0;
    }
    /* "1".."16" exactly as params.CONTACTS spells them: no leading zero */
    *known = s[0] != '0' && *contact >= 1 && *contact <= FW_N_CONTACTS;
    return 1;
}

int fw_elec_parse(const char *s, size_t n, fw_pair_t *pairs, uint8_t *npairs)
{
    size_t i = 0;
    uint8_t count = 0, a, b;
    uint32_t seen = 0;
    int unknown = 0;
    char text[2 * FW_VALUE_LIMIT];
    fw_buf_t canon;
    while (i <= n) {
        size_t start = i;
        uint32_t c = 0;
        int32_t pct = 0;
        int known = 0;
        while (i < n && s[i] != ',') {
            i++;
        }
        if (!elec_item(s + start, i - start, &c, &pct, &known)) {
            return 0;
        }
        i++; /* past the comma (or past the end) */
        if (!known) {
            unknown = 1; /* the engine's BAD_ARG, reported after the wire's own checks */
            continue;
        }
        if ((seen & (1u << c)) || count >= FW_MAX_PAIRS) {
            return 0;
        }
        seen |= 1u << c;
        pairs[count].contact = (uint8_t)c;
        pairs[count].percent = (int16_t)pct;
        count++;
    }
    /* insertion sort by contact number (CASE last) */
    for (a = 1; a < count; a++) {
        fw_pair_t t = pairs[a];
        b = a;
        while (b > 0 && pairs[b - 1].contact > t.contact) {
            pairs[b] = pairs[b - 1];
            b--;
        }
        pairs[b] = t;
    }
    *npairs = count;
    if (unknown) {
        return -1;
    }
    /* READ must echo the configuration in one wire value */
    fw_buf_init(&canon, text, sizeof text);
    fw_elec_format(&canon, pairs, count);
    return canon.len <= FW_VALUE_LIMIT ? 1 : 0;
}

void fw_elec_format(fw_buf_t *b, const fw_pair_t *pairs, uint8_t npairs)
{
    uint8_t i;
    for (i = 0; i < npairs && i < FW_MAX_PAIRS; i++) {
        if (i) {
            fw_buf_char(b, ',');
        }
        fw_contact_name(b, pairs[i].contact);
        fw_buf_char(b, ':');
        fw_buf_char(b, pairs[i].percent < 0 ? '-' : '+');
        fw_buf_u64(b, (uint64_t)(pairs[i].percent < 0 ? -pairs[i].percent : pairs[i].percent));
    }
}

int fw_prog_uses_contact(const fw_program_t *p, uint8_t contact)
{
    uint8_t i;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        if (p->pairs[i].contact == contact) {
            return 1;
        }
    }
    return 0;
}

/* ---- problems ---- */

static void problem(fw_problem_t *out, const char *code, const char *rule, const char *key)
{
    fw_buf_t b;
    out->code = code;
    fw_buf_init(&b, out->args, sizeof out->args);
    if (rule) {
        fw_buf_kv_str(&b, "RULE", rule);
    }
    if (key) {
        fw_buf_kv_str(&b, "KEY", key);
    }
}

static void problem_add_i(fw_problem_t *out, const char *key, int64_t value)
{
    fw_buf_t b;
    size_t len = fw_strlen(out->args);
    fw_buf_init(&b, out->args + len, sizeof out->args - len);
    fw_buf_kv_i64(&b, key, value);
}

static void problem_range(fw_problem_t *out, const char *rule, const char *key, int64_t lo, int64_t hi)
{
    problem(out, "OUT_OF_RANGE", rule, key);
    problem_add_i(out, "MIN", lo);
    problem_add_i(out, "MAX", hi);
}

/* ERR UNSAFE RULE=<rule> CONTACT=<contact>, leaving ``b`` open for the rule's figures. */
static void unsafe_at(fw_problem_t *out, const char *rule, uint8_t contact, fw_buf_t *b)
{
    size_t len;
    problem(out, "UNSAFE", rule, NULL);
    len = fw_strlen(out->args);
    fw_buf_init(b, out->args + len, sizeof out->args - len);
    fw_buf_str(b, " CONTACT=");
    fw_contact_name(b, contact);
}

static int allows(const fw_param_spec_t *s, int32_t v)
{
    return (s->zero_off && v == 0) || (v >= s->min && v <= s->max);
}

/* params.max_fitting_pw: rate*(k*PW + IPG + 10) <= 1e6 in integers; -1 when nothing fits. */
static int64_t max_fitting_pw(int64_t rate, int64_t ipg, uint8_t recharge)
{
    int64_t phases = recharge == FW_RECHARGE_ACTIVE ? 2 : 1;
    int64_t room = 1000000 - rate * (ipg + FW_FIT_MARGIN_US);
    if (room < 0) {
        return -1;
    }
    return room / (phases * rate);
}

/* Ranges in table order, then recharge, then the cycling pair, then the clinician limits'
 * own ranges. The engine skips the fit rules when a timing range is broken; reporting
 * only the first problem gives the same answer, since that range problem comes first. */
static int range_checks(const fw_family_t *f, const fw_program_t *p, fw_problem_t *out)
{
    unsigned k;
    const fw_param_spec_t *on = fw_param_spec(f, p->mode, FW_P_CYCLE_ON);
    for (k = 0; k < FW_P_COUNT; k++) {
        const fw_param_spec_t *s = fw_param_spec(f, p->mode, k);
        if (s->used && !allows(s, p->v[k])) {
            problem_range(out, NULL, fw_param_wire[k], s->min, s->max);
            return 1;
        }
    }
    if (recharge_table[p->mode].choice[0] != p->recharge &&
        (recharge_table[p->mode].count < 2 || recharge_table[p->mode].choice[1] != p->recharge)) {
        fw_buf_t b;
        uint8_t i;
        size_t len;
        problem(out, "OUT_OF_RANGE", NULL, "RECHARGE");
        len = fw_strlen(out->args);
        fw_buf_init(&b, out->args + len, sizeof out->args - len);
        fw_buf_str(&b, " ALLOWED=");
        for (i = 0; i < recharge_table[p->mode].count; i++) {
            if (i) {
                fw_buf_char(&b, ',');
            }
            fw_buf_str(&b, fw_recharge_wire[recharge_table[p->mode].choice[i] & 1u]);
        }
        return 1;
    }
    if ((p->v[FW_P_CYCLE_ON] == 0) != (p->v[FW_P_CYCLE_OFF] == 0)) {
        problem_range(out, "CYCLE", p->v[FW_P_CYCLE_OFF] == 0 ? "CYCLE_OFF_MS" : "CYCLE_ON_MS", on->min, on->max);
        return 1;
    }
    for (k = 0; k < FW_LIMIT_COUNT; k++) {
        const fw_param_spec_t *s = fw_param_spec(f, p->mode, limit_table[k].param);
        if ((p->lim_set & (1u << k)) && s->used && !allows(s, p->lim[k])) {
            problem_range(out, NULL, limit_table[k].wire, s->min, s->max);
            return 1;
        }
    }
    return 0;
}

/* OUT_OF_RANGE KEY= MIN= MAX= STEP=: a value in range but off the family's grid. */
static int off_grid(const fw_family_t *f, uint8_t mode, unsigned param, const char *key, int32_t value,
                    fw_problem_t *out)
{
    const fw_param_spec_t *s = fw_param_spec(f, mode, param);
    const fw_grid_t *g = &f->grid[param];
    if (!s->used || fw_grid_holds(g, value)) {
        return 0;
    }
    problem_range(out, NULL, key, s->min, s->max);
    problem_add_i(out, "STEP", fw_grid_spacing(g, value));
    return 1;
}

/* The grids: the parameters in table order, then the limits in theirs. */
static int grid_checks(const fw_family_t *f, const fw_program_t *p, fw_problem_t *out)
{
    unsigned k;
    for (k = 0; k < FW_P_COUNT; k++) {
        if (off_grid(f, p->mode, k, fw_param_wire[k], p->v[k], out)) {
            return 1;
        }
    }
    for (k = 0; k < FW_LIMIT_COUNT; k++) {
        if ((p->lim_set & (1u << k)) && off_grid(f, p->mode, limit_table[k].param, limit_table[k].wire, p->lim[k], out)) {
            return 1;
        }
    }
    return 0;
}

static int fit_checks(const fw_program_t *p, fw_problem_t *out)
{
    int64_t period_rate = p->v[FW_P_RATE], max_pw;
    if (p->mode == FW_MODE_BURST) {
        int64_t max_n = p->v[FW_P_INTRA] / p->v[FW_P_RATE];
        if (p->v[FW_P_BURST_N] > max_n) {
            problem(out, "OUT_OF_RANGE", "FIT", "BURST_N");
            problem_add_i(out, "MAX", max_n);
            return 1;
        }
        period_rate = p->v[FW_P_INTRA];
    }
    max_pw = max_fitting_pw(period_rate, p->v[FW_P_IPG], p->recharge);
    if (p->v[FW_P_PW] > max_pw) {
        problem(out, "OUT_OF_RANGE", "FIT", "PW");
        problem_add_i(out, "MAX", max_pw < 0 ? 0 : max_pw);
        return 1;
    }
    return 0;
}

/* The limits' order (min not above max) and the program's values within them. */
static int limit_checks(const fw_family_t *f, const fw_program_t *p, fw_problem_t *out)
{
    static const uint8_t pairs[3][3] = {{FW_P_AMP, 0, 1}, {FW_P_PW, 2, 3}, {FW_P_RATE, 4, 5}};
    unsigned i;
    for (i = 0; i < 3; i++) {
        unsigned param = pairs[i][0], lo_i = pairs[i][1], hi_i = pairs[i][2];
        const fw_param_spec_t *s = fw_param_spec(f, p->mode, param);
        int lo_set = (p->lim_set >> lo_i) & 1u, hi_set = (p->lim_set >> hi_i) & 1u;
        int32_t lo = lo_set ? p->lim[lo_i] : s->min, hi = hi_set ? p->lim[hi_i] : s->max;
        if (lo_set && hi_set && lo > hi) {
            problem_range(out, "LIMITS", limit_table[lo_i].wire, s->min, hi);
            return 1;
        }
        if ((lo_set || hi_set) && (p->v[param] < lo || p->v[param] > hi)) {
            problem_range(out, "LIMITS", fw_param_wire[param], lo, hi);
            return 1;
        }
    }
    return 0;
}

static int electrode_checks(const fw_family_t *f, const fw_program_t *p, fw_problem_t *out)
{
    uint8_t i, lead;
    int32_t cath = 0, anod = 0;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        int16_t v = p->pairs[i].percent;
        if (v == 0 || v < -FW_PERCENT_TOTAL || v > FW_PERCENT_TOTAL ||
            (p->pairs[i].contact == FW_CASE_CONTACT && v < 0)) {
            problem(out, "OUT_OF_RANGE", "ELECTRODES", "ELEC");
            return 1;
        }
    }
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        if (p->pairs[i].percent < 0) {
            cath -= p->pairs[i].percent;
        } else {
            anod += p->pairs[i].percent;
        }
    }
    if (cath != FW_PERCENT_TOTAL || anod != FW_PERCENT_TOTAL) {
        problem(out, "OUT_OF_RANGE", "ELECTRODES", "ELEC");
        return 1;
    }
    /* a family whose every lead in use must carry a cathode and an anode of its own */
    for (lead = 1; f->bipolar_per_lead && lead <= f->nleads; lead++) {
        int has_c = 0, has_a = 0, used = 0;
        for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
            uint8_t c = p->pairs[i].contact;
            if (c <= FW_N_CONTACTS && f->lead_of[c] == lead) {
                used = 1;
                has_c |= p->pairs[i].percent < 0;
                has_a |= p->pairs[i].percent > 0;
            }
        }
        if (used && !(has_c && has_a)) {
            problem(out, "OUT_OF_RANGE", "ELECTRODES", "ELEC");
            return 1;
        }
    }
    return 0;
}

/* ---- load, compliance, charge (load.py, same double operations in the same order) ---- */

static double contact_ohm(uint8_t contact, uint32_t lead_ohm)
{
    return contact == FW_CASE_CONTACT ? FW_CASE_IMPEDANCE_OHM_D : (double)lead_ohm;
}

static double load_ohm(const fw_program_t *p, uint32_t lead_ohm)
{
    double inv_c = 0.0, inv_a = 0.0, z = 0.0;
    int have_c = 0, have_a = 0;
    uint8_t i;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        double zi = contact_ohm(p->pairs[i].contact, lead_ohm);
        if (p->pairs[i].percent < 0) {
            inv_c += 1.0 / zi;
            have_c = 1;
        } else if (p->pairs[i].percent > 0) {
            inv_a += 1.0 / zi;
            have_a = 1;
        }
    }
    if (have_c) {
        z += 1.0 / inv_c;
    }
    if (have_a) {
        z += 1.0 / inv_a;
    }
    return z;
}

void fw_prog_compliance(const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm, fw_compliance_t *out)
{
    double z = load_ohm(p, lead_ohm);
    double amp_ma = (double)amp_ua / 1000.0;
    double need = amp_ma * z / 1000.0 + FW_RAIL_HEADROOM_V_D;
    out->load_ohm = z;
    if (z > 0.0 && need > FW_RAIL_MAX_V_D) {
        out->delivered_ma = (FW_RAIL_MAX_V_D - FW_RAIL_HEADROOM_V_D) * 1000.0 / z;
        out->limited = 1;
        out->rail_mv = FW_RAIL_MAX_MV;
    } else {
        out->delivered_ma = amp_ma;
        out->limited = 0;
        out->rail_mv = (uint32_t)(need * 1000.0 + 0.5);
    }
    out->delivered_ua = out->limited ? (uint32_t)(out->delivered_ma * 1000.0) : (uint32_t)(amp_ua < 0 ? 0 : amp_ua);
}

unsigned fw_prog_charges(const fw_family_t *f, const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm,
                         fw_charge_t *out)
{
    fw_compliance_t c;
    double q;
    uint8_t i;
    fw_prog_compliance(p, amp_ua, lead_ohm, &c);
    q = c.delivered_ma * (double)p->v[FW_P_PW] / 1000.0;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        int share = p->pairs[i].percent < 0 ? -p->pairs[i].percent : p->pairs[i].percent;
        double qi = q * (double)share / 100.0;
        double area = p->pairs[i].contact == FW_CASE_CONTACT ? FW_CASE_AREA_CM2_D : f->contact_area_cm2;
        double d = qi / area;
        out[i].contact = p->pairs[i].contact;
        out[i].charge_uc = qi;
        out[i].density = d;
        out[i].k = qi > 0.0 ? fw_log10(d) + fw_log10(qi) : -1.0e308;
        out[i].warning = out[i].k > FW_SHANNON_K_LIMIT_D || d > FW_DENSITY_LIMIT_UC_CM2_D;
    }
    return i;
}

void fw_prog_check_safety(const fw_family_t *f, const fw_program_t *p, int32_t amp_ua, uint32_t lead_ohm,
                          int check_density, fw_problem_t *out)
{
    uint8_t i, worst = 0;
    int64_t worst_current = -1;
    fw_charge_t ch[FW_MAX_PAIRS];
    unsigned n, best = FW_MAX_PAIRS;
    out->code = NULL;
    out->args[0] = '\0';
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        int64_t share = p->pairs[i].percent < 0 ? -p->pairs[i].percent : p->pairs[i].percent;
        int64_t product = (int64_t)amp_ua * share;
        if (p->pairs[i].contact == FW_CASE_CONTACT) {
            continue;
        }
        if (product > (int64_t)FW_CONTACT_CURRENT_MAX_UA * 100 && product / 100 > worst_current) {
            worst_current = product / 100;
            worst = p->pairs[i].contact;
        }
    }
    if (worst_current >= 0) {
        fw_buf_t b;
        unsafe_at(out, "CONTACT_CURRENT", worst, &b);
        fw_buf_kv_i64(&b, "MAX", FW_CONTACT_CURRENT_MAX_UA);
        return;
    }
    if (!check_density) {
        return;
    }
    n = fw_prog_charges(f, p, amp_ua, lead_ohm, ch);
    for (i = 0; i < n; i++) {
        if (ch[i].warning && (best == FW_MAX_PAIRS || ch[i].k > ch[best].k)) {
            best = i;
        }
    }
    if (best < n) {
        fw_buf_t b;
        unsafe_at(out, "CHARGE_DENSITY", ch[best].contact, &b);
        fw_buf_str(&b, " K=");
        fw_buf_fixed(&b, fw_round_scaled(ch[best].k, 2), 2);
        fw_buf_str(&b, " D=");
        fw_buf_fixed(&b, fw_round_scaled(ch[best].density, 1), 1);
    }
}

void fw_prog_check(const fw_family_t *f, const fw_program_t *p, uint32_t lead_ohm, int acknowledged,
                   fw_problem_t *out)
{
    out->code = NULL;
    out->args[0] = '\0';
    if (!fw_family_has_mode(f, p->mode)) {
        problem(out, "BAD_ARG", NULL, "MODE");
        return;
    }
    /* OUT_OF_RANGE causes in the contract's order: range (the loop keys' after the limits'), grid,
     * ELECTRODES, FIT, LIMITS, SENSE */
    if (range_checks(f, p, out) || loop_range_checks(p, out) || grid_checks(f, p, out) ||
        electrode_checks(f, p, out) || fit_checks(p, out) || limit_checks(f, p, out) || sense_checks(f, p, out)) {
        return;
    }
    if (p->v[FW_P_AMP] <= fw_param_spec(f, p->mode, FW_P_AMP)->max) {
        fw_prog_check_safety(f, p, p->v[FW_P_AMP], lead_ohm, !acknowledged, out);
    }
}

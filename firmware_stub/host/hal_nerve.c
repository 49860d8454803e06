/* hal_nerve.c -- the host build's ECAP: the device's virtual nerve (stimsim.closedloop.nerve)
 * behind hal_ecap_measure_uv, in double precision with the C library's exp.
 *
 *     E = S * max(0, I - T) + noise,  T = 0.95 * PT
 *
 * PT is the patient model's perception threshold (stimsim.patient.model) for the reference
 * patient (both leads' tops at T8, offsets -1 and +1 mm: params_gen.h FW_NERVE_*), the
 * program's electrodes and pulse width and the CSF depth of the posture of the moment, 1.5 mm
 * less during a cough; I is the amplitude the rail delivers. The operations are the model's,
 * in its order, so with no noise the figure is the Python nerve's to the last bits. The
 * noise is Gaussian (a seeded xorshift generator and Box-Muller: another sequence than
 * numpy's). The loop that uses the figure is fixed point (src/loop.c). */
#include <math.h>

#include "hal.h"
#include "loop.h"

static const double level_of[FW_N_CONTACTS + 1] = FW_NERVE_LEVEL_TABLE;
static const uint8_t lead_of[FW_N_CONTACTS + 1] = FW_NERVE_LEAD_TABLE;
static const double offset_of[] = FW_NERVE_OFFSET_MM_TABLE;
static const double csf_level[3] = FW_NERVE_CSF_LEVEL_TABLE;
static const double csf_mm[3] = FW_NERVE_CSF_MM_TABLE;
static const double dd_mm[FW_NERVE_POSTURE_COUNT] = FW_NERVE_DD_MM_TABLE;

/* numpy.interp over the three CSF levels (flat beyond them) */
static double csf_depth_mm(double z)
{
    unsigned j;
    if (z <= csf_level[0]) {
        return csf_mm[0];
    }
    if (z >= csf_level[2]) {
        return csf_mm[2];
    }
    j = z < csf_level[1] ? 0u : 1u;
    return (csf_mm[j + 1] - csf_mm[j]) / (csf_level[j + 1] - csf_level[j]) * (z - csf_level[j]) + csf_mm[j];
}

/* PT in mA (patient.model._core with leads.cathode); 0 for a configuration without a lead cathode. */
static double perception_threshold_ma(const fw_program_t *p, const fw_nerve_env_t *env, uint64_t t_us)
{
    double z = 0.0, x = 0.0, total = 0.0, s_cfg, depth, lateral, m, strength, base, pt, ax, dd;
    int32_t weights = 0;
    uint8_t i, j, case_anode = 0, all_on_cathode_leads = 1, cath_leads = 0;
    for (i = 0; i < p->npairs && i < FW_MAX_PAIRS; i++) {
        uint8_t c = p->pairs[i].contact;
        int32_t w = -p->pairs[i].percent;
        if (w <= 0 || c > FW_N_CONTACTS) {
            continue;
        }
        weights += w;
        z += (double)w * level_of[c];
        x += (double)w * offset_of[lead_of[c]];
        cath_leads = (uint8_t)(cath_leads | (1u << lead_of[c]));
    }
    if (weights == 0) {
        return 0.0;
    }
    for (j = 0; j < p->npairs && j < FW_MAX_PAIRS; j++) {
        uint8_t c = p->pairs[j].contact;
        if (p->pairs[j].percent <= 0) {
            continue;
        }
        if (c == FW_CASE_CONTACT) {
            case_anode = 1;
        } else if (!((cath_leads >> lead_of[c]) & 1u)) {
            all_on_cathode_leads = 0;
        }
    }
    s_cfg = case_anode ? 1.0 : (all_on_cathode_leads ? FW_NERVE_S_LONGITUDINAL_D : FW_NERVE_S_TRANSVERSE_D);
    total = (double)weights;
    z = z / total;
    x = x / total;
    dd = dd_mm[env->posture % FW_NERVE_POSTURE_COUNT] - (t_us < env->cough_until_us ? FW_ECAP_COUGH_DEPTH_MM_D : 0.0);
    depth = csf_depth_mm(z) + dd;
    ax = fabs(x);
    lateral = ax / FW_NERVE_LATERAL_MM_D;
    m = 1.0 - FW_NERVE_LATERAL_GAIN_D * (lateral < 1.0 ? lateral : 1.0);
    strength = 1.0 + FW_NERVE_CHRONAXIE_US_D / (double)p->v[FW_P_PW];
    if (p->mode == FW_MODE_HF) {
        base = FW_NERVE_HF_PT_MA_D * strength / (1.0 + FW_NERVE_CHRONAXIE_US_D / FW_NERVE_HF_REF_PW_US_D);
    } else {
        base = FW_NERVE_RHEOBASE_MA_D * strength * (p->mode == FW_MODE_BURST ? FW_NERVE_BURST_FACTOR_D : 1.0);
    }
    pt = base * exp((depth - FW_NERVE_D_REF_MM_D) / FW_NERVE_LAMBDA_MM_D) * m * s_cfg;
    return pt * ((double)env->eps_micro / 1e6);
}

/* xorshift64* and Box-Muller: one standard normal draw per measurement */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double standard_normal(void)
{
    double u1 = uniform01(), u2 = uniform01();
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int32_t hal_ecap_measure_uv(const fw_program_t *p, uint32_t lead_ohm, int32_t amp_ua, const fw_nerve_env_t *env,
                            uint64_t t_us)
{
    fw_compliance_t c;
    double t = FW_ECAP_THRESHOLD_RATIO_D * perception_threshold_ma(p, env, t_us), above, e;
    fw_prog_compliance(p, amp_ua, lead_ohm, &c);
    above = c.delivered_ma - t;
    e = FW_ECAP_SLOPE_UV_PER_MA_D * (above > 0.0 ? above : 0.0);
    e = e + ((double)env->noise_micro / 1e6) * standard_normal();
    return (int32_t)llround(e * (double)FW_ECAP_ONE);
}

int32_t hal_ecap_threshold_ua(const fw_program_t *p, uint32_t lead_ohm, const fw_nerve_env_t *env, uint64_t t_us)
{
    (void)lead_ohm;
    return (int32_t)nearbyint(FW_ECAP_THRESHOLD_RATIO_D * perception_threshold_ma(p, env, t_us) * 1000.0);
}

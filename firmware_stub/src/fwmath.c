/* fwmath.c -- log10 by range reduction to m in [sqrt(1/2), sqrt(2)) and the atanh
 * series of ln(m), which converges in 14 terms to below an ulp there. */
#include "fwmath.h"
#include "text.h"

#define LN2_HI 6.93147180369123816490e-01 /* ln 2 split so e*LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN10 0.43429448190325182765
#define SQRT2 1.41421356237309504880

double fw_log10(double x)
{
    uint64_t bits;
    int e, extra = 0;
    double m, s, s2, term, sum, ln;
    int k;
    if (!(x > 0.0)) {
        return -1.0e308; /* callers never pass x <= 0; keep it finite and very small */
    }
    fw_memcpy(&bits, &x, sizeof bits);
    if (((bits >> 52) & 0x7FFu) == 0) { /* subnormal: scale into the normal range */
        x *= 18014398509481984.0;        /* 2^54 */
        extra = -54;
        fw_memcpy(&bits, &x, sizeof bits);
    }
    e = (int)((bits >> 52) & 0x7FFu) - 1023 + extra;
    bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull; /* m in [1, 2) */
    fw_memcpy(&m, &bits, sizeof m);
    if (m > SQRT2) {
        m *= 0.5;
        e += 1;
    }
    s = (m - 1.0) / (m + 1.0);
    s2 = s * s;
    term = s;
    sum = 0.0;
    for (k = 1; k <= 29; k += 2) {
        sum += term / (double)k;
        term *= s2;
    }
    ln = ((double)e * LN2_HI + 2.0 * sum) + (double)e * LN2_LO;
    return ln * INV_LN10;
}

int64_t fw_round_scaled(double x, unsigned decimals)
{
    double v = x, frac;
    int64_t r;
    unsigned i;
    int neg = 0;
    for (i = 0; i < decimals; i++) {
        v *= 10.0;
    }
    if (v < 0) {
        neg = 1;
        v = -v;
    }
    if (v > 9.0e18) {
        v = 9.0e18;
    }
    r = (int64_t)v;
    frac = v - (double)r;
    if (frac > 0.5 || (frac == 0.5 && (r & 1))) {
        r++;
    }
    return neg ? -r : r;
}

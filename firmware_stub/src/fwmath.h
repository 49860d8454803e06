/* fwmath.h -- the little floating point the safety rules need, without libm (the
 * core is freestanding): log10 and decimal rounding for K= and D=. */
#ifndef STIMFW_FWMATH_H
#define STIMFW_FWMATH_H

#include <stdint.h>

/* log10(x) for finite x > 0, within a few ulp of the C library's. */
double fw_log10(double x);
/* x * 10^decimals rounded to the nearest integer (ties to even), as "%.Nf" shows it. */
int64_t fw_round_scaled(double x, unsigned decimals);

#endif

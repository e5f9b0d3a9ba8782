/*
 * profile.h - distribution drift of numeric columns: a population
 * stability index (PSI) over decile bins.
 *
 * A profile of a column is its nine deciles (DuckDB's approx_quantile)
 * and its count of values, kept in the catalog for every evaluation that
 * takes one (catalog/quality.h, quality_profiles).  The baseline of a
 * column is the mean of its last QUALITY_DRIFT_RUNS profiles' deciles:
 * ten bins, each holding a tenth of the past data.  Today's drift is
 *
 *     PSI = sum over the bins of (a - e) * ln(a / e)
 *
 * with e = 0.1 and a the fraction of today's values in the bin (floored
 * at 0.0001 so that an empty bin counts, finitely).  Below 0.1 the usual
 * reading is "no change", 0.1 to 0.25 "some", above 0.25 "a shift".
 * A column profiled for the first time has no baseline and no PSI.
 *
 * All the columns of one data set are profiled in one scan.
 */
#ifndef SL_QUALITY_PROFILE_H
#define SL_QUALITY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

#define QUALITY_DECILES 9
/* Profiles the baseline averages. */
#define QUALITY_DRIFT_RUNS 10

struct engine;

struct quality_profile {
    const char *column;               /* the caller's */
    bool has_baseline;                /* set by the caller: */
    double baseline[QUALITY_DECILES]; /* the bins' edges */
    /* Results. */
    double deciles[QUALITY_DECILES];  /* today's (valid when values > 0) */
    int64_t values;                   /* non-null values */
    bool has_psi;
    double psi;
};

/* Profile n columns of relation (SQL) in one scan. */
int quality_profile(struct engine *e, const char *relation, struct quality_profile *p, size_t n,
                    struct sl_diag *d);
/* A baseline from m profiles' deciles (m >= 1): their mean, made
 * non-decreasing. */
void quality_baseline(const double (*deciles)[QUALITY_DECILES], size_t m,
                      double out[QUALITY_DECILES]);
/* The PSI of bin fractions a (10 of them, summing to 1) against tenths. */
double quality_psi(const double a[QUALITY_DECILES + 1]);

#endif

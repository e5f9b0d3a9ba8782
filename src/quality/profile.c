/*
 * profile.c - distribution drift of numeric columns (see profile.h).
 */
#include "quality/profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "engine/engine.h"
#include "core/banned.h"

#define FLOOR 0.0001

double
quality_psi(const double a[QUALITY_DECILES + 1])
{
    const double e = 1.0 / (QUALITY_DECILES + 1);
    double psi = 0;

    for (int i = 0; i <= QUALITY_DECILES; i++) {
        double x = a[i] < FLOOR ? FLOOR : a[i];

        psi += (x - e) * log(x / e);
    }
    return psi;
}

void
quality_baseline(const double (*deciles)[QUALITY_DECILES], size_t m, double out[QUALITY_DECILES])
{
    for (int j = 0; j < QUALITY_DECILES; j++) {
        double s = 0;

        for (size_t i = 0; i < m; i++)
            s += deciles[i][j];
        out[j] = s / (double)m;
        if (j > 0 && out[j] < out[j - 1])
            out[j] = out[j - 1];
    }
}

/* What the query yields per profile: its deciles, its count, then the
 * values at or below each baseline edge. */
#define PER (QUALITY_DECILES + 1 + QUALITY_DECILES)

int
quality_profile(struct engine *e, const char *relation, struct quality_profile *p, size_t n,
                struct sl_diag *d)
{
    struct sl_buf in, out;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    double *v = sl_calloc(n * PER + 1, sizeof(*v));
    bool *null = sl_calloc(n * PER + 1, sizeof(*null));
    size_t rows = 0;
    int rc;

    if (n == 0) {
        free(v);
        free(null);
        return 0;
    }
    sl_buf_init(&in);
    sl_buf_init(&out);
    /* inner: one aggregate list of deciles per column, its count and the
     * cumulative counts at the baseline's edges; outer: the list's items */
    for (size_t i = 0; i < n; i++) {
        struct sl_buf col;

        sl_buf_init(&col);
        sl_buf_adds(&col, "CAST(");
        sl_buf_add_sql_ident(&col, p[i].column);
        sl_buf_adds(&col, " AS DOUBLE)");
        sl_buf_addf(&in, "%sapprox_quantile(%s, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) "
                    "AS q%zu, CAST(count(%s) AS DOUBLE) AS n%zu",
                    i ? ", " : "", col.data, i, col.data, i);
        for (int j = 0; j < QUALITY_DECILES; j++) {
            sl_buf_addf(&out, "%sq%zu[%d]", i || j ? ", " : "", i, j + 1);
        }
        sl_buf_addf(&out, ", n%zu", i);
        for (int j = 0; j < QUALITY_DECILES; j++) {
            if (p[i].has_baseline) {
                sl_buf_addf(&in, ", CAST(count(*) FILTER (WHERE %s <= %.17g) AS DOUBLE) AS c%zu_%d",
                            col.data, p[i].baseline[j], i, j);
                sl_buf_addf(&out, ", c%zu_%d", i, j);
            } else {
                sl_buf_adds(&out, ", CAST(NULL AS DOUBLE)");
            }
        }
        sl_buf_release(&col);
    }
    {
        char *q = sl_printf("SELECT %s FROM (SELECT %s FROM %s)", out.data, in.data, relation);

        rc = engine_query(e, q, &res, d);
        free(q);
    }
    while (rc == 0 && (ch = engine_result_next(res)) != NULL) {
        if (rows == 0 && engine_chunk_rows(ch) > 0)
            for (size_t k = 0; k < n * PER; k++) {
                struct engine_vec vec;

                engine_chunk_vec(ch, k, &vec);
                null[k] = !engine_vec_valid(&vec, 0) || vec.kind != ENGINE_VEC_F64;
                v[k] = null[k] ? 0 : ((const double *)vec.data)[0];
            }
        rows += engine_chunk_rows(ch);
    }
    if (rc == 0 && rows != 1)
        rc = sl_fail(d, SL_ERR_ENGINE, "profiling %s returned %zu rows", relation, rows);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const double *x = v + i * PER;
        const bool *nx = null + i * PER;
        double a[QUALITY_DECILES + 1], below = 0;

        p[i].values = (int64_t)x[QUALITY_DECILES];
        for (int j = 0; j < QUALITY_DECILES; j++)
            p[i].deciles[j] = nx[j] ? 0 : x[j];
        p[i].has_psi = p[i].has_baseline && p[i].values > 0;
        if (!p[i].has_psi)
            continue;
        for (int j = 0; j < QUALITY_DECILES; j++) {
            double upto = x[QUALITY_DECILES + 1 + j];

            a[j] = (upto - below) / (double)p[i].values;
            below = upto;
        }
        a[QUALITY_DECILES] = ((double)p[i].values - below) / (double)p[i].values;
        p[i].psi = quality_psi(a);
    }
    engine_result_free(res);
    sl_buf_release(&in);
    sl_buf_release(&out);
    free(v);
    free(null);
    return rc;
}

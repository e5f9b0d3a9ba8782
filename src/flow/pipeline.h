/*
 * pipeline.h - the pipeline's own stages as Task resources, so a state
 * machine runs the pipeline:
 *
 *   arn:aws:states:::sluice:ingest      {"source": S, "files": [F...]} land a batch
 *                                        (or "file": F; "format", "contractVersion")
 *   arn:aws:states:::sluice:transform   {"source": S}              raw -> curated
 *   arn:aws:states:::sluice:build       {"models": [M...], "select": [SEL...],
 *                                        "fullRefresh": bool}      gold models
 *   arn:aws:states:::sluice:check       {"table": T, "ruleset": F} a quality check
 *   arn:aws:states:::sluice:publish     {"run": N}                 settle a held run
 *   arn:aws:states:::sluice:discard     {"run": N}
 *   arn:aws:states:::sluice:query       {"sql": Q}                 {"rows": [...], "count": N}
 *   arn:aws:states:::sluice:command     {"command": [ARG...], "env": {K: V}, "cwd": D}
 *   arn:aws:states:::sluice:webhook     {"url": U, "text": T} or {"url": U, "body": {...}}
 *
 * The stages run as child processes of this program (`sluice transform
 * ...` in the project), as `sluice serve` runs its transforms on arrival: a
 * stage that fails or is stopped does not take the execution's process
 * along, and flow needs nothing but the catalog.  A child's stdout, when it
 * is JSON, is the result; a stage's failure is a named error (Retry and
 * Catch match it): sluice.IngestFailed, sluice.TransformFailed, sluice.BuildFailed,
 * sluice.QualityCheckFailed (a rule failed: the result's rules are in the
 * cause), sluice.PublishFailed, sluice.DiscardFailed, sluice.QueryFailed,
 * sluice.CommandFailed (a non-zero exit), sluice.WebhookFailed; past the
 * task's TimeoutSeconds the child is killed and the error is States.Timeout.
 * A bad input (a missing field, the wrong type) is sluice.InvalidTaskInput.
 */
#ifndef SL_FLOW_PIPELINE_H
#define SL_FLOW_PIPELINE_H

/*
 * Register the pipeline's tasks for the project at root (each child runs
 * `sluice --project ROOT ...`).  Once per process, before loading
 * definitions that use them.
 */
void flow_pipeline_register(const char *root);

#endif

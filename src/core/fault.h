/*
 * fault.h - named fault points for crash and failure tests.
 *
 * Code that makes a durable step calls sl_fault("transform.commit") just
 * before it.  Normally that is one predictable branch.  Tests arm a point
 * through the environment:
 *
 *   SLUICE_FAULT=crash@transform.commit      SIGKILL self at the 1st hit
 *   SLUICE_FAULT=crash@store.publish:3       ... at the 3rd hit
 *   SLUICE_FAULT=enospc@store.write:2        the 2nd hit fails with -ENOSPC
 *   SLUICE_FAULT=eio@...                     ... with -EIO
 *   SLUICE_FAULT=indoubt@catalog.committed   ... with SL_ERR_INDOUBT (a lost
 *                                            connection at a commit)
 *   SLUICE_FAULT=stop@transform.before_commit  SIGSTOP self there, and go on
 *                                            once continued (the test kills a
 *                                            server meanwhile, say)
 *   SLUICE_FAULT_TRACE=/path                 append each point hit, in order
 *
 * The trace lets a test enumerate every (point, hit) pair of a clean run and
 * then crash at each one.  sl_fault() returns 0, or the injected error,
 * which the caller handles like the real failure it stands for.
 */
#ifndef SL_FAULT_H
#define SL_FAULT_H

/*
 * Read SLUICE_FAULT and SLUICE_FAULT_TRACE; call once at start-up.  Tests
 * may call it again after changing SLUICE_FAULT: that disarms the previous
 * point and counts hits of the new one from zero.  Not thread-safe.
 */
void sl_fault_init(void);
/* Pass a fault point; see above. */
int sl_fault(const char *point);

#endif

/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Runs: orchestration, ledger, locks, progress.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_RUN_H
#define MEDALLION_RUN_H

extern void RunInit(void);

#endif							/* MEDALLION_RUN_H */

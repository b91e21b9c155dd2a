/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Background workers: the run ledger writer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_WORKER_H
#define MEDALLION_WORKER_H

extern void WorkerWriteLedger(const char *entry);

#endif							/* MEDALLION_WORKER_H */

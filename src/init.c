/*-------------------------------------------------------------------------
 *
 * init.c
 *	  Module initialization: _PG_init only calls each module's initializer
 *	  and reserves the "medallion." prefix for configuration parameters.
 *
 * medallion works when loaded on demand (CREATE EXTENSION, first call) and
 * when listed in shared_preload_libraries; nothing here needs shared memory
 * yet.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "changes.h"
#include "relation.h"
#include "tests.h"
#include "build.h"
#include "init.h"
#include "publish.h"
#include "run.h"
#include "run_workers.h"
#include "trust.h"

PG_MODULE_MAGIC;

/*
 * _PG_init
 *		Called when the library is loaded.
 */
void
_PG_init(void)
{
	TestsInit();
	BuildInit();
	RelationInit();
	PublishInit();
	RunInit();
	LedgerInit();
	WorkerInit();
	ChangesInit();
	ChangesApplyInit();
	ChangesVerifyInit();
	TrustInit();
	MarkGUCPrefixReserved("medallion");
}

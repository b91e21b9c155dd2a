/*-------------------------------------------------------------------------
 *
 * changes.h
 *	  Change tracking for change-aware runs (changes.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_CHANGES_H
#define MEDALLION_CHANGES_H

#include "catalog.h"
#include "nodes/parsenodes.h"
#include "portability/instr_time.h"
#include "utils/snapshot.h"

#include "analyze.h"

/* The triggers' names are in medallion.h: the builders read them too. */

/* Whether a model needs building (ChangesCheck), or what its build read (ChangesInputs). */
typedef struct ChangeCheck
{
	char	   *reason;			/* why it builds; NULL: up to date (or not asked) */
	int64		since;			/* up to date: the run that built it */
	char	   *inputs;			/* the state of its inputs now (jsonb text) */
	char	   *snapshot;		/* a snapshot taken before its build */
	char	   *deltas;			/* the state of the delta capture its build
								 * relied on, or NULL (changes_maintain.c) */
} ChangeCheck;

extern void ChangesInit(void);

/* changes_triggers.c */
extern void ChangesAddTrigger(Oid relid, const char *name, const char *tgname, const char *clause,
							  const char *function, const char *enabled, const char *keyword,
							  Oid extension);
extern bool ChangesHasTracking(Oid relid);
extern void ChangesCaptureColumns(Oid relid, List *columns);
extern void ChangesCaptureWatermark(ModelDef *model);
extern List *ChangesCapturedAbove(Oid relid);
extern void ChangesForgetCaptured(void);

/* changes_inputs.c */
extern char *ChangesInputState(const char *model, const char *probes);
extern char *ChangesSnapshotNow(void);
extern bool ChangesAnyProbes(void);
extern char *ChangesTestsDigest(const char *model);

/* changes_deltas.c */

/*
 * The columns a delta log has before the captured ones: the writer's
 * top-level transaction and the row's weight.  A table column of either
 * name cannot be captured (ChangesDeltaColumnsWhy).
 */
#define DELTA_XID_COLUMN	"medallion_xid"
#define DELTA_W_COLUMN		"medallion_w"
/* their positions, before the captured columns */
#define DELTA_XID_ATTNUM	1
#define DELTA_W_ATTNUM		2
#define DELTA_FIRST_COLUMN	3

extern Oid	ChangesDeltaLog(Oid relid);
extern bool ChangesDeltaStateSeen(Oid relid, Snapshot snapshot);
extern bool ChangesDeltaLogAbove(Oid relid, Oid log);
extern const char *ChangesDeltaColumnsWhy(Oid relid, List *columns);
extern const char *ChangesDeltaUncaptured(Oid relid, List *columns);
extern void ChangesCaptureDeltas(Oid relid, List *columns);
extern void ChangesCaptureTables(List *tables);
extern void ChangesDropDeltaLog(Oid relid);
extern char *ChangesDeltaState(Oid relid, Oid storage);
extern char *ChangesDeltaSql(Oid relid, const char *previous);
extern int64 ChangesDeltaCopy(Oid relid, Oid copy, List *columns, const char *since, Oid reader,
							  int64 *olds, const char **why);
extern int64 ChangesDeltaCount(Oid relid, const char *since, int64 limit, int64 *olds);
extern bool ChangesDeltasLoggedHere(List *relids, bool any);

/* changes_algebraic.c */
extern char *ChangesDeltaCopyColumns(Oid relid, List *columns);
extern Query *ChangesDeltaQuery(Query *query, MaintainTable *table, Oid d);
extern Query *ChangesKeysQuery(Query *bound, MaintainPlan *plan, MaintainTable *table, Oid d);
extern void ChangesAlgebraicSums(ModelDef *model, AnalyzedModel *bound, MaintainPlan *plan,
								 MaintainTable *table, Oid d, int64 olds, Oid k,
								 const char *rows, Oid owner);
extern const char *ChangesAlgebraicUnfit(AnalyzedModel *bound, MaintainPlan *plan, Oid k);
extern List *ChangesDrivingColumns(MaintainPlan *plan, MaintainTable *table);
extern void ChangesDropAddedKeys(Oid k, MaintainPlan *plan, MaintainTable *table, Oid d);

/* changes_maintain.c */
struct Candidate;
extern const char *ChangesMaintainPlan(ModelDef *model, Query *query, MaintainPlan *plan);
extern const char *ChangesMaintainReadsModel(Oid relid, Oid owner, bool *is_model);
extern const char *ChangesMaintainUncaptured(MaintainPlan *plan, bool logs);
extern void ChangesCaptureMaintained(ModelDef *model, Query *query);
extern void ChangesCaptureReaders(ModelDef *model);
extern struct Candidate *ChangesMaintainCandidate(ModelDef *model, AnalyzedModel *bound,
												   List *redirect_from, List *redirect_to,
												   bool change_aware);
extern void ChangesDropUnneededDeltas(void);
extern void ChangesUncaptureModelTable(Oid relid);
extern void ChangesTrimDeltas(List *built, bool truncate);
extern bool ChangesLogsOrphaned(void);
extern bool ChangesLogsIdle(void);
extern void ChangesHoldHorizon(bool to_top);

/* changes_state.c */
extern char *ChangesMaintainTablesState(MaintainPlan *plan, List *redirect_from, List *redirect_to);
extern const char *ChangesMaintainViewsRedefined(MaintainPlan *plan, const char *deltas);
extern char *ChangesMaintainState(struct Candidate *cand, List *redirect_from, List *redirect_to);
extern char *ChangesMaintainRecordState(struct Candidate *cand);
extern char *ChangesMaintainRecordTested(ModelDef *model, char *deltas);
extern void ChangesMaintainDone(struct Candidate *cand);
extern bool ChangesReferenceUnchanged(ModelDef *model, const char *to_model);
extern List *ChangesMaintainedNames(List *names);
extern const char *ChangesEnsureKeyIndex(ModelDef *model, Oid published, List *key_names,
										double table_rows);
extern bool ChangesMaintainStateKept(ModelDef *model, const char *snapshot);
extern bool ChangesMaintainStoredState(ModelDef *model, char **snapshot, char **deltas, bool *reread,
									   bool *tested, bool *unseen);

/* changes_apply.c */
/* What a maintained build would cost, against the model's last full build. */
typedef struct MaintainCost
{
	double		full_ms;		/* the last full build's duration, or -1 */
	double		estimate_ms;	/* the maintained build's estimate, or -1 */
	bool		weighed;		/* the two were compared (the full build is
								 * long enough to tell) */
} MaintainCost;

extern void ChangesApplyInit(void);
extern void ChangesMaintainApply(ModelDef *model, Oid published, List *columns, Oid keys,
								 List *key_names, List *patterns, double table_rows,
								 bool gone, Oid written, int64 *deleted, int64 *inserted);
extern void ChangesMaintainAppend(ModelDef *model, Oid published, List *columns, Oid rows,
								  List *key_names, double table_rows, int64 *inserted);
extern void ChangesMaintainCombine(ModelDef *model, Oid published, List *columns, Oid sums,
								   List *key_names, List *combine, const char *counted,
								   List *patterns, double table_rows, int64 *deleted,
								   int64 *updated, int64 *inserted);
extern char *ChangesMaintainSpent(MaintainCost *cost, instr_time started);
extern bool ChangesMaintainWeighAdded(ModelDef *model, int64 ndelta, int64 nolds, int64 ngroups,
									  double input_rows, double table_rows, MaintainCost *cost);
extern bool ChangesMaintainWeighEarly(ModelDef *model, MaintainPlan *plan, int64 n, int64 olds,
									  double input_rows, double table_rows, double driving_rows,
									  MaintainCost *cost);
extern bool ChangesMaintainWeigh(ModelDef *model, int64 nkeys, int64 added, double rows_per_key,
								 double table_rows, MaintainCost *cost);
extern char *ChangesFormatMs(double ms);

/* changes_verify.c */
typedef enum MaintainVerify
{
	MAINTAIN_VERIFY_OFF,
	MAINTAIN_VERIFY_SAMPLE,
	MAINTAIN_VERIFY_ON
} MaintainVerify;
extern PGDLLIMPORT int maintain_verify;
extern void ChangesVerifyInit(void);
extern int64 ChangesVerifyMaintained(ModelDef *model, AnalyzedModel *bound, Oid table, List *keys,
									 Oid recomputed, const char *work, bool sample);

/* changes.c */
extern bool ChangesTrack(Oid relid, Oid owner);
extern void ChangesTrackInputs(ModelDef *model);
extern void ChangesUntrackUnread(void);
extern ChangeCheck *ChangesCheck(ModelDef *model, Query *query);
extern ChangeCheck *ChangesInputs(ModelDef *model);
extern void ChangesTrim(void);
extern bool ChangesTrimDue(void);
extern void ChangesForget(ModelDef *model);
extern void ChangesRecord(ModelDef *model, int64 run_id, ChangeCheck *check, bool changed);

#endif							/* MEDALLION_CHANGES_H */

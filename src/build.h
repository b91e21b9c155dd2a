/*-------------------------------------------------------------------------
 *
 * build.h
 *	  Building models: their published relations (build_relation.c),
 *	  table candidates (build_candidate.c), incremental deltas
 *	  (build_incremental.c) and snapshot changes (build_snapshot.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_BUILD_H
#define MEDALLION_BUILD_H

#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "analyze.h"
#include "catalog.h"

/* A table model's new content, built but not yet published. */
typedef struct Candidate
{
	ModelDef   *model;
	Oid			published;		/* the published table */
	Oid			candidate;		/* heap shaped like it */
	bool		kept;			/* candidate is a hash-distributed model's
								 * candidate copy: emptied, never dropped */
	bool		recycled;		/* candidate is the model's previous version,
								 * emptied in this subtransaction */
	bool		schema_changed; /* the published table was altered */
	List	   *unbound;		/* bindings that altering it dropped (names) */
	List	   *columns;		/* ModelColumn *: the query's columns */
	List	   *published_indexes;	/* OIDs, paired with ... */
	List	   *candidate_indexes;	/* ... the candidate's copies */
	int64		rows;
	/* incremental models */
	bool		delta;			/* candidate holds new rows to apply */
	const char *full_reason;	/* why it was rebuilt whole (or, a delta, why
								 * all rows were read), or NULL */
	char	   *lower_bound;	/* the high-water mark the delta starts at */
	bool		reread;			/* rows published before may be in the delta */
	char	   *watermark;		/* the high-water mark to store */
	char	   *max_seen;
	char	   *snapshot;		/* the snapshot it read with (pg_snapshot text) */
	char	   *capture;		/* the state of row capture it relied on, or NULL */
	char	   *previous_snapshot;	/* the one its previous build stored */
	/* maintained table models (changes_maintain.c) */
	char	   *method;			/* what the build did, for the step's message, or NULL */
	char	   *deltas;			/* the state of delta capture it read with
								 * (ChangesDeltaState), or NULL */
	bool		in_place;		/* applied to the published table already
								 * (changes_apply.c): no candidate heap */
	Oid			written;		/* in place: a work table of the rows it
								 * inserted, for the tests, or InvalidOid */
	MaintainPlan *maintain_plan;	/* the plan it was maintained or rebuilt
									 * by, or NULL (ChangesMaintainState) */
} Candidate;

/* Schema changes between the published table and the query. */
typedef struct SchemaChange
{
	List	   *added;			/* ModelColumn *: not in the table */
	List	   *removed;		/* char *: in the table, not in the query */
	List	   *retyped;		/* ModelColumn *: type differs */
} SchemaChange;

extern bool build_analyze;

extern void BuildInit(void);
extern List *BuildDefineRelation(ModelDef *model, AnalyzedModel *analyzed,
								 LayerDef *layer, ModelDef *previous);
extern void BuildDropRelation(ModelDef *model);
extern void BuildEnsureIndexes(ModelDef *model, Oid relid);
extern void BuildEnsureIndex(ModelDef *model, Oid relid, List *names);

extern void BuildDistributedCopies(ModelDef *model, bool renew);
extern Candidate *BuildTableCandidate(ModelDef *model, AnalyzedModel *analyzed,
									  const char *sql, List *redirect_from,
									  List *redirect_to, bool allow_alter, bool whole);
extern void BuildMoveToBuildSchema(Candidate *cand, int64 run_id, List *readers);
extern Tuplestorestate *BuildHoldRows(Oid candidate, MemoryContext cxt, ResourceOwner owner);
extern void BuildMatchIndexes(Oid published, Oid candidate);
extern List *BuildAlterLike(Oid relid, TupleDesc desc, ModelDef *model);
extern Oid	BuildStagedCandidate(ModelDef *model, Oid owner, Tuplestorestate *rows,
								 TupleDesc desc, const char *name);
extern Candidate *BuildAdoptCandidate(ModelDef *model, List *columns, Oid candidate,
									  int64 rows);
extern Candidate *BuildIncrementalCandidate(ModelDef *model, AnalyzedModel *analyzed,
											const char *sql, List *redirect_from,
											List *redirect_to, bool full_refresh, Oid stage,
											bool reads_remote);
extern bool BuildColumnsChanged(ModelDef *model, AnalyzedModel *analyzed);
extern int64 BuildApplyDelta(Candidate *cand);
extern int64 BuildSnapshot(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
						   List *redirect_from, List *redirect_to);
extern Oid	BuildMaintainTarget(ModelDef *model, AnalyzedModel *analyzed, const char **why);
extern void BuildDropCandidate(Candidate *cand);
extern SchemaChange *BuildSchemaChange(Relation rel, List *columns);
extern char *BuildNameList(List *names, bool columns);

/* contract.c */
extern void ContractCheck(ModelDef *model, List *columns);
extern void ContractApply(ModelDef *model, Oid relid);
extern void ContractVerifyCandidate(ModelDef *model, Oid published, Oid candidate);

/* build_fill.c */
extern uint64 BuildFillHeap(Oid heap, List *columns, const char *sql, Oid shown_as,
							List *redirect_from, List *redirect_to);
extern uint64 BuildFillHeapBound(Oid heap, AnalyzedModel *analyzed, const char *shown_as,
								 List *redirect_from, List *redirect_to);
extern void BuildFillFromStore(Oid heap, Tuplestorestate *rows);

/* build_candidate.c, for the other builders */
extern List *BuildCheckDependents(ModelDef *model, Relation rel, List *columns);
extern void BuildSetAcl(Oid relid, Datum acl, bool isnull);

#endif							/* MEDALLION_BUILD_H */

/*-------------------------------------------------------------------------
 *
 * materialize.h
 *	  What each kind of materialization does (what it is: catalog.h), and
 *	  what a run's step gives a build and gets back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_MATERIALIZE_H
#define MEDALLION_MATERIALIZE_H

#include "analyze.h"
#include "catalog.h"

struct Candidate;

/* What a run's step gives a materialization's build, and gets back. */
typedef struct BuildStep
{
	/* in */
	ModelDef   *model;
	AnalyzedModel *bound;		/* the model's binding (bind.c) */
	const char *sql;			/* a query over the binding */
	List	   *redirect_from;	/* published tables this run rebuilt ... */
	List	   *redirect_to;	/* ... and their candidates */
	bool		full_refresh;
	bool		reads_remote;	/* it reads foreign tables */
	Oid			stage;			/* a batched extraction's staging table */
	Oid			worker_candidate;	/* what a worker built, or InvalidOid */
	int64		worker_rows;
	int64		run_id;
	bool		change_aware;	/* a change-aware run: a table model may be maintained */
	/* out */
	struct Candidate *candidate;	/* table candidates and deltas */
	bool		replaces;		/* the candidate replaces the published table */
	int64		rows;
	bool		has_rows;
	bool		up_to_date;		/* nothing new */
	Oid			tested;			/* what its tests read, or InvalidOid: none */
} BuildStep;

extern void MaterializeCheckSettings(ModelDef *model, float4 threshold);
extern void MaterializeBuild(BuildStep *step);
extern bool MaterializeApply(BuildStep *step);

#endif							/* MEDALLION_MATERIALIZE_H */

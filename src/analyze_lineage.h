/*-------------------------------------------------------------------------
 *
 * analyze_lineage.h
 *	  What the dependency pass (analyze.c) and the lineage pass
 *	  (analyze_lineage.c) of the analyzer share.  analyze_lineage.c holds
 *	  the classification both use, so analyze.c calls it and never the
 *	  other way round.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_ANALYZE_LINEAGE_H
#define MEDALLION_ANALYZE_LINEAGE_H

#include "nodes/parsenodes.h"

#include "catalog.h"

/* Nested read-through views deeper than this are reported as an error. */
#define ANALYZE_MAX_VIEW_DEPTH	64

/* State shared by both passes. */
typedef struct AnalyzeContext
{
	List	   *model_relids;	/* OIDs of the models' published relations */
	List	   *model_names;	/* parallel to model_relids */
	List	   *model_schemas;	/* parallel to model_relids: the models' layer schemas */
	List	   *ephemeral_relids;	/* bindings of ephemeral models: read through */
	List	   *sources;		/* of SourceDef * */
	List	   *deps;			/* of DepItem * */
	/* dependency pass */
	char	   *via;			/* view path being read through, or NULL */
	Oid			skip_relid;		/* the view being read through (its OLD/NEW) */
	int			view_depth;
} AnalyzeContext;

extern const char *AnalyzeModelOf(AnalyzeContext *ctx, Oid relid);
extern bool AnalyzeReadsThrough(AnalyzeContext *ctx, Oid relid);
extern Query *AnalyzeViewQuery(Oid relid);
extern List *AnalyzeLineageRows(AnalyzeContext *ctx, Query *query);

#endif							/* MEDALLION_ANALYZE_LINEAGE_H */

/*-------------------------------------------------------------------------
 *
 * docs.h
 *	  The pipeline as a page: medallion_docs() (docs.c), the graph as SVG
 *	  (docs_graph.c, through medallion_docs.so) and the next time of a
 *	  cron schedule (docs_cron.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_DOCS_H
#define MEDALLION_DOCS_H

#include "fmgr.h"
#include "utils/timestamp.h"

#include "graph.h"

/*
 * What a caller may read of a model m (joined with its layer l), as SQL
 * over $1, the caller's role: models whose owner's privileges it has, and
 * models whose published relation it may SELECT.
 */
#define DOCS_MODEL_OWNED_SQL \
	"EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = m.owner" \
	" AND pg_catalog.pg_has_role($1, r.oid, 'USAGE'))"
#define DOCS_MODEL_READABLE_SQL \
	"(" DOCS_MODEL_OWNED_SQL " OR coalesce(pg_catalog.has_table_privilege($1," \
	" pg_catalog.to_regclass(pg_catalog.format('%I.%I', l.schema_name, m.name)), 'SELECT'), false))"

/* A model's state on the page: its last step's status, or never built. */
typedef enum DocsStatus
{
	DOCS_SUCCESS,
	DOCS_WARNED,				/* success with tests that warned */
	DOCS_FAILED,
	DOCS_CANCELLED,
	DOCS_SKIPPED,
	DOCS_UP_TO_DATE,
	DOCS_NEVER_BUILT,
	DOCS_NSTATUS
} DocsStatus;

typedef struct DocsStatusInfo
{
	const char *name;			/* CSS class and legend */
	const char *label;
	const char *fill;			/* #rrggbb */
} DocsStatusInfo;

extern const DocsStatusInfo DocsStatuses[DOCS_NSTATUS];
extern DocsStatus DocsStatusOf(const char *step_status, bool warned);

/* What the caller may see of a model, read once for the graph and the page. */
typedef struct DocsModelState
{
	char	   *name;
	bool		readable;		/* DOCS_MODEL_READABLE_SQL */
	bool		owned;			/* DOCS_MODEL_OWNED_SQL */
	DocsStatus	status;			/* its last step's */
} DocsModelState;

extern List *DocsDrawnModels(Drawing *drawing);
extern List *DocsModelStates(List *names);
extern DocsModelState *DocsFindState(List *states, const char *name);
extern char *DocsGraphSvg(Drawing *drawing, Graph *graph, bool standalone, List *states);
extern bool DocsCronNext(const char *cron, TimestampTz after, TimestampTz *next);

extern Datum medallion_docs(PG_FUNCTION_ARGS);
extern Datum medallion_cron_next(PG_FUNCTION_ARGS);

#endif							/* MEDALLION_DOCS_H */

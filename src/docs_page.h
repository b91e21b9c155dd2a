/*-------------------------------------------------------------------------
 *
 * docs_page.h
 *	  The page medallion_docs() writes, shared by the files that write it:
 *	  what was read for it (docs.c), its HTML helpers, style, script and
 *	  policy (docs_html.c), and its runs: the runs x models grid and the
 *	  Gantt chart of each run (docs_runs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_DOCS_PAGE_H
#define MEDALLION_DOCS_PAGE_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* A row of a query: its columns as strings (NULL for SQL NULL). */
typedef char **DocsRow;

/* The parameters of the page's queries. */
#define DOCS_NPARAMS 4

/* Everything the page shows, read before it is written. */
typedef struct DocsPage
{
	StringInfoData html;
	MemoryContext cxt;			/* where rows are copied */
	Datum		params[DOCS_NPARAMS];	/* the caller's role, the selected
										 * models it may read (in graph
										 * order), those it owns, the run
										 * asked for (0: the last) */
	int			selected;		/* how many models the selector picked */
	int64		run_id;			/* the run of the main Gantt chart, 0: the last */
	List	   *states;			/* DocsModelStates of the drawn models */
	List	   *models;			/* Q_MODELS, in graph order */
	List	   *columns;		/* Q_COLUMNS, by model then attnum */
	List	   *lineage;		/* Q_LINEAGE, by model then column */
	List	   *tests;			/* Q_TESTS, by model then name */
	List	   *steps;			/* Q_STEPS, by model then newest first */
	List	   *runs;			/* Q_RUNS, newest first */
	List	   *gantt;			/* DOCS_Q_GANTT: steps of the grid's runs */
	List	   *sources;		/* Q_SOURCES */
	List	   *source_tables;	/* Q_SOURCE_TABLES, by source */
	List	   *schedules;		/* Q_SCHEDULES */
	char	   *svg;
	const char *selector;
} DocsPage;

/* The runs the grid shows (and the Runs table lists), newest first. */
#define DOCS_GRID_RUNS 20

/* The columns of DocsPage.runs (docs.c's Q_RUNS) */
enum
{
	R_ID, R_SELECTOR, R_BY, R_STARTED, R_SECONDS, R_STATUS, R_MODELS, R_SUCCEEDED,
	R_FAILED, R_SKIPPED, R_PUBLISHED, R_MESSAGE
};

/*
 * The message of a step rm of model m (LEFT JOINed) as the caller $1 may
 * read it: the rule of medallion.run_messages and RunVisibleText.  An
 * error that may quote the owner's data (SQLSTATE classes 22, 23, 2F, 38,
 * 39, 44, HV, P0, XX) is shown to roles acting for the owner only.
 */
#define DOCS_STEP_MESSAGE_SQL \
	"CASE WHEN rm.message IS NULL THEN NULL" \
	" WHEN rm.sqlstate IS NULL" \
	"   OR pg_catalog.\"left\"(rm.sqlstate, 2) <> ALL" \
	"      (ARRAY['22', '23', '2F', '38', '39', '44', 'HV', 'P0', 'XX'])" \
	"   OR coalesce(pg_catalog.pg_has_role($1, m.owner::name, 'USAGE'), false)" \
	" THEN rm.message" \
	" ELSE 'failed with SQLSTATE ' || rm.sqlstate || ' (the message is shown to roles acting for '" \
	"      || coalesce(m.owner::text, 'its owner') || ', in medallion.run_messages)' END"

/* The steps of the runs of the grid and of the run asked for: DocsPage.gantt */
enum
{
	G_MODEL, G_STATUS, G_WARNED, G_START_MS, G_END_MS, G_ROWS, G_MS, G_RUN, G_RUN_STATUS,
	G_RUN_MS, G_WORKER, G_MESSAGE
};
extern const char *const DOCS_Q_GANTT;

/* docs_html.c */
extern void DocsText(StringInfo buf, const char *text);
extern void DocsCell(StringInfo buf, const char *tag, const char *text);
extern void DocsBadge(StringInfo buf, const char *css_class, const char *label);
extern bool DocsIsTrue(const char *value);
extern List *DocsRowsOf(List *rows, int col, const char *value);
extern bool DocsOnPage(DocsPage *page, const char *model);
extern void DocsModelLink(DocsPage *page, const char *model);
extern char *DocsDuration(double ms);
extern const char *DocsStyle(void);
extern const char *DocsScript(void);
extern char *DocsPolicy(void);

/* docs_runs.c */
extern void DocsWriteRun(DocsPage *page);
extern void DocsWriteGrid(DocsPage *page);

#endif							/* MEDALLION_DOCS_PAGE_H */

/*-------------------------------------------------------------------------
 *
 * docs.c
 *	  medallion_docs(): the pipeline as one self-contained HTML document.
 *	  The graph (SVG, docs_graph.c), the last run as a Gantt chart, the
 *	  last runs, sources, schedules, and a section per model: settings,
 *	  SQL, columns with their lineage, tests with their last results, and
 *	  the last steps.
 *
 * Self-contained: inline CSS, no script, no request to any address.  The
 * page carries its own Content-Security-Policy (nothing may be loaded; the
 * one style element is allowed by its hash), so it also works offline and
 * where a stricter policy is served with it.
 *
 * Safe: every text that comes from the catalog goes through html_text
 * (names, SQL, descriptions, test expressions, messages).  The page shows
 * what the caller may read (DOCS_MODEL_READABLE_SQL): sections for the
 * models it owns or may SELECT from; failing row counts, observed values
 * and messages of tests only of models it owns; messages only of its own
 * runs and schedules.
 *
 * Memory: the catalog is read first, each query's rows copied into the
 * function's context; the page is written after, in that context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "catalog.h"
#include "docs.h"
#include "graph.h"
#include "model.h"

PG_FUNCTION_INFO_V1(medallion_docs);

/* A row of a query: its columns as strings (NULL for SQL NULL). */
typedef char **DocsRow;

/* Everything the page shows, read before it is written. */
typedef struct DocsPage
{
	StringInfoData html;
	MemoryContext cxt;			/* where rows are copied */
	Datum		params[3];		/* the caller's role, the selected models it
								 * may read (in graph order), those it owns */
	int			selected;		/* how many models the selector picked */
	List	   *states;			/* DocsModelStates of the drawn models */
	List	   *models;			/* Q_MODELS, in graph order */
	List	   *columns;		/* Q_COLUMNS, by model then attnum */
	List	   *lineage;		/* Q_LINEAGE, by model then column */
	List	   *tests;			/* Q_TESTS, by model then name */
	List	   *steps;			/* Q_STEPS, by model then newest first */
	List	   *runs;			/* Q_RUNS, newest first */
	List	   *gantt;			/* Q_GANTT, by start */
	List	   *sources;		/* Q_SOURCES */
	List	   *source_tables;	/* Q_SOURCE_TABLES, by source */
	List	   *schedules;		/* Q_SCHEDULES */
	char	   *svg;
	const char *selector;
} DocsPage;

static void html_text(StringInfo buf, const char *text);
static List *read_rows(DocsPage *page, const char *sql);
static bool is_true(const char *value);
static bool on_page(DocsPage *page, const char *model);

/* Timestamps are shown in UTC, whatever the session's time zone. */
#define UTC(expr) "pg_catalog.to_char((" expr ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

/*
 * The selected models the caller may read ($2, worked out once by
 * DocsModelStates), numbered in graph order.
 */
#define SELECTED_SQL \
	"sel AS (SELECT s.name, s.ord FROM pg_catalog.unnest($2::text[]) WITH ORDINALITY s (name, ord))"

/* Those models with what the queries read of them; owned: in $3. */
#define VISIBLE_SQL \
	SELECTED_SQL ", vis AS (SELECT sel.ord, m.name, l.schema_name, m.column_descriptions," \
	" m.name = ANY ($3::text[]) AS owned," \
	" coalesce(pg_catalog.to_regclass(pg_catalog.format('%I.%I', l.schema_name, m.name))," \
	"          pg_catalog.to_regclass(pg_catalog.format('medallion_bind.%I', m.name))) AS rel" \
	" FROM sel JOIN medallion.models m ON m.name = sel.name" \
	" JOIN medallion.layers l ON l.name = m.layer)"

enum
{
	M_NAME, M_LAYER, M_MATERIALIZED, M_OWNER, M_DESCRIPTION, M_SQL, M_SETTINGS,
	M_RELATION, M_AS_OF, M_LAYER_FRESHNESS, M_STALE, M_AGE
};
static const char *const Q_MODELS =
"WITH " SELECTED_SQL
"SELECT m.name, m.layer, m.materialized, m.owner, m.description, m.sql,"
"       (SELECT pg_catalog.string_agg(e.key || ' = ' || e.value, '; ' ORDER BY e.key)"
"          FROM pg_catalog.jsonb_each_text(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"               'unique_key', m.unique_key, 'indexes', NULLIF(m.indexes, '{}'),"
"               'tags', NULLIF(m.tags, '{}'), 'on_schema_change', m.on_schema_change,"
"               'statement_timeout', m.statement_timeout, 'strategy', m.strategy,"
"               'watermark', m.watermark, 'lookback', m.lookback,"
"               'full_refresh_threshold', m.full_refresh_threshold,"
"               'snapshot_strategy', m.snapshot_strategy, 'updated_at', m.updated_at_column,"
"               'check_columns', m.check_columns, 'hard_deletes', m.hard_deletes,"
"               'distribution', m.distribution, 'distributed_by', m.distributed_by,"
"               'colocate_with', m.colocate_with, 'deterministic', NULLIF(m.deterministic, false),"
"               'enabled', m.enabled, 'version', m.version))) e),"
"       pg_catalog.format('%I.%I', l.schema_name, m.name),"
"       " UTC("good.at") ", l.freshness::text,"
"       good.at IS NOT NULL AND l.freshness IS NOT NULL AND pg_catalog.now() - good.at > l.freshness,"
"       pg_catalog.date_trunc('second', pg_catalog.now() - good.at)::text"
"  FROM sel JOIN medallion.models m ON m.name = sel.name"
"  JOIN medallion.layers l ON l.name = m.layer"
"  LEFT JOIN (SELECT rm.model, pg_catalog.max(rm.finished_at) AS at FROM medallion.run_models rm"
"              WHERE rm.model = ANY ($2) AND rm.status IN ('success', 'up_to_date')"
"              GROUP BY rm.model) good ON good.model = m.name"
" ORDER BY sel.ord";

enum
{
	C_MODEL, C_ATTNUM, C_NAME, C_TYPE, C_DESCRIPTION
};
static const char *const Q_COLUMNS =
"WITH " VISIBLE_SQL
"SELECT v.name, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
"       v.column_descriptions ->> a.attname::text"
"  FROM vis v JOIN pg_catalog.pg_attribute a ON a.attrelid = v.rel AND a.attnum > 0 AND NOT a.attisdropped"
" ORDER BY v.ord, a.attnum";

enum
{
	L_MODEL, L_COLUMN, L_KIND, L_SCHEMA, L_RELATION, L_SRC_COLUMN, L_UP_MODEL, L_UP_ATTNUM
};
static const char *const Q_LINEAGE =
"WITH " VISIBLE_SQL
"SELECT v.name, cl.column_name, cl.kind, cl.src_schema, cl.src_relation, cl.src_column,"
"       up.name, ua.attnum"
"  FROM vis v JOIN medallion.column_lineage cl ON cl.model = v.name"
"  LEFT JOIN vis up ON up.schema_name = cl.src_schema AND up.name = cl.src_relation::text"
"  LEFT JOIN pg_catalog.pg_attribute ua ON ua.attrelid = up.rel AND ua.attname = cl.src_column"
"       AND NOT ua.attisdropped"
" ORDER BY v.ord, cl.column_ordinal, cl.kind <> 'projection', cl.kind,"
"          cl.src_schema, cl.src_relation, cl.src_column";

enum
{
	T_MODEL, T_NAME, T_KIND, T_SEVERITY, T_BLOCKING, T_DESCRIPTION, T_DETAIL,
	T_STATUS, T_FAILURES, T_OBSERVED, T_RUN, T_MESSAGE
};
static const char *const Q_TESTS =
"WITH " VISIBLE_SQL
"SELECT t.model, t.name, t.kind, t.severity, t.blocking, t.description,"
"       pg_catalog.concat_ws('; ',"
"         CASE WHEN t.columns <> '{}' THEN 'columns ' || pg_catalog.array_to_string(t.columns, ', ') END,"
"         CASE WHEN t.accepted IS NOT NULL THEN 'accepted ' || pg_catalog.array_to_string(t.accepted, ', ') END,"
"         CASE WHEN t.to_model IS NOT NULL THEN 'to ' || t.to_model || coalesce(' (' || t.to_column || ')', '') END,"
"         CASE WHEN t.to_relation IS NOT NULL THEN 'to ' || t.to_relation || coalesce(' (' || t.to_column || ')', '') END,"
"         CASE WHEN t.expression IS NOT NULL THEN 'expression ' || t.expression END,"
"         CASE WHEN t.min_rows IS NOT NULL THEN 'min_rows ' || t.min_rows END,"
"         CASE WHEN t.max_rows IS NOT NULL THEN 'max_rows ' || t.max_rows END,"
"         CASE WHEN t.max_age IS NOT NULL THEN 'max_age ' || t.max_age END,"
"         CASE WHEN t.sql IS NOT NULL THEN 'sql ' || t.sql END,"
"         CASE WHEN t.warn_if <> '> 0' THEN 'warn_if ' || t.warn_if END,"
"         CASE WHEN t.error_if <> '> 0' THEN 'error_if ' || t.error_if END),"
"       r.status, CASE WHEN v.owned THEN r.failures END, CASE WHEN v.owned THEN r.observed END,"
"       r.run_id, CASE WHEN v.owned THEN r.message END"
"  FROM vis v JOIN medallion.tests t ON t.model = v.name"
"  LEFT JOIN (SELECT DISTINCT ON (tr.model, tr.test) tr.*"
"               FROM medallion.test_results tr WHERE tr.model = ANY ($2)"
"              ORDER BY tr.model, tr.test, tr.run_id DESC) r ON r.model = t.model AND r.test = t.name"
" ORDER BY v.ord, t.name";

enum
{
	S_MODEL, S_RUN, S_STATUS, S_ROWS, S_MS, S_STARTED, S_WARNED
};
static const char *const Q_STEPS =
"WITH " VISIBLE_SQL
"SELECT s.model, s.run_id, s.status, s.rows, pg_catalog.round(s.ms, 1), " UTC("s.started_at") ","
"       s.tests_warned > 0"
"  FROM (SELECT rm.*, pg_catalog.row_number() OVER (PARTITION BY rm.model ORDER BY rm.run_id DESC) AS k"
"          FROM medallion.run_models rm WHERE rm.model = ANY ($2)) s"
"  JOIN vis v ON v.name = s.model"
" WHERE s.k <= 10"
" ORDER BY v.ord, s.run_id DESC";

enum
{
	R_ID, R_SELECTOR, R_BY, R_STARTED, R_SECONDS, R_STATUS, R_MODELS, R_SUCCEEDED,
	R_FAILED, R_SKIPPED, R_PUBLISHED, R_MESSAGE
};
static const char *const Q_RUNS =
"SELECT r.run_id, r.selector, r.started_by, " UTC("r.started_at") ","
"       pg_catalog.round(EXTRACT(epoch FROM r.finished_at - r.started_at), 2),"
"       r.status, r.models, r.succeeded, r.failed, r.skipped, r.published,"
"       CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles o WHERE o.rolname = r.started_by"
"                           AND pg_catalog.pg_has_role($1, o.oid, 'USAGE')) THEN r.message END"
"  FROM medallion.runs r"
" ORDER BY r.run_id DESC LIMIT 20";

enum
{
	G_MODEL, G_STATUS, G_WARNED, G_START_MS, G_END_MS, G_ROWS, G_MS, G_RUN, G_RUN_STATUS,
	G_RUN_MS, G_WORKER
};
static const char *const Q_GANTT =
"WITH r AS (SELECT * FROM medallion.runs ORDER BY run_id DESC LIMIT 1)"
"SELECT rm.model, rm.status, rm.tests_warned > 0,"
"       EXTRACT(epoch FROM rm.started_at - r.started_at) * 1000,"
"       EXTRACT(epoch FROM coalesce(rm.finished_at, rm.started_at) - r.started_at) * 1000,"
"       rm.rows, pg_catalog.round(rm.ms, 1), r.run_id, r.status,"
"       EXTRACT(epoch FROM coalesce(r.finished_at, pg_catalog.now()) - r.started_at) * 1000,"
"       rm.worker"
"  FROM r JOIN medallion.run_models rm ON rm.run_id = r.run_id"
"  JOIN medallion.models m ON m.name = rm.model"
"  JOIN medallion.layers l ON l.name = m.layer"
" WHERE rm.started_at IS NOT NULL AND " DOCS_MODEL_READABLE_SQL
" ORDER BY rm.started_at, rm.model";

enum
{
	SO_NAME, SO_KIND, SO_SERVER, SO_REMOTE, SO_LOCAL, SO_FRESHNESS, SO_WARN, SO_ERROR,
	SO_DESCRIPTION, SO_OWNER, SO_CHANGES
};
static const char *const Q_SOURCES =
"SELECT s.name, s.kind, s.server_name, s.remote_schema, s.local_schema, s.freshness_column,"
"       s.warn_after::text, s.error_after::text, s.description, s.owner,"
"       coalesce(s.options ->> 'changes', 'always')"
"  FROM medallion.sources s ORDER BY s.name";

enum
{
	ST_SOURCE, ST_TABLE, ST_READERS, ST_LAST
};
static const char *const Q_SOURCE_TABLES =
"WITH t AS (SELECT s.name AS source, s.local_schema, c.relname AS tab"
"             FROM medallion.sources s"
"             JOIN pg_catalog.pg_namespace n ON n.nspname = s.local_schema"
"             JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'f')"
"              AND (s.tables = '{}' OR c.relname::text = ANY (s.tables))"
"            UNION"
"           SELECT s.name, s.local_schema, d.dep_name"
"             FROM medallion.sources s JOIN medallion.model_dependencies d"
"               ON d.kind = 'source' AND d.dep_schema = s.local_schema)"
"SELECT t.source, t.tab,"
"       (SELECT pg_catalog.string_agg(DISTINCT d.model, ', ') FROM medallion.model_dependencies d"
"         WHERE d.dep_schema = t.local_schema AND d.dep_name = t.tab),"
"       (SELECT " UTC("pg_catalog.max(rm.finished_at)")
"          FROM medallion.model_dependencies d JOIN medallion.run_models rm ON rm.model = d.model"
"         WHERE d.dep_schema = t.local_schema AND d.dep_name = t.tab AND rm.status = 'success')"
"  FROM t ORDER BY t.source, t.tab";

enum
{
	SC_NAME, SC_SELECTOR, SC_CRON, SC_RETRIES, SC_THREADS, SC_OWNER, SC_STATUS, SC_FINISHED,
	SC_ATTEMPTS, SC_MESSAGE, SC_RUN
};
static const char *const Q_SCHEDULES =
"SELECT sc.name, sc.selector, sc.cron, sc.retries, sc.threads, sc.owner, sc.last_status,"
"       " UTC("sc.last_finished_at") ", sc.last_attempts,"
"       CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles o WHERE o.rolname = sc.owner"
"                           AND pg_catalog.pg_has_role($1, o.oid, 'USAGE')) THEN sc.last_job_message END,"
"       sc.last_run_id"
"  FROM medallion.schedules sc ORDER BY sc.name";

/*
 * The page's style: one element, allowed by the page's policy through its
 * hash (page_policy), so it must stay a constant.
 */
static const char *const PAGE_CSS =
"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
"margin:0;color:#1f2630;background:#fbfcfd}"
"header{background:#1f2a37;color:#fff;padding:14px 28px}"
"header h1{margin:0;font-size:20px;font-weight:600}header p{margin:4px 0 0;color:#c9d2dc}"
"nav a{color:#9fd0ff;margin-right:16px;text-decoration:none}"
"main{padding:8px 28px 40px;max-width:1400px}"
"h2{border-bottom:1px solid #d8dde3;padding-bottom:4px;margin-top:28px}"
"h3{margin:0 0 6px;font-size:17px}h4{margin:14px 0 4px;font-size:14px;color:#46505c}"
"a{color:#0a5bb5}"
"table{border-collapse:collapse;margin:4px 0 8px;font-size:13px}"
"th,td{border:1px solid #dfe3e8;padding:3px 8px;text-align:left;vertical-align:top}"
"th{background:#f0f3f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}"
"pre{background:#f4f6f8;border:1px solid #e1e5ea;padding:8px;overflow:auto;font-size:12.5px}"
".graph{overflow:auto;border:1px solid #e1e5ea;background:#fff;padding:8px}"
".graph svg{max-width:none;height:auto}"
".model{border:1px solid #dfe3e8;border-radius:6px;background:#fff;padding:12px 16px;margin:14px 0}"
".meta{color:#46505c;margin:2px 0}.desc{margin:6px 0}.muted{color:#7a8491}"
".badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid #aab2bc}"
".success{background:#b9e4c2}.warned,.warn{background:#fbe7a1}.failed,.fail,.error{background:#f5b7b1}"
".cancelled,.crashed{background:#f2c6a0}.skipped,.partial{background:#d9dce1}"
".up_to_date{background:#c4dcf4}.never_built{background:#fff}.pass{background:#b9e4c2}"
".running{background:#e9e1f5}.stale{background:#f5b7b1}"
".legend span{margin-right:10px}.lineage{font-size:12.5px}.lineage em{color:#7a8491;font-style:normal}"
".index{columns:3 240px;padding-left:18px}";

/* ----------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------- */

/* Append text with HTML's special characters escaped (NULL: nothing). */
static void
html_text(StringInfo buf, const char *text)
{
	if (text == NULL)
		return;
	for (const char *p = text; *p; p++)
	{
		switch (*p)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&#39;");
				break;
			default:
				appendStringInfoChar(buf, *p);
		}
	}
}

/*
 * Append "<tag attributes>text</tag>" with text escaped, a dash for NULL;
 * tag may carry attributes ("td class=\"num\"").
 */
static void
html_cell(StringInfo buf, const char *tag, const char *text)
{
	appendStringInfo(buf, "<%s>", tag);
	if (text == NULL)
		appendStringInfoString(buf, "<span class=\"muted\">-</span>");
	else
		html_text(buf, text);
	appendStringInfo(buf, "</%.*s>", (int) strcspn(tag, " "), tag);
}

/* A status badge; its class is one of the page's own names. */
static void
html_badge(StringInfo buf, const char *css_class, const char *label)
{
	appendStringInfoString(buf, "<span class=\"badge ");
	html_text(buf, css_class);
	appendStringInfoString(buf, "\">");
	html_text(buf, label);
	appendStringInfoString(buf, "</span>");
}

static bool
is_true(const char *value)
{
	return value != NULL && strcmp(value, "t") == 0;
}

/*
 * read_rows
 *		Runs one of the page's queries with ($1 caller, $2 the selected
 *		models it may read, $3 those it owns; a query may use none) and
 *		returns its rows copied into the page's context.  The caller is
 *		inside CatalogEnter.
 */
static List *
read_rows(DocsPage *page, const char *sql)
{
	Oid			types[3] = {OIDOID, TEXTARRAYOID, TEXTARRAYOID};

	return CatalogScanRows(page->cxt, sql, 3, types, page->params, "reading the page",
						   CatalogRowTexts, NULL);
}

/* The rows of a list whose column col is value (rows are grouped by it). */
static List *
rows_of(List *rows, int col, const char *value)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, rows)
	{
		DocsRow		row = lfirst(lc);

		if (row[col] != NULL && strcmp(row[col], value) == 0)
			result = lappend(result, row);
	}
	return result;
}

/* Whether a model has a section on this page (selected and readable). */
static bool
on_page(DocsPage *page, const char *model)
{
	ListCell   *lc;

	foreach(lc, page->models)
	{
		if (strcmp(((DocsRow) lfirst(lc))[M_NAME], model) == 0)
			return true;
	}
	return false;
}

/* A link to a model's section when it has one, its name otherwise. */
static void
model_link(DocsPage *page, const char *model)
{
	StringInfo	buf = &page->html;

	if (on_page(page, model))
	{
		appendStringInfoString(buf, "<a href=\"#model-");
		html_text(buf, model);
		appendStringInfoString(buf, "\">");
		html_text(buf, model);
		appendStringInfoString(buf, "</a>");
	}
	else
		html_text(buf, model);
}

/*
 * page_policy
 *		The page's Content-Security-Policy: nothing is loaded from anywhere,
 *		no script runs, and the one style element is allowed by its SHA-256.
 */
static char *
page_policy(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		encoded[64];
	int			len;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) PAGE_CSS, strlen(PAGE_CSS)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the page's style hash");
	pg_cryptohash_free(ctx);
	len = pg_b64_encode((const char *) digest, sizeof(digest), encoded, sizeof(encoded) - 1);
	if (len < 0)
		elog(ERROR, "could not encode the page's style hash");
	encoded[len] = '\0';
	return psprintf("default-src 'none'; style-src 'sha256-%s'; img-src data:; "
					"base-uri 'none'; form-action 'none'", encoded);
}

/* A time as "YYYY-MM-DD HH:MM" in UTC ("-" when out of range). */
static char *
utc_minute(TimestampTz time)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(time, NULL, &tm, &fsec, NULL, NULL) != 0)
		return "-";
	return psprintf("%04d-%02d-%02d %02d:%02d", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min);
}

/* A number of milliseconds as "812 ms" or "3.4 s". */
static char *
duration_text(double ms)
{
	if (ms < 1000)
		return psprintf("%.0f ms", ms);
	return psprintf("%.1f s", ms / 1000);
}

/* ----------------------------------------------------------------
 * Sections
 * ---------------------------------------------------------------- */

static void
write_header(DocsPage *page)
{
	StringInfo	buf = &page->html;

	appendStringInfo(buf, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
					 "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n"
					 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
					 "<title>medallion: ", page_policy());
	html_text(buf, get_database_name(MyDatabaseId));
	appendStringInfo(buf, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>medallion pipeline: ",
					 PAGE_CSS);
	html_text(buf, get_database_name(MyDatabaseId));
	appendStringInfoString(buf, "</h1>\n<p>Selector <b>");
	html_text(buf, page->selector);
	appendStringInfo(buf, "</b>: %d models, %d of them readable by ", page->selected, list_length(page->models));
	html_text(buf, GetUserNameFromId(GetUserId(), false));
	appendStringInfo(buf, ". Written at %s UTC.</p>\n", utc_minute(GetCurrentTransactionStartTimestamp()));
	appendStringInfoString(buf, "\n<nav><a href=\"#graph\">Graph</a><a href=\"#last-run\">Last run</a>"
						   "<a href=\"#runs\">Runs</a><a href=\"#sources\">Sources</a>"
						   "<a href=\"#schedules\">Schedules</a><a href=\"#models\">Models</a></nav>\n"
						   "</header>\n<main>\n");
}

static void
write_graph(DocsPage *page)
{
	StringInfo	buf = &page->html;

	appendStringInfoString(buf, "<section id=\"graph\">\n<h2>Graph</h2>\n<p class=\"legend\">");
	for (int s = 0; s < DOCS_NSTATUS; s++)
		html_badge(buf, DocsStatuses[s].name, DocsStatuses[s].label);
	appendStringInfoString(buf, "<span class=\"muted\">Each model is colored by its last step; "
						   "a click opens its section.</span></p>\n<div class=\"graph\">\n");
	appendStringInfoString(buf, page->svg);
	appendStringInfoString(buf, "</div>\n</section>\n");
}

/*
 * write_gantt
 *		The last run: one bar per model step from its start to its end, in
 *		lanes (a step goes to the first lane free at its start: with
 *		threads, the lanes are the workers at work).
 */
static void
write_gantt(DocsPage *page)
{
	StringInfo	buf = &page->html;
	const int	label_width = 70,
				chart_width = 900,
				lane_height = 22;
	double		total_ms = 1;
	double	   *lane_end = palloc0(sizeof(double) * (list_length(page->gantt) + 1));
	int		   *lane_of = palloc0(sizeof(int) * (list_length(page->gantt) + 1));
	int			lanes = 0;
	ListCell   *lc;
	DocsRow		first;

	appendStringInfoString(buf, "<section id=\"last-run\">\n<h2>Last run</h2>\n");
	if (page->gantt == NIL)
	{
		appendStringInfoString(buf, "<p class=\"muted\">No run has built a model you may read.</p>\n</section>\n");
		return;
	}
	first = linitial(page->gantt);
	total_ms = Max(atof(first[G_RUN_MS]), 1);
	foreach(lc, page->gantt)
	{
		DocsRow		row = lfirst(lc);
		double		start = atof(row[G_START_MS]);
		int			lane;

		total_ms = Max(total_ms, atof(row[G_END_MS]));
		for (lane = 0; lane < lanes && lane_end[lane] > start + 0.01; lane++)
			;
		if (lane == lanes)
			lanes++;
		lane_end[lane] = atof(row[G_END_MS]);
		lane_of[foreach_current_index(lc)] = lane;
	}
	appendStringInfo(buf, "<p>Run %s: ", first[G_RUN]);
	html_badge(buf, first[G_RUN_STATUS], first[G_RUN_STATUS]);
	appendStringInfo(buf, " %d steps in %s, %d lane%s.</p>\n", list_length(page->gantt),
					 duration_text(total_ms), lanes, lanes == 1 ? "" : "s");
	appendStringInfo(buf, "<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
					 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"Gantt chart of the last run\">\n",
					 label_width + chart_width + 10, lanes * lane_height + 24,
					 label_width + chart_width + 10, lanes * lane_height + 24);
	for (int lane = 0; lane < lanes; lane++)
		appendStringInfo(buf, "<text x=\"0\" y=\"%d\" font-size=\"11\" fill=\"#46505c\">lane %d</text>\n",
						 lane * lane_height + 15, lane + 1);
	for (int tick = 0; tick <= 4; tick++)
	{
		int			x = label_width + chart_width * tick / 4;

		appendStringInfo(buf, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#e1e5ea\"/>"
						 "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#7a8491\" text-anchor=\"%s\">%s</text>\n",
						 x, x, lanes * lane_height + 4, x, lanes * lane_height + 18,
						 tick == 0 ? "start" : tick == 4 ? "end" : "middle",
						 duration_text(total_ms * tick / 4));
	}
	foreach(lc, page->gantt)
	{
		DocsRow		row = lfirst(lc);
		DocsStatus	status = DocsStatusOf(row[G_STATUS], is_true(row[G_WARNED]));
		double		start = atof(row[G_START_MS]);
		double		end = atof(row[G_END_MS]);
		double		x = label_width + chart_width * start / total_ms;
		double		width = Max(chart_width * (end - start) / total_ms, 1.5);
		int			y = lane_of[foreach_current_index(lc)] * lane_height + 2;
		bool		link = on_page(page, row[G_MODEL]);

		if (link)
		{
			appendStringInfoString(buf, "<a href=\"#model-");
			html_text(buf, row[G_MODEL]);
			appendStringInfoString(buf, "\">");
		}
		appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"3\" "
						 "fill=\"%s\" stroke=\"#5b6470\" stroke-width=\"0.5\"><title>",
						 x, y, width, lane_height - 5, DocsStatuses[status].fill);
		html_text(buf, row[G_MODEL]);
		appendStringInfo(buf, ": %s, %s%s rows, %s</title></rect>",
						 DocsStatuses[status].label, is_true(row[G_WORKER]) ? "in a worker, " : "",
						 row[G_ROWS] ? row[G_ROWS] : "no",
						 duration_text(atof(row[G_MS] ? row[G_MS] : "0")));
		/* the name inside its bar, cut to what fits (about 6 px a letter) */
		if (width > 40)
		{
			int			fits = (int) ((width - 8) / 6);
			char	   *label = pstrdup(row[G_MODEL]);

			if (strlen(label) > (size_t) fits)
				label[fits] = '\0';
			appendStringInfo(buf, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#1f2630\">",
							 x + 4, y + 12);
			html_text(buf, label);
			appendStringInfoString(buf, "</text>");
		}
		appendStringInfoString(buf, link ? "</a>\n" : "\n");
	}
	appendStringInfoString(buf, "</svg>\n</section>\n");
}

static void
write_runs(DocsPage *page)
{
	StringInfo	buf = &page->html;
	ListCell   *lc;

	appendStringInfoString(buf, "<section id=\"runs\">\n<h2>Runs</h2>\n");
	if (page->runs == NIL)
	{
		appendStringInfoString(buf, "<p class=\"muted\">No run yet.</p>\n</section>\n");
		return;
	}
	appendStringInfoString(buf, "<table>\n<tr><th>run</th><th>status</th><th>selector</th><th>by</th>"
						   "<th>started (UTC)</th><th>seconds</th><th>models</th><th>built</th>"
						   "<th>failed</th><th>skipped</th><th>published</th><th>message</th></tr>\n");
	foreach(lc, page->runs)
	{
		DocsRow		row = lfirst(lc);

		appendStringInfoString(buf, "<tr>");
		html_cell(buf, "td", row[R_ID]);
		appendStringInfoString(buf, "<td>");
		html_badge(buf, row[R_STATUS], row[R_STATUS]);
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td", row[R_SELECTOR]);
		html_cell(buf, "td", row[R_BY]);
		html_cell(buf, "td", row[R_STARTED]);
		html_cell(buf, "td class=\"num\"", row[R_SECONDS]);
		html_cell(buf, "td class=\"num\"", row[R_MODELS]);
		html_cell(buf, "td class=\"num\"", row[R_SUCCEEDED]);
		html_cell(buf, "td class=\"num\"", row[R_FAILED]);
		html_cell(buf, "td class=\"num\"", row[R_SKIPPED]);
		html_cell(buf, "td class=\"num\"", row[R_PUBLISHED]);
		html_cell(buf, "td", row[R_MESSAGE]);
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n</section>\n");
}

static void
write_sources(DocsPage *page)
{
	StringInfo	buf = &page->html;
	ListCell   *lc;

	appendStringInfoString(buf, "<section id=\"sources\">\n<h2>Sources</h2>\n");
	if (page->sources == NIL)
		appendStringInfoString(buf, "<p class=\"muted\">No source is defined.</p>\n");
	foreach(lc, page->sources)
	{
		DocsRow		row = lfirst(lc);
		List	   *tables = rows_of(page->source_tables, ST_SOURCE, row[SO_NAME]);
		ListCell   *lt;

		appendStringInfoString(buf, "<article class=\"model\" id=\"source-");
		html_text(buf, row[SO_NAME]);
		appendStringInfoString(buf, "\">\n<h3>");
		html_text(buf, row[SO_NAME]);
		appendStringInfoString(buf, "</h3>\n<p class=\"meta\">");
		html_text(buf, row[SO_KIND]);
		if (row[SO_SERVER])
		{
			appendStringInfoString(buf, " on server ");
			html_text(buf, row[SO_SERVER]);
		}
		if (row[SO_REMOTE])
		{
			appendStringInfoString(buf, ", remote schema ");
			html_text(buf, row[SO_REMOTE]);
		}
		appendStringInfoString(buf, " &rarr; schema <b>");
		html_text(buf, row[SO_LOCAL]);
		appendStringInfoString(buf, "</b> &middot; owner ");
		html_text(buf, row[SO_OWNER]);
		appendStringInfoString(buf, " &middot; changes ");
		html_text(buf, row[SO_CHANGES]);
		if (row[SO_FRESHNESS])
		{
			appendStringInfoString(buf, " &middot; freshness column ");
			html_text(buf, row[SO_FRESHNESS]);
			appendStringInfoString(buf, " (warn after ");
			html_text(buf, row[SO_WARN] ? row[SO_WARN] : "-");
			appendStringInfoString(buf, ", error after ");
			html_text(buf, row[SO_ERROR] ? row[SO_ERROR] : "-");
			appendStringInfoString(buf, ")");
		}
		appendStringInfoString(buf, "</p>\n");
		if (row[SO_DESCRIPTION])
		{
			appendStringInfoString(buf, "<p class=\"desc\">");
			html_text(buf, row[SO_DESCRIPTION]);
			appendStringInfoString(buf, "</p>\n");
		}
		appendStringInfoString(buf, "<table>\n<tr><th>table</th><th>read by</th>"
							   "<th>last extraction (UTC)</th></tr>\n");
		foreach(lt, tables)
		{
			DocsRow		table = lfirst(lt);

			appendStringInfoString(buf, "<tr>");
			html_cell(buf, "td", table[ST_TABLE]);
			html_cell(buf, "td", table[ST_READERS]);
			html_cell(buf, "td", table[ST_LAST]);
			appendStringInfoString(buf, "</tr>\n");
		}
		appendStringInfoString(buf, "</table>\n</article>\n");
	}
	appendStringInfoString(buf, "</section>\n");
}

static void
write_schedules(DocsPage *page)
{
	StringInfo	buf = &page->html;
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;

	appendStringInfoString(buf, "<section id=\"schedules\">\n<h2>Schedules</h2>\n");
	if (page->schedules == NIL)
	{
		appendStringInfoString(buf, "<p class=\"muted\">No schedule is defined.</p>\n</section>\n");
		return;
	}
	appendStringInfoString(buf, "<table>\n<tr><th>schedule</th><th>selector</th><th>cron (GMT)</th>"
						   "<th>next (UTC)</th><th>retries</th><th>threads</th><th>owner</th>"
						   "<th>last outcome</th><th>finished (UTC)</th><th>message</th></tr>\n");
	foreach(lc, page->schedules)
	{
		DocsRow		row = lfirst(lc);
		TimestampTz next;
		char	   *next_text = NULL;

		if (DocsCronNext(row[SC_CRON], now, &next))
			next_text = utc_minute(next);
		appendStringInfoString(buf, "<tr>");
		html_cell(buf, "td", row[SC_NAME]);
		html_cell(buf, "td", row[SC_SELECTOR]);
		html_cell(buf, "td", row[SC_CRON]);
		html_cell(buf, "td", next_text);
		html_cell(buf, "td class=\"num\"", row[SC_RETRIES]);
		html_cell(buf, "td class=\"num\"", row[SC_THREADS]);
		html_cell(buf, "td", row[SC_OWNER]);
		appendStringInfoString(buf, "<td>");
		if (row[SC_STATUS])
		{
			html_badge(buf, row[SC_STATUS], row[SC_STATUS]);
			appendStringInfo(buf, " run %s, %s attempt%s", row[SC_RUN] ? row[SC_RUN] : "-",
							 row[SC_ATTEMPTS] ? row[SC_ATTEMPTS] : "1",
							 row[SC_ATTEMPTS] && strcmp(row[SC_ATTEMPTS], "1") != 0 ? "s" : "");
		}
		else
			appendStringInfoString(buf, "<span class=\"muted\">not run yet</span>");
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td", row[SC_FINISHED]);
		html_cell(buf, "td", row[SC_MESSAGE]);
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n</section>\n");
}

/*
 * A model's subsection heading; when it has no rows, the note that says so.
 * Returns whether there are rows to write.
 */
static bool
write_subsection(StringInfo buf, const char *heading, List *rows, const char *none)
{
	appendStringInfo(buf, "<h4>%s</h4>\n", heading);
	if (rows == NIL)
		appendStringInfo(buf, "<p class=\"muted\">%s</p>\n", none);
	return rows != NIL;
}

/* A model's columns with their lineage: projections apart from the rest. */
static void
write_columns(DocsPage *page, DocsRow model)
{
	StringInfo	buf = &page->html;
	List	   *columns = rows_of(page->columns, C_MODEL, model[M_NAME]);
	List	   *lineage = rows_of(page->lineage, L_MODEL, model[M_NAME]);
	ListCell   *lc;

	if (!write_subsection(buf, "Columns", columns, "No relation to read the columns of."))
		return;
	appendStringInfoString(buf, "<table class=\"lineage\">\n<tr><th>column</th><th>type</th>"
						   "<th>description</th><th>computed from</th>"
						   "<th>filtered, joined or grouped by</th></tr>\n");
	foreach(lc, columns)
	{
		DocsRow		column = lfirst(lc);

		appendStringInfoString(buf, "<tr id=\"c-");
		html_text(buf, model[M_NAME]);
		appendStringInfo(buf, "-%s\">", column[C_ATTNUM]);
		html_cell(buf, "td", column[C_NAME]);
		html_cell(buf, "td", column[C_TYPE]);
		html_cell(buf, "td", column[C_DESCRIPTION]);
		for (int pass = 0; pass < 2; pass++)
		{
			ListCell   *ll;
			bool		any = false;

			appendStringInfoString(buf, "<td>");
			foreach(ll, lineage)
			{
				DocsRow		src = lfirst(ll);
				bool		projection = strcmp(src[L_KIND], "projection") == 0;
				bool		link;

				if (strcmp(src[L_COLUMN], column[C_NAME]) != 0 || projection != (pass == 0))
					continue;
				if (any)
					appendStringInfoString(buf, ", ");
				any = true;
				if (!projection)
				{
					appendStringInfoString(buf, "<em>");
					html_text(buf, src[L_KIND]);
					appendStringInfoString(buf, "</em> ");
				}
				link = src[L_UP_MODEL] != NULL && src[L_UP_ATTNUM] != NULL &&
					on_page(page, src[L_UP_MODEL]);
				if (link)
				{
					appendStringInfoString(buf, "<a href=\"#c-");
					html_text(buf, src[L_UP_MODEL]);
					appendStringInfo(buf, "-%s\">", src[L_UP_ATTNUM]);
				}
				html_text(buf, src[L_SCHEMA]);
				appendStringInfoChar(buf, '.');
				html_text(buf, src[L_RELATION]);
				appendStringInfoChar(buf, '.');
				html_text(buf, src[L_SRC_COLUMN]);
				if (link)
					appendStringInfoString(buf, "</a>");
			}
			appendStringInfoString(buf, "</td>");
		}
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n");
}

static void
write_tests(DocsPage *page, DocsRow model)
{
	StringInfo	buf = &page->html;
	List	   *tests = rows_of(page->tests, T_MODEL, model[M_NAME]);
	ListCell   *lc;

	if (!write_subsection(buf, "Tests", tests, "No test."))
		return;
	appendStringInfoString(buf, "<table>\n<tr><th>test</th><th>kind</th><th>severity</th>"
						   "<th>checks</th><th>last result</th><th>failing rows</th>"
						   "<th>observed</th><th>message</th></tr>\n");
	foreach(lc, tests)
	{
		DocsRow		test = lfirst(lc);

		appendStringInfoString(buf, "<tr>");
		appendStringInfoString(buf, "<td>");
		html_text(buf, test[T_NAME]);
		if (test[T_DESCRIPTION])
		{
			appendStringInfoString(buf, "<br><span class=\"muted\">");
			html_text(buf, test[T_DESCRIPTION]);
			appendStringInfoString(buf, "</span>");
		}
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td", test[T_KIND]);
		appendStringInfoString(buf, "<td>");
		html_text(buf, test[T_SEVERITY]);
		appendStringInfoString(buf, is_true(test[T_BLOCKING]) ? ", blocks publishing" : "");
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td", test[T_DETAIL]);
		appendStringInfoString(buf, "<td>");
		if (test[T_STATUS])
		{
			html_badge(buf, test[T_STATUS], test[T_STATUS]);
			appendStringInfo(buf, " <span class=\"muted\">run %s</span>", test[T_RUN]);
		}
		else
			appendStringInfoString(buf, "<span class=\"muted\">not run yet</span>");
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td class=\"num\"", test[T_FAILURES]);
		html_cell(buf, "td", test[T_OBSERVED]);
		html_cell(buf, "td", test[T_MESSAGE]);
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n");
}

/* The last steps: a sparkline of their durations, then a small table. */
static void
write_steps(DocsPage *page, DocsRow model)
{
	StringInfo	buf = &page->html;
	List	   *steps = rows_of(page->steps, S_MODEL, model[M_NAME]);
	double		max_ms = 1;
	int			n = list_length(steps);
	ListCell   *lc;

	if (!write_subsection(buf, "Last steps", steps, "Never built."))
		return;
	foreach(lc, steps)
		max_ms = Max(max_ms, atof(((DocsRow) lfirst(lc))[S_MS] ? ((DocsRow) lfirst(lc))[S_MS] : "0"));
	appendStringInfo(buf, "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"28\" "
					 "viewBox=\"0 0 %d 28\" role=\"img\" aria-label=\"durations of the last steps\">",
					 n * 14, n * 14);
	/* oldest on the left */
	for (int i = n - 1; i >= 0; i--)
	{
		DocsRow		step = list_nth(steps, i);
		double		ms = atof(step[S_MS] ? step[S_MS] : "0");
		double		height = Max(26 * ms / max_ms, 2);
		DocsStatus	status = DocsStatusOf(step[S_STATUS], is_true(step[S_WARNED]));

		appendStringInfo(buf, "<rect x=\"%d\" y=\"%.1f\" width=\"11\" height=\"%.1f\" fill=\"%s\" "
						 "stroke=\"#5b6470\" stroke-width=\"0.5\"><title>run %s: %s, %s</title></rect>",
						 (n - 1 - i) * 14, 27 - height, height, DocsStatuses[status].fill,
						 step[S_RUN], DocsStatuses[status].label, duration_text(ms));
	}
	appendStringInfoString(buf, "</svg>\n<table>\n<tr><th>run</th><th>status</th><th>rows</th>"
						   "<th>ms</th><th>started (UTC)</th></tr>\n");
	foreach(lc, steps)
	{
		DocsRow		step = lfirst(lc);
		DocsStatus	status = DocsStatusOf(step[S_STATUS], is_true(step[S_WARNED]));

		appendStringInfoString(buf, "<tr>");
		html_cell(buf, "td", step[S_RUN]);
		appendStringInfoString(buf, "<td>");
		html_badge(buf, DocsStatuses[status].name, DocsStatuses[status].label);
		appendStringInfoString(buf, "</td>");
		html_cell(buf, "td class=\"num\"", step[S_ROWS]);
		html_cell(buf, "td class=\"num\"", step[S_MS]);
		html_cell(buf, "td", step[S_STARTED]);
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n");
}

static void
write_model(DocsPage *page, DocsRow model)
{
	StringInfo	buf = &page->html;
	DocsStatus	status = DocsFindState(page->states, model[M_NAME])->status;

	appendStringInfoString(buf, "<article class=\"model\" id=\"model-");
	html_text(buf, model[M_NAME]);
	appendStringInfoString(buf, "\">\n<h3>");
	html_text(buf, model[M_RELATION]);
	appendStringInfoChar(buf, ' ');
	html_badge(buf, DocsStatuses[status].name, DocsStatuses[status].label);
	appendStringInfoString(buf, "</h3>\n<p class=\"meta\">layer <b>");
	html_text(buf, model[M_LAYER]);
	appendStringInfoString(buf, "</b> &middot; ");
	html_text(buf, model[M_MATERIALIZED]);
	appendStringInfoString(buf, " &middot; owner <b>");
	html_text(buf, model[M_OWNER]);
	appendStringInfoString(buf, "</b> &middot; ");
	if (model[M_AS_OF])
	{
		appendStringInfoString(buf, "data as of ");
		html_text(buf, model[M_AS_OF]);
		appendStringInfoString(buf, " UTC (");
		html_text(buf, model[M_AGE]);
		appendStringInfoString(buf, " ago");
		if (model[M_LAYER_FRESHNESS])
		{
			appendStringInfoString(buf, "; the layer expects ");
			html_text(buf, model[M_LAYER_FRESHNESS]);
			appendStringInfoString(buf, ")");
			if (is_true(model[M_STALE]))
			{
				appendStringInfoChar(buf, ' ');
				html_badge(buf, "stale", "stale");
			}
		}
		else
			appendStringInfoString(buf, ")");
	}
	else
		appendStringInfoString(buf, "<span class=\"muted\">no data built yet</span>");
	appendStringInfoString(buf, "</p>\n");
	if (model[M_DESCRIPTION])
	{
		appendStringInfoString(buf, "<p class=\"desc\">");
		html_text(buf, model[M_DESCRIPTION]);
		appendStringInfoString(buf, "</p>\n");
	}
	appendStringInfoString(buf, "<p class=\"meta\">");
	html_text(buf, model[M_SETTINGS]);
	appendStringInfoString(buf, "</p>\n<details><summary>SQL</summary><pre><code>");
	html_text(buf, model[M_SQL]);
	appendStringInfoString(buf, "</code></pre></details>\n");
	write_columns(page, model);
	write_tests(page, model);
	write_steps(page, model);
	appendStringInfoString(buf, "</article>\n");
}

static void
write_models(DocsPage *page)
{
	StringInfo	buf = &page->html;
	ListCell   *lc;
	const char *layer = NULL;

	appendStringInfoString(buf, "<section id=\"models\">\n<h2>Models</h2>\n");
	foreach(lc, page->models)
	{
		DocsRow		model = lfirst(lc);

		if (layer == NULL || strcmp(layer, model[M_LAYER]) != 0)
		{
			if (layer != NULL)
				appendStringInfoString(buf, "</ul>\n");
			layer = model[M_LAYER];
			appendStringInfoString(buf, "<h4>");
			html_text(buf, layer);
			appendStringInfoString(buf, "</h4>\n<ul class=\"index\">\n");
		}
		appendStringInfoString(buf, "<li>");
		model_link(page, model[M_NAME]);
		appendStringInfoString(buf, "</li>\n");
	}
	if (layer != NULL)
		appendStringInfoString(buf, "</ul>\n");
	else
		appendStringInfoString(buf, "<p class=\"muted\">No model you may read is selected.</p>\n");
	foreach(lc, page->models)
		write_model(page, lfirst(lc));
	appendStringInfoString(buf, "</section>\n");
}

/*
 * medallion_docs(selector) returns the page of the selected models as one
 * HTML document.
 */
Datum
medallion_docs(PG_FUNCTION_ARGS)
{
	DocsPage	page = {0};
	Graph	   *graph;
	bool	   *selected;
	Drawing    *drawing;
	List	   *readable = NIL;
	List	   *owned = NIL;
	CatalogSession session;

	page.selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	CatalogRequireAdmin("read the pipeline's page");
	graph = GraphLoad(ModelListFresh(), false);
	selected = GraphSelect(graph, page.selector, NULL);
	drawing = GraphDrawing(graph, selected);
	/* what the caller may see of each model drawn: once, for the graph and the page */
	page.states = DocsModelStates(DocsDrawnModels(drawing));
	for (int i = 0; i < graph->nnodes; i++)
	{
		DocsModelState *state;

		if (!selected[i])
			continue;
		page.selected++;
		state = DocsFindState(page.states, graph->nodes[i].model->name);
		if (state != NULL && state->readable)
			readable = lappend(readable, state->name);
		if (state != NULL && state->owned)
			owned = lappend(owned, state->name);
	}
	page.svg = DocsGraphSvg(drawing, graph, false, page.states);

	page.cxt = CurrentMemoryContext;
	page.params[0] = ObjectIdGetDatum(GetUserId());
	page.params[1] = ListToTextArray(readable);
	page.params[2] = ListToTextArray(owned);
	CatalogEnter(&session);
	page.models = read_rows(&page, Q_MODELS);
	page.columns = read_rows(&page, Q_COLUMNS);
	page.lineage = read_rows(&page, Q_LINEAGE);
	page.tests = read_rows(&page, Q_TESTS);
	page.steps = read_rows(&page, Q_STEPS);
	page.runs = read_rows(&page, Q_RUNS);
	page.gantt = read_rows(&page, Q_GANTT);
	page.sources = read_rows(&page, Q_SOURCES);
	page.source_tables = read_rows(&page, Q_SOURCE_TABLES);
	page.schedules = read_rows(&page, Q_SCHEDULES);
	CatalogLeave(&session);

	initStringInfo(&page.html);
	write_header(&page);
	write_graph(&page);
	write_gantt(&page);
	write_runs(&page);
	write_sources(&page);
	write_schedules(&page);
	write_models(&page);
	appendStringInfoString(&page.html, "</main>\n</body>\n</html>\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(page.html.data, page.html.len));
}

/*-------------------------------------------------------------------------
 *
 * docs.c
 *	  medallion_docs(): the pipeline as one self-contained HTML document.
 *	  The graph (SVG, docs_graph.c), a run as a Gantt chart and the last
 *	  runs by model (docs_runs.c), the last runs, sources, schedules, and
 *	  a section per model: settings, SQL, columns with their lineage,
 *	  tests (unit tests too) with their last results, and the last steps with why they
 *	  failed; models can be filtered and focused on (docs_html.c).
 *
 * Self-contained: inline CSS and one small script, no request to any
 * address.  The page carries its own Content-Security-Policy (nothing may
 * be loaded; the one style and the one script elements are allowed by
 * their hashes), so it also works offline and where a stricter policy is
 * served with it.
 *
 * Safe: every text that comes from the catalog goes through DocsText
 * (names, SQL, descriptions, test expressions, messages).  The page shows
 * what the caller may read (DOCS_MODEL_READABLE_SQL): sections for the
 * models it owns or may SELECT from; failing row counts, observed values
 * and messages of tests only of models it owns; messages of steps as
 * medallion.run_messages shows them (DOCS_STEP_MESSAGE_SQL); messages
 * only of its own runs and schedules.
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
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "catalog.h"
#include "docs.h"
#include "docs_page.h"
#include "graph.h"
#include "model.h"

PG_FUNCTION_INFO_V1(medallion_docs);

static List *read_rows(DocsPage *page, const char *sql);

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
	M_RELATION, M_AS_OF, M_LAYER_FRESHNESS, M_STALE, M_AGE, M_TAGS, M_UP
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
"       pg_catalog.date_trunc('second', pg_catalog.now() - good.at)::text,"
"       pg_catalog.array_to_string(m.tags, ','),"
"       (SELECT pg_catalog.string_agg(DISTINCT d.dep_name, ',') FROM medallion.model_dependencies d"
"         WHERE d.model = m.name AND d.kind = 'model' AND d.dep_name::text = ANY ($2))"
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
/* a model's tests, and (0.3.0 on) its unit tests */
#define Q_TESTS_SELECT \
"WITH " VISIBLE_SQL \
"SELECT t.model, t.name, t.kind, t.severity, t.blocking, t.description," \
"       pg_catalog.concat_ws('; '," \
"         CASE WHEN t.columns <> '{}' THEN 'columns ' || pg_catalog.array_to_string(t.columns, ', ') END," \
"         CASE WHEN t.accepted IS NOT NULL THEN 'accepted ' || pg_catalog.array_to_string(t.accepted, ', ') END," \
"         CASE WHEN t.to_model IS NOT NULL THEN 'to ' || t.to_model || coalesce(' (' || t.to_column || ')', '') END," \
"         CASE WHEN t.to_relation IS NOT NULL THEN 'to ' || t.to_relation || coalesce(' (' || t.to_column || ')', '') END," \
"         CASE WHEN t.expression IS NOT NULL THEN 'expression ' || t.expression END," \
"         CASE WHEN t.min_rows IS NOT NULL THEN 'min_rows ' || t.min_rows END," \
"         CASE WHEN t.max_rows IS NOT NULL THEN 'max_rows ' || t.max_rows END," \
"         CASE WHEN t.max_age IS NOT NULL THEN 'max_age ' || t.max_age END," \
"         CASE WHEN t.sql IS NOT NULL THEN 'sql ' || t.sql END," \
"         CASE WHEN t.warn_if <> '> 0' THEN 'warn_if ' || t.warn_if END," \
"         CASE WHEN t.error_if <> '> 0' THEN 'error_if ' || t.error_if END," \
"         t.unit)," \
"       r.status, CASE WHEN v.owned THEN r.failures END, CASE WHEN v.owned THEN r.observed END," \
"       r.run_id, CASE WHEN v.owned THEN r.message END" \
"  FROM vis v JOIN (SELECT tt.model, tt.name, tt.kind, tt.severity, tt.blocking, tt.description, tt.columns," \
"                           tt.accepted, tt.to_model, tt.to_relation, tt.to_column, tt.expression, tt.min_rows," \
"                           tt.max_rows, tt.max_age, tt.sql, tt.warn_if, tt.error_if, NULL::pg_catalog.text AS unit" \
"                      FROM medallion.tests tt"
#define Q_TESTS_UNIT \
"                    UNION ALL" \
"                    SELECT u.model, u.name, 'unit', 'error', false, u.description, '{}', NULL, NULL, NULL," \
"                           NULL, NULL, NULL, NULL, NULL, NULL, '> 0', '> 0'," \
"                           'given ' || coalesce((SELECT pg_catalog.string_agg(k, ', ' ORDER BY k)" \
"                                                   FROM pg_catalog.jsonb_object_keys(u.given) k), 'nothing')" \
"                           || '; expects ' || pg_catalog.jsonb_array_length(u.expect) || ' rows'" \
"                           || CASE WHEN u.incremental THEN ' (incremental form)' ELSE '' END" \
"                      FROM medallion.unit_tests u"
#define Q_TESTS_REST \
") t ON t.model = v.name" \
"  LEFT JOIN (SELECT DISTINCT ON (tr.model, tr.test) tr.*" \
"               FROM medallion.test_results tr WHERE tr.model = ANY ($2)" \
"              ORDER BY tr.model, tr.test, tr.run_id DESC) r ON r.model = t.model AND r.test = t.name" \
" ORDER BY v.ord, t.name"
static const char *const Q_TESTS = Q_TESTS_SELECT Q_TESTS_UNIT Q_TESTS_REST;
/* before ALTER EXTENSION UPDATE to 0.3.0: no unit tests */
static const char *const Q_TESTS_BEFORE_UNIT = Q_TESTS_SELECT Q_TESTS_REST;

enum
{
	S_MODEL, S_RUN, S_STATUS, S_ROWS, S_MS, S_STARTED, S_WARNED, S_MESSAGE
};
static const char *const Q_STEPS =
"WITH " VISIBLE_SQL
"SELECT s.model, s.run_id, s.status, s.rows, pg_catalog.round(s.ms, 1), " UTC("s.started_at") ","
"       s.tests_warned > 0, s.reason"
"  FROM (SELECT rm.*, " DOCS_STEP_MESSAGE_SQL " AS reason,"
"               pg_catalog.row_number() OVER (PARTITION BY rm.model ORDER BY rm.run_id DESC) AS k"
"          FROM medallion.run_models rm LEFT JOIN medallion.models m ON m.name = rm.model"
"         WHERE rm.model = ANY ($2)) s"
"  JOIN vis v ON v.name = s.model"
" WHERE s.k <= 10"
" ORDER BY v.ord, s.run_id DESC";

static const char *const Q_RUNS =
"SELECT r.run_id, r.selector, r.started_by, " UTC("r.started_at") ","
"       pg_catalog.round(EXTRACT(epoch FROM r.finished_at - r.started_at), 2),"
"       r.status, r.models, r.succeeded, r.failed, r.skipped, r.published,"
"       CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles o WHERE o.rolname = r.started_by"
"                           AND pg_catalog.pg_has_role($1, o.oid, 'USAGE')) THEN r.message END"
"  FROM medallion.runs r"
" ORDER BY r.run_id DESC LIMIT " CppAsString2(DOCS_GRID_RUNS);

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
 * read_rows
 *		Runs one of the page's queries with ($1 caller, $2 the selected
 *		models it may read, $3 those it owns, $4 the run asked for; a query
 *		may use none) and
 *		returns its rows copied into the page's context.  The caller is
 *		inside CatalogEnter.
 */
static List *
read_rows(DocsPage *page, const char *sql)
{
	Oid			types[DOCS_NPARAMS] = {OIDOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID};

	return CatalogScanRows(page->cxt, sql, DOCS_NPARAMS, types, page->params, "reading the page",
						   CatalogRowTexts, NULL);
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
					 "<title>medallion: ", DocsPolicy());
	DocsText(buf, get_database_name(MyDatabaseId));
	appendStringInfo(buf, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>medallion pipeline: ",
					 DocsStyle());
	DocsText(buf, get_database_name(MyDatabaseId));
	appendStringInfoString(buf, "</h1>\n<p>Selector <b>");
	DocsText(buf, page->selector);
	appendStringInfo(buf, "</b>: %d models, %d of them readable by ", page->selected, list_length(page->models));
	DocsText(buf, GetUserNameFromId(GetUserId(), false));
	appendStringInfo(buf, ". Written at %s UTC.</p>\n", utc_minute(GetCurrentTransactionStartTimestamp()));
	appendStringInfo(buf, "\n<nav><a href=\"#graph\">Graph</a><a href=\"#last-run\">%s</a>"
					 "<a href=\"#grid\">Runs by model</a>"
					 "<a href=\"#runs\">Runs</a><a href=\"#sources\">Sources</a>"
					 "<a href=\"#schedules\">Schedules</a><a href=\"#models\">Models</a></nav>\n"
					 "</header>\n<main>\n", page->run_id ? "Run" : "Last run");
}

/* Add value to the list of distinct strings *values. */
static void
add_distinct(List **values, const char *value)
{
	ListCell   *lc;

	if (value == NULL || value[0] == '\0')
		return;
	foreach(lc, *values)
	{
		if (strcmp(lfirst(lc), value) == 0)
			return;
	}
	*values = lappend(*values, (char *) value);
}

/* list_sort's order of strings */
static int
compare_strings(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/* A select of the filter bar: "every <what>", then each value. */
static void
write_select(StringInfo buf, const char *id, const char *what, List *values)
{
	ListCell   *lc;

	appendStringInfo(buf, "<select id=\"f-%s\" aria-label=\"%s\"><option value=\"\">every %s</option>",
					 id, what, what);
	foreach(lc, values)
	{
		appendStringInfoString(buf, "<option value=\"");
		DocsText(buf, lfirst(lc));
		appendStringInfoString(buf, "\">");
		DocsText(buf, lfirst(lc));
		appendStringInfoString(buf, "</option>");
	}
	appendStringInfoString(buf, "</select>\n");
}

/*
 * write_filters
 *		The filter bar (docs_html.c's script makes it work): search text,
 *		layer, tag, owner and status of the models on the page, and the
 *		model focused on with what it reads, what reads it, or both.
 */
static void
write_filters(DocsPage *page)
{
	StringInfo	buf = &page->html;
	List	   *layers = NIL,
			   *tags = NIL,
			   *owners = NIL,
			   *statuses = NIL;
	ListCell   *lc;

	if (page->models == NIL)
		return;
	foreach(lc, page->models)
	{
		DocsRow		model = lfirst(lc);
		char	   *tag_list = model[M_TAGS] ? pstrdup(model[M_TAGS]) : "";
		char	   *save = NULL;

		add_distinct(&layers, model[M_LAYER]);
		add_distinct(&owners, model[M_OWNER]);
		add_distinct(&statuses, DocsStatuses[DocsFindState(page->states, model[M_NAME])->status].name);
		for (char *tag = strtok_r(tag_list, ",", &save); tag; tag = strtok_r(NULL, ",", &save))
			add_distinct(&tags, tag);
	}
	list_sort(tags, compare_strings);
	list_sort(owners, compare_strings);
	appendStringInfoString(buf, "<div class=\"filters\" role=\"search\">\n"
						   "<input type=\"search\" id=\"f-q\" placeholder=\"Search models: names, SQL, columns, descriptions\" "
						   "aria-label=\"Search models\">\n");
	write_select(buf, "layer", "layer", layers);
	write_select(buf, "tag", "tag", tags);
	write_select(buf, "owner", "owner", owners);
	write_select(buf, "status", "status", statuses);
	appendStringInfoString(buf, "<b id=\"f-focus\"></b>"
						   "<select id=\"f-dir\" aria-label=\"focus on\"><option value=\"\">upstream and downstream</option>"
						   "<option value=\"up\">upstream</option><option value=\"down\">downstream</option></select>\n"
						   "<button type=\"button\" id=\"f-unfocus\" hidden>unfocus</button>"
						   "<button type=\"button\" id=\"f-clear\">clear</button>"
						   "<span id=\"f-count\" class=\"muted\"></span>\n</div>\n");
}

static void
write_graph(DocsPage *page)
{
	StringInfo	buf = &page->html;

	appendStringInfoString(buf, "<section id=\"graph\">\n<h2>Graph</h2>\n<p class=\"legend\">");
	for (int s = 0; s < DOCS_NSTATUS; s++)
		DocsBadge(buf, DocsStatuses[s].name, DocsStatuses[s].label);
	appendStringInfoString(buf, "<span class=\"muted\">Each model is colored by its last step; "
						   "a click opens its section.</span></p>\n<div class=\"graph\">\n");
	appendStringInfoString(buf, page->svg);
	appendStringInfoString(buf, "</div>\n</section>\n");
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

		appendStringInfo(buf, "<tr><td><a href=\"#run-%s\">%s</a></td><td>", row[R_ID], row[R_ID]);
		DocsBadge(buf, row[R_STATUS], row[R_STATUS]);
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td", row[R_SELECTOR]);
		DocsCell(buf, "td", row[R_BY]);
		DocsCell(buf, "td", row[R_STARTED]);
		DocsCell(buf, "td class=\"num\"", row[R_SECONDS]);
		DocsCell(buf, "td class=\"num\"", row[R_MODELS]);
		DocsCell(buf, "td class=\"num\"", row[R_SUCCEEDED]);
		DocsCell(buf, "td class=\"num\"", row[R_FAILED]);
		DocsCell(buf, "td class=\"num\"", row[R_SKIPPED]);
		DocsCell(buf, "td class=\"num\"", row[R_PUBLISHED]);
		DocsCell(buf, "td", row[R_MESSAGE]);
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
		List	   *tables = DocsRowsOf(page->source_tables, ST_SOURCE, row[SO_NAME]);
		ListCell   *lt;

		appendStringInfoString(buf, "<article class=\"model\" id=\"source-");
		DocsText(buf, row[SO_NAME]);
		appendStringInfoString(buf, "\">\n<h3>");
		DocsText(buf, row[SO_NAME]);
		appendStringInfoString(buf, "</h3>\n<p class=\"meta\">");
		DocsText(buf, row[SO_KIND]);
		if (row[SO_SERVER])
		{
			appendStringInfoString(buf, " on server ");
			DocsText(buf, row[SO_SERVER]);
		}
		if (row[SO_REMOTE])
		{
			appendStringInfoString(buf, ", remote schema ");
			DocsText(buf, row[SO_REMOTE]);
		}
		appendStringInfoString(buf, " &rarr; schema <b>");
		DocsText(buf, row[SO_LOCAL]);
		appendStringInfoString(buf, "</b> &middot; owner ");
		DocsText(buf, row[SO_OWNER]);
		appendStringInfoString(buf, " &middot; changes ");
		DocsText(buf, row[SO_CHANGES]);
		if (row[SO_FRESHNESS])
		{
			appendStringInfoString(buf, " &middot; freshness column ");
			DocsText(buf, row[SO_FRESHNESS]);
			appendStringInfoString(buf, " (warn after ");
			DocsText(buf, row[SO_WARN] ? row[SO_WARN] : "-");
			appendStringInfoString(buf, ", error after ");
			DocsText(buf, row[SO_ERROR] ? row[SO_ERROR] : "-");
			appendStringInfoString(buf, ")");
		}
		appendStringInfoString(buf, "</p>\n");
		if (row[SO_DESCRIPTION])
		{
			appendStringInfoString(buf, "<p class=\"desc\">");
			DocsText(buf, row[SO_DESCRIPTION]);
			appendStringInfoString(buf, "</p>\n");
		}
		appendStringInfoString(buf, "<table>\n<tr><th>table</th><th>read by</th>"
							   "<th>last extraction (UTC)</th></tr>\n");
		foreach(lt, tables)
		{
			DocsRow		table = lfirst(lt);

			appendStringInfoString(buf, "<tr>");
			DocsCell(buf, "td", table[ST_TABLE]);
			DocsCell(buf, "td", table[ST_READERS]);
			DocsCell(buf, "td", table[ST_LAST]);
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
		DocsCell(buf, "td", row[SC_NAME]);
		DocsCell(buf, "td", row[SC_SELECTOR]);
		DocsCell(buf, "td", row[SC_CRON]);
		DocsCell(buf, "td", next_text);
		DocsCell(buf, "td class=\"num\"", row[SC_RETRIES]);
		DocsCell(buf, "td class=\"num\"", row[SC_THREADS]);
		DocsCell(buf, "td", row[SC_OWNER]);
		appendStringInfoString(buf, "<td>");
		if (row[SC_STATUS])
		{
			DocsBadge(buf, row[SC_STATUS], row[SC_STATUS]);
			appendStringInfo(buf, " run %s, %s attempt%s", row[SC_RUN] ? row[SC_RUN] : "-",
							 row[SC_ATTEMPTS] ? row[SC_ATTEMPTS] : "1",
							 row[SC_ATTEMPTS] && strcmp(row[SC_ATTEMPTS], "1") != 0 ? "s" : "");
		}
		else
			appendStringInfoString(buf, "<span class=\"muted\">not run yet</span>");
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td", row[SC_FINISHED]);
		DocsCell(buf, "td", row[SC_MESSAGE]);
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
	List	   *columns = DocsRowsOf(page->columns, C_MODEL, model[M_NAME]);
	List	   *lineage = DocsRowsOf(page->lineage, L_MODEL, model[M_NAME]);
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
		DocsText(buf, model[M_NAME]);
		appendStringInfo(buf, "-%s\">", column[C_ATTNUM]);
		DocsCell(buf, "td", column[C_NAME]);
		DocsCell(buf, "td", column[C_TYPE]);
		DocsCell(buf, "td", column[C_DESCRIPTION]);
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
					DocsText(buf, src[L_KIND]);
					appendStringInfoString(buf, "</em> ");
				}
				link = src[L_UP_MODEL] != NULL && src[L_UP_ATTNUM] != NULL &&
					DocsOnPage(page, src[L_UP_MODEL]);
				if (link)
				{
					appendStringInfoString(buf, "<a href=\"#c-");
					DocsText(buf, src[L_UP_MODEL]);
					appendStringInfo(buf, "-%s\">", src[L_UP_ATTNUM]);
				}
				DocsText(buf, src[L_SCHEMA]);
				appendStringInfoChar(buf, '.');
				DocsText(buf, src[L_RELATION]);
				appendStringInfoChar(buf, '.');
				DocsText(buf, src[L_SRC_COLUMN]);
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
	List	   *tests = DocsRowsOf(page->tests, T_MODEL, model[M_NAME]);
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
		DocsText(buf, test[T_NAME]);
		if (test[T_DESCRIPTION])
		{
			appendStringInfoString(buf, "<br><span class=\"muted\">");
			DocsText(buf, test[T_DESCRIPTION]);
			appendStringInfoString(buf, "</span>");
		}
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td", test[T_KIND]);
		appendStringInfoString(buf, "<td>");
		DocsText(buf, test[T_SEVERITY]);
		appendStringInfoString(buf, DocsIsTrue(test[T_BLOCKING]) ? ", blocks publishing" : "");
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td", test[T_DETAIL]);
		appendStringInfoString(buf, "<td>");
		if (test[T_STATUS])
		{
			DocsBadge(buf, test[T_STATUS], test[T_STATUS]);
			appendStringInfo(buf, " <span class=\"muted\">run %s</span>", test[T_RUN]);
		}
		else
			appendStringInfoString(buf, "<span class=\"muted\">not run yet</span>");
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td class=\"num\"", test[T_FAILURES]);
		DocsCell(buf, "td", test[T_OBSERVED]);
		DocsCell(buf, "td", test[T_MESSAGE]);
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n");
}

/* The last steps: a sparkline of their durations, then a small table. */
static void
write_steps(DocsPage *page, DocsRow model)
{
	StringInfo	buf = &page->html;
	List	   *steps = DocsRowsOf(page->steps, S_MODEL, model[M_NAME]);
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
		DocsStatus	status = DocsStatusOf(step[S_STATUS], DocsIsTrue(step[S_WARNED]));

		appendStringInfo(buf, "<rect x=\"%d\" y=\"%.1f\" width=\"11\" height=\"%.1f\" fill=\"%s\" "
						 "stroke=\"#5b6470\" stroke-width=\"0.5\"><title>run %s: %s, %s</title></rect>",
						 (n - 1 - i) * 14, 27 - height, height, DocsStatuses[status].fill,
						 step[S_RUN], DocsStatuses[status].label, DocsDuration(ms));
	}
	appendStringInfoString(buf, "</svg>\n<table>\n<tr><th>run</th><th>status</th><th>rows</th>"
						   "<th>ms</th><th>started (UTC)</th><th>why</th></tr>\n");
	foreach(lc, steps)
	{
		DocsRow		step = lfirst(lc);
		DocsStatus	status = DocsStatusOf(step[S_STATUS], DocsIsTrue(step[S_WARNED]));

		appendStringInfoString(buf, "<tr>");
		appendStringInfo(buf, "<td><a href=\"#run-%s\">%s</a></td><td>", step[S_RUN], step[S_RUN]);
		DocsBadge(buf, DocsStatuses[status].name, DocsStatuses[status].label);
		appendStringInfoString(buf, "</td>");
		DocsCell(buf, "td class=\"num\"", step[S_ROWS]);
		DocsCell(buf, "td class=\"num\"", step[S_MS]);
		DocsCell(buf, "td", step[S_STARTED]);
		DocsCell(buf, "td class=\"reason\"", step[S_MESSAGE]);
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
	DocsText(buf, model[M_NAME]);
	appendStringInfoString(buf, "\" data-model=\"");
	DocsText(buf, model[M_NAME]);
	appendStringInfoString(buf, "\" data-layer=\"");
	DocsText(buf, model[M_LAYER]);
	appendStringInfoString(buf, "\" data-owner=\"");
	DocsText(buf, model[M_OWNER]);
	appendStringInfoString(buf, "\" data-tags=\"");
	DocsText(buf, model[M_TAGS]);
	appendStringInfoString(buf, "\" data-up=\"");
	DocsText(buf, model[M_UP]);
	appendStringInfo(buf, "\" data-status=\"%s\">\n<h3>", DocsStatuses[status].name);
	DocsText(buf, model[M_RELATION]);
	appendStringInfoChar(buf, ' ');
	DocsBadge(buf, DocsStatuses[status].name, DocsStatuses[status].label);
	appendStringInfoString(buf, "<button type=\"button\" class=\"focus\" data-focus=\"");
	DocsText(buf, model[M_NAME]);
	appendStringInfoString(buf, "\" title=\"show only this model, what it reads and what reads it\">focus</button>"
						   "</h3>\n<p class=\"meta\">layer <b>");
	DocsText(buf, model[M_LAYER]);
	appendStringInfoString(buf, "</b> &middot; ");
	DocsText(buf, model[M_MATERIALIZED]);
	appendStringInfoString(buf, " &middot; owner <b>");
	DocsText(buf, model[M_OWNER]);
	appendStringInfoString(buf, "</b> &middot; ");
	if (model[M_AS_OF])
	{
		appendStringInfoString(buf, "data as of ");
		DocsText(buf, model[M_AS_OF]);
		appendStringInfoString(buf, " UTC (");
		DocsText(buf, model[M_AGE]);
		appendStringInfoString(buf, " ago");
		if (model[M_LAYER_FRESHNESS])
		{
			appendStringInfoString(buf, "; the layer expects ");
			DocsText(buf, model[M_LAYER_FRESHNESS]);
			appendStringInfoString(buf, ")");
			if (DocsIsTrue(model[M_STALE]))
			{
				appendStringInfoChar(buf, ' ');
				DocsBadge(buf, "stale", "stale");
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
		DocsText(buf, model[M_DESCRIPTION]);
		appendStringInfoString(buf, "</p>\n");
	}
	appendStringInfoString(buf, "<p class=\"meta\">");
	DocsText(buf, model[M_SETTINGS]);
	appendStringInfoString(buf, "</p>\n<details><summary>SQL</summary><pre><code>");
	DocsText(buf, model[M_SQL]);
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
			DocsText(buf, layer);
			appendStringInfoString(buf, "</h4>\n<ul class=\"index\">\n");
		}
		appendStringInfoString(buf, "<li data-model=\"");
		DocsText(buf, model[M_NAME]);
		appendStringInfoString(buf, "\">");
		DocsModelLink(page, model[M_NAME]);
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
 * medallion_docs(selector, run_id) returns the page of the selected models
 * as one HTML document, with the Gantt chart of run run_id (NULL: the
 * last run).  A NULL selector gives NULL.
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
	bool		run_found;
	CatalogSession session;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	page.selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	page.run_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
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
	page.params[3] = Int64GetDatum(page.run_id);
	CatalogEnter(&session);
	page.models = read_rows(&page, Q_MODELS);
	page.columns = read_rows(&page, Q_COLUMNS);
	page.lineage = read_rows(&page, Q_LINEAGE);
	page.tests = read_rows(&page, CatalogHasTable("unit_tests") ? Q_TESTS : Q_TESTS_BEFORE_UNIT);
	page.steps = read_rows(&page, Q_STEPS);
	page.runs = read_rows(&page, Q_RUNS);
	page.gantt = read_rows(&page, DOCS_Q_GANTT);
	page.sources = read_rows(&page, Q_SOURCES);
	page.source_tables = read_rows(&page, Q_SOURCE_TABLES);
	page.schedules = read_rows(&page, Q_SCHEDULES);
	run_found = read_rows(&page, "SELECT r.run_id FROM medallion.runs r WHERE r.run_id = $4") != NIL;
	CatalogLeave(&session);
	if (page.run_id != 0 && !run_found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("run " INT64_FORMAT " does not exist", page.run_id),
				 errhint("medallion.runs lists the runs the ledger keeps (medallion.ledger_retention).")));

	initStringInfo(&page.html);
	write_header(&page);
	write_filters(&page);
	write_graph(&page);
	DocsWriteRun(&page);
	DocsWriteGrid(&page);
	write_runs(&page);
	write_sources(&page);
	write_schedules(&page);
	write_models(&page);
	appendStringInfo(&page.html, "</main>\n<script>%s</script>\n</body>\n</html>\n", DocsScript());
	PG_RETURN_TEXT_P(cstring_to_text_with_len(page.html.data, page.html.len));
}

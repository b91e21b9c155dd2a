/*-------------------------------------------------------------------------
 *
 * docs_runs.c
 *	  The page's runs: the Gantt chart of a run (the last one, or the one
 *	  medallion_docs(run_id => n) asks for), and the grid of the last runs
 *	  by the page's models, each cell colored by the model's step in that
 *	  run and linked to that run's Gantt chart.
 *
 * The grid's Gantt charts are all in the page, each in a section shown
 * only while it is the target of the address (#run-n, CSS :target): a
 * link per run, no script.  A failed step says why, to the readers who
 * may read its message (DOCS_STEP_MESSAGE_SQL); others see its SQLSTATE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "docs.h"
#include "docs_page.h"

const char *const DOCS_Q_GANTT =
"WITH r AS (SELECT x.* FROM medallion.runs x"
"            WHERE x.run_id IN (SELECT y.run_id FROM medallion.runs y"
"                                ORDER BY y.run_id DESC LIMIT " CppAsString2(DOCS_GRID_RUNS) ")"
"               OR x.run_id = $4)"
"SELECT rm.model, rm.status, rm.tests_warned > 0,"
"       EXTRACT(epoch FROM rm.started_at - r.started_at) * 1000,"
"       EXTRACT(epoch FROM coalesce(rm.finished_at, rm.started_at) - r.started_at) * 1000,"
"       rm.rows, pg_catalog.round(rm.ms, 1), r.run_id, r.status,"
"       EXTRACT(epoch FROM coalesce(r.finished_at, pg_catalog.now()) - r.started_at) * 1000,"
"       rm.worker, " DOCS_STEP_MESSAGE_SQL
"  FROM r JOIN medallion.run_models rm ON rm.run_id = r.run_id"
"  JOIN medallion.models m ON m.name = rm.model"
"  JOIN medallion.layers l ON l.name = m.layer"
" WHERE " DOCS_MODEL_READABLE_SQL
" ORDER BY r.run_id DESC, rm.started_at NULLS LAST, rm.model";

/* The text of a step: "model: status, rows, duration" and why it failed. */
static void
step_title(StringInfo buf, DocsRow row)
{
	DocsStatus	status = DocsStatusOf(row[G_STATUS], DocsIsTrue(row[G_WARNED]));

	DocsText(buf, row[G_MODEL]);
	appendStringInfo(buf, ", run %s: %s", row[G_RUN], DocsStatuses[status].label);
	if (row[G_START_MS] != NULL)
		appendStringInfo(buf, ", %s%s rows, %s", DocsIsTrue(row[G_WORKER]) ? "in a worker, " : "",
						 row[G_ROWS] ? row[G_ROWS] : "no",
						 DocsDuration(atof(row[G_MS] ? row[G_MS] : "0")));
	if (row[G_MESSAGE] != NULL)
	{
		appendStringInfoString(buf, ": ");
		DocsText(buf, row[G_MESSAGE]);
	}
}

/*
 * write_gantt
 *		The Gantt chart of run run_id: one bar per model step from its start
 *		to its end, in lanes (a step goes to the first lane free at its
 *		start: with threads, the lanes are the workers at work), then the
 *		steps that failed with why.
 */
static void
write_gantt(DocsPage *page, const char *run_id)
{
	StringInfo	buf = &page->html;
	const int	label_width = 70,
				chart_width = 900,
				lane_height = 22;
	List	   *steps = NIL;
	List	   *failed = NIL;
	double		total_ms = 1;
	double	   *lane_end;
	int		   *lane_of;
	int			lanes = 0;
	ListCell   *lc;
	DocsRow		first;

	foreach(lc, DocsRowsOf(page->gantt, G_RUN, run_id))
	{
		DocsRow		row = lfirst(lc);

		if (row[G_START_MS] != NULL)
			steps = lappend(steps, row);
		if (row[G_MESSAGE] != NULL && strcmp(row[G_STATUS], "failed") == 0)
			failed = lappend(failed, row);
	}
	if (steps == NIL)
	{
		appendStringInfo(buf, "<p class=\"muted\">Run %s built no model you may read.</p>\n", run_id);
		return;
	}
	lane_end = palloc0(sizeof(double) * (list_length(steps) + 1));
	lane_of = palloc0(sizeof(int) * (list_length(steps) + 1));
	first = linitial(steps);
	total_ms = Max(atof(first[G_RUN_MS]), 1);
	foreach(lc, steps)
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
	appendStringInfo(buf, "<p>Run %s: ", run_id);
	DocsBadge(buf, first[G_RUN_STATUS], first[G_RUN_STATUS]);
	appendStringInfo(buf, " %d steps in %s, %d lane%s.</p>\n", list_length(steps),
					 DocsDuration(total_ms), lanes, lanes == 1 ? "" : "s");
	appendStringInfo(buf, "<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
					 "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"Gantt chart of run %s\">\n",
					 label_width + chart_width + 10, lanes * lane_height + 24,
					 label_width + chart_width + 10, lanes * lane_height + 24, run_id);
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
						 DocsDuration(total_ms * tick / 4));
	}
	foreach(lc, steps)
	{
		DocsRow		row = lfirst(lc);
		DocsStatus	status = DocsStatusOf(row[G_STATUS], DocsIsTrue(row[G_WARNED]));
		double		start = atof(row[G_START_MS]);
		double		end = atof(row[G_END_MS]);
		double		x = label_width + chart_width * start / total_ms;
		double		width = Max(chart_width * (end - start) / total_ms, 1.5);
		int			y = lane_of[foreach_current_index(lc)] * lane_height + 2;
		bool		link = DocsOnPage(page, row[G_MODEL]);

		if (link)
		{
			appendStringInfoString(buf, "<a href=\"#model-");
			DocsText(buf, row[G_MODEL]);
			appendStringInfoString(buf, "\">");
		}
		appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"3\" "
						 "fill=\"%s\" stroke=\"#5b6470\" stroke-width=\"0.5\"><title>",
						 x, y, width, lane_height - 5, DocsStatuses[status].fill);
		step_title(buf, row);
		appendStringInfoString(buf, "</title></rect>");
		/* the name inside its bar, cut to what fits (about 6 px a letter) */
		if (width > 40)
		{
			int			fits = (int) ((width - 8) / 6);
			char	   *label = pstrdup(row[G_MODEL]);

			if (strlen(label) > (size_t) fits)
				label[fits] = '\0';
			appendStringInfo(buf, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" fill=\"#1f2630\">",
							 x + 4, y + 12);
			DocsText(buf, label);
			appendStringInfoString(buf, "</text>");
		}
		appendStringInfoString(buf, link ? "</a>\n" : "\n");
	}
	appendStringInfoString(buf, "</svg>\n");
	foreach(lc, failed)
	{
		DocsRow		row = lfirst(lc);

		appendStringInfoString(buf, "<p class=\"reason\"><b>");
		DocsModelLink(page, row[G_MODEL]);
		appendStringInfoString(buf, "</b> failed: ");
		DocsText(buf, row[G_MESSAGE]);
		appendStringInfoString(buf, "</p>\n");
	}
}

/*
 * DocsWriteRun
 *		The page's main Gantt chart: of the run asked for, or of the last.
 */
void
DocsWriteRun(DocsPage *page)
{
	StringInfo	buf = &page->html;
	char	   *run_id;

	if (page->run_id != 0)
	{
		run_id = psprintf(INT64_FORMAT, page->run_id);
		appendStringInfo(buf, "<section id=\"last-run\">\n<h2>Run %s</h2>\n", run_id);
	}
	else
	{
		appendStringInfoString(buf, "<section id=\"last-run\">\n<h2>Last run</h2>\n");
		if (page->runs == NIL)
		{
			appendStringInfoString(buf, "<p class=\"muted\">No run yet.</p>\n</section>\n");
			return;
		}
		run_id = ((DocsRow) linitial(page->runs))[R_ID];
	}
	write_gantt(page, run_id);
	appendStringInfoString(buf, "</section>\n");
}

/*
 * DocsWriteGrid
 *		The last runs (oldest on the left) by the page's models: a cell per
 *		step, colored by its status, its title the step and why it failed,
 *		linked to the run's Gantt chart; then those charts.
 */
void
DocsWriteGrid(DocsPage *page)
{
	StringInfo	buf = &page->html;
	int			nruns = list_length(page->runs);
	List	  **run_steps;
	ListCell   *lc;

	appendStringInfoString(buf, "<section id=\"grid\">\n<h2>Runs by model</h2>\n");
	if (page->runs == NIL || page->models == NIL)
	{
		appendStringInfoString(buf, "<p class=\"muted\">No run of a model you may read.</p>\n</section>\n");
		return;
	}
	appendStringInfoString(buf, "<p class=\"muted\">The last runs, oldest on the left: a cell per step, "
						   "its title says how it went; a click shows the run as a Gantt chart.</p>\n"
						   "<table class=\"grid\">\n<tr><th>model</th>");
	run_steps = palloc0(sizeof(List *) * nruns);
	for (int i = nruns - 1; i >= 0; i--)
	{
		DocsRow		run = list_nth(page->runs, i);

		run_steps[i] = DocsRowsOf(page->gantt, G_RUN, run[R_ID]);
		appendStringInfo(buf, "<th class=\"run %s\"><a href=\"#run-%s\" title=\"run %s: %s\">%s</a></th>",
						 run[R_STATUS], run[R_ID], run[R_ID], run[R_STATUS], run[R_ID]);
	}
	appendStringInfoString(buf, "</tr>\n");
	foreach(lc, page->models)
	{
		const char *model = ((DocsRow) lfirst(lc))[0];

		appendStringInfoString(buf, "<tr data-model=\"");
		DocsText(buf, model);
		appendStringInfoString(buf, "\"><th>");
		DocsModelLink(page, model);
		appendStringInfoString(buf, "</th>");
		for (int i = nruns - 1; i >= 0; i--)
		{
			DocsRow		run = list_nth(page->runs, i);
			DocsRow		step = NULL;
			ListCell   *ls;

			foreach(ls, run_steps[i])
			{
				if (strcmp(((DocsRow) lfirst(ls))[G_MODEL], model) == 0)
				{
					step = lfirst(ls);
					break;
				}
			}
			if (step == NULL)
			{
				appendStringInfoString(buf, "<td class=\"none\"></td>");
				continue;
			}
			appendStringInfo(buf, "<td class=\"%s\"><a href=\"#run-%s\" title=\"",
							 DocsStatuses[DocsStatusOf(step[G_STATUS], DocsIsTrue(step[G_WARNED]))].name,
							 run[R_ID]);
			step_title(buf, step);
			appendStringInfoString(buf, "\"></a></td>");
		}
		appendStringInfoString(buf, "</tr>\n");
	}
	appendStringInfoString(buf, "</table>\n");
	foreach(lc, page->runs)
	{
		DocsRow		run = lfirst(lc);

		appendStringInfo(buf, "<section class=\"run-gantt\" id=\"run-%s\">\n<h3>Run %s</h3>\n",
						 run[R_ID], run[R_ID]);
		write_gantt(page, run[R_ID]);
		appendStringInfoString(buf, "</section>\n");
	}
	appendStringInfoString(buf, "</section>\n");
}

/*-------------------------------------------------------------------------
 *
 * docs_html.c
 *	  The page's HTML helpers, its style and its one script, and the
 *	  Content-Security-Policy that allows exactly those two by their
 *	  SHA-256 (nothing is loaded from anywhere).
 *
 * The script filters the models (search text, layer, tag, owner, status)
 * and focuses on one model with what it reads and what reads it, through
 * the page's own data attributes; its state is the page's query string
 * (?q=...&layer=...&tag=...&owner=...&status=...&focus=...&dir=up|down),
 * so that a filtered page can be linked.  It only reads the page and sets
 * the hidden attribute and a class: it never writes markup, so no text
 * of the catalog becomes markup through it.  Without it the page shows
 * everything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "common/cryptohash.h"
#include "common/sha2.h"

#include "docs_page.h"

/*
 * The page's style: one element, allowed by the page's policy through its
 * hash (DocsPolicy), so it must stay a constant.
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
".index{columns:3 240px;padding-left:18px}"
"[hidden]{display:none!important}.dim{opacity:.15}"
".filters{position:sticky;top:0;z-index:1;background:#eef2f6;border:1px solid #d8dde3;"
"border-radius:6px;padding:8px 10px;margin:10px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:center}"
".filters input{min-width:260px}.filters input,.filters select,.filters button{font:inherit;padding:2px 6px}"
"button.focus{font-size:12px;margin-left:8px}"
".reason{color:#8a1c12;font-size:12.5px}"
".grid td{padding:0;border:1px solid #fff}.grid td a{display:block;width:18px;height:16px}"
".grid th.run{writing-mode:vertical-rl;font-weight:400;font-size:11px;padding:4px 1px}"
".grid td.none{background:#f4f6f8}.grid th{white-space:nowrap}"
".run-gantt{display:none}.run-gantt:target{display:block}";

/*
 * The page's script: one element, allowed by its hash.  Models are the
 * elements with data-model (their article, index entry and grid row; the
 * article has the data to filter on); graph nodes are dimmed, not hidden.
 */
static const char *const PAGE_JS =
"(function(){'use strict';\n"
"var d=document,f={},by=Object.create(null),order=[],focus='',names=['q','layer','tag','owner','status','dir'];\n"
"names.forEach(function(n){f[n]=d.getElementById('f-'+n);});\n"
"if(!f.q)return;\n"
"[].forEach.call(d.querySelectorAll('[data-model]'),function(e){\n"
"var n=e.getAttribute('data-model');\n"
"if(!by[n]){by[n]={els:[],up:[],down:[],art:null};order.push(n);}\n"
"by[n].els.push(e);\n"
"if(e.tagName==='ARTICLE'){by[n].art=e;by[n].up=(e.getAttribute('data-up')||'').split(',').filter(Boolean);}\n"
"});\n"
"order.forEach(function(n){by[n].up.forEach(function(u){if(by[u])by[u].down.push(n);});});\n"
"function walk(n,k,seen){if(seen[n])return;seen[n]=true;if(by[n])by[n][k].forEach(function(m){walk(m,k,seen);});}\n"
"function matches(n){\n"
"var a=by[n].art;if(!a)return false;\n"
"var q=f.q.value.trim().toLowerCase();\n"
"if(q&&a.textContent.toLowerCase().indexOf(q)<0)return false;\n"
"if(f.layer.value&&a.getAttribute('data-layer')!==f.layer.value)return false;\n"
"if(f.owner.value&&a.getAttribute('data-owner')!==f.owner.value)return false;\n"
"if(f.status.value&&a.getAttribute('data-status')!==f.status.value)return false;\n"
"if(f.tag.value&&(a.getAttribute('data-tags')||'').split(',').indexOf(f.tag.value)<0)return false;\n"
"return true;}\n"
"function apply(){\n"
"var near=null,shown=0;\n"
"if(focus&&by[focus]){var up=Object.create(null),down=Object.create(null);walk(focus,'up',up);walk(focus,'down',down);\n"
"near=f.dir.value==='up'?up:f.dir.value==='down'?down:Object.assign(up,down);}\n"
"order.forEach(function(n){\n"
"var ok=matches(n)&&(!near||near[n]===true);if(ok&&by[n].art)shown++;\n"
"by[n].els.forEach(function(e){e.hidden=!ok;});\n"
"var g=d.getElementById('graph_model_'+n);if(g)g.classList.toggle('dim',!ok);\n"
"});\n"
"d.getElementById('f-focus').textContent=focus&&by[focus]?'focused on '+focus:'';\n"
"d.getElementById('f-unfocus').hidden=!(focus&&by[focus]);\n"
"d.getElementById('f-count').textContent=shown+' of '+order.filter(function(n){return by[n].art;}).length+' models';\n"
"}\n"
"function save(){var p=new URLSearchParams();\n"
"names.forEach(function(n){if(f[n].value&&!(n==='dir'&&!focus))p.set(n,f[n].value);});\n"
"if(focus)p.set('focus',focus);\n"
"try{history.replaceState(null,'',(p.toString()?'?'+p.toString():location.pathname)+location.hash);}catch(e){}\n"
"apply();}\n"
"var p=new URLSearchParams(location.search);\n"
"names.forEach(function(n){var v=p.get(n);if(v!==null)f[n].value=v;f[n].addEventListener(n==='q'?'input':'change',save);});\n"
"focus=p.get('focus')||'';\n"
"[].forEach.call(d.querySelectorAll('button[data-focus]'),function(b){b.addEventListener('click',function(){\n"
"focus=b.getAttribute('data-focus');save();d.getElementById('models').scrollIntoView();});});\n"
"d.getElementById('f-unfocus').addEventListener('click',function(){focus='';save();});\n"
"d.getElementById('f-clear').addEventListener('click',function(){names.forEach(function(n){f[n].value='';});focus='';save();});\n"
"apply();\n"
"})();\n";

const char *
DocsStyle(void)
{
	return PAGE_CSS;
}

const char *
DocsScript(void)
{
	return PAGE_JS;
}

/* The SHA-256 of text, in base64, as a policy's hash source wants it. */
static char *
sha256_base64(const char *text)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		encoded[64];
	int			len;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) text, strlen(text)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the hash of the page's style or script");
	pg_cryptohash_free(ctx);
	len = pg_b64_encode((const char *) digest, sizeof(digest), encoded, sizeof(encoded) - 1);
	if (len < 0)
		elog(ERROR, "could not encode the hash of the page's style or script");
	encoded[len] = '\0';
	return pstrdup(encoded);
}

/*
 * DocsPolicy
 *		The page's Content-Security-Policy: nothing is loaded from anywhere,
 *		and the one style and the one script elements are allowed by their
 *		SHA-256 (no other script, no inline handler, no eval).
 */
char *
DocsPolicy(void)
{
	return psprintf("default-src 'none'; style-src 'sha256-%s'; script-src 'sha256-%s'; img-src data:; "
					"base-uri 'none'; form-action 'none'",
					sha256_base64(PAGE_CSS), sha256_base64(PAGE_JS));
}

/* Append text with HTML's special characters escaped (NULL: nothing). */
void
DocsText(StringInfo buf, const char *text)
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
void
DocsCell(StringInfo buf, const char *tag, const char *text)
{
	appendStringInfo(buf, "<%s>", tag);
	if (text == NULL)
		appendStringInfoString(buf, "<span class=\"muted\">-</span>");
	else
		DocsText(buf, text);
	appendStringInfo(buf, "</%.*s>", (int) strcspn(tag, " "), tag);
}

/* A status badge; its class is one of the page's own names. */
void
DocsBadge(StringInfo buf, const char *css_class, const char *label)
{
	appendStringInfoString(buf, "<span class=\"badge ");
	DocsText(buf, css_class);
	appendStringInfoString(buf, "\">");
	DocsText(buf, label);
	appendStringInfoString(buf, "</span>");
}

bool
DocsIsTrue(const char *value)
{
	return value != NULL && strcmp(value, "t") == 0;
}

/* The rows of a list whose column col is value (rows are grouped by it). */
List *
DocsRowsOf(List *rows, int col, const char *value)
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

/*
 * Whether a model has a section on this page (selected and readable): a
 * row of DocsPage.models, whose first column is the model's name.
 */
bool
DocsOnPage(DocsPage *page, const char *model)
{
	ListCell   *lc;

	foreach(lc, page->models)
	{
		if (strcmp(((DocsRow) lfirst(lc))[0], model) == 0)
			return true;
	}
	return false;
}

/* A link to a model's section when it has one, its name otherwise. */
void
DocsModelLink(DocsPage *page, const char *model)
{
	StringInfo	buf = &page->html;

	if (DocsOnPage(page, model))
	{
		appendStringInfoString(buf, "<a href=\"#model-");
		DocsText(buf, model);
		appendStringInfoString(buf, "\">");
		DocsText(buf, model);
		appendStringInfoString(buf, "</a>");
	}
	else
		DocsText(buf, model);
}

/* A number of milliseconds as "812 ms" or "3.4 s". */
char *
DocsDuration(double ms)
{
	if (ms < 1000)
		return psprintf("%.0f ms", ms);
	return psprintf("%.1f s", ms / 1000);
}

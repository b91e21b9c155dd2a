/*-------------------------------------------------------------------------
 *
 * scope.c
 *	  The owner scope: the identity and settings under which medallion runs
 *	  a model's (or a test's, or a source's) SQL.
 *
 * Everything medallion runs of a model's SQL runs in this scope: as the
 * owner, under SECURITY_RESTRICTED_OPERATION, with search_path
 * "pg_catalog, pg_temp" (the SQL medallion writes is qualified; the model's
 * own was bound when defined), the model's statement_timeout, and every
 * setting that changes what a query returns, or which messages reach the
 * caller, at the value a new session of the owner would have: the server's
 * (configuration files, or the built-in default), then ALTER ROLE ALL,
 * ALTER DATABASE, ALTER ROLE owner and ALTER ROLE owner IN DATABASE, in
 * PostgreSQL's order of precedence.  Whoever starts a run, in whatever
 * session, gets the same result: a caller's SET TimeZone or
 * client_min_messages = debug3 does not reach another owner's model (or
 * its foreign connections, whose debug output names credentials).  The
 * run, the build and extraction workers, tests and source checks all enter
 * the scope the same way.
 *
 * The values are worked out once per transaction and owner (the
 * configuration files read once per transaction), in a context that goes
 * with the transaction.  An error inside the scope is cleaned up by
 * (sub)transaction abort, except the timeout: callers that catch errors
 * stop it (ModelScopeStopTimeout).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_db_role_setting.h"
#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/fmgrprotos.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timeout.h"
#include "utils/varlena.h"

#include "catalog.h"
#include "scope.h"
#include "trust.h"

/*
 * The settings pinned in the scope: those that change what a query returns
 * (date and time input and output, numbers' text, locale formats, bytea and
 * XML output, array and string literal parsing, text search defaults,
 * identifier quoting, row security, GIN's fuzzy limit, which triggers
 * fire, large object checks) and those that decide which server messages
 * reach the caller or the log.  search_path is set apart (safe path).
 */
static const char *const scope_pinned[] = {
	"TimeZone", "timezone_abbreviations", "DateStyle", "IntervalStyle",
	"extra_float_digits", "bytea_output", "xmlbinary", "xmloption",
	"lc_monetary", "lc_numeric", "lc_time", "default_text_search_config",
	"array_nulls", "standard_conforming_strings", "backslash_quote",
	"quote_all_identifiers", "transform_null_equals", "row_security",
	"gin_fuzzy_search_limit", "session_replication_role", "lo_compat_privileges",
	"client_min_messages", "log_min_messages", "log_min_error_statement",
	"log_statement", "log_min_duration_statement", "log_parameter_max_length",
	"log_parameter_max_length_on_error",
};

#define SCOPE_NPINNED lengthof(scope_pinned)

/* The values of scope_pinned (and asked-for others) for one owner. */
typedef struct OwnerSettings
{
	Oid			owner;
	char	  **values;			/* of scope_pinned; NULL: no such setting */
} OwnerSettings;

/* per transaction: the servers' values read from the files, and per owner */
static MemoryContext settings_cxt = NULL;
static ConfigVariable *file_settings = NULL;
static bool file_settings_read = false;
static List *owner_settings = NIL;

/* ----------------------------------------------------------------
 * The owner's settings
 * ---------------------------------------------------------------- */

/* The transaction ended: forget what was worked out in it. */
static void
settings_forget(void *arg)
{
	settings_cxt = NULL;
	file_settings = NULL;
	file_settings_read = false;
	owner_settings = NIL;
}

/* The context of this transaction's settings, made on first use. */
static MemoryContext
settings_context(void)
{
	if (settings_cxt == NULL)
	{
		MemoryContextCallback *cb;

		settings_cxt = AllocSetContextCreate(TopTransactionContext, "medallion owner settings",
											 ALLOCSET_SMALL_SIZES);
		cb = MemoryContextAlloc(settings_cxt, sizeof(MemoryContextCallback));
		cb->func = settings_forget;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(settings_cxt, cb);
	}
	return settings_cxt;
}

/*
 * setting_name_compare
 *		bsearch comparator of a name against a setting: the order of
 *		guc.c's guc_name_compare, by which PostgreSQL 15 keeps its array of
 *		settings sorted (find_option searches it the same way): ASCII
 *		letters folded to lower case, nothing else.
 */
static int
setting_name_compare(const void *key, const void *elem)
{
	const char *a = (const char *) key;
	const char *b = (*(struct config_generic *const *) elem)->name;

	while (*a && *b)
	{
		char		ca = *a++;
		char		cb = *b++;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return ca - cb;
	}
	if (*a)
		return 1;
	if (*b)
		return -1;
	return 0;
}

/*
 * find_setting
 *		The setting's definition, or NULL (a placeholder, an unknown name).
 *		A binary search: each transaction that enters an owner's scope looks
 *		up every pinned setting, and a scan of the ~350 settings per name
 *		was most of what working out an owner's settings cost.
 */
static struct config_generic *
find_setting(const char *name)
{
	struct config_generic **found;

	found = bsearch(name, get_guc_variables(), GetNumConfigOptions(),
					sizeof(struct config_generic *), setting_name_compare);
	if (found == NULL || ((*found)->flags & GUC_CUSTOM_PLACEHOLDER))
		return NULL;
	return *found;
}

/* The built-in default of a setting, as text (NULL for a NULL string). */
static char *
boot_value(struct config_generic *gen)
{
	switch (gen->vartype)
	{
		case PGC_BOOL:
			return pstrdup(((struct config_bool *) gen)->boot_val ? "on" : "off");
		case PGC_INT:
			return psprintf("%d", ((struct config_int *) gen)->boot_val);
		case PGC_REAL:
			return psprintf("%.17g", ((struct config_real *) gen)->boot_val);
		case PGC_STRING:
			return ((struct config_string *) gen)->boot_val ?
				pstrdup(((struct config_string *) gen)->boot_val) : NULL;
		case PGC_ENUM:
			return pstrdup(config_enum_lookup_by_value((struct config_enum *) gen,
													   ((struct config_enum *) gen)->boot_val));
	}
	return NULL;
}

/*
 * server_value
 *		The value of gen for a new session before any role, database or
 *		client setting: the value this session started with when none of
 *		those of its own role or client set it, else the configuration
 *		files' (postgresql.conf and what it includes, then
 *		postgresql.auto.conf), else the built-in default.  A value given on
 *		the postmaster's command line is not seen in the last case.
 */
static char *
server_value(struct config_generic *gen)
{
	char	   *value = NULL;

	if (gen->reset_source <= PGC_S_DATABASE || gen->reset_source == PGC_S_OVERRIDE)
		return pstrdup(GetConfigOptionResetString(gen->name));
	if (!file_settings_read)
	{
		MemoryContext old = MemoryContextSwitchTo(settings_context());
		ConfigVariable *tail = NULL;

		if (ConfigFileName != NULL)
			(void) ParseConfigFile(ConfigFileName, false, NULL, 0, 0, DEBUG2,
								   &file_settings, &tail);
		if (DataDir != NULL)
			(void) ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG2,
								   &file_settings, &tail);
		file_settings_read = true;
		MemoryContextSwitchTo(old);
	}
	for (ConfigVariable *v = file_settings; v != NULL; v = v->next)
	{
		if (v->errmsg == NULL && !v->ignore && pg_strcasecmp(v->name, gen->name) == 0)
			value = v->value;	/* the last one wins */
	}
	return value != NULL ? pstrdup(value) : boot_value(gen);
}

/*
 * overlay_role_settings
 *		Where pg_db_role_setting has a value for (database, role) of one of
 *		names, put it in values (at the same index).
 */
static void
overlay_role_settings(Relation rel, Oid database, Oid role, int n, const char *const *names,
					  char **values)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(database));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		config = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(rel), &isnull);
		Datum	   *elems;
		bool	   *elemnulls;
		int			nelems;

		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &elemnulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			char	   *name;
			char	   *value;

			if (elemnulls[i])
				continue;
			ParseLongOption(TextDatumGetCString(elems[i]), &name, &value);
			if (value == NULL)
				continue;
			for (int j = 0; j < n; j++)
			{
				if (pg_strcasecmp(names[j], name) == 0)
					values[j] = value;
			}
		}
	}
	systable_endscan(scan);
}

/*
 * owner_values
 *		The values of names (n of them) a new session of role owner in this
 *		database would start with: the server's, then ALTER ROLE ALL, ALTER
 *		DATABASE, ALTER ROLE and ALTER ROLE IN DATABASE settings, each over
 *		the one before.  NULL for a name that is no setting.  Allocated in
 *		the current context.
 */
static char **
owner_values(Oid owner, int n, const char *const *names)
{
	char	  **values = palloc0(sizeof(char *) * n);
	Relation	rel;

	for (int i = 0; i < n; i++)
	{
		struct config_generic *gen = find_setting(names[i]);

		if (gen != NULL)
			values[i] = server_value(gen);
	}
	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	overlay_role_settings(rel, InvalidOid, InvalidOid, n, names, values);
	overlay_role_settings(rel, MyDatabaseId, InvalidOid, n, names, values);
	overlay_role_settings(rel, InvalidOid, owner, n, names, values);
	overlay_role_settings(rel, MyDatabaseId, owner, n, names, values);
	table_close(rel, AccessShareLock);
	return values;
}

/* The pinned settings' values for owner, worked out once per transaction. */
static char **
pinned_values(Oid owner)
{
	ListCell   *lc;
	OwnerSettings *found;
	MemoryContext old;

	foreach(lc, owner_settings)
	{
		if (((OwnerSettings *) lfirst(lc))->owner == owner)
			return ((OwnerSettings *) lfirst(lc))->values;
	}
	old = MemoryContextSwitchTo(settings_context());
	found = palloc0(sizeof(OwnerSettings));
	found->owner = owner;
	found->values = owner_values(owner, SCOPE_NPINNED, scope_pinned);
	owner_settings = lappend(owner_settings, found);
	MemoryContextSwitchTo(old);
	return found->values;
}

/*
 * Is message level a (of enum setting name) at least as quiet as b?  Both
 * name levels of client_min_messages, whose order is the levels' own.
 */
static bool
quieter(const char *name, const char *a, const char *b)
{
	struct config_generic *gen = find_setting(name);
	int			level_a;
	int			level_b;

	if (gen == NULL || gen->vartype != PGC_ENUM ||
		!config_enum_lookup_by_name((struct config_enum *) gen, a, &level_a) ||
		!config_enum_lookup_by_name((struct config_enum *) gen, b, &level_b))
		return false;
	return level_a >= level_b;
}

/*
 * Settings the caller keeps inside the scope although it set them: those
 * that cannot change what a query returns or which messages reach whom
 * (the planner's, resources', statistics', logging's but the pinned ones),
 * those set apart (search_path, the timeouts), the transaction's own,
 * medallion's (read per owner where they matter) and Citus's (how a query
 * runs, not what it returns).
 */
static bool
caller_keeps(struct config_generic *gen)
{
	static const char *const kept[] = {
		"search_path", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
		"idle_session_timeout", "application_name", "client_encoding", "transaction_isolation",
		"transaction_read_only", "transaction_deferrable", "default_transaction_isolation",
		"default_transaction_read_only", "default_transaction_deferrable", "role",
		"session_authorization", "is_superuser",
	};

	switch (gen->group)
	{
		case CLIENT_CONN_STATEMENT:
		case CLIENT_CONN_LOCALE:
		case CLIENT_CONN_PRELOAD:
		case CLIENT_CONN_OTHER:
		case COMPAT_OPTIONS_PREVIOUS:
		case COMPAT_OPTIONS_CLIENT:
		case ERROR_HANDLING_OPTIONS:
		case CUSTOM_OPTIONS:
		case DEVELOPER_OPTIONS:
		case UNGROUPED:
			break;
		default:
			return true;
	}
	if (pg_strncasecmp(gen->name, "medallion.", 10) == 0 || pg_strncasecmp(gen->name, "citus.", 6) == 0)
		return true;
	for (int i = 0; i < lengthof(kept); i++)
	{
		if (pg_strcasecmp(gen->name, kept[i]) == 0)
			return true;
	}
	for (int i = 0; i < SCOPE_NPINNED; i++)
	{
		if (pg_strcasecmp(gen->name, scope_pinned[i]) == 0)
			return true;		/* pin_settings sets it */
	}
	return false;
}

/*
 * reset_caller_settings
 *		Any other setting the caller changed (SET, its client, its role's
 *		or its role-in-database defaults) gets owner's value for the
 *		current GUC nest level: a plug-in's setting (plpgsql.check_asserts,
 *		pg_trgm.similarity_threshold, ...) can change what a model's query
 *		returns as much as DateStyle can.  Server-wide values (files,
 *		ALTER SYSTEM, ALTER ROLE ALL, ALTER DATABASE) are owner's already.
 *		A setting no loaded library defines (a placeholder: set_config of
 *		an application's variable, or of a library loaded later) gets
 *		owner's role value, or the empty string: the model's query reads
 *		no variable of the caller's.  (A library loaded for the first time
 *		inside the scope still takes the caller's value of its settings:
 *		build workers load the run's libraries before its settings.)
 */
static void
reset_caller_settings(Oid owner)
{
	struct config_generic **all = get_guc_variables();
	int			n = GetNumConfigOptions();
	List	   *names = NIL;
	const char **array;
	char	  **values;
	ListCell   *lc;

	for (int i = 0; i < n; i++)
	{
		struct config_generic *gen = all[i];

		if ((gen->context != PGC_USERSET && gen->context != PGC_SUSET) ||
			gen->source <= PGC_S_DATABASE || gen->source == PGC_S_OVERRIDE ||
			caller_keeps(gen))
			continue;
		names = lappend(names, (char *) gen->name);
	}
	if (names == NIL)
		return;
	array = palloc(sizeof(char *) * list_length(names));
	foreach(lc, names)
		array[foreach_current_index(lc)] = lfirst(lc);
	values = owner_values(owner, list_length(names), array);
	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		const char *value = values[foreach_current_index(lc)];
		const char *current = GetConfigOption(name, true, false);

		if (value == NULL && (find_setting(name) == NULL))
			value = "";			/* a placeholder no role setting gives a value */
		if (value == NULL || (current != NULL && strcmp(current, value) == 0))
			continue;
		(void) set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
}

/*
 * pin_settings
 *		Set each pinned setting to owner's value for the current GUC nest
 *		level (undone when it ends); client_min_messages keeps the caller's
 *		value when it lets fewer messages through.  Then every other
 *		setting the caller changed that can change a query's result gets
 *		owner's value too (reset_caller_settings).
 */
static void
pin_settings(Oid owner)
{
	char	  **values = pinned_values(owner);

	for (int i = 0; i < SCOPE_NPINNED; i++)
	{
		const char *current;

		if (values[i] == NULL)
			continue;
		current = GetConfigOption(scope_pinned[i], true, false);
		if (current != NULL && strcmp(current, values[i]) == 0)
			continue;
		if (current != NULL && strcmp(scope_pinned[i], "client_min_messages") == 0 &&
			quieter(scope_pinned[i], current, values[i]))
			continue;			/* the caller asked for fewer messages: fine */
		(void) set_config_option(scope_pinned[i], values[i], PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	reset_caller_settings(owner);
}

/*
 * ScopeOwnerSetting
 *		The value of setting name that decides what happens to role owner's
 *		data (medallion.keep_previous, medallion.store_failures_limit): the
 *		caller's (the session's role, whoever medallion acts as now) when it
 *		has owner's privileges, otherwise the one a new session of owner
 *		would have.  NULL when there is no such
 *		setting.  palloc'd.
 */
char *
ScopeOwnerSetting(Oid owner, const char *name)
{
	const char *names[1] = {name};
	const char *current;

	if (has_privs_of_role(GetOuterUserId(), owner))
	{
		current = GetConfigOption(name, true, false);
		return current ? pstrdup(current) : NULL;
	}
	return owner_values(owner, 1, names)[0];
}

/* ScopeOwnerSetting of a boolean setting; current when it cannot be read. */
bool
ScopeOwnerBool(Oid owner, const char *name, bool current)
{
	char	   *value = ScopeOwnerSetting(owner, name);
	bool		result;

	if (value == NULL || !parse_bool(value, &result))
		return current;
	return result;
}

/* ScopeOwnerSetting of an integer setting; current when it cannot be read. */
int
ScopeOwnerInt(Oid owner, const char *name, int current)
{
	char	   *value = ScopeOwnerSetting(owner, name);
	int			result;

	if (value == NULL || !parse_int(value, &result, 0, NULL))
		return current;
	return result;
}

/*
 * ModelOwnerId
 *		Returns the OID of the model's owner; errors if the role is gone.
 */
Oid
ModelOwnerId(ModelDef *model)
{
	Oid			owner = get_role_oid(model->owner, true);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("owner \"%s\" of model \"%s\" does not exist",
						model->owner, model->name),
				 errhint("Create the role, or define the model again as an existing role.")));
	return owner;
}

/*
 * ModelRequireOwner
 *		Error unless the current user has the privileges of the model's
 *		owner: only they may change it, its tests, or roll it back.
 */
void
ModelRequireOwner(ModelDef *model)
{
	if (!has_privs_of_role(GetUserId(), ModelOwnerId(model)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", model->name),
				 errdetail("The model is owned by role \"%s\".", model->owner)));
}

/*
 * ModelBecomeOwner
 *		Switch the current user to the model owner, saving the previous
 *		identity.  Restore with SetUserIdAndSecContext.
 */
void
ModelBecomeOwner(ModelDef *model, Oid *save_userid, int *save_sec)
{
	GetUserIdAndSecContext(save_userid, save_sec);
	SetUserIdAndSecContext(ModelOwnerId(model), *save_sec | SECURITY_LOCAL_USERID_CHANGE);
}

/* ----------------------------------------------------------------
 * The search_path
 * ---------------------------------------------------------------- */

/*
 * ScopeSearchPathText
 *		search_path text for the schemas of a search_path (a List of char *
 *		as SplitIdentifierString gives), leaving out temporary schemas: no
 *		path medallion stores or sets names pg_temp but last.
 */
char *
ScopeSearchPathText(List *schemas)
{
	StringInfoData path;
	ListCell   *lc;

	initStringInfo(&path);
	foreach(lc, schemas)
	{
		char	   *elem = lfirst(lc);

		if (strcmp(elem, "pg_temp") == 0 || strncmp(elem, "pg_temp_", 8) == 0)
			continue;
		appendStringInfo(&path, "%s%s", path.len > 0 ? ", " : "",
						 strcmp(elem, "$user") == 0 ? "\"$user\"" : quote_identifier(elem));
	}
	return path.data;
}

/*
 * ScopeSearchPathSchemas
 *		The schemas of search_path text, as a List of char *.
 */
List *
ScopeSearchPathSchemas(const char *search_path)
{
	List	   *elems;

	if (!SplitIdentifierString(pstrdup(search_path), ',', &elems))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_path \"%s\" cannot be parsed", search_path)));
	return elems;
}

/*
 * ScopeEnterSearchPath
 *		Set search_path for the current GUC nest level: the given path with
 *		any temporary schema taken out and pg_temp named last, so that no
 *		temporary object is ever found before another; returns the nest
 *		level to pass to ScopeLeaveSearchPath.
 */
int
ScopeEnterSearchPath(const char *search_path)
{
	int			nestlevel = NewGUCNestLevel();
	char	   *path = ScopeSearchPathText(ScopeSearchPathSchemas(search_path));

	(void) set_config_option("search_path", psprintf("%s%spg_temp", path, path[0] ? ", " : ""),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

void
ScopeLeaveSearchPath(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/* ----------------------------------------------------------------
 * The scope
 * ---------------------------------------------------------------- */

static TimeoutId scope_timeout_id = MAX_TIMEOUTS;
static volatile sig_atomic_t scope_timed_out = false;

static void
scope_timeout_handler(void)
{
	scope_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

/*
 * reseed_random
 *		random() of what runs in the scope starts from a seed no caller
 *		chose: a caller's setseed() made another owner's model's random
 *		values predictable.
 */
static void
reseed_random(void)
{
	uint64		seed;

	if (!pg_strong_random(&seed, sizeof(seed)))
		return;					/* keep the session's sequence */
	(void) DirectFunctionCall1(setseed, Float8GetDatum((double) (seed % 2000001) / 1000000.0 - 1.0));
}

/*
 * ModelScopeEnter
 *		Become role (a model's or a source's owner), restricted, with the
 *		safe search_path and role's settings (pin_settings), and start
 *		timeout_ms (0: none).  Leave with
 *		ModelScopeLeave.
 */
void
ModelScopeEnter(ModelScope *scope, Oid role, int timeout_ms)
{
	GetUserIdAndSecContext(&scope->save_userid, &scope->save_sec);
	SetUserIdAndSecContext(role, scope->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	scope->nestlevel = ScopeEnterSearchPath(MEDALLION_SAFE_PATH);
	pin_settings(role);
	TrustRequire(role);
	reseed_random();
	scope->timeout_ms = 0;
	ModelScopeStartTimeout(scope, timeout_ms);
}

/*
 * ModelScopeStartTimeout
 *		Start the scope's statement timeout now (timeout_ms > 0), forgetting
 *		whether an earlier one fired.
 */
void
ModelScopeStartTimeout(ModelScope *scope, int timeout_ms)
{
	scope_timed_out = false;
	if (timeout_ms <= 0)
		return;
	if (scope_timeout_id == MAX_TIMEOUTS)
		scope_timeout_id = RegisterTimeout(USER_TIMEOUT, scope_timeout_handler);
	scope->timeout_ms = timeout_ms;
	enable_timeout_after(scope_timeout_id, timeout_ms);
}

/*
 * ModelScopeIsoDates
 *		In the scope, DateStyle ISO: foreign data wrappers send date and time
 *		constants to the remote side as text in that style.  Undone when the
 *		scope is left.
 */
void
ModelScopeIsoDates(void)
{
	(void) set_config_option("datestyle", "ISO, MDY", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Stop the scope's timeout, if it runs (after an error left the scope too). */
void
ModelScopeStopTimeout(void)
{
	if (scope_timeout_id != MAX_TIMEOUTS)
		disable_timeout(scope_timeout_id, false);
}

/* Did the last scope's timeout fire (and so cancel what ran)? */
bool
ModelScopeTimedOut(void)
{
	return scope_timed_out;
}

/* Leave the scope: the timeout stops, identity and settings come back. */
void
ModelScopeLeave(ModelScope *scope)
{
	if (scope->timeout_ms > 0)
		ModelScopeStopTimeout();
	ScopeLeaveSearchPath(scope->nestlevel);
	SetUserIdAndSecContext(scope->save_userid, scope->save_sec);
}

/*
 * ModelTimeoutMs
 *		The model's statement_timeout in milliseconds (0: none).
 */
int
ModelTimeoutMs(ModelDef *model)
{
	Interval   *interval;
	double		ms;

	if (model->statement_timeout == NULL)
		return 0;
	interval = DatumGetIntervalP(DirectFunctionCall3(interval_in,
													 CStringGetDatum(model->statement_timeout),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	ms = (interval->time + (double) interval->day * USECS_PER_DAY +
		  (double) interval->month * DAYS_PER_MONTH * USECS_PER_DAY) / 1000.0;
	return ms > INT_MAX ? INT_MAX : (int) Max(ms, 1);
}


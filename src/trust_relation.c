/*-------------------------------------------------------------------------
 *
 * trust_relation.c
 *	  The code a table makes run when its rows are written, and whether a
 *	  role the writer does not trust wrote it.
 *
 * A table's owner attaches code to it: CHECK constraints, column
 * defaults and generated columns, triggers, row-level security policies,
 * index expressions and predicates, rules, and the types of its columns
 * (their I/O functions, a domain's constraints).  Whoever writes the
 * table's rows runs that code with their own rights.  PostgreSQL lets
 * the owner do so; medallion must not do it as the extension owner, a
 * superuser, where Citus needs those rights (its distribution functions
 * create shards in the layer schemas and copy the rows over connections
 * as the current user): the owner would run code as a superuser on every
 * node.  Nor, as a model's owner (who writes its Citus tables in a run),
 * another role's code.
 *
 * TrustCheckRelation lists what a statement that writes a table's rows
 * may evaluate, and refuses, before anything runs, when any of it is, or
 * calls, a function (or a domain, or a relation) owned by a role the
 * writer does not trust.  A superuser trusts superusers only: the
 * bootstrap superuser owns the built-in functions, and only a superuser
 * can change what a superuser's function does.  Any other role also
 * trusts the roles that have its privileges (itself, its members), as
 * trust.c does for a model's query.  A SECURITY DEFINER function of
 * another role is not trusted either: its owner can make it SECURITY
 * INVOKER at any moment, without any lock that would wait for us.
 *
 * This sees the coordinator's table only.  What a table's shards on
 * other nodes have besides is checked by scale.c before the extension
 * owner reads them.
 *
 * Not listed, because only superusers create them: operator classes
 * (index and exclusion support, uniqueness), access methods, event
 * triggers and languages.  Foreign keys' queries run as the owner of the
 * table they read, not as the writer; their comparison operators are
 * listed.
 *
 * Locking: the relation is locked in ShareRowExclusiveLock, kept until
 * the end of the transaction, so that no constraint, trigger, policy,
 * rule, index, default or column type is added or changed between the
 * check and the statement that follows it (each of those takes a lock
 * that conflicts with it, and so does ALTER DOMAIN ... ADD CONSTRAINT on
 * a domain the table uses, which validates its rows; a domain added NOT
 * VALID takes no such lock, so domains of untrusted roles are refused
 * outright).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_range.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "trust.h"

/* Where the check is, for its error. */
typedef struct TrustContext
{
	Relation	rel;			/* the table checked */
	Oid			runner;			/* the role the statement runs as */
	const char *action;			/* what the caller would do, for the message */
	char	   *where;			/* the object examined: constraint "c", ... */
	bool		droppable;		/* can where be dropped and added again? */
	List	   *types_seen;		/* types already checked */
} TrustContext;

static void check_type(TrustContext *cxt, Oid typid);
static bool code_walker(Node *node, TrustContext *cxt);

/*
 * refuse
 *		The error: cxt->where uses what (a function, a domain, a relation),
 *		owned by role owner, which is not a superuser.
 */
static void
refuse(TrustContext *cxt, const char *what, Oid owner)
{
	char	   *ownername = GetUserNameFromId(owner, false);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s: %s of table %s uses %s, owned by role \"%s\"",
					cxt->action, cxt->where,
					quote_qualified_identifier(get_namespace_name(RelationGetNamespace(cxt->rel)),
											   RelationGetRelationName(cxt->rel)),
					what, ownername),
			 superuser_arg(cxt->runner) ?
			 errdetail("That writes the table's rows as role \"%s\", which would run %s with its rights; role \"%s\" is not a superuser and can change what it does.",
					   GetUserNameFromId(cxt->runner, false), what, ownername) :
			 errdetail("That writes the table's rows as role \"%s\", which would run %s with its rights; role \"%s\" does not act for role \"%s\" and can change what it does.",
					   GetUserNameFromId(cxt->runner, false), what, ownername,
					   GetUserNameFromId(cxt->runner, false)),
			 cxt->droppable ?
			 errhint("Drop the %s first and add it again afterwards, or have a superuser own %s.",
					 cxt->where, what) :
			 errhint("Have a superuser own %s.", what)));
}

/*
 * May the statement's role run code of role owner?  When it is a superuser,
 * only a superuser's; otherwise also that of roles with its privileges (it
 * and its members), who could run anything as it anyway: as trust.c
 * decides for a model's query.
 */
static bool
trusted(TrustContext *cxt, Oid owner)
{
	return superuser_arg(owner) ||
		(!superuser_arg(cxt->runner) && has_privs_of_role(owner, cxt->runner));
}

/* Error unless role owner, of what, is trusted (above). */
static void
check_owner(TrustContext *cxt, Oid owner, const char *what)
{
	if (!trusted(cxt, owner))
		refuse(cxt, what, owner);
}

/* Error unless function funcid's owner is trusted. */
static void
check_function(TrustContext *cxt, Oid funcid)
{
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(funcid))
		return;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	if (!trusted(cxt, owner))
		refuse(cxt, psprintf("function %s", format_procedure(funcid)), owner);
}

/* check_functions_in_node's callback: every function a node calls. */
static bool
function_checker(Oid funcid, void *context)
{
	check_function((TrustContext *) context, funcid);
	return false;
}

/* Error unless operator opno's function's owner is trusted. */
static void
check_operator(TrustContext *cxt, Oid opno)
{
	if (OidIsValid(opno))
		check_function(cxt, get_opcode(opno));
}

/* Walk a node tree stored as text in the catalogs (conbin, adbin, ...). */
static void
check_stored_expr(TrustContext *cxt, const char *text)
{
	if (text != NULL)
		(void) code_walker((Node *) stringToNode(text), cxt);
}

/*
 * check_domain
 *		A domain's constraints and default, which run where a value becomes
 *		the domain (a row copied as text, a cast).  Its owner must be
 *		trusted: the owner of a domain adds a constraint to it (NOT VALID)
 *		without a lock on the tables that use it.
 */
static void
check_domain(TrustContext *cxt, Form_pg_type typ, HeapTuple typtup)
{
	Relation	conrel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		isnull;
	Datum		value;

	check_owner(cxt, typ->typowner, psprintf("domain %s", format_type_be(typ->oid)));
	value = SysCacheGetAttr(TYPEOID, typtup, Anum_pg_type_typdefaultbin, &isnull);
	if (!isnull)
		check_stored_expr(cxt, TextDatumGetCString(value));

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(InvalidOid));
	ScanKeyInit(&key[1], Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(typ->oid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		value = heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(conrel), &isnull);
		if (!isnull)
			check_stored_expr(cxt, TextDatumGetCString(value));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	check_type(cxt, typ->typbasetype);
}

/*
 * check_type
 *		The code a value of type typid runs when it is written, read or
 *		converted: its I/O and support functions, a domain's constraints,
 *		and the same for the types it is made of (elements, attributes,
 *		range subtypes).
 */
static void
check_type(TrustContext *cxt, Oid typid)
{
	HeapTuple	tup;
	Form_pg_type typ;

	if (!OidIsValid(typid) || list_member_oid(cxt->types_seen, typid))
		return;
	check_stack_depth();
	cxt->types_seen = lappend_oid(cxt->types_seen, typid);
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tup);

	check_function(cxt, typ->typinput);
	check_function(cxt, typ->typoutput);
	check_function(cxt, typ->typreceive);
	check_function(cxt, typ->typsend);
	check_function(cxt, typ->typmodin);
	check_function(cxt, typ->typmodout);
	check_function(cxt, typ->typanalyze);
	check_function(cxt, typ->typsubscript);
	check_type(cxt, typ->typelem);

	switch (typ->typtype)
	{
		case TYPTYPE_DOMAIN:
			check_domain(cxt, typ, tup);
			break;
		case TYPTYPE_COMPOSITE:
			if (OidIsValid(typ->typrelid))
			{
				Relation	comp = relation_open(typ->typrelid, AccessShareLock);
				TupleDesc	desc = RelationGetDescr(comp);

				for (int i = 0; i < desc->natts; i++)
					if (!TupleDescAttr(desc, i)->attisdropped)
						check_type(cxt, TupleDescAttr(desc, i)->atttypid);
				relation_close(comp, AccessShareLock);
			}
			break;
		case TYPTYPE_RANGE:
			{
				HeapTuple	rngtup = SearchSysCache1(RANGETYPE, ObjectIdGetDatum(typid));
				Form_pg_range rng;

				if (!HeapTupleIsValid(rngtup))
					elog(ERROR, "cache lookup failed for range type %u", typid);
				rng = (Form_pg_range) GETSTRUCT(rngtup);
				check_function(cxt, rng->rngcanonical);
				check_function(cxt, rng->rngsubdiff);
				check_type(cxt, rng->rngsubtype);
				ReleaseSysCache(rngtup);
			}
			break;
		case TYPTYPE_MULTIRANGE:
			check_type(cxt, get_multirange_range(typid));
			break;
		default:
			break;
	}
	ReleaseSysCache(tup);
}

/*
 * code_walker
 *		Every function an expression (or a query inside it: a policy's or
 *		a rule's) calls, the domains it coerces to, and the relations a
 *		query inside it reads or writes, other than the table checked.
 *		Errors at the first whose owner is not trusted; returns false.
 */
static bool
code_walker(Node *node, TrustContext *cxt)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
			HeapTuple	tup;
			Oid			owner;

			if (rte->rtekind != RTE_RELATION || rte->relid == RelationGetRelid(cxt->rel))
				continue;
			tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
			if (!HeapTupleIsValid(tup))
				elog(ERROR, "cache lookup failed for relation %u", rte->relid);
			owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
			ReleaseSysCache(tup);
			check_owner(cxt, owner, psprintf("relation %s",
											 quote_qualified_identifier(get_namespace_name(get_rel_namespace(rte->relid)),
																		get_rel_name(rte->relid))));
		}
		return query_tree_walker(query, code_walker, cxt, 0);
	}
	(void) check_functions_in_node(node, function_checker, cxt);
	if (IsA(node, CoerceToDomain))
		check_type(cxt, ((CoerceToDomain *) node)->resulttype);
	return expression_tree_walker(node, code_walker, cxt);
}

/* Name the object being examined (and whether it can be dropped). */
static void
examine(TrustContext *cxt, bool droppable, const char *fmt, const char *name)
{
	cxt->where = psprintf(fmt, name);
	cxt->droppable = droppable;
}

/* The table's foreign keys: the operators that compare their keys. */
static void
check_foreign_keys(TrustContext *cxt)
{
	ListCell   *lc;

	foreach(lc, RelationGetFKeyList(cxt->rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);
		HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(fk->conoid));
		int			nkeys;
		AttrNumber	conkey[INDEX_MAX_KEYS];
		AttrNumber	confkey[INDEX_MAX_KEYS];
		Oid			pf[INDEX_MAX_KEYS];
		Oid			pp[INDEX_MAX_KEYS];
		Oid			ff[INDEX_MAX_KEYS];
		int			nsetcols;
		AttrNumber	setcols[INDEX_MAX_KEYS];

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for constraint %u", fk->conoid);
		examine(cxt, true, "foreign key \"%s\"", NameStr(((Form_pg_constraint) GETSTRUCT(tup))->conname));
		DeconstructFkConstraintRow(tup, &nkeys, conkey, confkey, pf, pp, ff, &nsetcols, setcols);
		ReleaseSysCache(tup);
		for (int i = 0; i < nkeys; i++)
		{
			check_operator(cxt, pf[i]);
			check_operator(cxt, pp[i]);
			check_operator(cxt, ff[i]);
		}
	}
}

/* The table's indexes: their expressions and predicates. */
static void
check_indexes(TrustContext *cxt)
{
	ListCell   *lc;

	foreach(lc, RelationGetIndexList(cxt->rel))
	{
		Oid			indexid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
		bool		isnull;
		Datum		value;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", indexid);
		examine(cxt, true, "index \"%s\"", get_rel_name(indexid));
		value = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indexprs, &isnull);
		if (!isnull)
			check_stored_expr(cxt, TextDatumGetCString(value));
		value = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indpred, &isnull);
		if (!isnull)
			check_stored_expr(cxt, TextDatumGetCString(value));
		ReleaseSysCache(tup);
	}
}

/* The table's rules: their conditions and actions. */
static void
check_rules(TrustContext *cxt)
{
	Relation	rewrite;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!cxt->rel->rd_rel->relhasrules)
		return;
	rewrite = table_open(RewriteRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_rewrite_ev_class, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(cxt->rel)));
	scan = systable_beginscan(rewrite, RewriteRelRulenameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		value;

		examine(cxt, true, "rule \"%s\"", NameStr(((Form_pg_rewrite) GETSTRUCT(tup))->rulename));
		value = heap_getattr(tup, Anum_pg_rewrite_ev_qual, RelationGetDescr(rewrite), &isnull);
		if (!isnull)
			check_stored_expr(cxt, TextDatumGetCString(value));
		value = heap_getattr(tup, Anum_pg_rewrite_ev_action, RelationGetDescr(rewrite), &isnull);
		if (!isnull)
			check_stored_expr(cxt, TextDatumGetCString(value));
	}
	systable_endscan(scan);
	table_close(rewrite, AccessShareLock);
}

/*
 * TrustCheckRelation
 *		Before a statement that writes the rows of table relid as role
 *		runner (creating, filling or copying it), error unless everything
 *		it may evaluate on that table is code only roles runner trusts
 *		can change (superusers; when runner is not one, roles with its
 *		privileges too):
 *		its columns' types, defaults and generated columns, CHECK
 *		constraints, foreign keys, triggers (with their WHEN conditions),
 *		rules, index expressions and predicates, and its row-level
 *		security policies when runner is subject to them.  action (such as
 *		"distribute model \"m\"") names the statement in the error.  Locks
 *		relid in ShareRowExclusiveLock until the end of the transaction.
 *		Allocates in the current memory context.
 */
void
TrustCheckRelation(Oid relid, Oid runner, const char *action)
{
	TrustContext cxt;
	TupleDesc	desc;
	TupleConstr *constr;

	memset(&cxt, 0, sizeof(cxt));
	cxt.rel = relation_open(relid, ShareRowExclusiveLock);
	if (cxt.rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot %s: %s is not a table", action, RelationGetRelationName(cxt.rel)),
				 errdetail("Only a table's rows are written this way.")));
	cxt.runner = runner;
	cxt.action = action;
	desc = RelationGetDescr(cxt.rel);
	constr = desc->constr;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		examine(&cxt, false, "column \"%s\"", NameStr(att->attname));
		check_type(&cxt, att->atttypid);
	}
	for (int i = 0; constr != NULL && i < constr->num_defval; i++)
	{
		const char *column = NameStr(TupleDescAttr(desc, constr->defval[i].adnum - 1)->attname);

		if (TupleDescAttr(desc, constr->defval[i].adnum - 1)->attgenerated)
			examine(&cxt, false, "generated column \"%s\"", column);
		else
			examine(&cxt, true, "default of column \"%s\"", column);
		check_stored_expr(&cxt, constr->defval[i].adbin);
	}
	for (int i = 0; constr != NULL && i < constr->num_check; i++)
	{
		examine(&cxt, true, "constraint \"%s\"", constr->check[i].ccname);
		check_stored_expr(&cxt, constr->check[i].ccbin);
	}
	check_foreign_keys(&cxt);
	for (int i = 0; cxt.rel->trigdesc != NULL && i < cxt.rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &cxt.rel->trigdesc->triggers[i];

		examine(&cxt, true, "trigger \"%s\"", trigger->tgname);
		check_function(&cxt, trigger->tgfoid);
		check_stored_expr(&cxt, trigger->tgqual);
	}
	check_rules(&cxt);
	check_indexes(&cxt);

	/*
	 * policies bind only roles that do not bypass them: not superusers, nor
	 * the table's owner unless it forces them (as check_enable_rls decides)
	 */
	if (cxt.rel->rd_rel->relrowsecurity && cxt.rel->rd_rsdesc != NULL &&
		!superuser_arg(runner) && !has_bypassrls_privilege(runner) &&
		(cxt.rel->rd_rel->relforcerowsecurity || !pg_class_ownercheck(relid, runner)))
	{
		ListCell   *lc;

		foreach(lc, cxt.rel->rd_rsdesc->policies)
		{
			RowSecurityPolicy *policy = lfirst(lc);

			examine(&cxt, true, "policy \"%s\"", policy->policy_name);
			(void) code_walker(copyObject((Node *) policy->qual), &cxt);
			(void) code_walker(copyObject((Node *) policy->with_check_qual), &cxt);
		}
	}
	relation_close(cxt.rel, NoLock);
}

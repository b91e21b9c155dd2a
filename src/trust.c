/*-------------------------------------------------------------------------
 *
 * trust.c
 *	  No code another role can change runs as a model owner.
 *
 * Any admin may run any model, and a model runs as its owner: every piece
 * of code a query medallion runs may call must be such that nobody but the
 * owner (or a role it trusts) decides what it does.  TrustCheckQuery walks
 * a rewritten query (the model's own SQL, the views it reads, the
 * row-level security policies the rewriter added) and checks everything
 * PostgreSQL can call while planning and running it, or while medallion
 * stores, analyzes, sorts, hashes or indexes what it produces:
 *
 *	- functions called by the expressions, and those of their operators
 *	  (the operator's function and its selectivity estimators, which run at
 *	  planning), of the sort, group and distinct operators, of aggregates
 *	  (transition, final, combine, serial and moving functions, sort
 *	  operator, state type);
 *	- everything reached through each type read or produced: input,
 *	  output, receive, send, typmod, analyze and subscript functions;
 *	  domain constraints and defaults (their expressions, walked the same
 *	  way) and the base type; a range's subtype, canonical and subtype_diff
 *	  functions and the comparison of its operator class; a multirange's
 *	  range; an array's element type; a composite type's attributes; the
 *	  default equality, ordering and hash support of the type (ANALYZE,
 *	  sorting and hashing use them); every cast from the type to text,
 *	  json or jsonb (medallion's own SQL casts values to text and json
 *	  when it stores failing rows);
 *	- collations.
 *
 * A function is trusted when its owner has the privileges of the user it
 * would run as (the owner itself, a role that is a member of it, a
 * superuser: the bootstrap superuser owns PostgreSQL's own objects).
 * SECURITY DEFINER is not enough: its owner can drop the clause, or run
 * RESET ALL in the scope, at any moment.  A collation is trusted when its owner is.  Anything else is
 * refused, naming the object, its owner and the type it was reached
 * through.  The check runs when a model or test is bound and on every
 * query a run executes (BindExecute), so an object changed after the
 * definition is caught before it runs.
 *
 * The walk sees what the query names; PostgreSQL also runs code the query
 * does not name (the planner folds immutable functions of the index
 * predicates and expressions, CHECK constraints and extended statistics
 * of the tables it reads), and a function can be redefined between the
 * walk and its call.  So while medallion runs anything in the owner scope
 * or as the extension owner (medallion.trusted_code_only, set for the
 * scope's GUC nest level and so undone by an error too), a needs_fmgr_hook
 * checks every function when PostgreSQL sets it up to be called or
 * inlined, against the pg_proc row it is about to use: one that is not
 * trusted for the current user raises an error instead of running.
 * Built-in functions never reach the hook; they belong to the bootstrap
 * superuser.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/relation.h"
#include "catalog/pg_inherits.h"
#include "catalog/indexing.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_range.h"
#include "catalog/pg_type.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "foreign/foreign.h"
#include "access/nbtree.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/guc.h"
#include "fmgr.h"

#include "trust.h"

/*
 * While medallion.trusted_code_only is on, only functions owned by roles
 * with the privileges of medallion.trusted_for (a role's OID: the model
 * owner, or the extension owner) may be set up or called (TrustRequire).
 */
static bool trusted_code_only = false;
static char *trusted_for = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/* What the walk has seen and what it found. */
typedef struct TrustCheck
{
	Oid			user;			/* whose privileges the code would run with */
	bool		stored_only;	/* only what storing and analyzing a value
								 * runs: no domain constraint, no cast */
	List	   *seen_funcs;		/* functions found trusted */
	List	   *seen_types;		/* types checked or being checked */
	List	   *seen_ops;		/* operators checked */
	List	   *seen_aggs;		/* aggregates checked */
	List	   *seen_colls;		/* collations found trusted */
	Oid			via_type;		/* the type being checked, if any */
	/* the first object found untrusted */
	Oid			bad_class;		/* ProcedureRelationId or CollationRelationId */
	Oid			bad_object;
	Oid			bad_owner;
	Oid			bad_via_type;
} TrustCheck;

static bool trust_walker(Node *node, TrustCheck *check);
static bool type_trusted(Oid typid, TrustCheck *check);

/* Record an untrusted object; returns true (the walkers' "stop"). */
static bool
untrusted(TrustCheck *check, Oid classid, Oid objid, Oid owner)
{
	check->bad_class = classid;
	check->bad_object = objid;
	check->bad_owner = owner;
	check->bad_via_type = check->via_type;
	return true;
}

/* May code owned by owner run as check->user? */
static bool
owner_trusted(Oid owner, TrustCheck *check)
{
	return has_privs_of_role(owner, check->user);
}

/*
 * func_untrusted
 *		true (recorded) when funcid is set and not trusted: neither SECURITY
 *		DEFINER nor owned by a role with check->user's privileges.  Fits
 *		check_functions_in_node.
 */
static bool
func_untrusted(Oid funcid, void *context)
{
	TrustCheck *check = (TrustCheck *) context;
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		trusted;
	Oid			owner;

	if (!OidIsValid(funcid) || list_member_oid(check->seen_funcs, funcid))
		return false;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	owner = proc->proowner;
	/*
	 * SECURITY DEFINER does not make another role's function trusted: its
	 * owner can drop the clause, or RESET ALL and change the session, at
	 * any moment, and a call set up before (a type's cached function) runs
	 * the new definition.
	 */
	trusted = owner_trusted(owner, check);
	ReleaseSysCache(tup);
	if (!trusted)
		return untrusted(check, ProcedureRelationId, funcid, owner);
	check->seen_funcs = lappend_oid(check->seen_funcs, funcid);
	return false;
}

#define FUNC_UNTRUSTED(f, check) func_untrusted((f), (void *) (check))

/* Is the collation untrusted (owned by a role without the user's privileges)? */
static bool
collation_untrusted(Oid collid, TrustCheck *check)
{
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(collid) || list_member_oid(check->seen_colls, collid))
		return false;
	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
	if (!HeapTupleIsValid(tup))
		return false;			/* dropped meanwhile: the query fails anyway */
	owner = ((Form_pg_collation) GETSTRUCT(tup))->collowner;
	ReleaseSysCache(tup);
	if (!owner_trusted(owner, check))
		return untrusted(check, CollationRelationId, collid, owner);
	check->seen_colls = lappend_oid(check->seen_colls, collid);
	return false;
}

/* An operator's function and its estimators (they run at planning). */
static bool
operator_untrusted(Oid opno, TrustCheck *check)
{
	HeapTuple	tup;
	Form_pg_operator op;
	Oid			funcs[3];

	if (!OidIsValid(opno) || list_member_oid(check->seen_ops, opno))
		return false;
	check->seen_ops = lappend_oid(check->seen_ops, opno);
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	op = (Form_pg_operator) GETSTRUCT(tup);
	funcs[0] = op->oprcode;
	funcs[1] = op->oprrest;
	funcs[2] = op->oprjoin;
	ReleaseSysCache(tup);
	for (int i = 0; i < lengthof(funcs); i++)
	{
		if (FUNC_UNTRUSTED(funcs[i], check))
			return true;
	}
	return false;
}

/* An aggregate's support functions, sort operator and state types. */
static bool
aggregate_untrusted(Oid aggfnoid, TrustCheck *check)
{
	HeapTuple	tup;
	Form_pg_aggregate agg;
	Oid			funcs[8];
	Oid			sortop;
	Oid			types[2];

	if (list_member_oid(check->seen_aggs, aggfnoid))
		return false;
	check->seen_aggs = lappend_oid(check->seen_aggs, aggfnoid);
	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tup))
		return false;			/* a plain window function */
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	funcs[0] = agg->aggtransfn;
	funcs[1] = agg->aggfinalfn;
	funcs[2] = agg->aggcombinefn;
	funcs[3] = agg->aggserialfn;
	funcs[4] = agg->aggdeserialfn;
	funcs[5] = agg->aggmtransfn;
	funcs[6] = agg->aggminvtransfn;
	funcs[7] = agg->aggmfinalfn;
	sortop = agg->aggsortop;
	types[0] = agg->aggtranstype;
	types[1] = agg->aggmtranstype;
	ReleaseSysCache(tup);
	for (int i = 0; i < lengthof(funcs); i++)
	{
		if (FUNC_UNTRUSTED(funcs[i], check))
			return true;
	}
	if (operator_untrusted(sortop, check))
		return true;
	return type_trusted(types[0], check) && type_trusted(types[1], check) ? false : true;
}

/* A stored expression (nodeToString form) of a domain: walked as a query's. */
static bool
stored_expr_untrusted(Datum stored, TrustCheck *check)
{
	Node	   *expr = stringToNode(TextDatumGetCString(stored));

	return trust_walker(expr, check);
}

/* The CHECK constraints of a domain. */
static bool
domain_constraints_untrusted(Oid typid, TrustCheck *check)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	rel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(typid));
	scan = systable_beginscan(rel, ConstraintTypidIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		bin = heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(rel), &isnull);

		if (!isnull)
			found = stored_expr_untrusted(bin, check);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The casts from typid to text, json and jsonb: medallion's own SQL casts
 * values to text, and to_json uses a type's cast to json.  Not the others:
 * any role that owns a type may make a cast from a built-in type to it.
 */
static bool
casts_untrusted(Oid typid, TrustCheck *check)
{
	CatCList   *casts = SearchSysCacheList1(CASTSOURCETARGET, ObjectIdGetDatum(typid));
	bool		found = false;

	for (int i = 0; i < casts->n_members && !found; i++)
	{
		Form_pg_cast cast = (Form_pg_cast) GETSTRUCT(&casts->members[i]->tuple);

		if (cast->casttarget == TEXTOID || cast->casttarget == JSONOID || cast->casttarget == JSONBOID)
			found = FUNC_UNTRUSTED(cast->castfunc, check);
	}
	ReleaseSysCacheList(casts);
	return found;
}

/* A range: subtype, canonical, subtype_diff, the comparison of its opclass, collation. */
static bool
range_untrusted(Oid typid, TrustCheck *check)
{
	HeapTuple	tup = SearchSysCache1(RANGETYPE, ObjectIdGetDatum(typid));
	Form_pg_range rng;
	Oid			subtype;
	Oid			funcs[3];
	Oid			collation;

	if (!HeapTupleIsValid(tup))
		return false;
	rng = (Form_pg_range) GETSTRUCT(tup);
	subtype = rng->rngsubtype;
	funcs[0] = rng->rngcanonical;
	funcs[1] = rng->rngsubdiff;
	funcs[2] = get_opfamily_proc(get_opclass_family(rng->rngsubopc),
								 get_opclass_input_type(rng->rngsubopc),
								 get_opclass_input_type(rng->rngsubopc), BTORDER_PROC);
	collation = rng->rngcollation;
	ReleaseSysCache(tup);
	for (int i = 0; i < lengthof(funcs); i++)
	{
		if (FUNC_UNTRUSTED(funcs[i], check))
			return true;
	}
	return collation_untrusted(collation, check) || !type_trusted(subtype, check);
}

/*
 * type_trusted
 *		Is everything PostgreSQL calls through typid trusted (see the file
 *		header)?  Records what is not.
 */
static bool
type_trusted(Oid typid, TrustCheck *check)
{
	HeapTuple	tup;
	Form_pg_type typ;
	Oid			funcs[8];
	Oid			basetype;
	Oid			elemtype;
	Oid			relid;
	char		typtype;
	bool		hasdefault;
	Datum		defaultbin = (Datum) 0;
	Oid			outer_via = check->via_type;
	bool		found = false;
	TypeCacheEntry *tce;

	if (!OidIsValid(typid) || list_member_oid(check->seen_types, typid))
		return true;
	check->seen_types = lappend_oid(check->seen_types, typid);
	check_stack_depth();

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return true;			/* dropped meanwhile: the query fails anyway */
	typ = (Form_pg_type) GETSTRUCT(tup);
	funcs[0] = typ->typinput;
	funcs[1] = typ->typoutput;
	funcs[2] = typ->typreceive;
	funcs[3] = typ->typsend;
	funcs[4] = typ->typmodin;
	funcs[5] = typ->typmodout;
	funcs[6] = typ->typanalyze;
	funcs[7] = typ->typsubscript;
	basetype = typ->typbasetype;
	elemtype = typ->typelem;
	relid = typ->typrelid;
	typtype = typ->typtype;
	hasdefault = !heap_attisnull(tup, Anum_pg_type_typdefaultbin, NULL);
	if (hasdefault)
		defaultbin = datumCopy(SysCacheGetAttr(TYPEOID, tup, Anum_pg_type_typdefaultbin, &hasdefault),
							   false, -1);
	ReleaseSysCache(tup);

	/* what is reached through a type's parts is reported as reached through it */
	if (!OidIsValid(outer_via))
		check->via_type = typid;
	for (int i = 0; i < lengthof(funcs) && !found; i++)
		found = FUNC_UNTRUSTED(funcs[i], check);
	if (!found && typtype == TYPTYPE_DOMAIN)
		found = (!check->stored_only && (domain_constraints_untrusted(typid, check) ||
										 (hasdefault && stored_expr_untrusted(defaultbin, check)))) ||
			!type_trusted(basetype, check);
	if (!found && typtype == TYPTYPE_RANGE)
		found = range_untrusted(typid, check);
	if (!found && typtype == TYPTYPE_MULTIRANGE)
		found = !type_trusted(get_multirange_range(typid), check);
	if (!found && OidIsValid(elemtype))
		found = !type_trusted(elemtype, check);
	if (!found && OidIsValid(relid))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc_noerror(typid, -1, true);

		for (int i = 0; desc != NULL && i < desc->natts && !found; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				found = !type_trusted(att->atttypid, check) ||
					collation_untrusted(att->attcollation, check);
		}
		if (desc != NULL)
			ReleaseTupleDesc(desc);
	}
	if (!found && typtype != TYPTYPE_PSEUDO)
	{
		/* ANALYZE, sorts, DISTINCT, GROUP BY and hashing use these */
		tce = lookup_type_cache(typid, TYPECACHE_EQ_OPR | TYPECACHE_LT_OPR | TYPECACHE_GT_OPR |
								TYPECACHE_CMP_PROC | TYPECACHE_HASH_PROC);
		found = operator_untrusted(tce->eq_opr, check) ||
			operator_untrusted(tce->lt_opr, check) ||
			operator_untrusted(tce->gt_opr, check) ||
			FUNC_UNTRUSTED(tce->cmp_proc, check) ||
			FUNC_UNTRUSTED(tce->hash_proc, check);
	}
	if (!found && !check->stored_only)
		found = casts_untrusted(typid, check);
	check->via_type = outer_via;
	return !found;
}

/* The operators of sort, group, distinct and set-operation clauses. */
static bool
clauses_untrusted(List *clauses, TrustCheck *check)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);

		if (operator_untrusted(sgc->eqop, check) || operator_untrusted(sgc->sortop, check))
			return true;
	}
	return false;
}

static bool
setop_untrusted(Node *node, TrustCheck *check)
{
	SetOperationStmt *setop;

	if (node == NULL || !IsA(node, SetOperationStmt))
		return false;
	setop = (SetOperationStmt *) node;
	if (clauses_untrusted(setop->groupClauses, check))
		return true;
	return setop_untrusted(setop->larg, check) || setop_untrusted(setop->rarg, check);
}

/*
 * A foreign table's options and its server's decide what the reader's user
 * mapping fetches: like code, they must be the model owner's (or a
 * trusted role's) to decide.  Another role's foreign table could be pointed
 * at the owner's private remote tables, read with the owner's credentials.
 */
static bool
foreign_table_untrusted(Oid relid, TrustCheck *check)
{
	ForeignTable *ft = GetForeignTable(relid);
	ForeignServer *server = GetForeignServer(ft->serverid);
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return false;			/* dropped meanwhile: the query fails anyway */
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	if (!owner_trusted(owner, check))
	{
		check->bad_class = RelationRelationId;
		check->bad_object = relid;
		check->bad_owner = owner;
		check->bad_via_type = InvalidOid;
		return true;
	}
	if (!owner_trusted(server->owner, check))
	{
		check->bad_class = ForeignServerRelationId;
		check->bad_object = server->serverid;
		check->bad_owner = server->owner;
		check->bad_via_type = InvalidOid;
		return true;
	}
	return false;
}

/*
 * A security_invoker view reads with its reader's privileges what its owner
 * chose: another role's could be redefined to read the model owner's
 * private tables into the model.
 */
static bool
invoker_view_untrusted(Oid relid, TrustCheck *check)
{
	Relation	rel = relation_open(relid, NoLock);
	bool		invoker = RelationHasSecurityInvoker(rel);
	Oid			owner = rel->rd_rel->relowner;

	relation_close(rel, NoLock);
	if (invoker && !owner_trusted(owner, check))
	{
		check->bad_class = RelationRelationId;
		check->bad_object = relid;
		check->bad_owner = owner;
		check->bad_via_type = InvalidOid;
		return true;
	}
	return false;
}

/* What a query level holds besides its expressions. */
static bool
query_untrusted(Query *query, TrustCheck *check)
{
	ListCell   *lc;

	if (clauses_untrusted(query->sortClause, check) ||
		clauses_untrusted(query->groupClause, check) ||
		clauses_untrusted(query->distinctClause, check) ||
		setop_untrusted(query->setOperations, check))
		return true;
	foreach(lc, query->windowClause)
	{
		WindowClause *wc = lfirst_node(WindowClause, lc);

		if (clauses_untrusted(wc->partitionClause, check) ||
			clauses_untrusted(wc->orderClause, check))
			return true;
	}
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if (rte->relkind == RELKIND_FOREIGN_TABLE && foreign_table_untrusted(rte->relid, check))
			return true;
		if (rte->relkind == RELKIND_VIEW && invoker_view_untrusted(rte->relid, check))
			return true;
		if (rte->inh && (rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_PARTITIONED_TABLE))
		{
			/* a foreign table below: a partition or inheritance child another role added */
			ListCell   *lk;

			foreach(lk, find_all_inheritors(rte->relid, NoLock, NULL))
			{
				if (lfirst_oid(lk) != rte->relid &&
					get_rel_relkind(lfirst_oid(lk)) == RELKIND_FOREIGN_TABLE &&
					foreign_table_untrusted(lfirst_oid(lk), check))
					return true;
			}
		}
	}
	return false;
}

/* Operators of an expression node, and its aggregate. */
static bool
node_operators_untrusted(Node *node, TrustCheck *check)
{
	switch (nodeTag(node))
	{
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			return operator_untrusted(((OpExpr *) node)->opno, check);
		case T_ScalarArrayOpExpr:
			return operator_untrusted(((ScalarArrayOpExpr *) node)->opno, check);
		case T_RowCompareExpr:
			{
				ListCell   *lc;

				foreach(lc, ((RowCompareExpr *) node)->opnos)
				{
					if (operator_untrusted(lfirst_oid(lc), check))
						return true;
				}
				return false;
			}
		case T_Aggref:
			return aggregate_untrusted(((Aggref *) node)->aggfnoid, check);
		case T_WindowFunc:
			return aggregate_untrusted(((WindowFunc *) node)->winfnoid, check);
		default:
			return false;
	}
}

static bool
trust_walker(Node *node, TrustCheck *check)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, Query))
	{
		if (query_untrusted((Query *) node, check))
			return true;
		return query_tree_walker((Query *) node, trust_walker, check, 0);
	}
	if (check_functions_in_node(node, func_untrusted, check))
		return true;
	if (node_operators_untrusted(node, check))
		return true;
	if (IsA(node, SortGroupClause))
		return clauses_untrusted(list_make1(node), check);
	/* an expression (the primitive Expr nodes): its type and collations */
	if (nodeTag(node) >= T_Var && nodeTag(node) <= T_InferenceElem)
	{
		if (!type_trusted(exprType(node), check))
			return true;
		if (collation_untrusted(exprCollation(node), check) ||
			collation_untrusted(exprInputCollation(node), check))
			return true;
	}
	return expression_tree_walker(node, trust_walker, check);
}

/* schema.name of a relation, quoted */
static char *
generate_relation_name_for_trust(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

/* The object the walk found untrusted, named: "function f(integer)" ... */
static char *
untrusted_object(TrustCheck *check)
{
	if (check->bad_class == CollationRelationId)
		return psprintf("collation %s", generate_collation_name(check->bad_object));
	if (check->bad_class == RelationRelationId)
		return psprintf("%s %s", get_rel_relkind(check->bad_object) == RELKIND_VIEW ?
						"security_invoker view" : "foreign table",
						generate_relation_name_for_trust(check->bad_object));
	if (check->bad_class == ForeignServerRelationId)
		return psprintf("foreign server %s", quote_identifier(GetForeignServer(check->bad_object)->servername));
	return psprintf("function %s", format_procedure(check->bad_object));
}

/* The refusal: names the object, its owner and the type it came through. */
static void
report_untrusted(TrustCheck *check, bool at_call)
{
	char	   *owner = GetUserNameFromId(check->bad_owner, false);
	char	   *user = GetUserNameFromId(check->user, false);
	char	   *object = untrusted_object(check);
	char	   *through = NULL;

	if (OidIsValid(check->bad_via_type))
		through = format_type_be(check->bad_via_type);
	if (check->bad_class == RelationRelationId && get_rel_relkind(check->bad_object) == RELKIND_VIEW)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s, owned by role \"%s\", would read with the privileges of role \"%s\"",
						object, owner, user),
				 errdetail("Role \"%s\" decides what the view reads, and can redefine it to read what only \"%s\" may read.",
						   owner, user),
				 errhint("Read a view of a role with the privileges of \"%s\", or one without security_invoker.",
						 user)));
	if (check->bad_class == RelationRelationId || check->bad_class == ForeignServerRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s, owned by role \"%s\", would be read with the user mapping of role \"%s\"",
						object, owner, user),
				 errdetail("Its options decide what the remote side returns for role \"%s\"'s credentials; role \"%s\" can change them.",
						   user, owner),
				 errhint("Read foreign tables of a role with the privileges of \"%s\" (its own source, medallion_create_source), or define the model as a role \"%s\" may act for.",
						 user, owner)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s, owned by role \"%s\", would run as role \"%s\"", object, owner, user),
			 at_call ?
			 errdetail("PostgreSQL was about to call it for what medallion runs (the model's query, a view or policy it reads, an index predicate, constraint or statistics of a table it reads, a type's function); role \"%s\" can change what it does.",
					   owner) :
			 through != NULL ?
			 errdetail("The model's query reaches it through type %s (its input, output, analyze, comparison or range functions, domain constraints, or a cast from it); role \"%s\" can change what it does.",
					   through, owner) :
			 errdetail("The model's query calls it, or a view, operator, aggregate or row-level security policy it reads does; role \"%s\" can change what it does.",
					   owner),
			 errhint("Give it to a role with the privileges of \"%s\" (SECURITY DEFINER is not enough: its owner can change what it does), or define the model as a role \"%s\" may act for.",
					 user, owner)));
}

/*
 * TrustCheckQuery
 *		Error unless every piece of code the rewritten query can reach (see
 *		the file header) is trusted to run as the current user.
 */
void
TrustCheckQuery(Query *query)
{
	TrustCheck	check;

	memset(&check, 0, sizeof(check));
	check.user = GetUserId();
	if (trust_walker((Node *) query, &check))
		report_untrusted(&check, false);
}

/*
 * TrustTypeUntrusted
 *		What PostgreSQL can call through type typid (see the file header)
 *		that is not trusted to run as user, named with its owner ("function
 *		f(double precision), owned by role \"r\""); NULL when all of it is.
 *		For what medallion stores in a table user owns: ANALYZE runs its
 *		columns' types' code as the table's owner.  Values are copied in
 *		as they are (no domain constraint or default runs) and never cast.
 */
char *
TrustTypeUntrusted(Oid typid, Oid user)
{
	TrustCheck	check;

	memset(&check, 0, sizeof(check));
	check.user = user;
	check.stored_only = true;
	if (type_trusted(typid, &check))
		return NULL;
	return psprintf("%s, owned by role %s", untrusted_object(&check),
					quote_identifier(GetUserNameFromId(check.bad_owner, false)));
}

/* The role the guard checks functions for; InvalidOid when it is off. */
static Oid
guard_role(void)
{
	if (!trusted_code_only || trusted_for == NULL || trusted_for[0] == '\0')
		return InvalidOid;
	return (Oid) strtoul(trusted_for, NULL, 10);
}

/* Error unless funcid is owned by a role with role's privileges. */
static void
guard_check(Oid funcid, Oid role)
{
	TrustCheck	check;

	memset(&check, 0, sizeof(check));
	check.user = role;
	if (func_untrusted(funcid, &check))
	{
		trusted_code_only = false;	/* the report calls functions of its own */
		PG_TRY();
		{
			report_untrusted(&check, true);
		}
		PG_FINALLY();
		{
			trusted_code_only = true;
		}
		PG_END_TRY();
	}
}

/*
 * trust_needs_fmgr_hook
 *		needs_fmgr_hook: while the guard is on, error unless funcid is
 *		trusted for the guard's role.  Called when a function is set up to
 *		be called (fmgr_info) and before the planner inlines or folds one,
 *		with the pg_proc row that will be used.  Functions with a SET
 *		clause or SECURITY DEFINER do not come here: trust_fmgr_hook checks
 *		them at each call.
 */
static bool
trust_needs_fmgr_hook(Oid funcid)
{
	Oid			role = guard_role();

	if (OidIsValid(role))
		guard_check(funcid, role);
	return prev_needs_fmgr_hook != NULL ? prev_needs_fmgr_hook(funcid) : false;
}

/*
 * trust_fmgr_hook
 *		fmgr_hook: at the start of each call of a function PostgreSQL wraps
 *		(SECURITY DEFINER, a SET clause), the same check.
 */
static void
trust_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (event == FHET_START)
	{
		Oid			role = guard_role();

		if (OidIsValid(role))
			guard_check(flinfo->fn_oid, role);
	}
	if (prev_fmgr_hook != NULL)
		prev_fmgr_hook(event, flinfo, private);
}

/*
 * TrustInit
 *		Define medallion.trusted_code_only and install the hook.
 */
void
TrustInit(void)
{
	/* GUC_NO_RESET_ALL: a RESET ALL of code in the scope does not turn it off */
	DefineCustomBoolVariable("medallion.trusted_code_only",
							 "While on, only functions trusted for medallion.trusted_for may be called.",
							 "medallion sets it for what it runs in a model owner's scope or as the extension owner; internal.",
							 &trusted_code_only, false, PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("medallion.trusted_for",
							   "The role (OID) whose privileges a function's owner must have while medallion.trusted_code_only is on.",
							   "Internal.",
							   &trusted_for, "", PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   NULL, NULL, NULL);
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = trust_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = trust_fmgr_hook;
}

/*
 * TrustRequire
 *		Turn the guard on for role for the current GUC nest level: undone
 *		when the caller ends the level, or by an error.
 */
void
TrustRequire(Oid role)
{
	(void) set_config_option("medallion.trusted_for", psprintf("%u", role), PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("medallion.trusted_code_only", "on", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

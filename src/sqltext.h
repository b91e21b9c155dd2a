/*-------------------------------------------------------------------------
 *
 * sqltext.h
 *	  SQL text and SPI helpers shared by the build files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_SQLTEXT_H
#define MEDALLION_SQLTEXT_H

#include "access/tupdesc.h"
#include "lib/stringinfo.h"

#include "analyze.h"
#include "catalog.h"

extern int	SqlCompareNames(const ListCell *a, const ListCell *b);
extern char *SqlModelName(ModelDef *model);
extern char *SqlRelationName(Oid relid);
extern Oid	SqlRelationOwner(Oid relid);
extern char *SqlNameList(List *names);
extern char *SqlEachColumn(const char *cols, const char *prefix, bool assign);
extern ModelColumn *SqlFindColumn(List *columns, const char *name);
extern List *SqlColumnNames(List *columns);
extern char *SqlColumnType(List *columns, const char *name);
extern bool SqlIsTimeType(List *columns, const char *name);
extern void SqlColumnLists(Oid relid, List *columns, char **target, char **source);
extern char *SqlColumnDefinitions(List *columns);
extern List *SqlLiveColumns(TupleDesc desc);
extern void SqlUtility(const char *sql);
extern uint64 SqlRun(const char *sql, int expected);
extern char *SqlValue(const char *sql, int nparams, Datum *values, const char *nulls);
extern void SqlJsonField(StringInfo buf, const char *key, const char *value, bool raw);
extern void SqlCreateOwnedTable(const char *schema, const char *name, const char *columns, Oid owner);
extern Oid	SqlCreateWorkTable(const char *name, const char *columns, Oid owner);

#endif							/* MEDALLION_SQLTEXT_H */

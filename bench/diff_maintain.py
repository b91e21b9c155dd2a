#!/usr/bin/python3
"""bench/diff_maintain.py: a randomized differential harness for table models.

Issue 31 asks that a maintained table model always equal a full rebuild of
its query.  This program checks exactly that, on random inputs:

  1. a random star schema (a fact and 2-3 dimensions; int, bigint, numeric,
     text, date and float8 columns; NULLs in keys and values, NaN in a
     quarter of the schemas' numeric values; duplicate
     join keys; skewed values; the fact plain or partitioned by hash, range
     or list), filled with random rows;
  2. random queries of the maintained class, one table model each
     (select-project-join with inner and left joins; GROUP BY with count,
     count(DISTINCT), sum, avg, min, max, string_agg, bool_or, FILTER;
     HAVING; scalar aggregates; DISTINCT; UNION ALL; window functions with
     PARTITION BY), some reading the fact through a view model, and gold
     models over some of them; a third of the rounds run with threads;
  3. a full run, then again and again: a random batch of DML (inserts,
     duplicates, updates of keys, values and join columns, deletes of group
     extremes, of whole groups and of both sides of a join, TRUNCATE, a
     partition detached, written and attached again,
     INSERT ... ON CONFLICT, MERGE, two-phase commits, rolled-back
     subtransactions; some of it in a transaction left open across the run,
     or prepared before the run and committed or rolled back after it, or
     carried across two runs, or the run's own transaction, which writes
     before the run and after it), a change-aware medallion_run, and each model
     compared with its query as a multiset.

One case is one model compared after one batch.  A model reported
up_to_date must equal its query as much as one built again.  When
medallion_create_model has a `maintain` parameter (automatic incremental
maintenance), the models are created with maintain => --maintain, and the
run's message for the model (which says how it was maintained) goes into
a failure report.

Rules that keep each query's answer a deterministic multiset:
  - no ORDER BY, LIMIT or OFFSET at the top; no row_number, ntile, lag,
    lead, first/last/nth_value, no ROWS or GROUPS frames: window functions
    are aggregates over a whole PARTITION BY, or rank, dense_rank,
    percent_rank, cume_dist and running aggregates under the default RANGE
    frame, whose value is the same for peers;
  - string_agg and array_agg order by their own argument, over int, date
    and text only (equal values print equally);
  - numeric columns have a fixed scale (numeric(10,2)) and numeric
    expressions keep one (coalesce(n, 0.00), not coalesce(n, 0)), so min,
    max and DISTINCT never choose between 0 and 0.00;
  - float8 values are compared with a tolerance (sum and avg over float8
    depend on the order rows are added): |a - b| <= 1e-9 * max(1, |a|, |b|),
    rows matched on their other columns; float8 is never turned into text,
    grouped after arithmetic, nor compared in HAVING;
  - no volatile functions, no division.
Every other column is compared by its text form, so a numeric that equals
the rebuilt one but prints another scale counts as a mismatch.

On a mismatch: the seed of the round, the query, the batch and the
differing rows are printed; then the case is shrunk (the model alone with
what it reads, fewer batches, fewer statements, fewer initial rows, a
simpler query: each candidate replayed from scratch in a database of its
own) and the minimal case printed as a SQL script.  --sabotage makes up a
maintenance bug, to see that.

Most runs should maintain, or the harness tests rebuilds: --class-share
(0.6) of the queries are drawn from the classes maintained alone (a GROUP
BY over the fact, a GROUP BY over inner joins on the dimensions' keys, an
inner join carrying a unique key of the fact or of a dimension, such a
join with LEFT JOINs after the inner ones, a SELECT DISTINCT, windows of
one PARTITION BY that is an output column, windows over groups, a UNION
ALL of GROUP BYs keyed by their first column, a GROUP BY or windows over
LEFT JOINs keyed by their left side), and
--small-batches (0.5) of the batches are one or two statements touching a
few rows of one table (a delta under the cost guard's 20%, one table
changed).  At the end it counts how the models were planned
(medallion_plan's maintain: incremental: or full:) and how the steps were
built (their message: incremental: or full:, with the commonest reasons
for full).

    diff_maintain.py --dsn "host=... user=postgres" [--seed N] [--cases N]
                     [--queries N] [--time-limit SECONDS] [--batches N]
                     [--maintain auto|incremental|full|mixed] [--round-seed N]
                     [--class-share F] [--small-batches F]

--round-seed replays one round (printed with every failure).  The exit
status is 1 on any mismatch or error.
"""
import argparse
import datetime
import random
import re
import signal
import sys
import time

import psycopg

FLOAT_TOLERANCE = 1e-9
COMPARE_LIMIT = 20000      # rows of each side of a difference fetched (all, when float8 needs pairing)
FLOAT_OIDS = (700, 701)
TEXT_VOCAB = ["a", "b", "c", "d", "e", "ab", "", "o'x", "Z"]
TYPE_SQL = {"int": "int", "bigint": "bigint", "numeric": "numeric(10,2)", "text": "text",
            "date": "date", "float": "float8"}


# --------------------------------------------------------------------------
# literals

def lit(v, typ):
    """A SQL literal of Python value v for a column of type typ."""
    if v is None:
        return "NULL"
    if typ in ("int", "bigint"):
        return str(v)
    if typ == "numeric":
        return "'NaN'" if v == "NaN" else f"{v:.2f}"
    if typ == "float":
        return repr(float(v)) if v >= 0 else f"({float(v)!r})"
    if typ == "date":
        return f"date '{v.isoformat()}'"
    return "'" + str(v).replace("'", "''") + "'"


# --------------------------------------------------------------------------
# schemas

class Table:
    def __init__(self, name, alias, columns, key):
        self.name = name          # in schema src
        self.alias = alias
        self.columns = columns    # [(column, type)]
        self.key = key            # the ON CONFLICT target
        self.partitions = []      # leaf names, when partitioned
        self.bounds = {}          # leaf name: its FOR VALUES clause (not the default's)

    def ctype(self, col):
        return dict(self.columns)[col]


class Rows:
    """The initial rows of a table: an INSERT, kept as rows so a shrunk case can have fewer."""

    def __init__(self, table, rows):
        self.table, self.rows = table, rows

    def __str__(self):
        return f"INSERT INTO src.{self.table} VALUES " + ", ".join(self.rows) if self.rows else ""


class Schema:
    """A random star schema: its tables, the SQL making them, value makers."""

    def __init__(self, rng):
        self.rng = rng
        self.ndims = rng.choice([2, 3])
        self.keys = rng.randint(4, 25)                      # dimension key domain
        self.null_rate = rng.choice([0.0, 0.05, 0.15, 0.3])
        self.hot = rng.choice([0.0, 0.3, 0.6])               # skew: share of the hot value
        self.groups = rng.randint(2, 8)
        self.partitioning = rng.choice(["plain", "plain", "hash", "range", "list"])
        self.next_rid = 1
        fcols = [("rid", "bigint")] + [(f"k{j}", "int") for j in range(1, self.ndims + 1)] + \
                [("g", "int"), ("t", "text"), ("i", "int"), ("n", "numeric"), ("x", "float"), ("dt", "date")]
        fkey = {"plain": ["rid"], "hash": ["rid"], "range": ["rid", "dt"], "list": ["rid", "g"]}[self.partitioning]
        self.fact = Table("f", "f", fcols, fkey)
        self.dims = []
        for j in range(1, self.ndims + 1):
            self.dims.append(Table(f"d{j}", f"d{j}",
                                   [("rid", "bigint"), ("k", "int"), ("name", "text"), ("grp", "int"),
                                    ("w", "numeric"), ("y", "float"), ("day", "date")], ["rid"]))
        self.tables = [self.fact] + self.dims
        self.pcol = {"hash": "rid", "range": "dt", "list": "g"}.get(self.partitioning)
        # fact columns declared NOT NULL: sums of them take old images on
        # the algebraic path (changes_algebraic.c)
        self.notnull = {c for c in ("g", "i", "n") if rng.random() < 0.4}
        # numeric(10,2) takes NaN: a NaN in a sum taken in place is not taken
        # out by subtracting it (changes_algebraic.c, ChangesAlgebraicUnfit)
        self.nan = rng.random() < 0.25

    def new_rid(self, parity=None):
        """A fresh id (of that parity): every writer's new rows have ids no other has."""
        self.next_rid += 1
        if parity is not None and self.next_rid % 2 != parity:
            self.next_rid += 1
        return self.next_rid

    # values ------------------------------------------------------------
    def value(self, typ, col):
        rng = self.rng
        if col == "rid":
            return self.new_rid()
        if col in ("k",) or (col.startswith("k") and col[1:].isdigit()):
            if rng.random() < self.null_rate:
                return None
            if rng.random() < self.hot:
                return 1
            return rng.randint(1, self.keys + (2 if col != "k" else 0))
        if col not in self.notnull and rng.random() < self.null_rate:
            return None
        if col in ("g", "grp"):
            if rng.random() < self.hot:
                return 0
            return rng.randint(0, self.groups)
        if typ == "int":
            return rng.randint(-20, 100)
        if typ == "numeric":
            if self.nan and rng.random() < 0.03:
                return "NaN"
            return rng.choice([rng.randint(-500, 5000) / 100, rng.randint(0, 20), 0.5])
        if typ == "float":
            return rng.choice([rng.uniform(-100, 1000), rng.randint(0, 9) / 10, 1e-3 * rng.randint(1, 999),
                               float(rng.randint(0, 5))])
        if typ == "date":
            return datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 120))
        return rng.choice(TEXT_VOCAB)

    def row(self, table, rid=None, key=None, typed=False):
        """A row of table as a VALUES list: its rid and (a dimension's) key as given, or random;
        typed: each value cast to its column's type (a VALUES list of NULLs alone would be text)."""
        vals = []
        for col, typ in table.columns:
            if col == "rid" and rid is not None:
                v = rid
            elif col == "k" and key is not None:
                v = key
            else:
                v = self.value(typ, col)
            vals.append(lit(v, typ) + (f"::{TYPE_SQL[typ]}" if typed else ""))
        return "(" + ", ".join(vals) + ")"

    # DDL ---------------------------------------------------------------
    def setup_sql(self):
        rng = self.rng
        out = ["CREATE SCHEMA src"]
        f = self.fact
        cols = ", ".join(f"{c} {TYPE_SQL[t]}" + (" NOT NULL" if c == "rid" or c in self.notnull else "")
                         for c, t in f.columns)
        if self.partitioning == "plain":
            out.append(f"CREATE TABLE src.f ({cols}, PRIMARY KEY (rid))")
        else:
            kind = {"hash": "HASH", "range": "RANGE", "list": "LIST"}[self.partitioning]
            out.append(f"CREATE TABLE src.f ({cols}) PARTITION BY {kind} ({self.pcol})")
            out.append(f"CREATE UNIQUE INDEX ON src.f ({', '.join(f.key)})")
            if self.partitioning == "hash":
                for r in range(3):
                    f.bounds[f"f_p{r}"] = f"FOR VALUES WITH (MODULUS 3, REMAINDER {r})"
                    out.append(f"CREATE TABLE src.f_p{r} PARTITION OF src.f {f.bounds[f'f_p{r}']}")
                    f.partitions.append(f"f_p{r}")
            elif self.partitioning == "range":
                bounds = ["2024-01-01", "2024-02-01", "2024-03-15", "2024-04-10"]
                for r in range(3):
                    f.bounds[f"f_p{r}"] = f"FOR VALUES FROM ('{bounds[r]}') TO ('{bounds[r + 1]}')"
                    out.append(f"CREATE TABLE src.f_p{r} PARTITION OF src.f {f.bounds[f'f_p{r}']}")
                    f.partitions.append(f"f_p{r}")
                out.append("CREATE TABLE src.f_pd PARTITION OF src.f DEFAULT")
                f.partitions.append("f_pd")
            else:
                f.bounds = {"f_p0": "FOR VALUES IN (0, NULL)", "f_p1": "FOR VALUES IN (1, 2, 3)"}
                out.append(f"CREATE TABLE src.f_p0 PARTITION OF src.f {f.bounds['f_p0']}")
                out.append(f"CREATE TABLE src.f_p1 PARTITION OF src.f {f.bounds['f_p1']}")
                out.append("CREATE TABLE src.f_pd PARTITION OF src.f DEFAULT")
                f.partitions += ["f_p0", "f_p1", "f_pd"]
        for d in self.dims:
            cols = ", ".join(f"{c} {TYPE_SQL[t]}" + (" PRIMARY KEY" if c == "rid" else "") for c, t in d.columns)
            out.append(f"CREATE TABLE src.{d.name} ({cols})")
        for d in self.dims:
            rows = []
            for k in range(1, self.keys + 1):
                rows.append(self.row(d, key=k))
                if rng.random() < 0.2:        # a duplicate key
                    rows.append(self.row(d, key=k))
            rows += [self.row(d) for _ in range(rng.randint(0, 3))]   # NULL or random keys
            out.append(Rows(d.name, rows))
        nfact = rng.choice([50, 200, 400, 800])
        out.append(Rows("f", [self.row(f) for _ in range(nfact)]))
        out.append("ANALYZE")
        return out


# --------------------------------------------------------------------------
# queries

class Query:
    """A query of the maintained class, kept in parts so it can be shrunk.

    kind: spj, group, distinct, window or union.  items are (expr, type);
    for group, the first nkeys items are the GROUP BY keys."""

    def __init__(self, kind):
        self.kind = kind
        self.base = "f"          # the driving table's alias
        self.base_rel = None     # what it names, when not src.<base> (the view model bronze.fv)
        self.joins = []          # (LEFT JOIN|JOIN, table, alias, on)
        self.where = None
        self.items = []
        self.nkeys = 0
        self.having = None
        self.branches = []       # union: Query each (spj)

    def copy(self):
        q = Query(self.kind)
        q.base, q.joins, q.where, q.items = self.base, list(self.joins), self.where, list(self.items)
        q.base_rel = self.base_rel
        q.nkeys, q.having, q.branches = self.nkeys, self.having, [b.copy() for b in self.branches]
        return q

    def render(self, names=True):
        if self.kind == "union":
            parts = [b.render(names=(n == 0)) for n, b in enumerate(self.branches)]
            return " UNION ALL ".join(f"({p})" for p in parts)
        sel = ", ".join(f"{e} AS c{n + 1}" if names else e for n, (e, _) in enumerate(self.items))
        s = "SELECT " + ("DISTINCT " if self.kind == "distinct" else "") + sel + f" FROM {self.base_rel or 'src.' + self.base} {self.base}"
        for jt, table, alias, on in self.joins:
            s += f" {jt} src.{table} {alias} ON {on}"
        if self.where:
            s += " WHERE " + self.where
        if self.kind == "group" and self.nkeys:
            s += " GROUP BY " + ", ".join(e for e, _ in self.items[:self.nkeys])
        if self.kind == "group" and self.having:
            s += " HAVING " + self.having
        return s

    def text_without_joins(self):
        parts = [e for e, _ in self.items] + [self.where or "", self.having or ""]
        parts += [j[3] for j in self.joins]
        return " ".join(parts)

    def simpler(self):
        """Simpler variants of this query, simplest steps first."""
        out = []
        if self.kind == "union":
            for n in range(len(self.branches)):
                if len(self.branches) > 1:
                    q = self.copy()
                    del q.branches[n]
                    if len(q.branches) == 1:
                        q = q.branches[0]
                    out.append(q)
            for n, b in enumerate(self.branches):
                for s in b.simpler():
                    if len(s.items) == len(b.items):
                        q = self.copy()
                        q.branches[n] = s
                        out.append(q)
            return out
        if self.where:
            q = self.copy()
            q.where = None
            out.append(q)
        if self.having:
            q = self.copy()
            q.having = None
            out.append(q)
        for n in range(len(self.joins)):
            alias = self.joins[n][2]
            q = self.copy()
            del q.joins[n]
            if alias + "." not in q.text_without_joins():
                out.append(q)
        for n in range(len(self.joins)):
            if self.joins[n][0] == "LEFT JOIN":
                q = self.copy()
                q.joins[n] = ("JOIN",) + q.joins[n][1:]
                out.append(q)
        if len(self.items) > 1:
            for n in range(len(self.items)):
                q = self.copy()
                if self.kind == "group" and n < self.nkeys:
                    q.nkeys -= 1
                del q.items[n]
                out.append(q)
        if self.kind == "distinct":
            q = self.copy()
            q.kind = "spj"
            out.append(q)
        if self.base_rel:
            q = self.copy()
            q.base_rel = None
            out.append(q)
        return out


class Downstream:
    """A model over another model: its query is fixed text (nothing to simplify)."""

    kind = "downstream"

    def __init__(self, sql):
        self.sql = sql

    def render(self):
        return self.sql

    def simpler(self):
        return []


class QueryMaker:
    """Random queries over a Schema, from a small grammar."""

    def __init__(self, schema, rng, view=False, class_share=0.0):
        self.s = schema
        self.rng = rng
        self.view = view         # the round has the view model bronze.fv over src.f
        self.class_share = class_share   # the share of queries drawn from the maintained class

    def cols(self, aliases, types=None):
        out = []
        for t in self.s.tables:
            if t.alias in aliases:
                out += [(f"{t.alias}.{c}", typ) for c, typ in t.columns if types is None or typ in types]
        return out

    def from_clause(self, q):
        """The FROM list of q: the fact and some dimensions on their keys,
        or (a fifth of the time) a dimension and others on their groups."""
        rng = self.rng
        dims = list(self.s.dims)
        rng.shuffle(dims)
        if rng.random() < 0.2:
            q.base = dims.pop().alias
            for d in dims[:rng.choice([0, 1, 1, 2])]:
                q.joins.append((rng.choice(["JOIN", "LEFT JOIN"]), d.name, d.alias, f"{q.base}.grp = {d.alias}.grp"))
            return [q.base] + [j[2] for j in q.joins]
        if self.view and rng.random() < 0.5:
            q.base_rel = "bronze.fv"
        for d in dims[:rng.choice([0, 1, 1, 2, 2, 3])]:
            j = int(d.name[1:])
            on = f"f.k{j} = {d.alias}.k"
            if rng.random() < 0.2:
                on += " AND " + self.pred([d.alias], depth=1)
            q.joins.append((rng.choice(["JOIN", "LEFT JOIN"]), d.name, d.alias, on))
        return ["f"] + [j[2] for j in q.joins]

    def const(self, typ):
        return lit(self.s.value(typ, "v") if typ != "numeric" else self.rng.randint(-5, 50), typ) \
            if typ != "text" else lit(self.rng.choice(TEXT_VOCAB), "text")

    def pred(self, aliases, depth=0):
        rng = self.rng
        r = rng.random()
        if depth < 1 and r < 0.2:
            return f"({self.pred(aliases, depth + 1)} {rng.choice(['AND', 'OR'])} {self.pred(aliases, depth + 1)})"
        col, typ = rng.choice(self.cols(aliases))
        if r < 0.35:
            return f"{col} IS {rng.choice(['', 'NOT '])}NULL"
        if typ == "text":
            return f"{col} IN ({lit(rng.choice(TEXT_VOCAB), 'text')}, {lit(rng.choice(TEXT_VOCAB), 'text')})"
        if typ == "bigint":
            return f"{col} % {rng.randint(2, 5)} = {rng.randint(0, 1)}"
        if typ == "date":
            return f"{col} {rng.choice(['<', '>=', '<>'])} {self.const('date')}"
        op = rng.choice(["<", "<=", ">", ">=", "=", "<>"])
        c = {"int": rng.randint(0, 60), "numeric": rng.randint(0, 40), "float": rng.randint(0, 400)}[typ]
        return f"{col} {op} {c}"

    def expr(self, aliases, typ=None, plain=False):
        """(expression, type): a column, or a small expression over columns."""
        rng = self.rng
        col, t = rng.choice(self.cols(aliases, [typ] if typ else None)) if typ != "bigint" else \
            rng.choice(self.cols(aliases, ["bigint", "int"]))
        if plain or rng.random() < 0.6:
            return col, t
        if t in ("int", "bigint"):
            return rng.choice([f"({col} + {rng.randint(1, 9)})", f"coalesce({col}, {rng.randint(-1, 3)})",
                               f"abs({col})", f"CASE WHEN {self.pred(aliases, 1)} THEN {col} ELSE 0 END"]), t
        if t == "numeric":
            return rng.choice([f"({col} * 2)", f"coalesce({col}, 0.00)", f"round({col}, 1)", f"({col} - 1)"]), t
        if t == "text":
            return rng.choice([f"upper({col})", f"coalesce({col}, 'none')", f"({col} || '-')",
                               f"CASE WHEN {self.pred(aliases, 1)} THEN 'yes' ELSE {col} END"]), t
        if t == "date":
            return rng.choice([f"({col} + {rng.randint(1, 40)})", f"coalesce({col}, date '2024-02-01')"]), t
        return rng.choice([f"({col} * 0.5)", f"coalesce({col}, 0)"]), t

    def aggregate(self, aliases):
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            return "count(*)", "bigint"
        if r < 0.17:
            return f"count(*) FILTER (WHERE {self.pred(aliases, 1)})", "bigint"
        if r < 0.22:
            return f"bool_or({self.pred(aliases, 1)})", "bool"
        e, t = self.expr(aliases)
        choices = ["count", "count_distinct", "min", "max"]
        if t in ("int", "bigint", "numeric", "float"):
            choices += ["sum", "sum", "avg"]
        if t in ("int", "text", "date"):
            choices += ["string_agg" if t == "text" else "array_agg"]
        a = rng.choice(choices)
        if a == "count":
            return f"count({e})", "bigint"
        if a == "count_distinct":
            return f"count(DISTINCT {e})", "bigint"
        if a in ("min", "max"):
            return f"{a}({e})", t
        if a == "sum":
            return f"sum({e})", t
        if a == "avg":
            return f"avg({e})", "float" if t == "float" else "numeric"
        if a == "string_agg":
            return rng.choice([f"string_agg({e}, ',' ORDER BY {e})", f"string_agg(DISTINCT {e}, ',' ORDER BY {e})"]), "text"
        return f"array_agg({e} ORDER BY {e})", t + "[]"

    def summable(self):
        """A count or a sum over the fact's NOT NULL columns (or COALESCE, CASE of any), of one scale."""
        rng = self.rng
        ints = [f"f.{c}" for c in ("g", "i") if c in self.s.notnull] + ["coalesce(f.i, 0)", "coalesce(f.k1, -1)"]
        nums = [f"f.{c}" for c in ("n",) if c in self.s.notnull] + ["coalesce(f.n, 0.00)"]
        r = rng.random()
        if r < 0.2:
            return rng.choice([f"count({rng.choice(ints)})", f"count(*) FILTER (WHERE {self.pred(['f'], 1)})"]), "bigint"
        if r < 0.6:
            e = rng.choice(ints)
            e = rng.choice([e, f"({e} * 3)", f"({e} - 7)", f"CASE WHEN {self.pred(['f'], 1)} THEN {e} ELSE 0 END"])
            return f"sum({e})", "bigint"
        e = rng.choice(nums)
        e = rng.choice([e, f"({e} * 2)", f"({e} + 1.25)", f"({e} * f.{'i' if 'i' in self.s.notnull else 'rid'})",
                        f"(f.n * 1.5)"])
        return f"sum({e})", "numeric"

    def having(self, aliases):
        rng = self.rng
        e, t = self.expr(aliases, rng.choice(["int", "numeric", "date"]), plain=True)
        return rng.choice([f"count(*) > {rng.randint(0, 3)}", f"count(DISTINCT {e}) >= {rng.randint(1, 2)}",
                           f"max({e}) IS NOT NULL", f"min({e}) IS NULL" if rng.random() < 0.3 else "count(*) <> 2",
                           f"sum({self.expr(aliases, 'int', plain=True)[0]}) > {rng.randint(-10, 100)}"])

    def window(self, aliases, p=None):
        """(a window function, its type); over PARTITION BY p when given."""
        rng = self.rng
        if p is None:
            p, _ = self.expr(aliases, rng.choice(["int", "text", "date"]))
        o, _ = self.expr(aliases, rng.choice(["int", "numeric", "text", "date", "float"]), plain=True)
        v, t = self.expr(aliases, rng.choice(["int", "numeric", "float"]), plain=True)
        r = rng.random()
        if r < 0.3:
            a = rng.choice(["sum", "min", "max", "count", "avg"])
            rt = "bigint" if a == "count" else ("numeric" if a == "avg" and t != "float" else t)
            return f"{a}({v}) OVER (PARTITION BY {p})", rt
        if r < 0.55:
            return f"{rng.choice(['rank', 'dense_rank'])}() OVER (PARTITION BY {p} ORDER BY {o})", "bigint"
        if r < 0.65:
            return f"{rng.choice(['percent_rank', 'cume_dist'])}() OVER (PARTITION BY {p} ORDER BY {o})", "float"
        if r < 0.9:
            a = rng.choice(["sum", "count", "max"])
            rt = "bigint" if a == "count" else t
            return f"{a}({v}) OVER (PARTITION BY {p} ORDER BY {o})", rt
        return f"count(*) OVER (PARTITION BY {p})", "bigint"

    def class_query(self):
        """A query of the classes maintained (docs/incremental-maintenance.md):
        a GROUP BY over the fact alone, a GROUP BY over the fact and
        dimensions joined on their keys by inner joins, or such a join
        without grouping whose output carries a unique key of the fact (or,
        over a dimension and others joined on their groups, the dimension's
        rid); the same join with LEFT JOINs after the inner ones (and at
        times an inner join on the fact above them); a SELECT
        DISTINCT, windows of one PARTITION BY that is an output column, or
        windows over the groups of a GROUP BY, over the fact and inner
        joins; a UNION ALL of GROUP BYs keyed by their first column."""
        rng = self.rng
        shape = rng.choices(["group1", "groupjoin", "spj", "spjleft", "distinct", "window", "groupwindow", "union",
                             "groupleft"],
                            weights=[40, 30, 30, 20, 15, 20, 10, 15, 20])[0]
        if shape == "union":
            return self.class_union()
        if shape == "groupleft":
            return self.class_group_left()
        q = Query({"spj": "spj", "spjleft": "spj", "distinct": "distinct", "window": "window"}.get(shape, "group"))
        dims = list(self.s.dims)
        rng.shuffle(dims)
        if shape == "spjleft":
            # inner joins, then LEFT JOINs (one of whose ON may test the dimension too)
            ninner = rng.choice([0, 0, 1])
            used = ninner + rng.choice([1, 1, 2])
            for n, d in enumerate(dims[:used]):
                j = int(d.name[1:])
                on = f"f.k{j} = {d.alias}.k"
                if rng.random() < 0.25:
                    on += " AND " + self.pred([d.alias], depth=1)
                q.joins.append(("JOIN" if n < ninner else "LEFT JOIN", d.name, d.alias, on))
            if len(dims) > used and rng.random() < 0.3:
                # an inner join above the LEFT JOINs, its condition on the fact
                d = dims[used]
                q.joins.append(("JOIN", d.name, d.alias, f"f.k{int(d.name[1:])} = {d.alias}.k"))
            key = [f"f.{c}" for c in self.s.fact.key]
        elif shape == "spj" and rng.random() < 0.25:
            q.base = dims.pop().alias
            for d in dims[:rng.choice([1, 1, 2])]:
                q.joins.append(("JOIN", d.name, d.alias, f"{q.base}.grp = {d.alias}.grp"))
            key = [f"{q.base}.rid"]
        else:
            n = 0 if shape == "group1" else rng.choice([1, 1, 2, 3]) if shape == "groupjoin" else \
                rng.choice([0, 1, 1, 2]) if shape in ("distinct", "window", "groupwindow") else rng.choice([1, 1, 2])
            for d in dims[:n]:
                j = int(d.name[1:])
                on = f"f.k{j} = {d.alias}.k"
                if rng.random() < 0.2:
                    on += " AND " + self.pred([d.alias], depth=1)
                q.joins.append(("JOIN", d.name, d.alias, on))
            key = [f"f.{c}" for c in self.s.fact.key]
        aliases = [q.base] + [j[2] for j in q.joins]
        if rng.random() < 0.5:
            q.where = self.pred(aliases)
        if shape in ("spj", "spjleft"):
            types = dict(self.cols(aliases))
            q.items = [(k, types[k]) for k in key]
            for _ in range(rng.randint(1, 4)):
                q.items.append(self.expr(aliases))
            rng.shuffle(q.items)
            return q
        if shape == "distinct":
            for _ in range(rng.randint(1, 4)):
                q.items.append(self.expr(aliases))
            return q
        if shape == "window":
            for _ in range(rng.randint(0, 2)):
                q.items.append(self.expr(aliases))
            p, t = self.expr(aliases, rng.choice(["int", "text", "date"]))
            q.items.insert(rng.randint(0, len(q.items)), (p, t))
            for _ in range(rng.randint(1, 3)):
                q.items.append(self.window(aliases, p))
            return q
        nkeys = rng.choice([1, 1, 2, 2, 3])
        for n in range(nkeys):
            if shape == "groupwindow" and n == 0:
                e, t = self.expr(aliases, rng.choice(["int", "text", "date"]))   # the partition key: no float
            else:
                e, t = self.expr(aliases)
                if t == "float":      # a float key, only as it is stored
                    e, t = self.expr(aliases, "float", plain=True)
            q.items.append((e, t))
        q.nkeys = nkeys
        if shape == "group" and rng.random() < 0.5:
            # counts and sums of values never NULL: updates and deletes
            # taken from the groups in place (changes_algebraic.c)
            q.items.append(("count(*)", "bigint"))
            for _ in range(rng.randint(1, 3)):
                q.items.append(self.summable())
            return q
        for _ in range(rng.randint(1, 4)):
            q.items.append(self.aggregate(aliases))
        if rng.random() < 0.35:
            q.having = self.having(aliases)
        if shape == "groupwindow":
            # windows over the groups, partitioned by the first key
            k = q.items[0][0]
            o = q.items[nkeys - 1][0] if nkeys > 1 and q.items[nkeys - 1][1] != "float" else "count(*)"
            q.items.append(rng.choice([(f"dense_rank() OVER (PARTITION BY {k} ORDER BY {o})", "bigint"),
                                       (f"sum(count(*)) OVER (PARTITION BY {k})", "numeric"),
                                       (f"count(*) OVER (PARTITION BY {k})", "bigint")]))
        return q

    def class_group_left(self):
        """A GROUP BY (or windows of one PARTITION BY) over LEFT JOINs,
        keyed by the left side: the fact LEFT JOINed to dimensions, or a
        dimension LEFT JOINed to the fact (products with their lines),
        perhaps on to another dimension; the first key read off the left
        side, the others off any table (those of a right side are not
        keys: analyze_maintain.c)."""
        rng = self.rng
        dims = list(self.s.dims)
        rng.shuffle(dims)
        window = rng.random() < 0.25
        q = Query("window" if window else "group")
        if rng.random() < 0.5:
            for d in dims[:rng.choice([1, 1, 2])]:
                on = f"f.k{int(d.name[1:])} = {d.alias}.k"
                if rng.random() < 0.25:
                    on += " AND " + self.pred([d.alias], depth=1)
                q.joins.append(("LEFT JOIN", d.name, d.alias, on))
            left = ["f"]
        else:
            d = dims.pop()
            q.base = d.alias
            on = f"f.k{int(d.name[1:])} = {d.alias}.k"
            if rng.random() < 0.25:
                on += " AND " + self.pred(["f"], depth=1)
            q.joins.append(("LEFT JOIN", "f", "f", on))
            if dims and rng.random() < 0.3:
                d2 = dims[0]
                q.joins.append(("LEFT JOIN", d2.name, d2.alias, f"f.k{int(d2.name[1:])} = {d2.alias}.k"))
            left = [d.alias]
        aliases = [q.base] + [j[2] for j in q.joins]
        if rng.random() < 0.4:
            q.where = self.pred(aliases)
        if window:
            p, t = self.expr(left, rng.choice(["int", "text", "date"]))
            q.items.append((p, t))
            for _ in range(rng.randint(0, 2)):
                q.items.append(self.expr(aliases))
            for _ in range(rng.randint(1, 2)):
                q.items.append(self.window(aliases, p))
            return q
        self.group_by(q, rng.choice([1, 2, 2, 3]), aliases, first=left, having=0.3)
        return q

    def group_by(self, q, nkeys, aliases, first=None, having=0.35):
        """The GROUP BY of q: nkeys keys (the first read off the tables of
        first, when given), aggregates, at times a HAVING."""
        rng = self.rng
        for n in range(nkeys):
            over = first if first and n == 0 else aliases
            e, t = self.expr(over)
            if t == "float":      # a float key, only as it is stored
                e, t = self.expr(over, "float", plain=True)
            q.items.append((e, t))
        q.nkeys = nkeys
        for _ in range(rng.randint(1, 4)):
            q.items.append(self.aggregate(aliases))
        if rng.random() < having:
            q.having = self.having(aliases)

    def class_union(self):
        """A UNION ALL of GROUP BYs keyed by their first column (of one type), each over a table of its own."""
        rng = self.rng
        q = Query("union")
        t0 = rng.choice(["int", "text", "date"])
        tables = [self.s.fact] + list(self.s.dims)
        rng.shuffle(tables)
        for t in tables[:rng.choice([2, 2, 3])]:
            b = Query("group")
            b.base = t.alias
            if rng.random() < 0.4:
                b.where = self.pred([t.alias])
            e, _ = self.expr([t.alias], t0)
            b.items.append((f"({e})::{TYPE_SQL[t0]}", t0))
            b.nkeys = 1
            b.items.append(("count(*)", "bigint"))
            c, _ = self.expr([t.alias], "int", plain=True)
            b.items.append((rng.choice([f"count({c})", f"count(DISTINCT {c})", f"coalesce(sum({c}), 0)::bigint"]),
                            "bigint"))
            q.branches.append(b)
        return q

    def make(self):
        rng = self.rng
        if rng.random() < self.class_share:
            return self.class_query()
        kind = rng.choices(["spj", "group", "distinct", "window", "union"], weights=[15, 40, 12, 18, 15])[0]
        if kind == "union":
            q = Query("union")
            types = [rng.choice(["int", "numeric", "text", "date", "float", "bigint"]) for _ in range(rng.randint(1, 4))]
            for _ in range(rng.choice([2, 2, 3])):
                b = Query("spj")
                aliases = self.from_clause(b)
                if rng.random() < 0.6:
                    b.where = self.pred(aliases)
                for t in types:
                    if rng.random() < 0.1:
                        b.items.append((f"NULL::{TYPE_SQL[t]}", t))
                    else:
                        e, _ = self.expr(aliases, t)
                        b.items.append((f"({e})::{TYPE_SQL[t]}", t))
                q.branches.append(b)
            return q
        q = Query(kind)
        aliases = self.from_clause(q)
        if rng.random() < 0.5:
            q.where = self.pred(aliases)
        if kind in ("spj", "distinct"):
            for _ in range(rng.randint(1, 5)):
                q.items.append(self.expr(aliases))
        elif kind == "group":
            self.group_by(q, rng.choice([0, 1, 1, 2, 2, 3]), aliases)
        else:
            for _ in range(rng.randint(1, 3)):
                q.items.append(self.expr(aliases))
            for _ in range(rng.randint(1, 3)):
                q.items.append(self.window(aliases))
        return q


# --------------------------------------------------------------------------
# DML batches

class Step:
    """Statements run together.  mode:
      auto      each statement in a transaction of its own
      tx        one transaction, each statement under a savepoint
      rollback  one transaction; the statements of `inner` run in a
                subtransaction that is rolled back
      2pc       one transaction, prepared, then committed before the run
      open      a transaction left open across the run, committed after
      prepared  prepared before the run; committed (or, with abort, rolled
                back) after it
      carry     begun before this batch's run and committed after the next
                batch's run (carry2pc: prepared, then committed likewise): a
                writer that two runs go by; it inserts rows with negative
                ids, which no other statement touches
      inrun     the transaction the run and the check run in: its
                statements before the run, those of `inner` after the
                check, then COMMIT"""

    def __init__(self, mode, stmts, inner=None, abort=False):
        self.mode, self.stmts, self.inner, self.abort = mode, stmts, inner or [], abort


class DmlMaker:
    def __init__(self, schema, rng, small=0.0):
        self.s = schema
        self.rng = rng
        self.small = small       # the share of batches of one statement or two, on one table
        self.only = None         # the one table a batch writes, if so
        self.carrying = False    # the last batch left a transaction for after the next run

    def table(self):
        if self.only:
            return self.only
        return self.rng.choice([self.s.fact, self.s.fact] + self.s.dims)

    def where(self, t, restrict, narrow=False, tiny=False):
        """A deterministic row choice: by rid, a value or NULL (narrow: a few rows by rid; tiny: fewer)."""
        rng = self.rng
        r = rng.random()
        if r < 0.5 or narrow or tiny:
            m = rng.randint(25, 80) if tiny else rng.randint(7, 23) if narrow else rng.randint(2, 9)
            w = f"rid % {m} = {rng.randint(0, m - 1)}"
        else:
            col, typ = rng.choice([c for c in t.columns if c[0] != "rid"])
            if r < 0.6:
                w = f"{col} IS NULL"
            elif typ == "text":
                w = f"{col} = {lit(rng.choice(TEXT_VOCAB), 'text')}"
            else:
                w = f"{col} = {lit(self.s.value(typ, col) if typ != 'numeric' else rng.randint(0, 20), typ)}"
        if restrict is not None:
            w = f"({w}) AND rid % 2 = {restrict}"
        return w

    def assignment(self, t, col=None):
        rng = self.rng
        typ = t.ctype(col)
        if rng.random() < 0.3:
            if typ == "numeric":
                return f"{col} = NULL" if col not in self.s.notnull or t is not self.s.fact else f"{col} = 0.5"
            return f"{col} = {lit(self.s.value(typ, col), typ)}"
        return f"{col} = " + {"int": f"{col} + {rng.randint(-2, 3)}",
                              "numeric": f"{col} + {rng.randint(1, 300) / 100:.2f}",
                              "float": f"{col} * {rng.choice([0.5, 1.5, -1.0, 3.0])}",
                              "date": f"{col} + {rng.randint(-10, 10)}",
                              "text": f"coalesce({col}, '') || 'u'"}[typ]

    def statement(self, restrict=None, allow_truncate=True, small=False):
        rng = self.rng
        t = self.table()
        kind = rng.choices(["insert", "dup", "update_val", "update_key", "delete", "delete_extreme", "delete_group",
                            "delete_join", "truncate", "upsert", "merge", "reattach"],
                           weights=[20, 0 if small else 6, 15, 12, 8, 6, 0 if small else 5, 0 if small else 4,
                                    2 if allow_truncate else 0, 8, 6 if restrict is None else 0,
                                    3 if allow_truncate and t.bounds and not small and restrict is None else 0])[0]
        if kind == "reattach":
            # a partition detached, written while out of the tree (no capture
            # sees it), and attached again: the tree's tables are the same,
            # their pg_inherits rows are not (changes_deltas.c, ChangesDeltaState)
            p = rng.choice(sorted(t.bounds))
            cols = ", ".join(c if c != "rid" else f"rid + {self.s.new_rid() * 10 ** 7}" for c, _ in t.columns)
            copy = [] if self.s.partitioning == "hash" else \
                [f"INSERT INTO src.{p} SELECT {cols} FROM src.{p} WHERE rid % 7 = {rng.randint(0, 6)}"]
            return [f"ALTER TABLE src.f DETACH PARTITION src.{p}",
                    f"UPDATE src.{p} SET i = i + {rng.randint(1, 5)} WHERE rid % 3 = {rng.randint(0, 2)}",
                    f"DELETE FROM src.{p} WHERE rid % 5 = {rng.randint(0, 4)}"] + copy + \
                   [f"ALTER TABLE src.f ATTACH PARTITION src.{p} {t.bounds[p]}"]
        if small and kind in ("update_val", "update_key"):
            restrict = None
            name = t.name
            if kind == "update_key":
                col = rng.choice([c for c, _ in t.columns if c.startswith("k") or c in ("g", "grp")])
                sets = f"{col} = {lit(self.s.value('int', col), 'int')}"
            else:
                cols = rng.sample([c for c, _ in t.columns if c != "rid"], rng.randint(1, 2))
                sets = ", ".join(self.assignment(t, c) for c in cols)
            return f"UPDATE src.{name} SET {sets} WHERE {self.where(t, None, tiny=True)}"
        if small and kind == "delete":
            return f"DELETE FROM src.{t.name} WHERE {self.where(t, None, tiny=True)}"
        if kind == "insert":
            return f"INSERT INTO src.{t.name} VALUES " + ", ".join(self.s.row(t) for _ in range(rng.randint(1, 5 if small else 20)))
        if kind == "dup":
            # copies get ids far above the counter's (an even offset: the
            # parity that keeps concurrent writers apart is kept)
            off = self.s.new_rid() * 10 ** 7
            cols = ", ".join(c if c != "rid" else f"rid + {off}" for c, _ in t.columns)
            return f"INSERT INTO src.{t.name} SELECT {cols} FROM src.{t.name} WHERE {self.where(t, restrict)}"
        # updates and deletes name a partition of the fact now and then (its
        # own trigger logs the write, not the parent's)
        name = rng.choice(t.partitions) if t.partitions and rng.random() < 0.25 else t.name
        if kind == "update_val":
            # (through the parent, a row may move to another partition)
            cols = rng.sample([c for c, _ in t.columns if c != "rid" and (name == t.name or c != self.s.pcol)],
                              rng.randint(1, 2))
            sets = ", ".join(self.assignment(t, c) for c in cols)
            return f"UPDATE src.{name} SET {sets} WHERE {self.where(t, restrict)}"
        if kind == "update_key":
            col = rng.choice([c for c, _ in t.columns if c.startswith("k") or c in ("g", "grp")])
            return f"UPDATE src.{t.name} SET {col} = {lit(self.s.value('int', col), 'int')} WHERE {self.where(t, restrict)}"
        if kind == "delete":
            return f"DELETE FROM src.{name} WHERE {self.where(t, restrict, narrow=rng.random() < 0.7)}"
        if kind == "delete_extreme":
            g = "g" if t is self.s.fact else "grp"
            v = rng.choice([c for c, typ in t.columns if typ in ("int", "numeric", "float", "date") and c != g])
            a = rng.choice(["min", "max"])
            extra = f" AND rid % 2 = {restrict}" if restrict is not None else ""
            return (f"DELETE FROM src.{t.name} WHERE ({g}, {v}) IN "
                    f"(SELECT {g}, {a}({v}) FROM src.{t.name} GROUP BY {g}){extra}")
        if kind == "delete_group":
            g = "g" if t is self.s.fact else "grp"
            v = self.s.value("int", g)
            extra = f" AND rid % 2 = {restrict}" if restrict is not None else ""
            return f"DELETE FROM src.{t.name} WHERE {g} IS NOT DISTINCT FROM {lit(v, 'int')}{extra}"
        if kind == "delete_join":
            d = rng.choice(self.s.dims)
            j = int(d.name[1:])
            k = self.s.value("int", "k")
            extra = f" AND rid % 2 = {restrict}" if restrict is not None else ""
            return [f"DELETE FROM src.f WHERE k{j} IS NOT DISTINCT FROM {lit(k, 'int')}{extra}",
                    f"DELETE FROM src.{d.name} WHERE k IS NOT DISTINCT FROM {lit(k, 'int')}{extra}"]
        if kind == "truncate":
            target = t.name
            if t is self.s.fact and t.partitions and rng.random() < 0.5:
                target = rng.choice(t.partitions)
            keep = rng.randint(2, 5)
            # a plain table to keep rows in (a temporary one could not be
            # prepared), untracked: no model reads it
            return [f"CREATE UNLOGGED TABLE IF NOT EXISTS public.keep_{target} AS SELECT * FROM src.{target} WITH NO DATA",
                    f"TRUNCATE public.keep_{target}",
                    f"INSERT INTO public.keep_{target} SELECT * FROM src.{target} WHERE rid % {keep} <> 0",
                    f"TRUNCATE src.{target}",
                    f"INSERT INTO src.{target} SELECT * FROM public.keep_{target}"]
        if kind == "upsert":
            # rows of existing and new ids (each once), updated or kept on conflict
            rids = sorted({rng.randint(1, self.s.next_rid) for _ in range(rng.randint(1, 5))})
            if restrict is not None:
                rids = [r for r in rids if r % 2 == restrict] or [self.s.new_rid(parity=restrict)]
            rows = ", ".join(self.s.row(t, rid=r) for r in rids)
            target = ", ".join(t.key)
            if rng.random() < 0.3:
                return f"INSERT INTO src.{t.name} VALUES {rows} ON CONFLICT ({target}) DO NOTHING"
            cols = [c for c, _ in t.columns if c not in t.key and c != self.s.pcol]
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in rng.sample(cols, rng.randint(1, 3)))
            if rng.random() < 0.3:
                sets = f"{cols[0]} = {t.name}.{cols[0]}"          # a no-op update
            return f"INSERT INTO src.{t.name} VALUES {rows} ON CONFLICT ({target}) DO UPDATE SET {sets}"
        # merge
        rids = sorted({rng.randint(1, self.s.next_rid) for _ in range(rng.randint(1, 6))})
        rows = ", ".join(self.s.row(t, rid=r, typed=True) for r in rids)
        names = ", ".join(c for c, _ in t.columns)
        col = rng.choice([c for c, _ in t.columns if c != "rid" and c != self.s.pcol])
        return (f"MERGE INTO src.{t.name} t USING (VALUES {rows}) AS s({names}) ON t.rid = s.rid "
                f"WHEN MATCHED AND s.{col} IS NULL THEN DELETE "
                f"WHEN MATCHED THEN UPDATE SET {col} = s.{col} "
                f"WHEN NOT MATCHED THEN INSERT VALUES ({', '.join('s.' + c for c, _ in t.columns)})")

    def stmts(self, n, restrict=None, allow_truncate=True):
        out = []
        for _ in range(n):
            s = self.statement(restrict, allow_truncate)
            out += s if isinstance(s, list) else [s]
        return out

    def batch(self, twophase):
        rng = self.rng
        steps = []
        # a batch writing one table only leaves the models not reading it
        # up to date
        self.only = rng.choice(self.s.tables) if rng.random() < 0.35 else None
        if self.small and rng.random() < self.small:
            # a small change to one table: what maintenance is for (the
            # larger batches below are rebuilt whole more often than not)
            self.only = rng.choice([self.s.fact, self.s.fact] + self.s.dims)
            self.carrying = False
            stmts = []
            for _ in range(rng.randint(1, 2)):
                st = self.statement(allow_truncate=False, small=True)
                stmts += st if isinstance(st, list) else [st]
            mode = rng.choice(["auto", "tx", "inrun"] + (["2pc"] if twophase else []))
            # in the run's transaction: at times a small change after the run too
            later = [self.statement(allow_truncate=False, small=True)] if mode == "inrun" and rng.random() < 0.5 else []
            return [Step(mode, stmts, [x for st in later for x in (st if isinstance(st, list) else [st])])]
        # while a transaction is carried over from the last batch, no
        # TRUNCATE: it would wait for that transaction, which waits for us
        carried, self.carrying = self.carrying, False
        for _ in range(rng.randint(1, 3)):
            modes = ["auto", "tx", "tx", "rollback"] + (["2pc"] if twophase else [])
            mode = rng.choice(modes)
            stmts = self.stmts(rng.randint(1, 4), allow_truncate=not carried)
            inner = self.stmts(rng.randint(1, 2), allow_truncate=not carried) if mode == "rollback" else None
            steps.append(Step(mode, stmts, inner))
        # concurrent writers: inserts, updates and deletes only (no TRUNCATE:
        # it would wait for the run and the run for it), on rows of their
        # own parity so they never wait for each other
        if rng.random() < 0.3:
            steps.append(Step("open", self.stmts(rng.randint(1, 3), restrict=0, allow_truncate=False)))
        if twophase and rng.random() < 0.25:
            steps.append(Step("prepared", self.stmts(rng.randint(1, 3), restrict=1, allow_truncate=False),
                              abort=rng.random() < 0.25))
        if not carried and rng.random() < 0.15:
            stmts = [f"INSERT INTO src.{t.name} VALUES " + ", ".join(self.s.row(t, rid=-self.s.new_rid())
                                                                     for _ in range(rng.randint(1, 4)))
                     for t in (self.table() for _ in range(rng.randint(1, 2)))]
            steps.append(Step("carry2pc" if twophase and rng.random() < 0.5 else "carry", stmts))
            self.carrying = True
        # the run inside a writer's transaction, which writes after it too
        # (only beside writers of rows with negative ids, and no TRUNCATE
        # then: it would wait for the others, which wait for the run)
        if not any(s.mode in ("open", "prepared") for s in steps) and rng.random() < 0.15:
            steps.append(Step("inrun", self.stmts(rng.randint(1, 3), allow_truncate=not carried and not self.carrying),
                              self.stmts(rng.randint(0, 2), allow_truncate=False)))
        return steps


def batch_sql(steps):
    """A batch as a psql script, for reports."""
    out = []
    for s in steps:
        if s.mode == "auto":
            out += [x + ";" for x in s.stmts]
            continue
        body = s.stmts[:]
        lines = ["BEGIN;"] + [x + ";" for x in body]
        if s.mode == "rollback":
            lines += ["SAVEPOINT sp;"] + [x + ";" for x in s.inner] + ["ROLLBACK TO SAVEPOINT sp;", "COMMIT;"]
        elif s.mode == "tx":
            lines.append("COMMIT;")
        elif s.mode == "2pc":
            lines += ["PREPARE TRANSACTION 'g';", "COMMIT PREPARED 'g';"]
        elif s.mode == "open":
            lines = ["-- in a second session, left open across the run and committed after the check:"] + lines + \
                    ["-- (run, check) COMMIT;"]
        elif s.mode == "prepared":
            lines = ["-- in a third session, prepared before the run:"] + lines + \
                    ["PREPARE TRANSACTION 'p';",
                     f"-- (run, check) {'ROLLBACK' if s.abort else 'COMMIT'} PREPARED 'p';"]
        elif s.mode == "carry":
            lines = ["-- in a fourth session, open across this run and the next:"] + lines + \
                    ["-- (run, check, next batch, run, check) COMMIT;"]
        elif s.mode == "carry2pc":
            lines = ["-- in a fourth session, prepared before this run:"] + lines + \
                    ["PREPARE TRANSACTION 'c';", "-- (run, check, next batch, run, check) COMMIT PREPARED 'c';"]
        elif s.mode == "inrun":
            lines = ["-- in the run's session, its transaction:"] + lines + \
                    ["-- (run, check)"] + [x + ";" for x in s.inner] + ["COMMIT;"]
        out += lines
    return "\n".join(out)


# --------------------------------------------------------------------------
# the database side

class Db:
    """One database with the schema, the models and the sessions writing."""

    def __init__(self, args, dbname):
        self.args = args
        self.dbname = dbname
        self.gid = 0
        self.statements = 0      # DML statements run, and those that failed (rolled back alone)
        self.failed = 0
        self.fallbacks = 0       # models refused with maintain => 'incremental' or 'full', made 'auto'

    def connect(self, db):
        return psycopg.connect(self.args.dsn + f" dbname={db}", autocommit=True)

    def create(self, setup):
        self.forget()
        with self.connect("postgres") as c:
            c.execute(f"CREATE DATABASE {self.dbname}")
        self.c = self.connect(self.dbname)
        self.c2 = self.connect(self.dbname)     # the transaction left open
        self.c3 = self.connect(self.dbname)     # the prepared one
        self.c4 = self.connect(self.dbname)     # the one carried across two runs
        self.carried = []                       # what ends it, after the next run
        # the writers never wait for each other (rows of their own parity,
        # ids of their own); should one ever, it fails instead of hanging
        # this single-threaded program
        for c in (self.c2, self.c3, self.c4):
            c.execute("SET lock_timeout = '5s'")
        self.c.execute("SET client_min_messages = warning")
        self.c.execute("SET medallion.worker_min_ms = 0")    # with threads, workers build even small models
        self.c.execute("CREATE EXTENSION medallion")
        self.layer = {}
        self.refs = set()        # models with a relationships test (add_tests)
        for stmt in setup:
            if str(stmt):
                self.c.execute(str(stmt))
        self.maintain = self.c.execute(
            "SELECT bool_or('maintain' = ANY (proargnames)) FROM pg_proc WHERE proname = 'medallion_create_model'"
        ).fetchone()[0]
        self.twophase = int(self.c.execute("SHOW max_prepared_transactions").fetchone()[0]) > 0

    def close(self):
        for c in (self.c, self.c2, self.c3, self.c4):
            c.close()

    def drop(self):
        self.close()
        self.forget()

    def forget(self):
        """Drop the database, ending the transactions prepared in it first."""
        with self.connect("postgres") as c:
            gids = [r[0] for r in c.execute("SELECT gid FROM pg_prepared_xacts WHERE database = %s", (self.dbname,))]
            if gids:
                with self.connect(self.dbname) as d:
                    for gid in gids:
                        d.execute(f"ROLLBACK PREPARED '{gid}'")
            c.execute(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")

    def valid(self, sql):
        """Whether PostgreSQL runs the query (and its columns can be compared)."""
        try:
            self.c.execute(f"SELECT count(*) FROM ({sql}) s")
            return True
        except psycopg.Error:
            return False

    def maintain_for(self, name, seed):
        """The maintain => value of a table model: --maintain, or with 'mixed'
        one of auto, incremental, full drawn from the round's seed and the
        model's name; None when medallion_create_model has no such parameter."""
        if not (self.maintain and self.args.maintain):
            return None
        if self.args.maintain == "mixed":
            return random.Random(f"{seed}/{name}").choice(["auto", "incremental", "full"])
        return self.args.maintain

    def create_model(self, name, sql, layer="silver", materialized="table", maintain=None):
        """Create a model; returns its columns as (name, is float).  A model
        refused with maintain => 'incremental' (a query it cannot maintain)
        is created with 'auto' instead, and counted."""
        args = "%s, %s, layer => %s, materialized => %s"
        params = [name, sql, layer, materialized]
        if maintain and materialized == "table":
            try:
                self.c.execute(f"SELECT medallion_create_model({args}, maintain => %s)", params + [maintain])
            except psycopg.Error:
                if maintain == "auto":
                    raise
                self.fallbacks += 1
                self.c.execute(f"SELECT medallion_create_model({args}, maintain => 'auto')", params)
        else:
            self.c.execute(f"SELECT medallion_create_model({args})", params)
        self.layer[name] = layer
        cur = self.c.execute(f"SELECT * FROM {layer}.{name} LIMIT 0")
        return [(d.name, d.type_code in FLOAT_OIDS) for d in cur.description]

    def run(self, threads=1):
        rows = self.c.execute("SELECT model, status, message FROM medallion_run('all', changed_only => true, threads => %s)",
                              (threads,)).fetchall()
        if self.args.sabotage:
            # a made-up maintenance bug, to see the harness catch and shrink it
            for m, _, _ in rows:
                if self.layer.get(m) != "bronze":
                    self.c.execute(f"DELETE FROM {self.layer[m]}.{m} WHERE c1 IS NULL")
        return {m: (st, msg) for m, st, msg in rows}

    def rebuild(self, names):
        """Rebuild names with full_refresh, and what reads them: a model
        maintained from the table of one rebuilt alone would be rebuilt
        whole at its next run (its storage is new), which maintain =>
        'incremental' refuses in turn."""
        rows = self.c.execute("SELECT model, status, message FROM medallion_run(%s, full_refresh => true)",
                              (" ".join(n + "+" for n in names),)).fetchall()
        return {m: (st, msg) for m, st, msg in rows}

    def full_run(self):
        return self.c.execute("SELECT model, status, message FROM medallion_run('all', changed_only => false)").fetchall()

    # writes ------------------------------------------------------------
    def _guarded(self, c, stmt):
        self.statements += 1
        c.execute("SAVEPOINT s")
        try:
            c.execute(stmt)
            c.execute("RELEASE SAVEPOINT s")
        except psycopg.Error:
            self.failed += 1
            c.execute("ROLLBACK TO SAVEPOINT s")

    def apply(self, steps):
        """Run a batch up to the run; returns what ends it after the run."""
        after = []
        # a statement that waits for a lock held by a transaction carried
        # over (a shrunk case may put a TRUNCATE there) fails instead
        self.c.execute("SET lock_timeout = '5s'")
        for s in steps:
            if s.mode == "auto":
                for stmt in s.stmts:
                    self.statements += 1
                    try:
                        self.c.execute(stmt)
                    except psycopg.Error:
                        self.failed += 1
                continue
            c = {"open": self.c2, "prepared": self.c3, "carry": self.c4, "carry2pc": self.c4}.get(s.mode, self.c)
            c.execute("BEGIN")
            for stmt in s.stmts:
                self._guarded(c, stmt)
            if s.mode == "inrun":
                after.append((c, (s.inner, "COMMIT"), False))
            elif s.mode == "rollback":
                c.execute("SAVEPOINT sp")
                try:
                    for stmt in s.inner:
                        c.execute(stmt)
                except psycopg.Error:
                    pass
                c.execute("ROLLBACK TO SAVEPOINT sp")
                c.execute("COMMIT")
            elif s.mode == "tx":
                c.execute("COMMIT")
            elif s.mode in ("2pc", "prepared", "carry2pc"):
                self.gid += 1
                gid = f"diff_{self.dbname}_{self.gid}"
                c.execute(f"PREPARE TRANSACTION '{gid}'")
                end = f"{'ROLLBACK' if s.abort else 'COMMIT'} PREPARED '{gid}'"
                if s.mode == "2pc":
                    c.execute(end)
                else:
                    after.append((c, end, s.mode == "carry2pc"))
            else:
                after.append((c, "COMMIT", s.mode == "carry"))
        self.c.execute("RESET lock_timeout")
        return after

    def finish(self, after):
        """After a batch's run and check: end its transactions, and those carried over from the batch before."""
        for c, sql, carry in after:
            if not carry and isinstance(sql, tuple):
                # statements after the run, in its transaction, then its end
                for stmt in sql[0]:
                    self._guarded(c, stmt)
                c.execute(sql[1])
            elif not carry:
                c.execute(sql)
        for c, sql in self.carried:
            c.execute(sql)
        self.carried = [(c, sql) for c, sql, carry in after if carry]

    # comparison ----------------------------------------------------------
    def add_tests(self, name, columns, refs=False):
        """Warn-severity unique, not_null and expression (IS NOT NULL)
        tests on the model's first column, whose counts check_tests
        compares with the table's: a
        maintained build whose table passed every test before counts them
        over the rows it wrote only.  refs: a relationships test too, of
        the first column to the view model dk over dimension d1's keys
        (when their types compare), which reads the rows written while d1
        is unchanged."""
        for kind in ("unique", "not_null"):
            self.c.execute("SELECT medallion_add_test(%s, %s, column_name => %s, severity => 'warn')",
                           (name, kind, columns[0][0]))
        self.c.execute("SELECT medallion_add_test(%s, 'expression', expression => %s, name => 'present', "
                       "severity => 'warn')", (name, f"{columns[0][0]} IS NOT NULL"))
        if refs:
            try:
                self.c.execute("SELECT medallion_add_test(%s, 'relationships', column_name => %s, to_model => 'dk', "
                               "to_column => 'k', name => 'refs', severity => 'warn')", (name, columns[0][0]))
                self.refs.add(name)
            except psycopg.Error:
                pass            # a column of another type

    def check_tests(self, name, columns):
        """The failures the model's tests counted at the last run that ran
        them, against the same counts over its table now: None when equal;
        and whether its last step tested only the rows it wrote."""
        got = dict(self.c.execute(
            "SELECT split_part(test, '_' || %s, 1), failures FROM medallion.test_results "
            "WHERE model = %s AND run_id = (SELECT max(run_id) FROM medallion.test_results WHERE model = %s)",
            (columns[0][0], name, name)).fetchall())
        col = columns[0][0]
        want = self.c.execute(f"SELECT count({col}) - count(DISTINCT {col}), count(*) FILTER (WHERE {col} IS NULL) "
                              f"FROM {self.layer[name]}.{name}").fetchone()
        want = {"unique": want[0], "not_null": want[1], "present": want[1]}
        if name in self.refs:
            want["refs"] = self.c.execute(f"SELECT count(*) FROM {self.layer[name]}.{name} m WHERE {col} IS NOT NULL "
                                          f"AND NOT EXISTS (SELECT FROM bronze.dk r WHERE r.k = m.{col})").fetchone()[0]
        # over the rows written and passing: two queries (the unique test's,
        # the row tests'), and the relationships test's; over the table: one
        # when passing, two when not, and the relationships test's
        queries = self.c.execute("SELECT test_queries FROM medallion.run_models WHERE model = %s "
                                 "ORDER BY run_id DESC LIMIT 1", (name,)).fetchone()
        return (None if all(got.get(k) == v for k, v in want.items()) else f"tests counted {got}, the table has {want}",
                queries is not None and queries[0] == 2 + (name in self.refs) and not any(got.values()))

    def compare(self, name, sql, columns, limit=COMPARE_LIMIT):
        """Rows of the model and of its query that the other lacks: ([], []) when equal.

        At most `limit` rows of each side are fetched; when a side has more
        and the model has float8 columns, all of them are (every row of a
        running float8 sum may differ in its last bit, and rows can only be
        paired with the tolerance when both sides are there)."""
        proj = ", ".join(f"{c}" if fl else f"{c}::text AS {c}" for c, fl in columns)
        cap = f" LIMIT {limit}" if limit else ""
        rows = self.c.execute(
            f"WITH m AS (SELECT {proj} FROM {self.layer[name]}.{name}), q AS (SELECT {proj} FROM ({sql}) s) "
            f"(SELECT true, * FROM (SELECT * FROM m EXCEPT ALL SELECT * FROM q) a{cap}) "
            f"UNION ALL (SELECT false, * FROM (SELECT * FROM q EXCEPT ALL SELECT * FROM m) b{cap})").fetchall()
        if not rows:
            return [], []
        model = [r[1:] for r in rows if r[0]]
        query = [r[1:] for r in rows if not r[0]]
        floats = [n for n, (_, fl) in enumerate(columns) if fl]
        if floats and limit and limit in (len(model), len(query)):
            return self.compare(name, sql, columns, limit=None)
        if floats:
            model, query = float_match(model, query, floats)
        return model, query


def close_enough(a, b):
    if a is None or b is None:
        return a is None and b is None
    if a != a or b != b:                    # NaN (a numeric NaN cast to float8)
        return a != a and b != b
    return abs(a - b) <= FLOAT_TOLERANCE * max(1.0, abs(a), abs(b))


def float_match(model, query, floats):
    """Pair rows equal but for float8 columns within the tolerance; returns the unpaired."""
    def exact(r):
        return tuple(v for n, v in enumerate(r) if n not in floats)

    def fkey(r):
        return tuple((r[n] is None, r[n] is not None and r[n] != r[n],
                      0.0 if r[n] is None or r[n] != r[n] else r[n]) for n in floats)

    groups = {}
    for side, rows in ((0, model), (1, query)):
        for r in rows:
            groups.setdefault(exact(r), ([], []))[side].append(r)
    left, right = [], []
    for a, b in groups.values():
        a.sort(key=fkey)
        b.sort(key=fkey)
        if len(a) == len(b) and all(close_enough(x[n], y[n]) for x, y in zip(a, b) for n in floats):
            continue
        left += a
        right += b
    return left, right


# --------------------------------------------------------------------------
# rounds

class Round:
    """One schema, its queries and a sequence of batches."""

    def __init__(self, args, seed):
        self.args = args
        self.seed = seed
        rng = random.Random(seed)
        self.schema = Schema(rng)
        self.setup = self.schema.setup_sql()
        self.view = rng.random() < 0.3             # a view model between src.f and some models
        self.threads = rng.choice([1, 1, 2])       # runs build in background workers
        self.qmaker = QueryMaker(self.schema, rng, self.view, args.class_share)
        self.view_sql = f"SELECT * FROM src.f WHERE {self.qmaker.pred(['f'])}" if self.view else None
        self.dml = DmlMaker(self.schema, rng, args.small_batches)
        self.rng = rng

    def play(self, stats, deadline):
        args = self.args
        db = Db(args, args.dbname)
        db.create(self.setup)
        try:
            models = []      # (name, layer, query, sql, columns, the models it needs first)
            view = []
            if self.view_sql:
                db.create_model("fv", self.view_sql, "bronze", "view")
                view = [("fv", self.view_sql, "bronze", "view")]
            # what the relationships tests reference: d1's keys, and every
            # value past them, so that they pass unless a key goes
            db.create_model("dk", f"SELECT k FROM src.d1 UNION ALL SELECT v FROM generate_series("
                            f"{self.schema.keys + 1}, 100000) v", "bronze", "view")
            tries = 0
            while len(models) < args.queries and tries < args.queries * 5:
                tries += 1
                q = self.qmaker.make()
                sql = q.render()
                if not db.valid(sql):
                    stats["invalid"] += 1
                    continue
                name = f"q{len(models) + 1:02d}"
                try:
                    cols = db.create_model(name, sql, maintain=db.maintain_for(name, self.seed))
                except psycopg.Error as e:
                    stats["refused"] += 1
                    if args.verbose or stats["refused"] <= 3:
                        print(f"  refused: {sql}\n    {e}")
                    continue
                db.add_tests(name, cols, refs=True)
                models.append((name, "silver", q, sql, cols, view if "bronze.fv" in sql else []))
            # models over models, in gold: maintained from the deltas of
            # the table they read when it is maintained in place, rebuilt
            # whole when it is; a gold model may read another
            upstream = list(models)
            for n in range(self.rng.choice([0, 1, 2, 3]) if upstream else 0):
                up = self.rng.choice(upstream)
                t = f"{up[1]}.{up[0]}"
                sql = self.rng.choice([f"SELECT c1, count(*) AS c2 FROM {t} GROUP BY c1",
                                       f"SELECT count(*) AS c1, count(DISTINCT c1) AS c2 FROM {t}",
                                       f"SELECT * FROM {t} WHERE c1 IS NOT NULL",
                                       f"SELECT c1, count(*) OVER (PARTITION BY c1) AS c2 FROM {t}",
                                       f"SELECT DISTINCT c1 FROM {t}",
                                       f"SELECT c1, count(*) AS c2 FROM {t} GROUP BY c1 HAVING count(*) > 1"])
                name = f"g{n + 1:02d}"
                cols = db.create_model(name, sql, "gold", maintain=db.maintain_for(name, self.seed))
                db.add_tests(name, cols)
                models.append((name, "gold", Downstream(sql), sql, cols,
                               up[5] + [(up[0], up[3], up[1], "table")]))
                upstream.append(models[-1])
            stats["models"] += len(models)
            stats["models_refs"] = stats.get("models_refs", 0) + len(db.refs)
            for name, *_ in models:
                plan = db.c.execute("SELECT maintain FROM medallion_plan(%s) WHERE model = %s", (name, name)).fetchone()
                how = (plan[0] or "").split(":", 1)[0] if plan else ""
                stats["plan_" + how] = stats.get("plan_" + how, 0) + 1
                if args.verbose:
                    print(f"  {name}: {plan[0] if plan else None}")
            if not models:
                stats["errors"] += 1
                print(f"ERROR round seed {self.seed}: no model could be created")
                return False
            rows = db.full_run()
            failed = [r for r in rows if r[1] not in ("success", "up_to_date")]
            if failed:
                stats["errors"] += 1
                print(f"ERROR round seed {self.seed}: the first run failed: {failed}")
                return False
            history = []
            for b in range(args.batches):
                if time.time() > deadline or stats["cases"] >= args.cases:
                    break
                steps = self.dml.batch(db.twophase)
                history.append(steps)
                after = db.apply(steps)
                result = db.run(self.threads)
                # maintain => 'incremental' fails a model a run would rebuild
                # whole (a large delta, a TRUNCATE): as documented; it is
                # rebuilt with full_refresh, and what was skipped after it
                # built by a change-aware run, before the check
                refused = [m for m, (st, msg) in result.items()
                           if st == "failed" and "cannot be maintained incrementally now" in (msg or "")
                           and db.maintain_for(m, self.seed) == "incremental"]
                if refused:
                    stats["refused_now"] += len(refused)
                    result.update(db.rebuild(refused))
                    for m, v in db.run(self.threads).items():
                        if result.get(m, ("missing",))[0] not in ("success", "up_to_date"):
                            result[m] = v
                    # in the writer's transaction, a run reads its rows again
                    # (they stay unseen until it commits) and refuses again:
                    # what that skipped is rebuilt with full_refresh too
                    again = [m for m, (st, msg) in result.items() if st not in ("success", "up_to_date")
                             and ("cannot be maintained incrementally now" in (msg or "") and m in refused or
                                  st == "skipped" and any(f"upstream model {r} failed" in (msg or "") for r in refused))]
                    if again:
                        result.update(db.rebuild(again))
                stats["batches"] += 1
                for name, layer, q, sql, cols, prelude in models:
                    status, message = result.get(name, ("missing", ""))
                    if status not in ("success", "up_to_date"):
                        stats["errors"] += 1
                        print(f"ERROR round seed {self.seed}, batch {b + 1}: {name} {status}: {message}")
                        db.finish(after)
                        return False
                    stats["status_" + status] = stats.get("status_" + status, 0) + 1
                    if args.verbose:
                        print(f"    {name} {status}: {message}")
                    # how the run built it: "incremental: ...", "full: why", or neither
                    how = (message or "").split(":", 1)[0] if (message or "").startswith(("incremental:", "full:")) \
                        else "other"
                    stats["how_" + how] = stats.get("how_" + how, 0) + 1
                    if how == "incremental":
                        kind = getattr(q, "kind", "downstream")
                        kind += "+window" if kind == "group" and " OVER (" in sql else \
                            "+left" if kind in ("spj", "group", "window") and "LEFT JOIN" in sql else \
                            "+added" if " added to from " in message else "+in place" if " updated in place from " in message else ""
                        # a join's new driving rows added (changes_maintain.c, the appended path)
                        kind += "+appended" if " added from " in message or " added or recomputed from " in message else ""
                        stats["inc_kind"][kind] = stats["inc_kind"].get(kind, 0) + 1
                    if how == "full":
                        why = re.sub(r"[0-9][0-9,]*", "N", message.split(";")[0])[:70]
                        stats["why_full"][why] = stats["why_full"].get(why, 0) + 1
                    model_rows, query_rows = db.compare(name, sql, cols)
                    stats["cases"] += 1
                    # (--sabotage changes the tables after their tests ran)
                    tests_wrong, written = db.check_tests(name, cols) if not args.sabotage else (None, False)
                    stats["tests_checked"] = stats.get("tests_checked", 0) + 1
                    stats["tests_written"] = stats.get("tests_written", 0) + (status == "success" and written)
                    stats["refs_written"] = stats.get("refs_written", 0) + \
                        (status == "success" and written and name in db.refs)
                    if tests_wrong:
                        stats["mismatches"] += 1
                        print(f"\nTESTS MISMATCH: round seed {self.seed}, model {name} after batch {b + 1} "
                              f"({status}: {message}): {tests_wrong}\n  query: {sql}")
                        sys.stdout.flush()
                        db.finish(after)
                        return False
                    if model_rows or query_rows:
                        stats["mismatches"] += 1
                        db.finish(after)
                        how = f"maintain => '{db.maintain_for(name, self.seed)}'" if db.maintain_for(name, self.seed) \
                            else "no maintain setting (rebuilt or skipped)"
                        self.report(name, layer, q, sql, prelude, history, f"{status} ({how})", message,
                                    model_rows, query_rows, b + 1)
                        return False
                db.finish(after)
            return True
        finally:
            stats["statements"] += db.statements
            stats["failed"] += db.failed
            stats["fallbacks"] += db.fallbacks
            stats["maintain"] = db.maintain
            db.drop()

    def report(self, name, layer, q, sql, prelude, history, status, message, model_rows, query_rows, batch_no):
        print(f"\nMISMATCH: round seed {self.seed} (replay: --round-seed {self.seed} --queries {self.args.queries} "
              f"--batches {self.args.batches}), model {name} after batch {batch_no}, "
              f"the run said {status}: {message}")
        print(f"  query: {sql}" + (f" (threads => {self.threads})" if self.threads > 1 else ""))
        for m in prelude:
            print(f"  it reads the model {m[0]} ({m[2]}, {m[3]}): {m[1]}")
        print("  batch:\n    " + batch_sql(history[-1]).replace("\n", "\n    "))
        for label, rows in (("in the model, not in the query", model_rows), ("in the query, not in the model", query_rows)):
            print(f"  {label} ({len(rows)} rows):")
            for r in rows[:10]:
                print(f"    {r}")
        sys.stdout.flush()
        if self.args.shrink_time > 0:
            Shrinker(self.args, self.setup, prelude, layer, self.threads, (self.seed, name)).shrink(q, history)


# --------------------------------------------------------------------------
# shrinking

class Shrinker:
    """Replays a failing case from scratch with fewer writes and a simpler query."""

    def __init__(self, args, setup, prelude, layer, threads, seed_name):
        self.args = args
        self.setup = list(setup)  # less initial rows as it shrinks
        self.prelude = prelude   # the models the failing one reads: (name, sql, layer, materialized)
        self.layer = layer
        self.threads = threads
        self.seed_name = seed_name   # the round's seed and the model's name: its maintain => value
        self.trials = 0

    def fails(self, q, history):
        """Whether the model of q differs from q after some batch of history."""
        self.trials += 1
        db = Db(self.args, self.args.dbname + "_shrink")
        db.create(self.setup)
        try:
            sql = q.render()
            if not db.valid(sql):
                return None
            try:
                for name, msql, layer, mat in self.prelude:
                    db.create_model(name, msql, layer, mat, maintain=db.maintain_for(name, self.seed_name[0]))
                self.maintain = db.maintain_for(self.seed_name[1], self.seed_name[0])
                cols = db.create_model("q", sql, self.layer, maintain=self.maintain)
            except psycopg.Error:
                return None
            db.full_run()
            for steps in history:
                after = db.apply(steps)
                result = db.run(self.threads)
                status, message = result.get("q", ("missing", ""))
                m, r = db.compare("q", sql, cols)
                db.finish(after)
                if m or r or status not in ("success", "up_to_date"):
                    return (status, message, m, r)
            return None
        finally:
            db.drop()

    def shrink(self, q, history):
        deadline = time.time() + self.args.shrink_time
        found = [self.fails(q, history)]
        if not found[0]:
            print("  shrinking: the model alone does not fail on a replay (the other models or timing matter);"
                  " the case above is the smallest")
            return

        def holds(h):
            r = self.fails(q, [b for b in h if b])
            if r:
                found[0] = r
            return bool(r)

        def reduce(items, test):
            """Drop items one at a time while test still holds."""
            i = 0
            while i < len(items) and time.time() < deadline:
                cand = items[:i] + items[i + 1:]
                if test(cand):
                    items = cand
                else:
                    i += 1
            return items

        # 1. fewer batches: only the last, or drop earlier ones one at a time
        if len(history) > 1 and holds(history[-1:]):
            history = history[-1:]
        history = reduce(history, holds)
        # 2. fewer steps in each batch, fewer statements in each step
        for bi in range(len(history)):
            history[bi] = reduce(history[bi], lambda steps: holds(history[:bi] + [steps] + history[bi + 1:]))
            for si in range(len(history[bi])):
                for attr in ("stmts", "inner"):
                    def with_stmts(stmts):
                        st = history[bi][si]
                        st = Step(st.mode, stmts if attr == "stmts" else st.stmts,
                                  stmts if attr == "inner" else st.inner, st.abort)
                        return history[:bi] + [history[bi][:si] + [st] + history[bi][si + 1:]] + history[bi + 1:]
                    kept = reduce(getattr(history[bi][si], attr), lambda stmts: holds(with_stmts(stmts)))
                    history = with_stmts(kept)
        history = [b for b in history if b]
        # 3. fewer initial rows: chunks of each table's, halves first
        for n, item in enumerate(self.setup):
            if not isinstance(item, Rows):
                continue
            rows = item.rows
            chunks = 2
            while rows and time.time() < deadline:
                size = -(-len(rows) // chunks)
                for at in range(0, len(rows), size):
                    if time.time() > deadline:
                        break
                    cand = rows[:at] + rows[at + size:]
                    keep = self.setup[n]
                    self.setup[n] = Rows(item.table, cand)
                    if holds(history):
                        rows = cand
                        chunks = max(chunks - 1, 2)
                        break
                    self.setup[n] = keep
                else:
                    if size == 1:
                        break
                    chunks = min(chunks * 2, len(rows))
        found = found[0]
        # 4. a simpler query
        progress = True
        while progress and time.time() < deadline:
            progress = False
            for s in q.simpler():
                if time.time() > deadline:
                    break
                r = self.fails(s, history)
                if r:
                    q, found, progress = s, r, True
                    break
        status, message, m, r = found
        print(f"  minimal case ({self.trials} replays{'' if time.time() < deadline else ', shrinking stopped at its time limit'}):")
        print("    -- after the round's setup (printed below; --round-seed replays the whole round):")
        for name, msql, layer, mat in self.prelude:
            print(f"    SELECT medallion_create_model('{name}', $$ {msql} $$, layer => '{layer}', materialized => '{mat}');")
        how = f", maintain => '{self.maintain}'" if getattr(self, "maintain", None) else ""
        print(f"    SELECT medallion_create_model('q', $$ {q.render()} $$, layer => '{self.layer}', "
              f"materialized => 'table'{how});")
        print("    SELECT * FROM medallion_run('all', changed_only => false);")
        for n, steps in enumerate(history):
            print("    " + batch_sql(steps).replace("\n", "\n    "))
            print(f"    SELECT * FROM medallion_run('all', changed_only => true, threads => {self.threads});"
                  + ("  -- the mismatch" if n == len(history) - 1 else ""))
        print(f"    -- the run said {status}: {message}")
        for label, rows in (("in the model only", m), ("in the query only", r)):
            print(f"    -- {label}: {rows[:10]}")
        print("    -- the round's setup (its initial rows shrunk), run before the above:\n    "
              + ";\n    ".join(str(x) for x in self.setup if str(x)) + ";")
        sys.stdout.flush()


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="", help="libpq connection string without dbname (a superuser)")
    ap.add_argument("--seed", type=int, default=None, help="the seed of the whole run (printed)")
    ap.add_argument("--round-seed", type=int, default=None, help="replay one round")
    ap.add_argument("--cases", type=int, default=1000, help="stop after this many cases")
    ap.add_argument("--queries", type=int, default=8, help="models per round")
    ap.add_argument("--batches", type=int, default=25, help="DML batches per round")
    ap.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--shrink-time", type=float, default=300, help="seconds to spend shrinking a failure")
    ap.add_argument("--maintain", default="auto",
                    help="maintain => this for every table model, when medallion_create_model takes it: auto, "
                         "incremental, full, or mixed (each model one of them); '' for none")
    ap.add_argument("--class-share", type=float, default=0.6,
                    help="the share of queries drawn from the class maintained (the rest from the whole grammar)")
    ap.add_argument("--small-batches", type=float, default=0.5,
                    help="the share of batches that are one or two small statements on one table")
    ap.add_argument("--dbname", default="diff_maintain", help="the database made (and dropped) for each round")
    ap.add_argument("--keep-going", action="store_true", help="go on after a mismatch")
    ap.add_argument("--sabotage", action="store_true",
                    help="test the harness: after each change-aware run, delete the rows whose first column is NULL "
                         "from every model (a made-up maintenance bug it must report and shrink)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1, 1000000)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    start = time.time()
    deadline = start + args.time_limit if args.time_limit else float("inf")
    stats = {"cases": 0, "mismatches": 0, "errors": 0, "batches": 0, "models": 0, "invalid": 0, "refused": 0,
             "statements": 0, "failed": 0, "fallbacks": 0, "why_full": {}, "refused_now": 0, "inc_kind": {}}
    probe = Db(args, "postgres")
    with probe.connect("postgres") as c:
        twophase = int(c.execute("SHOW max_prepared_transactions").fetchone()[0])
        version = c.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'medallion'").fetchone()
    print(f"seed {args.seed}; medallion {version[0] if version else '?'}; "
          + ("two-phase commits on" if twophase else
             "max_prepared_transactions = 0: no two-phase commits (set it > 0 to test them)"), flush=True)
    master = random.Random(args.seed)
    rounds = 0
    idle = 0
    ok = True
    while stats["cases"] < args.cases and time.time() < deadline:
        seed = args.round_seed if args.round_seed is not None else master.randrange(1, 2 ** 31)
        rounds += 1
        before = stats["cases"]
        r = Round(args, seed)
        if args.verbose:
            print(f"round {rounds}: seed {seed}, {r.schema.partitioning} fact, {r.schema.ndims} dimensions"
                  + (", a view model over the fact" if r.view else "") + f", threads => {r.threads}", flush=True)
        try:
            good = r.play(stats, deadline)
        except KeyboardInterrupt:    # SIGINT or SIGTERM: stop here, and say how far it got
            print(f"interrupted in round seed {seed}")
            break
        except psycopg.Error as e:   # the harness's own SQL failed: an error, not a mismatch
            stats["errors"] += 1
            print(f"ERROR round seed {seed}: {type(e).__name__}: {e}", flush=True)
            good = False
        ok = ok and good
        if not good and not args.keep_going:
            break
        idle = idle + 1 if stats["cases"] == before else 0
        if idle == 3:
            print("ERROR three rounds in a row compared nothing: stopping")
            stats["errors"] += 1
            break
        if args.round_seed is not None:
            break
        if rounds % 10 == 0:
            print(f"  {rounds} rounds, {stats['cases']} cases, {stats['mismatches']} mismatches, "
                  f"{time.time() - start:.0f} s", flush=True)
    ups = stats.get("status_up_to_date", 0)
    print(f"seed {args.seed}: {stats['cases']} cases, {stats['mismatches']} mismatches, {stats['errors']} errors "
          f"({rounds} rounds, {stats['models']} models, {stats['batches']} batches; {ups} cases up to date, "
          f"{stats.get('status_success', 0)} built; {stats['invalid']} queries invalid, {stats['refused']} refused; "
          f"{stats['statements']} DML statements, {stats['failed']} of them failed and rolled back; "
          + (f"maintain => '{args.maintain}', {stats['fallbacks']} models made 'auto' when refused"
             if stats.get("maintain") and args.maintain else "medallion_create_model takes no maintain")
          + ") "
          f"in {time.time() - start:.0f} s", flush=True)
    print(f"  tests checked against the table: {stats.get('tests_checked', 0)}, of them after a step testing "
          f"only the rows it wrote: {stats.get('tests_written', 0)}; {stats.get('models_refs', 0)} models "
          f"with a relationships test, {stats.get('refs_written', 0)} of those steps with it")
    if stats["refused_now"]:
        print(f"  {stats['refused_now']} steps of maintain => 'incremental' models refused to rebuild whole "
              "(as documented), then run with full_refresh")
    print(f"  models planned: {stats.get('plan_incremental', 0)} incremental:, {stats.get('plan_full', 0)} full:, "
          f"{sum(v for k, v in stats.items() if k.startswith('plan_') and k not in ('plan_incremental', 'plan_full'))} other")
    print(f"  steps built: {stats.get('how_incremental', 0)} incremental:, {stats.get('how_full', 0)} full:, "
          f"{stats.get('how_other', 0)} other (views, up to date, models not maintained)", flush=True)
    print("  incremental steps by query: " + (", ".join(f"{k} {v}" for k, v in sorted(stats["inc_kind"].items()))
                                               or "none"), flush=True)
    for why, n in sorted(stats["why_full"].items(), key=lambda x: -x[1])[:10]:
        print(f"    {n:7d}  {why}", flush=True)
    return 0 if ok and stats["mismatches"] == 0 and stats["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

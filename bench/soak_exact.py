#!/usr/bin/python3
"""bench/soak_exact.py: a randomized differential soak of change-aware runs.

A pipeline of every materialization (views, an ephemeral model, tables
with joins and aggregates, a snapshot, and incremental models: merge,
delete+insert and append) over a plain table, a partitioned table (two
levels, read through the top and at a leaf), an inheritance parent with children, a dimension,
and a table kept current by a logical replication subscription from a
second database.  Writers change the sources at random meanwhile:
inserts, updates, deletes, COPY, TRUNCATE and reload, writes through every
level of the partitioned table, two-phase commits (some committed after a
run), subtransactions rolled back, writes in replica role, transactions
left open across runs.  Runs go on all the time, serial or with threads.

At each check point the writers pause (open and prepared transactions end),
replication catches up, a change-aware run builds what changed, and every
model is compared with its own query (the binding medallion runs), both
ways with EXCEPT ALL: a model reported up to date, or built, must equal it.
A snapshot's current rows must equal its source, an incremental model
(merge, delete+insert and append; over a plain table, through a view, over
a partitioned table, an inheritance tree and a subscribed table; one whose
watermark is the later of two tables' timestamps) must hold
every current source row, and append each version once.  A mismatch prints the model, the rows that
differ and the writes since the last check point, and the exit status is 1.

    soak_exact.py --dsn "host=... dbname=postgres" [--seed N] [--checks N]
                  [--writers N] [--incremental]

The seed is printed; the same seed replays the same choices (the timing of
the threads still varies).  The sizes of the change log and of the
captured lows (row capture of incremental models) are printed at the end.
"""
import argparse
import random
import sys
import threading
import time

import psycopg

SOURCES = """
CREATE SCHEMA src;
CREATE TABLE src.customers (id int PRIMARY KEY, name text, tier text,
                            at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO src.customers SELECT g, 'c' || g, (ARRAY['gold','silver','bronze'])[1 + g % 3] FROM generate_series(1, 30) g;
CREATE TABLE src.orders (id int PRIMARY KEY, customer int, amount numeric, status text,
                         at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO src.orders SELECT g, 1 + g % 30, g % 97, (ARRAY['new','paid','sent'])[1 + g % 3], clock_timestamp()
  FROM generate_series(1, 300) g;
CREATE TABLE src.events (id int, region text, kind text, v int) PARTITION BY LIST (region);
CREATE TABLE src.events_n PARTITION OF src.events FOR VALUES IN ('n') PARTITION BY RANGE (id);
CREATE TABLE src.events_n_lo PARTITION OF src.events_n FOR VALUES FROM (MINVALUE) TO (500);
CREATE TABLE src.events_n_hi PARTITION OF src.events_n FOR VALUES FROM (500) TO (MAXVALUE);
CREATE TABLE src.events_s PARTITION OF src.events FOR VALUES IN ('s');
CREATE TABLE src.events_other PARTITION OF src.events DEFAULT;
INSERT INTO src.events SELECT g, (ARRAY['n','s','e'])[1 + g % 3], (ARRAY['a','b'])[1 + g % 2], g % 11
  FROM generate_series(1, 900) g;
CREATE TABLE src.logs (id int, level text, n int);
CREATE TABLE src.logs_a () INHERITS (src.logs);
CREATE TABLE src.logs_b () INHERITS (src.logs);
INSERT INTO src.logs SELECT g, 'info', g FROM generate_series(1, 20) g;
INSERT INTO src.logs_a SELECT g, 'warn', g FROM generate_series(21, 40) g;
CREATE TABLE src.repl (id int PRIMARY KEY, grp int, val int);
"""

PUBLISHER = """
CREATE SCHEMA src;
CREATE TABLE src.repl (id int PRIMARY KEY, grp int, val int);
INSERT INTO src.repl SELECT g, g % 7, g FROM generate_series(1, 200) g;
CREATE PUBLICATION soak_pub FOR TABLE src.repl;
SELECT pg_create_logical_replication_slot('soak_slot', 'pgoutput');
"""

# name, materialized, SQL; in dependency order
MODELS = [
    ("brnz_orders", "view", "SELECT id, customer, amount, status, at FROM src.orders"),
    ("brnz_events", "view", "SELECT id, region, kind, v FROM src.events"),
    ("eph_big", "ephemeral", "SELECT id, customer, amount, status FROM brnz_orders WHERE amount > 50"),
    ("slvr_customer_totals", "table",
     "SELECT customer, count(*) AS orders, sum(amount) AS amount FROM brnz_orders GROUP BY customer"),
    ("slvr_big_by_status", "table", "SELECT status, count(*) AS orders, sum(amount) AS amount FROM eph_big GROUP BY status"),
    ("slvr_events", "table",
     "SELECT region, kind, count(*) AS events, sum(v) AS v FROM brnz_events GROUP BY region, kind"),
    ("slvr_events_leaf", "table", "SELECT count(*) AS events, coalesce(sum(v), 0) AS v FROM src.events_n_lo"),
    ("slvr_logs", "table", "SELECT level, count(*) AS lines, sum(n) AS n FROM src.logs GROUP BY level"),
    ("slvr_repl", "table", "SELECT grp, count(*) AS rows, sum(val) AS val FROM src.repl GROUP BY grp"),
    ("gld_tiers", "table",
     "SELECT c.tier, sum(t.amount) AS amount, sum(t.orders) AS orders "
     "FROM slvr_customer_totals t JOIN src.customers c ON c.id = t.customer GROUP BY c.tier"),
    ("gld_tiers_view", "view", "SELECT tier, amount FROM gld_tiers"),
    ("gld_everything", "table",
     "SELECT (SELECT sum(amount) FROM slvr_big_by_status) AS big, (SELECT sum(v) FROM slvr_events) AS v, "
     "(SELECT sum(n) FROM slvr_logs) AS n, (SELECT sum(val) FROM slvr_repl) AS val"),
]
SNAPSHOT = ("snap_customers", "SELECT id, name, tier FROM src.customers")
# name, SQL, strategy, unique key, watermark; the source each is compared with
INCREMENTAL = [
    ("inc_orders", "SELECT id, customer, amount, status, at FROM src.orders", "merge", ["id"], "at",
     "SELECT id, customer, amount, status, at FROM src.orders"),
    ("inc_orders_di", "SELECT id, customer, amount, status, at FROM brnz_orders", "delete+insert", ["id"], "at",
     "SELECT id, customer, amount, status, at FROM src.orders"),
    ("inc_orders_app", "SELECT id, amount, status, at FROM src.orders", "append", None, "at",
     "SELECT id, amount, status, at FROM src.orders"),
    ("inc_events", "SELECT id, region, kind, v FROM src.events WHERE id >= 1000", "merge", ["id"], "id",
     "SELECT id, region, kind, v FROM src.events WHERE id >= 1000"),
    ("inc_logs", "SELECT id, level, n FROM src.logs", "merge", ["id"], "id", "SELECT id, level, n FROM src.logs"),
    ("inc_repl", "SELECT id, grp, val FROM src.repl", "merge", ["id"], "id", "SELECT id, grp, val FROM src.repl"),
    # a watermark that is the later of two tables' timestamps (row capture of both)
    ("inc_order_tiers", "SELECT o.id, o.amount, c.tier, greatest(o.at, c.at) AS at "
     "FROM src.orders o JOIN src.customers c ON c.id = o.customer", "merge", ["id"], "at",
     "SELECT o.id, o.amount, c.tier, greatest(o.at, c.at) AS at FROM src.orders o JOIN src.customers c ON c.id = o.customer"),
]


def layer(name):
    return {"brnz": "bronze", "slvr": "silver", "gld": "gold", "eph": "silver", "snap": "silver", "inc": "silver"}[
        name.split("_")[0]]


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.pause = threading.Event()
        self.stop = threading.Event()
        self.paused = threading.Semaphore(0)
        self.ops_lock = threading.Lock()
        self.ops = []
        self.next_id = 100000
        self.id_lock = threading.Lock()
        self.gid = 0
        self.errors = []
        self.deadlocked = 0

    def connect(self, db=None, autocommit=True):
        dsn = self.args.dsn + (f" dbname={db}" if db else "")
        return psycopg.connect(dsn, autocommit=autocommit)

    def note(self, text):
        with self.ops_lock:
            self.ops.append(text)

    def new_ids(self, n):
        with self.id_lock:
            start = self.next_id
            self.next_id += n
            return list(range(start, start + n))

    # --- setup --------------------------------------------------------
    def setup(self):
        with self.connect("postgres") as c:
            for db in ("soak_exact", "soak_exact_pub"):
                c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            for slot in c.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'soak_slot'"):
                c.execute("SELECT pg_drop_replication_slot('soak_slot')")
            c.execute("CREATE DATABASE soak_exact")
            c.execute("CREATE DATABASE soak_exact_pub")
        with self.connect("soak_exact_pub") as c:
            for stmt in PUBLISHER.split(";\n"):  # the slot wants a transaction of its own
                if stmt.strip():
                    c.execute(stmt)
        with self.connect("soak_exact") as c:
            c.execute("CREATE EXTENSION medallion")
            c.execute(SOURCES)
            c.execute("SET client_min_messages = warning")
            for name, mat, sql in MODELS:
                c.execute("SELECT medallion_create_model(%s, %s, layer => %s, materialized => %s)",
                          (name, sql, layer(name), mat))
            c.execute("SELECT medallion_create_model(%s, %s, layer => 'silver', materialized => 'snapshot', "
                      "unique_key => ARRAY['id'], snapshot_strategy => 'check', check_columns => ARRAY['name', 'tier'])",
                      SNAPSHOT)
            if self.args.incremental:
                for name, sql, strategy, key, watermark, _ in INCREMENTAL:
                    c.execute("SELECT medallion_create_model(%s, %s, layer => 'silver', materialized => 'incremental', "
                              "strategy => %s, unique_key => %s, watermark => %s)", (name, sql, strategy, key, watermark))
            info = c.info
            conninfo = f"host={info.host} port={info.port} user={info.user} dbname=soak_exact_pub"
            c.execute(f"CREATE SUBSCRIPTION soak_sub CONNECTION '{conninfo}' PUBLICATION soak_pub "
                      "WITH (create_slot = false, slot_name = 'soak_slot')")
        self.wait_replication()

    def wait_replication(self):
        """Wait until the subscriber has what the publisher committed."""
        with self.connect("soak_exact_pub") as p, self.connect("soak_exact") as s:
            for _ in range(600):
                want = p.execute("SELECT count(*), coalesce(sum(val), 0) FROM src.repl").fetchone()
                have = s.execute("SELECT count(*), coalesce(sum(val), 0) FROM src.repl").fetchone()
                if want == have:
                    return
                time.sleep(0.05)
        raise RuntimeError("replication did not catch up in 30 s")

    # --- writers --------------------------------------------------------
    def write_once(self, c, pub, rng):
        """One random writing transaction (or a piece of a long one)."""
        kind = rng.choices(["orders", "events", "logs", "repl", "customers", "copy", "truncate",
                            "twophase", "savepoint", "replica", "long"],
                           weights=[20, 15, 8, 10, 5, 3, 1, 4, 5, 3, 2])[0]
        if kind == "orders":
            with c.transaction():
                ids = self.new_ids(rng.randint(1, 5))
                for i in ids:
                    c.execute("INSERT INTO src.orders VALUES (%s, %s, %s, %s)",
                              (i, rng.randint(1, 30), rng.randint(0, 99), rng.choice(["new", "paid", "sent"])))
                c.execute("UPDATE src.orders SET amount = amount + 1, at = clock_timestamp() "
                          "WHERE id IN (SELECT id FROM src.orders ORDER BY random() LIMIT %s)", (rng.randint(0, 4),))
                if rng.random() < 0.3:
                    c.execute("DELETE FROM src.orders WHERE id IN (SELECT id FROM src.orders ORDER BY random() LIMIT 2)")
        elif kind == "events":
            with c.transaction():
                target = rng.choice(["src.events", "src.events_n", "src.events_n_lo", "src.events_s"])
                region = {"src.events_n": "n", "src.events_n_lo": "n", "src.events_s": "s"}.get(target, rng.choice("nse"))
                ids = self.new_ids(2)
                lo = target == "src.events_n_lo"
                for i in ids:
                    c.execute(f"INSERT INTO {target} VALUES (%s, %s, %s, %s)",
                              (i % 500 if lo else i, region, rng.choice("ab"), rng.randint(0, 10)))
                c.execute(f"UPDATE {target} SET v = v + 1 WHERE id IN (SELECT id FROM {target} ORDER BY random() LIMIT 2)")
                if rng.random() < 0.2:  # a row moves to another partition
                    c.execute("UPDATE src.events SET region = %s WHERE id IN (SELECT id FROM src.events ORDER BY random() LIMIT 1)",
                              (rng.choice("nse"),))
                if rng.random() < 0.2:
                    c.execute(f"DELETE FROM {target} WHERE id IN (SELECT id FROM {target} ORDER BY random() LIMIT 1)")
                kind = f"events via {target}"
        elif kind == "logs":
            with c.transaction():
                target = rng.choice(["src.logs", "src.logs_a", "src.logs_b"])
                c.execute(f"INSERT INTO {target} VALUES (%s, %s, %s)",
                          (self.new_ids(1)[0], rng.choice(["info", "warn", "error"]), rng.randint(0, 9)))
                if rng.random() < 0.3:
                    c.execute("UPDATE src.logs SET n = n + 1 WHERE id IN (SELECT id FROM src.logs ORDER BY random() LIMIT 1)")
                kind = f"logs via {target}"
        elif kind == "repl":
            with pub.transaction():
                op = rng.choice(["insert", "update", "delete"])
                if op == "insert":
                    pub.execute("INSERT INTO src.repl VALUES (%s, %s, %s)", (self.new_ids(1)[0], rng.randint(0, 6), rng.randint(0, 99)))
                elif op == "update":
                    pub.execute("UPDATE src.repl SET val = val + 1 WHERE id IN (SELECT id FROM src.repl ORDER BY random() LIMIT 3)")
                else:
                    pub.execute("DELETE FROM src.repl WHERE id IN (SELECT id FROM src.repl ORDER BY random() LIMIT 1)")
                kind = f"repl {op}"
        elif kind == "customers":
            with c.transaction():
                # its timestamp moves on, or back (an older value than its orders' may be written)
                c.execute("UPDATE src.customers SET tier = %s, at = clock_timestamp() - %s * interval '1 hour' WHERE id = %s",
                          (rng.choice(["gold", "silver", "bronze"]), rng.choice([0, 0, 1, 24]), rng.randint(1, 30)))
        elif kind == "copy":
            with c.transaction():
                with c.cursor().copy("COPY src.logs_b (id, level, n) FROM STDIN") as cp:
                    for i in self.new_ids(10):
                        cp.write_row((i, "copy", rng.randint(0, 9)))
        elif kind == "truncate":
            with c.transaction():
                c.execute("CREATE TEMP TABLE IF NOT EXISTS keep_events AS SELECT * FROM src.events WITH NO DATA")
                c.execute("TRUNCATE keep_events")
                c.execute("INSERT INTO keep_events SELECT * FROM src.events")
                c.execute("TRUNCATE src.events")
                c.execute("INSERT INTO src.events SELECT * FROM keep_events WHERE random() < 0.9")
        elif kind == "twophase":
            self.gid += 1
            gid = f"soak_{threading.get_ident()}_{self.gid}"
            c.execute("BEGIN")
            c.execute("INSERT INTO src.orders VALUES (%s, %s, %s, 'new')", (self.new_ids(1)[0], rng.randint(1, 30), rng.randint(0, 99)))
            c.execute("INSERT INTO src.logs_a VALUES (%s, 'info', 1)", (self.new_ids(1)[0],))
            c.execute(f"PREPARE TRANSACTION '{gid}'")
            time.sleep(rng.random() * 0.3)  # a run may go by meanwhile
            c.execute(f"COMMIT PREPARED '{gid}'" if rng.random() < 0.8 else f"ROLLBACK PREPARED '{gid}'")
            kind = f"two-phase {gid}"
        elif kind == "savepoint":
            with c.transaction():
                c.execute("INSERT INTO src.orders VALUES (%s, %s, 1, 'new')", (self.new_ids(1)[0], rng.randint(1, 30)))
                try:
                    with c.transaction():
                        c.execute("INSERT INTO src.events VALUES (%s, 's', 'a', 5)", (self.new_ids(1)[0],))
                        c.execute("INSERT INTO src.logs VALUES (%s, 'info', 1)", (self.new_ids(1)[0],))
                        raise psycopg.Rollback()
                except psycopg.Rollback:
                    pass
        elif kind == "replica":
            with c.transaction():
                c.execute("SET LOCAL session_replication_role = replica")
                c.execute("INSERT INTO src.logs_b VALUES (%s, 'replica', 2)", (self.new_ids(1)[0],))
                c.execute("UPDATE src.orders SET status = 'sent', at = clock_timestamp() "
                          "WHERE id IN (SELECT id FROM src.orders ORDER BY random() LIMIT 1)")
        elif kind == "long":
            with c.transaction():
                c.execute("INSERT INTO src.orders VALUES (%s, %s, 7, 'new')", (self.new_ids(1)[0], rng.randint(1, 30)))
                time.sleep(0.2 + rng.random() * 0.5)  # open across a run
                c.execute("INSERT INTO src.events_s VALUES (%s, 's', 'b', 3)", (self.new_ids(1)[0],))
        self.note(kind)

    def writer(self, n):
        rng = random.Random(self.args.seed * 1000 + n)
        try:
            with self.connect("soak_exact") as c, self.connect("soak_exact_pub") as pub:
                while not self.stop.is_set():
                    if self.pause.is_set():
                        self.paused.release()
                        while self.pause.is_set() and not self.stop.is_set():
                            time.sleep(0.01)
                        continue
                    try:
                        self.write_once(c, pub, rng)
                    except psycopg.errors.SerializationFailure:
                        pass
                    except psycopg.errors.DeadlockDetected:
                        pass
                    except psycopg.errors.UniqueViolation:
                        pass
        except Exception as e:  # a writer that dies stops the soak
            self.errors.append(f"writer {n}: {e!r}")
            self.stop.set()
            self.paused.release()

    # --- runs and checks ------------------------------------------------
    def run(self, c, threads):
        """A change-aware run of every model.  A run that deadlocks with a
        writer's TRUNCATE of a partitioned table (the run holds a partition
        a model read and waits for its parent, which the TRUNCATE holds
        first) fails whole and publishes nothing: it is counted and run
        again, as a scheduler would."""
        for _ in range(5):
            try:
                rows = c.execute("SELECT model, status, message FROM medallion_run('all', threads => %s, "
                                 "changed_only => true)", (threads,)).fetchall()
                break
            except psycopg.errors.DeadlockDetected:
                self.deadlocked += 1
        else:
            raise RuntimeError("five runs in a row deadlocked")
        failed = [r for r in rows if r[1] not in ("success", "up_to_date")]
        return rows, failed

    def check(self, c):
        """Every model equals its query; returns the mismatches."""
        bad = []
        models = [m for m, mat, _ in MODELS if mat != "ephemeral"]
        for m in models:
            sch = c.execute("SELECT l.schema_name FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer "
                            "WHERE m.name = %s", (m,)).fetchone()[0]
            diff = c.execute(
                f"SELECT 'published only' AS side, * FROM (SELECT * FROM {sch}.{m} EXCEPT ALL SELECT * FROM medallion_bind.{m}) a "
                f"UNION ALL SELECT 'query only', * FROM (SELECT * FROM medallion_bind.{m} EXCEPT ALL SELECT * FROM {sch}.{m}) b "
                "LIMIT 10").fetchall()
            if diff:
                bad.append((m, diff))
        diff = c.execute(
            "SELECT * FROM ((SELECT id, name, tier FROM silver.snap_customers WHERE is_current "
            " EXCEPT ALL SELECT id, name, tier FROM src.customers) UNION ALL "
            "(SELECT id, name, tier FROM src.customers EXCEPT ALL "
            " SELECT id, name, tier FROM silver.snap_customers WHERE is_current)) d LIMIT 10").fetchall()
        if diff:
            bad.append(("snap_customers (current rows against src.customers)", diff))
        if self.args.incremental:
            # every current source row is published (deleted ones may stay, as in dbt);
            # append adds each version once
            for name, _, strategy, _, _, source in INCREMENTAL:
                cols = source.split(" FROM ")[0][len("SELECT "):]
                # the published columns are the query's, in its order
                diff = c.execute(f"SELECT * FROM ({source} EXCEPT ALL SELECT * FROM silver.{name}) d LIMIT 10").fetchall()
                if diff:
                    bad.append((f"{name} (source rows missing or stale)", diff))
                if strategy == "append":
                    twice = c.execute(f"SELECT {cols}, count(*) FROM silver.{name} GROUP BY {cols} "
                                      "HAVING count(*) > 1 LIMIT 10").fetchall()
                    if twice:
                        bad.append((f"{name} (rows appended twice)", twice))
        return bad

    def soak(self):
        self.setup()
        threads = [threading.Thread(target=self.writer, args=(n,), daemon=True) for n in range(self.args.writers)]
        for t in threads:
            t.start()
        checks = runs = mismatches = 0
        rng = self.rng
        with self.connect("soak_exact") as c:
            c.execute("SET client_min_messages = warning")
            c.execute("SET medallion.worker_min_ms = 0")
            while checks < self.args.checks and not self.stop.is_set():
                # runs while the writers write
                for _ in range(rng.randint(1, 3)):
                    rows, failed = self.run(c, rng.choice([1, 1, 2]))
                    runs += 1
                    if failed:
                        self.errors.append(f"run {runs}: {failed}")
                    time.sleep(rng.random() * 0.1)
                # a quiet point: writers pause, replication catches up
                self.pause.set()
                for _ in threads:
                    self.paused.acquire()
                if self.stop.is_set():
                    break
                self.wait_replication()
                rows, failed = self.run(c, rng.choice([1, 2]))
                runs += 1
                if failed:
                    self.errors.append(f"check run {runs}: {failed}")
                bad = self.check(c)
                checks += 1
                if bad:
                    mismatches += 1
                    print(f"MISMATCH at check point {checks} (run {runs}, seed {self.args.seed}):")
                    for m, diff in bad:
                        print(f"  {m}:")
                        for r in diff:
                            print(f"    {r}")
                    with self.ops_lock:
                        print("  writes since the last check point: " + ", ".join(self.ops))
                    print("  the check point's run: " + "; ".join(f"{r[0]} {r[1]} {r[2] or ''}" for r in rows))
                with self.ops_lock:
                    self.ops = []
                self.pause.clear()
                if checks % 50 == 0:
                    print(f"{checks} check points, {runs} runs, {mismatches} with mismatches", flush=True)
            self.stop.set()
            self.pause.clear()
            for t in threads:
                t.join(timeout=10)
            log = c.execute("SELECT count(*) FROM medallion.changes").fetchone()[0]
            lows = c.execute("SELECT count(*) FROM medallion.written_lows").fetchone()[0]
        with self.connect("soak_exact") as c:
            c.execute("ALTER SUBSCRIPTION soak_sub DISABLE")
            c.execute("ALTER SUBSCRIPTION soak_sub SET (slot_name = NONE)")
            c.execute("DROP SUBSCRIPTION soak_sub")
        with self.connect("soak_exact_pub") as c:
            c.execute("SELECT pg_drop_replication_slot('soak_slot')")
        print(f"seed {self.args.seed}: {checks} check points, {runs} runs, {mismatches} mismatches, "
              f"change log {log} rows, captured lows {lows} rows; {self.deadlocked} runs deadlocked "
              "with a TRUNCATE and ran again")
        for e in self.errors:
            print(f"ERROR {e}")
        return 1 if mismatches or self.errors or checks < self.args.checks else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="", help="libpq connection string without dbname (a superuser)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--checks", type=int, default=30, help="check points to reach")
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--no-incremental", dest="incremental", action="store_false",
                    help="leave out the incremental models (merge, delete+insert, append over every kind of source)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1, 1000000)
    print(f"seed {args.seed}", flush=True)
    sys.exit(Soak(args).soak())


if __name__ == "__main__":
    main()

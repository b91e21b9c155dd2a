"""The database: one psycopg connection and transaction, each statement
in a savepoint; a dry run prints the statements (and runs them when
connected: the transaction is rolled back at the end).  Without a
connection (a dry run with no --dsn) it only prints and answers nothing."""
import contextlib

from .errors import Skip, TransactionEnded
from .sqltext import Column, QueryResult, UnknownResult, quote_literal


class Database:
    def __init__(self, dsn, dry_run):
        self.dry_run = dry_run
        self.conn = None
        self.phase = 'parse'        # then 'import': what a failing run_query means
        if dsn is not None or not dry_run:
            import psycopg
            self.psycopg = psycopg
            self.conn = psycopg.connect(dsn or '', autocommit=False)

    @property
    def connected(self):
        return self.conn is not None

    # what templates ask of the database
    def query(self, sql):
        """run_query: in a savepoint, as the importing role.  While the
        project is parsed (models not created yet) a failing query answers
        nothing; when the model is rendered for its import it is a skip."""
        if self.conn is None:
            raise Skip('run_query needs a database (--dsn)')
        with self.conn.cursor() as cur:
            cur.execute('SAVEPOINT medallion_dbt_query')
            try:
                cur.execute(sql, None)
                result = QueryResult([d.name for d in cur.description], cur.fetchall()) \
                    if cur.description is not None else QueryResult([], [])
            except self.psycopg.Error as e:
                self.end_query(cur, 'ROLLBACK TO', sql)
                if self.phase == 'parse':
                    return UnknownResult()
                raise Skip(f'run_query failed: {(e.diag.message_primary or str(e)).strip()}')
            self.end_query(cur, 'RELEASE', sql)
            return result

    def end_query(self, cur, how, sql):
        """Release (or roll back to) run_query's savepoint.  When it is gone
        the query's own SQL ended the import's transaction (COMMIT, ROLLBACK):
        the SQL runs as the importing role, which a template cannot be
        stopped from doing; the import stops and says so."""
        try:
            cur.execute(f'{how} SAVEPOINT medallion_dbt_query')
        except self.psycopg.Error:
            short = ' '.join(sql.split())
            short = short if len(short) <= 60 else short[:57] + '...'
            raise TransactionEnded(f'run_query("{short}") ended the transaction the import runs in: '
                                   f'what ran before it may have been committed, also in a dry run')

    def columns_of(self, relation):
        rows = self.query_params(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
            "WHERE a.attrelid = pg_catalog.to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [str(relation)])
        return [Column(n, t) for n, t in rows]

    def role(self):
        """The importing role's name (current_user), for messages."""
        found = self.query_params('SELECT current_user', [])
        return found[0][0] if found else None

    def query_params(self, sql, params):
        if self.conn is None:
            return []
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    # statements: run (or print) each in a savepoint
    def show(self, sql, params=()):
        """Print a statement with its parameters, as a dry run does."""
        pieces = sql.split('%s')
        shown = pieces[0] + ''.join(quote_literal(v) + piece for v, piece in zip(params, pieces[1:]))
        print(shown.rstrip() + ';')

    def run(self, sql, params=(), fetch=False, show=True):
        """Run a statement in a savepoint; a dry run prints it (unless not
        show: the caller prints what it keeps), and runs it too when
        connected (the transaction is rolled back at the end), so that what
        follows sees it as the import would.  A failure is a Skip with
        PostgreSQL's message and its sqlstate."""
        if self.dry_run and show:
            self.show(sql, params)
        if self.conn is None:
            return None
        with self.conn.cursor() as cur:
            cur.execute('SAVEPOINT medallion_dbt')
            try:
                cur.execute(sql, list(params) or None)
                result = cur.fetchone() if fetch else None
            except self.psycopg.Error as e:
                cur.execute('ROLLBACK TO SAVEPOINT medallion_dbt')
                diag = e.diag
                skip = Skip((diag.message_primary or str(e)).strip()
                            + (f' ({diag.message_detail})' if diag.message_detail else ''))
                skip.sqlstate = e.sqlstate
                skip.primary = diag.message_primary
                raise skip
            cur.execute('RELEASE SAVEPOINT medallion_dbt')
            return result

    def copy(self, table, text):
        """COPY the CSV text (with its header) into table, in a savepoint."""
        if self.conn is None:
            return
        with self.conn.cursor() as cur:
            cur.execute('SAVEPOINT medallion_dbt')
            try:
                with cur.copy(f'COPY {table} FROM STDIN (FORMAT csv, HEADER true)') as copy:
                    copy.write(text)
            except self.psycopg.Error as e:
                cur.execute('ROLLBACK TO SAVEPOINT medallion_dbt')
                raise Skip(f'COPY: {e.diag.message_primary}')
            cur.execute('RELEASE SAVEPOINT medallion_dbt')

    @contextlib.contextmanager
    def group(self):
        """Several statements that stand or fall together (a seed)."""
        if self.conn is None:
            yield
            return
        with self.conn.cursor() as cur:
            cur.execute('SAVEPOINT medallion_dbt_group')
        try:
            yield
        except Skip:
            with self.conn.cursor() as cur:
                cur.execute('ROLLBACK TO SAVEPOINT medallion_dbt_group')
                cur.execute('RELEASE SAVEPOINT medallion_dbt_group')
            raise
        with self.conn.cursor() as cur:
            cur.execute('RELEASE SAVEPOINT medallion_dbt_group')

    def rollback(self):
        if self.conn is not None:
            self.conn.rollback()

    def finish(self, commit):
        """Commit (or roll back) the import's transaction and close."""
        if self.conn is None:
            return
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()
        self.conn.close()

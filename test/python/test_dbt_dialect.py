"""medallion-dbt's T-SQL, with no database: what sqlglot (Debian's
python3-sqlglot) translates, what is refused, and that a T-SQL project's
models and tests go through it.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_dialect.py
"""
import unittest

import dbt_unit
from medallion_dbt.dialect import Catalog, translate_tsql, translate_tsql_condition, tsql_hint
from medallion_dbt.errors import Skip


class Translate(unittest.TestCase):
    def test_translated(self):
        cases = [
            ('SELECT ISNULL(a, 0) AS a FROM t', 'SELECT COALESCE(a, 0) AS a FROM t'),
            ('SELECT CONVERT(INT, x) FROM t', 'SELECT CAST(x AS INT) FROM t'),
            ('SELECT CONVERT(VARCHAR(10), x) FROM t', 'SELECT CAST(x AS VARCHAR(10)) FROM t'),
            ('SELECT GETDATE() AS now', 'SELECT CURRENT_TIMESTAMP AS now'),
            # SQL Server sorts NULLs first, as said
            ('SELECT TOP 5 a FROM t ORDER BY a', 'SELECT a FROM t ORDER BY a NULLS FIRST LIMIT 5'),
            ('SELECT [order id], [x] FROM [dbo].[orders]', 'SELECT "order id", "x" FROM "dbo"."orders"'),
            ('SELECT LEN(a) FROM t', 'SELECT LENGTH(a) FROM t'),
        ]
        for tsql, want in cases:
            with self.subTest(tsql=tsql):
                self.assertEqual(translate_tsql(tsql), want)

    def test_word_for_word(self):
        # '+' on text is translated as it is: PostgreSQL refuses it when the
        # model is created, and the import reports that
        self.assertEqual(translate_tsql("SELECT a + '-' + b FROM t"), "SELECT a + '-' + b FROM t")

    def test_refused(self):
        cases = [
            # the construct, where it is
            ('SELECT * FROM (SELECT region, amount FROM o) s PIVOT (SUM(amount) FOR region IN ([n], [s])) p',
             'T-SQL could not be translated: Invalid expression / Unexpected token at "PIVOT" (line 1, column 48)'),
            ('SELECT 1; SELECT 2', 'T-SQL could not be translated: not one statement'),
            ('SELECT (', 'T-SQL could not be translated: Expecting ) at "(" (line 1, column 8)'),
            ("SELECT STUFF(a, 1, 2, 'x') FROM t", 'T-SQL could not be translated: STUFF() has no PostgreSQL translation'),
        ]
        for tsql, message in cases:
            with self.subTest(tsql=tsql):
                with self.assertRaises(Skip) as caught:
                    translate_tsql(tsql)
                self.assertTrue(str(caught.exception).startswith(message), str(caught.exception))


class FakeCatalog(Catalog):
    """The catalog of a database whose tables came from SQL Server with
    their names' case (as tds_fdw's IMPORT FOREIGN SCHEMA makes them)."""
    RELATIONS = {
        ('Sales', 'Customer'): [('CustomerID', 'N'), ('PersonID', 'N'), ('ModifiedDate', 'D'),
                                ('AccountNumber', 'S')],
        ('Sales', 'SalesOrderHeader'): [('SalesOrderID', 'N'), ('CustomerID', 'N'), ('OnlineOrderFlag', 'B'),
                                        ('TotalDue', 'N')],
        ('Person', 'Person'): [('BusinessEntityID', 'N'), ('PersonId', 'N')],
        ('bronze', 'stg_orders'): [('order_id', 'N'), ('online_order_flag', 'B')],
        ('Two', 'T'): [('a', 'N')], ('two', 't'): [('a', 'N')],
    }

    def relation(self, schema, name):
        found = sorted(k for k in self.RELATIONS if (k[0].lower(), k[1].lower()) == (schema.lower(), name.lower()))
        if (schema, name) in found:
            return (schema, name)
        if len(found) > 1:
            raise Skip(f'{schema}.{name} is ambiguous')
        return found[0] if found else None

    def columns(self, schema, name):
        return self.RELATIONS.get((schema, name))


class Resolve(unittest.TestCase):
    """Names resolved without case against the catalog, bits as booleans."""

    def translated(self, sql):
        return translate_tsql(sql, FakeCatalog())

    def test_names(self):
        cases = [
            # personid is "PersonID", the only match; the output keeps the name as written
            ('SELECT personid, CustomerID AS id FROM sales.customer',
             'SELECT "PersonID" AS "personid", "CustomerID" AS id FROM "Sales"."Customer"'),
            ('SELECT c.PERSONID FROM Sales.Customer c JOIN sales.salesorderheader o ON o.customerid = c.customerid',
             'SELECT c."PersonID" AS "personid" FROM "Sales"."Customer" AS c JOIN "Sales"."SalesOrderHeader" AS o '
             'ON o."CustomerID" = c."CustomerID"'),
            ('SELECT [ModifiedDate] FROM "Sales"."Customer"', 'SELECT "ModifiedDate" FROM "Sales"."Customer"'),
            # through a CTE and a derived table: their output names
            ('WITH x AS (SELECT personid FROM sales.customer) SELECT PersonId FROM x',
             'WITH x AS (SELECT "PersonID" AS "personid" FROM "Sales"."Customer") SELECT PersonId FROM x'),
            ('SELECT s.pid FROM (SELECT PersonID pid FROM sales.customer) s ORDER BY s.pid',
             'SELECT s.pid FROM (SELECT "PersonID" AS pid FROM "Sales"."Customer") AS s ORDER BY s.pid NULLS FIRST'),
            # inside a lateral join (CROSS APPLY), the outer table's names too
            ('SELECT z.totaldue FROM sales.customer c CROSS APPLY (SELECT TOP 1 o.TotalDue FROM '
             'sales.salesorderheader o WHERE o.customerid = c.customerid) z',
             'SELECT z.totaldue FROM "Sales"."Customer" AS c JOIN LATERAL (SELECT o."TotalDue" AS "totaldue" FROM '
             '"Sales"."SalesOrderHeader" AS o WHERE o."CustomerID" = c."CustomerID" LIMIT 1) AS z ON TRUE'),
            # what the catalog does not know is left as written
            ('SELECT nothing, x.y FROM sales.customer JOIN elsewhere.t x ON 1 = 1',
             'SELECT nothing, x.y FROM "Sales"."Customer" JOIN elsewhere.t AS x ON 1 = 1'),
            # an output name in ORDER BY is not a column of a table
            ('SELECT CustomerID AS personid FROM sales.customer ORDER BY personid',
             'SELECT "CustomerID" AS personid FROM "Sales"."Customer" ORDER BY personid NULLS FIRST'),
        ]
        for tsql, want in cases:
            with self.subTest(tsql=tsql):
                self.assertEqual(self.translated(tsql), want)

    def test_ambiguous(self):
        with self.assertRaises(Skip) as caught:
            self.translated('SELECT personid FROM sales.customer c JOIN person.person p ON 1 = 1')
        self.assertEqual(str(caught.exception), 'column personid is ambiguous: it matches "PersonID" and "PersonId" '
                                                '(SQL Server compares names without case; write the one meant in '
                                                'double quotes)')
        with self.assertRaises(Skip) as caught:
            self.translated('SELECT a FROM [TWO].[T]')
        self.assertIn('TWO.T is ambiguous', str(caught.exception))
        # one is the name as PostgreSQL reads it (two.t): that one
        self.assertEqual(self.translated('SELECT a FROM TWO.T'), 'SELECT a FROM "two"."t"')

    def test_bits(self):
        cases = [
            ('SELECT SalesOrderID FROM sales.SalesOrderHeader WHERE OnlineOrderFlag = 1',
             'SELECT "SalesOrderID" AS "salesorderid" FROM "Sales"."SalesOrderHeader" WHERE "OnlineOrderFlag" = TRUE'),
            ('SELECT order_id FROM bronze.stg_orders WHERE 0 = online_order_flag OR online_order_flag <> 1',
             'SELECT order_id FROM "bronze"."stg_orders" WHERE FALSE = online_order_flag OR online_order_flag <> TRUE'),
            ('SELECT order_id FROM bronze.stg_orders WHERE online_order_flag IN (0, 1)',
             'SELECT order_id FROM "bronze"."stg_orders" WHERE online_order_flag IN (FALSE, TRUE)'),
            # PostgreSQL casts a boolean to int, and only to int
            ('SELECT SUM(CAST(online_order_flag AS INT)), SUM(CONVERT(tinyint, online_order_flag)) FROM bronze.stg_orders',
             'SELECT SUM(CAST(online_order_flag AS INT)), SUM(CAST(CAST(online_order_flag AS INT) AS SMALLINT)) '
             'FROM "bronze"."stg_orders"'),
            ('SELECT ISNULL(online_order_flag, 0), online_order_flag * 2, '
             'CASE WHEN online_order_flag = 1 THEN 1 ELSE 0 END FROM bronze.stg_orders',
             'SELECT COALESCE(online_order_flag, FALSE), CAST(online_order_flag AS INT) * 2, '
             'CASE WHEN online_order_flag = TRUE THEN 1 ELSE 0 END FROM "bronze"."stg_orders"'),
            # a bit of a CTE, and a CAST(... AS bit)
            ('WITH o AS (SELECT OnlineOrderFlag AS f FROM sales.SalesOrderHeader) SELECT COUNT(*) FROM o WHERE f = 1',
             'WITH o AS (SELECT "OnlineOrderFlag" AS f FROM "Sales"."SalesOrderHeader") SELECT COUNT(*) FROM o '
             'WHERE f = TRUE'),
            ('SELECT 1 FROM t WHERE CAST(x AS bit) = 0', 'SELECT 1 FROM t WHERE CAST(x AS BOOLEAN) = FALSE'),
            # a number column compared with 1 stays a number
            ('SELECT 1 FROM bronze.stg_orders WHERE order_id = 1', 'SELECT 1 FROM "bronze"."stg_orders" WHERE order_id = 1'),
        ]
        for tsql, want in cases:
            with self.subTest(tsql=tsql):
                self.assertEqual(self.translated(tsql), want)

    def test_concatenation(self):
        cases = [
            ("SELECT AccountNumber + '-' + CAST(PersonID AS varchar(10)) AS label FROM sales.customer",
             'SELECT "AccountNumber" || \'-\' || CAST("PersonID" AS VARCHAR(10)) AS label FROM "Sales"."Customer"'),
            ("SELECT 'a' + 'b', UPPER(AccountNumber) + ISNULL(AccountNumber, '') FROM sales.customer",
             'SELECT \'a\' || \'b\', UPPER("AccountNumber") || COALESCE("AccountNumber", \'\') FROM "Sales"."Customer"'),
            ("SELECT LEFT(AccountNumber, 2) + DATENAME(month, ModifiedDate) FROM sales.customer",
             'SELECT LEFT("AccountNumber", 2) || TO_CHAR(CAST("ModifiedDate" AS TIMESTAMP), \'FMMonth\') '
             'FROM "Sales"."Customer"'),
            # a number on either side: SQL Server adds
            ("SELECT PersonID + 1, PersonID + CustomerID, '1' + PersonID FROM sales.customer",
             'SELECT "PersonID" + 1, "PersonID" + "CustomerID", \'1\' + "PersonID" FROM "Sales"."Customer"'),
        ]
        for tsql, want in cases:
            with self.subTest(tsql=tsql):
                self.assertEqual(self.translated(tsql), want)

    def test_conditions(self):
        self.assertEqual(translate_tsql_condition('online_order_flag = 1 AND ISNULL(order_id, 0) > 0',
                                                  'bronze.stg_orders', FakeCatalog()),
                         'online_order_flag = TRUE AND COALESCE(order_id, 0) > 0')
        self.assertEqual(translate_tsql_condition('PersonID > 0', 'sales.customer', FakeCatalog()),
                         '"PersonID" > 0')
        with self.assertRaises(Skip):
            translate_tsql_condition('a = (', 't')

    def test_datediff(self):
        # the boundaries crossed, as SQL Server counts them
        self.assertEqual(translate_tsql('SELECT DATEDIFF(day, a, b) FROM t'),
                         'SELECT CAST((CAST(CAST(b AS TIMESTAMP) AS DATE) - CAST(CAST(a AS TIMESTAMP) AS DATE)) AS BIGINT) '
                         'FROM t')
        self.assertEqual(translate_tsql('SELECT DATEDIFF(mm, a, b) FROM t'),
                         'SELECT CAST(((EXTRACT(YEAR FROM CAST(b AS TIMESTAMP)) - EXTRACT(YEAR FROM CAST(a AS TIMESTAMP))) '
                         '* 12 + EXTRACT(MONTH FROM CAST(b AS TIMESTAMP)) - EXTRACT(MONTH FROM CAST(a AS TIMESTAMP))) '
                         'AS BIGINT) FROM t')
        self.assertIn("DATE_TRUNC('hour', CAST(b AS TIMESTAMP))", translate_tsql('SELECT DATEDIFF(hour, a, b) FROM t'))
        self.assertIn('EXTRACT(DOW FROM CAST(b AS TIMESTAMP))', translate_tsql('SELECT DATEDIFF(week, a, b) FROM t'))

    def test_datepart(self):
        # SQL Server's numbers (weekday from Sunday, week 1 holding January 1st), as int
        self.assertEqual(translate_tsql('SELECT DATEPART(dw, d), DATEPART(yyyy, d) FROM t'),
                         'SELECT CAST(EXTRACT(DOW FROM CAST(d AS TIMESTAMP)) AS INT) + 1, '
                         'CAST(EXTRACT(YEAR FROM CAST(d AS TIMESTAMP)) AS INT) FROM t')
        self.assertIn("DATE_TRUNC('year', CAST(d AS TIMESTAMP))", translate_tsql('SELECT DATEPART(week, d) FROM t'))
        self.assertEqual(translate_tsql("SELECT DATENAME(month, d), YEAR(d), 'DATEPART(dw, x)' FROM t"),
                         "SELECT TO_CHAR(CAST(d AS TIMESTAMP), 'FMMonth'), "
                         "CAST(EXTRACT(YEAR FROM CAST(d AS TIMESTAMP)) AS INT), 'DATEPART(dw, x)' FROM t")
        with self.assertRaises(Skip) as caught:
            translate_tsql('SELECT DATEPART(millisecond, d) FROM t')
        self.assertEqual(str(caught.exception),
                         'T-SQL could not be translated: DATEPART(millisecond, ...) has no PostgreSQL translation')

    def test_joins(self):
        # FROM a JOIN b ON ..., c: c is a CROSS JOIN before the joins (sqlglot
        # wrote it before them, beside a, where b's ON could not see a)
        self.assertEqual(translate_tsql('SELECT 1 FROM f s JOIN p ON s.k = p.k JOIN c ON c.k = p.c, t WHERE s.x < t.y'),
                         'SELECT 1 FROM f AS s CROSS JOIN t JOIN p ON s.k = p.k JOIN c ON c.k = p.c WHERE s.x < t.y')
        self.assertEqual(translate_tsql('SELECT 1 FROM a, b'), 'SELECT 1 FROM a, b')

    def test_functions(self):
        # CROSS and OUTER APPLY: lateral joins ON TRUE
        self.assertEqual(translate_tsql('SELECT a, z.b FROM t CROSS APPLY (SELECT TOP 1 b FROM u WHERE u.x = t.x) z'),
                         'SELECT a, z.b FROM t JOIN LATERAL (SELECT b FROM u WHERE u.x = t.x LIMIT 1) AS z ON TRUE')
        self.assertEqual(translate_tsql('SELECT a FROM t OUTER APPLY (SELECT b FROM u) z'),
                         'SELECT a FROM t LEFT JOIN LATERAL (SELECT b FROM u) AS z ON TRUE')
        self.assertEqual(translate_tsql('SELECT EOMONTH(d), DATEFROMPARTS(2020, 1, 2), NEWID() FROM t WITH (NOLOCK)'),
                         "SELECT CAST(DATE_TRUNC('month', d) + INTERVAL '1 month - 1 day' AS DATE), "
                         "MAKE_DATE(2020, 1, 2), GEN_RANDOM_UUID() FROM t")


class Detect(unittest.TestCase):
    """What says a project is T-SQL, and the hint a PostgreSQL error gets."""

    def dialect(self, files, **kwargs):
        directory = dbt_unit.write_project(dict({'dbt_project.yml': 'name: d\n',
                                                 'models/staging/m.sql': 'select a from t\n'}, **files))
        try:
            p = dbt_unit.importer(directory, **kwargs).p
        finally:
            dbt_unit.remove_project(directory)
        return p.dialect, p.dialect_why

    def test_detected(self):
        self.assertEqual(self.dialect({}), ('postgres', None))
        self.assertEqual(self.dialect({'requirements.txt': 'dbt-core\ndbt-sqlserver>=1.7\n'}),
                         ('tsql', 'requirements.txt installs dbt-sqlserver'))
        self.assertEqual(self.dialect({'Dockerfile': 'FROM python:3.11\nRUN pip install dbt-fabric==1.8\n'}),
                         ('tsql', 'Dockerfile installs dbt-fabric'))
        self.assertEqual(self.dialect({'requirements-dev.txt': 'dbt-synapse\n'}),
                         ('tsql', 'requirements-dev.txt installs dbt-synapse'))
        self.assertEqual(self.dialect({'requirements.txt': 'dbt-postgres\n'}), ('postgres', None))
        self.assertEqual(self.dialect({'models/staging/m.sql': 'select [status], a from t\n'}),
                         ('tsql', 'model m writes the bracketed identifier [status]'))
        self.assertEqual(self.dialect({'profiles.yml': 'p:\n  outputs:\n    dev: {type: synapse}\n'}),
                         ('tsql', 'profiles.yml targets synapse'))
        # not brackets of T-SQL: Jinja lists, array subscripts, strings, comments
        self.assertEqual(self.dialect({'models/staging/m.sql': "{% set x = ['a'] %}select a[1], b[i], '[x]' "
                                                               "from t -- [y]\n"}), ('postgres', None))
        # --dialect says it
        self.assertEqual(self.dialect({'requirements.txt': 'dbt-sqlserver\n'}, dialect='postgres'),
                         ('postgres', None))

    def test_reported(self):
        directory = dbt_unit.write_project({'dbt_project.yml': 'name: d\n', 'requirements.txt': 'dbt-sqlserver\n',
                                            'models/staging/m.sql': 'select top 1 a from t\n'})
        try:
            imp = dbt_unit.importer(directory)
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual(imp.report[0], ('project', 'd', 'note', 'T-SQL, translated to PostgreSQL: requirements.txt '
                                         'installs dbt-sqlserver (--dialect postgres reads it as PostgreSQL)'))

    def test_hint(self):
        hint = ' (this is T-SQL: --dialect tsql translates it)'
        self.assertEqual(tsql_hint('select [status] from t', 'syntax error at or near "["'), hint)
        self.assertEqual(tsql_hint('select top 1 a from t', 'syntax error at or near "1"'), '')
        self.assertEqual(tsql_hint('select isnull(a, 0) from t', 'function isnull(integer, integer) does not exist'),
                         hint)
        self.assertEqual(tsql_hint('select a from t', 'relation "t" does not exist'), '')
        self.assertEqual(tsql_hint('select a from t cross apply u', 'syntax error at or near "APPLY"'), hint)


FILES = {
    'dbt_project.yml': 'name: sales\n',
    'profiles.yml': '''
        sales:
          target: dev
          outputs:
            dev:
              type: sqlserver
              server: x
    ''',
    'models/staging/stg_orders.sql': 'SELECT TOP 10 ISNULL([amount], 0) AS amount, GETDATE() AS seen FROM raw.orders\n',
    'models/staging/schema.yml': '''
        version: 2
        models:
          - name: stg_orders
            tests:
              - dbt_utils.expression_is_true:
                  expression: "ISNULL(amount, 0) >= 0"
    ''',
    'tests/no_future.sql': "SELECT * FROM {{ ref('stg_orders') }} WHERE seen > GETDATE()\n",
}


class Project(unittest.TestCase):
    def test_tsql_project(self):
        directory = dbt_unit.write_project(FILES)
        try:
            imp = dbt_unit.importer(directory)
            _, out = dbt_unit.printed(imp.import_all)
            postgres = dbt_unit.importer(directory, dialect='postgres')
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual(imp.p.dialect, 'tsql')             # found in the project's profiles.yml
        self.assertEqual(postgres.p.dialect, 'postgres')    # --dialect says otherwise
        self.assertIn("sql => 'SELECT COALESCE(\"amount\", 0) AS amount, CURRENT_TIMESTAMP AS seen "
                      "FROM raw.orders LIMIT 10'", out)
        self.assertIn("sql => 'SELECT * FROM bronze.stg_orders WHERE seen > CURRENT_TIMESTAMP'", out)
        # a test argument that is SQL (an expression, a where) is T-SQL too
        self.assertIn("kind => 'expression', expression => 'COALESCE(amount, 0) >= 0'", out)


if __name__ == '__main__':
    unittest.main()

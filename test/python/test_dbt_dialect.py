"""medallion-dbt's T-SQL, with no database: what sqlglot (Debian's
python3-sqlglot) translates, what is refused, and that a T-SQL project's
models and tests go through it.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_dialect.py
"""
import unittest

import dbt_unit
from medallion_dbt.dialect import translate_tsql
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
            ('SELECT * FROM (SELECT region, amount FROM o) s PIVOT (SUM(amount) FOR region IN ([n], [s])) p',
             'T-SQL could not be translated: '),
            ('SELECT 1; SELECT 2', 'T-SQL could not be translated: not one statement'),
            ('SELECT (', 'T-SQL could not be translated: Expecting )'),
        ]
        for tsql, message in cases:
            with self.subTest(tsql=tsql):
                with self.assertRaises(Skip) as caught:
                    translate_tsql(tsql)
                self.assertTrue(str(caught.exception).startswith(message), str(caught.exception))


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
        # Not translated today: a test argument that is SQL (an expression,
        # a where) keeps its T-SQL; only rendered models and tests go through
        # sqlglot.  PostgreSQL has no ISNULL: such a test fails when it runs.
        self.assertIn("kind => 'expression', expression => 'ISNULL(amount, 0) >= 0'", out)


if __name__ == '__main__':
    unittest.main()

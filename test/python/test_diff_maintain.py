"""bench/diff_maintain.py without a database: the float tolerance, the
pairing of rows that differ only in float8 columns, literals, that a seed
makes the same round again, that generated queries keep the rules which
make their answer a deterministic multiset, and that shrinking only
offers smaller queries.  The harness against a cluster is
test/t/016_diff_maintain.pl's.

    /usr/bin/python3 -m unittest discover -s test/python -p test_diff_maintain.py
"""
import argparse
import datetime
import os
import re
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import diff_maintain as dm  # noqa: E402


def args():
    return argparse.Namespace(queries=8, batches=25, maintain='auto', shrink_time=0, sabotage=False,
                              dsn='', dbname='x', verbose=False, class_share=0.6, small_batches=0.5)


class Floats(unittest.TestCase):
    def test_tolerance_is_relative_above_one(self):
        self.assertTrue(dm.close_enough(1e6, 1e6 * (1 + 5e-10)))
        self.assertFalse(dm.close_enough(1e6, 1e6 * (1 + 5e-9)))
        self.assertTrue(dm.close_enough(0.0, 5e-10))
        self.assertFalse(dm.close_enough(0.0, 5e-9))
        self.assertTrue(dm.close_enough(None, None))
        self.assertFalse(dm.close_enough(None, 0.0))

    def test_rows_pair_on_their_other_columns(self):
        # the sums of the same group added in another order
        model = [('a', 0.30000000000000004, '1'), ('b', 2.0, '1')]
        query = [('a', 0.3, '1'), ('b', 2.0, '2')]
        left, right = dm.float_match(model, query, [1])
        self.assertEqual(left, [('b', 2.0, '1')])
        self.assertEqual(right, [('b', 2.0, '2')])

    def test_a_row_more_is_a_mismatch(self):
        left, right = dm.float_match([('a', 1.0), ('a', 1.0)], [('a', 1.0)], [1])
        self.assertEqual((len(left), len(right)), (2, 1))

    def test_beyond_the_tolerance_is_a_mismatch(self):
        left, right = dm.float_match([('a', 1.0)], [('a', 1.001)], [1])
        self.assertEqual((left, right), ([('a', 1.0)], [('a', 1.001)]))


class Literals(unittest.TestCase):
    def test_literals(self):
        self.assertEqual(dm.lit(None, 'int'), 'NULL')
        self.assertEqual(dm.lit("o'x", 'text'), "'o''x'")
        self.assertEqual(dm.lit(1.5, 'numeric'), '1.50')
        self.assertEqual(dm.lit(-2.5, 'float'), '(-2.5)')
        self.assertEqual(dm.lit(datetime.date(2024, 2, 29), 'date'), "date '2024-02-29'")


class Generation(unittest.TestCase):
    def test_a_seed_makes_the_same_round(self):
        a, b = dm.Round(args(), 42), dm.Round(args(), 42)
        self.assertEqual([str(x) for x in a.setup], [str(x) for x in b.setup])
        self.assertEqual([a.qmaker.make().render() for _ in range(20)], [b.qmaker.make().render() for _ in range(20)])
        self.assertEqual([dm.batch_sql(a.dml.batch(True)) for _ in range(10)],
                         [dm.batch_sql(b.dml.batch(True)) for _ in range(10)])

    def test_queries_keep_the_rules(self):
        kinds = set()
        ordered = 0
        for seed in range(60):
            r = dm.Round(args(), seed)
            for _ in range(30):
                q = r.qmaker.make()
                sql = q.render()
                kinds.add(q.kind)
                # no top-level order, no order-dependent window functions or frames
                self.assertNotRegex(sql, r'\b(LIMIT|OFFSET|row_number|ntile|lag|lead|first_value|last_value|'
                                         r'nth_value|ROWS|GROUPS|random|now)\b', sql)
                # ordered aggregates order by their own argument
                for m in re.finditer(r'(string_agg|array_agg)\((DISTINCT )?(.*?)(, \',\')? ORDER BY (.*?)\) AS', sql):
                    self.assertEqual(m.group(3), m.group(5), sql)
                    ordered += 1
                # numeric expressions keep their scale
                self.assertNotRegex(sql, r'coalesce\([a-z0-9]+\.[nw], 0\)', sql)
                # window functions have a PARTITION BY
                self.assertEqual(sql.count(' OVER ('), sql.count(' OVER (PARTITION BY '), sql)
        self.assertEqual(kinds, {'spj', 'group', 'distinct', 'window', 'union'})
        self.assertGreater(ordered, 0)

    def test_class_queries_of_every_class(self):
        # LEFT JOINs after the inner ones (an inner join on the fact above them) with the fact's key out, DISTINCT, windows of one PARTITION BY that
        # is an output column, windows over groups, UNION ALL of GROUP BYs keyed alike over tables of their own, GROUP BY
        # or windows over LEFT JOINs keyed by their left side
        seen = set()
        for seed in range(40):
            r = dm.Round(args(), seed)
            for _ in range(30):
                q = r.qmaker.class_query()
                sql = q.render()
                kinds = [j[0] for j in q.joins]
                # inner joins, LEFT JOINs, then at most one inner join on the fact above them
                lefts = [n for n, k in enumerate(kinds) if k == 'LEFT JOIN']
                if lefts:
                    above = kinds[lefts[-1] + 1:]
                    self.assertLessEqual(len(above), 1, sql)
                    self.assertEqual(kinds[:lefts[0]], ['JOIN'] * lefts[0], sql)
                    self.assertEqual(kinds[lefts[0]:lefts[-1] + 1], ['LEFT JOIN'] * len(lefts), sql)
                    if above:
                        self.assertTrue(q.joins[-1][3].startswith('f.k'), sql)
                        seen.add('inner above left')
                if 'LEFT JOIN' in kinds and q.kind == 'spj':
                    self.assertIn('f.rid', [e for e, _ in q.items], sql)
                    seen.add('spjleft')
                elif 'LEFT JOIN' in kinds:
                    # a GROUP BY or windows over LEFT JOINs: the first key (the
                    # partition) read off the left side, the table in FROM
                    self.assertIn(q.kind, ('group', 'window'), sql)
                    self.assertEqual(kinds, ['LEFT JOIN'] * len(kinds), sql)
                    self.assertIn(q.base + '.', q.items[0][0], sql)
                    self.assertTrue(q.kind == 'window' or q.nkeys >= 1, sql)
                    seen.add('groupleft')
                if q.kind == 'window':
                    parts = {m.group(1) for m in re.finditer(r'OVER \(PARTITION BY (.*?)( ORDER BY .*?)?\) AS', sql)}
                    self.assertEqual(len(parts), 1, sql)
                    self.assertIn(parts.pop(), [e for e, _ in q.items], sql)
                    seen.add('window')
                if q.kind == 'group' and ' OVER (' in sql:
                    seen.add('groupwindow')
                if q.kind == 'distinct':
                    seen.add('distinct')
                if q.kind == 'union':
                    self.assertEqual(len({b.base for b in q.branches}), len(q.branches), sql)
                    self.assertTrue(all(b.kind == 'group' and b.nkeys == 1 for b in q.branches), sql)
                    seen.add('union')
        self.assertEqual(seen, {'spjleft', 'inner above left', 'window', 'groupwindow', 'distinct', 'union',
                                'groupleft'})

    def test_small_batches_touch_one_table(self):
        small = 0
        for seed in range(40):
            r = dm.Round(args(), seed)
            for _ in range(10):
                steps = r.dml.batch(True)
                if len(steps) == 1 and len(steps[0].stmts) <= 2 and r.dml.only is not None:
                    tables = set(re.findall(r'src\.(f|d[0-9])\b', dm.batch_sql(steps)))
                    if len(tables) == 1:
                        small += 1
        self.assertGreater(small, 50)

    def test_batches_write_every_kind(self):
        text = ''
        for seed in range(40):
            r = dm.Round(args(), seed)
            text += '\n'.join(dm.batch_sql(r.dml.batch(True)) for _ in range(10))
        for what in ('INSERT INTO', 'ON CONFLICT', 'DO NOTHING', 'MERGE INTO', 'TRUNCATE src.', 'UPDATE src.',
                     'DELETE FROM src.', 'PREPARE TRANSACTION', 'ROLLBACK TO SAVEPOINT', 'left open across the run',
                     'prepared before the run', 'IN (SELECT', 'open across this run and the next',
                     'prepared before this run', "in the run's session, its transaction"):
            self.assertIn(what, text)

    def test_no_two_phase_commit_when_it_is_off(self):
        r = dm.Round(args(), 7)
        text = '\n'.join(dm.batch_sql(r.dml.batch(False)) for _ in range(50))
        self.assertNotIn('PREPARE TRANSACTION', text)

    def test_shrinking_offers_smaller_queries(self):
        for seed in range(20):
            r = dm.Round(args(), seed)
            for _ in range(10):
                q = r.qmaker.make()
                for s in q.simpler():
                    self.assertLess(len(s.render()), len(q.render()) + 1)
                    self.assertNotEqual(s.render(), q.render())
                    if s.kind != 'union':
                        self.assertGreaterEqual(len(s.items), 1)
                        self.assertLessEqual(s.nkeys, len(s.items))


if __name__ == '__main__':
    unittest.main()

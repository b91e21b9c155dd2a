"""medallion-dbt's incremental models, with no database: the
is_incremental() block shapes taken as a watermark (and lookback), those
refused, and what an incremental model is imported as.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_watermark.py
"""
import unittest

import dbt_unit
from medallion_dbt import models
from medallion_dbt.errors import Skip

HEAD = 'select * from {{ ref("stg_events") }}\n'


def block(condition, open_tag='{% if is_incremental() %}', close_tag='{% endif %}'):
    return f'{HEAD}{open_tag}\n  {condition}\n{close_tag}\n'


class Watermark(unittest.TestCase):
    def test_accepted(self):
        cases = [
            (block('where updated_at > (select max(updated_at) from {{ this }})'), ('updated_at', None)),
            (block('where updated_at >= (select max(updated_at) from {{this}})'), ('updated_at', None)),
            (block('and e.updated_at > (select max(updated_at) from {{ this }})'), ('updated_at', None)),
            (block('WHERE "loaded_at" > (SELECT MAX("loaded_at") FROM {{ this }})'), ('loaded_at', None)),
            (block('where updated_at > (select max(updated_at) from {{ this }})',
                   '{%- if is_incremental() -%}', '{%- endif -%}'), ('updated_at', None)),
            # a lookback inside the subquery or after it
            (block("where updated_at > (select max(updated_at) - interval '3 days' from {{ this }})"),
             ('updated_at', '3 days')),
            (block("where updated_at > (select max(updated_at) from {{ this }}) - interval '2 hours'"),
             ('updated_at', '2 hours')),
            (block("where updated_at >= (select max(updated_at) - '1 day'::interval from {{ this }})"),
             ('updated_at', '1 day')),
            (block("where updated_at > (select max(updated_at) from {{ this }}) - '10 minutes' :: interval"),
             ('updated_at', '10 minutes')),
            # coalesce (or isnull) of the max with a literal, as for the first run
            (block("where order_date > (select coalesce(max(order_date), '1900-01-01') from {{ this }})"),
             ('order_date', None)),
            (block("where OrderDate >= (SELECT ISNULL(MAX(orderdate), '19000101') - interval '1 day' FROM {{ this }})"),
             ('orderdate', '1 day')),
            # comments do not count
            (block('-- only the new rows\n  where updated_at > (select max(updated_at) from {{ this }})'
                   ' /* the usual */ {# dbt #}'), ('updated_at', None)),
            ('{# {% if is_incremental() %}and x{% endif %} #}\n'
             + block('where updated_at > (select max(updated_at) from {{ this }})'), ('updated_at', None)),
        ]
        for raw, want in cases:
            with self.subTest(raw=raw):
                self.assertEqual(models.watermark_of(raw), want)

    def test_refused(self):
        cases = [
            HEAD,                                                                       # no block
            None,
            block('where updated_at > (select max(created_at) from {{ this }})'),        # another column
            block('where updated_at < (select max(updated_at) from {{ this }})'),
            block('where updated_at > (select max(updated_at) from {{ this }}) and kind = 1'),
            block('where updated_at > (select max(updated_at) from other)'),
            block('where updated_at > (select min(updated_at) from {{ this }})'),
            block("where updated_at > (select coalesce(max(created_at), '1900-01-01') from {{ this }})"),
            block('where updated_at > (select coalesce(max(updated_at), updated_at) from {{ this }})'),
            block("where updated_at > (select max(updated_at) from {{ this }}) - interval 'a while'"),
            block('where updated_at > (select max(updated_at) from {{ this }})')
            + block('where updated_at > (select max(updated_at) from {{ this }})'),      # two blocks
        ]
        for raw in cases:
            with self.subTest(raw=raw):
                self.assertEqual(models.watermark_of(raw), (None, None))


FILES = {
    'dbt_project.yml': 'name: inc\n',
    'models/staging/stg_events.sql': 'select 1 as id, now() as updated_at\n',
    'models/silver/usual.sql': "{{ config(materialized='incremental', unique_key='id') }}\n"
                               + block("where updated_at > (select max(updated_at) - interval '1 day' from {{ this }})"),
    'models/silver/appended.sql': "{{ config(materialized='incremental') }}\n"
                                  + block('where updated_at > (select max(updated_at) from {{ this }})'),
    'models/silver/by_meta.sql': "{{ config(materialized='incremental', incremental_strategy='delete+insert',"
                                 " unique_key=['id', 'kind'],"
                                 " meta={'medallion': {'watermark': 'loaded_at', 'lookback': '2 hours'}}) }}\n"
                                 + HEAD,
    'models/silver/extras.sql': "{{ config(materialized='table', meta={'medallion': {'indexes': ['kind'],"
                                " 'statement_timeout': '5 minutes', 'deterministic': true, 'nosuch': 1}}) }}\n"
                                + HEAD,
    'models/silver/odd.sql': "{{ config(materialized='incremental', unique_key='id') }}\n"
                             + block('where id > (select max(id) from {{ this }}) or id < 0'),
    'models/silver/overwrite.sql': "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\n"
                                   + HEAD,
}


class Incremental(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project(FILES)
        cls.imp = dbt_unit.importer(cls.dir)
        dbt_unit.printed(cls.imp.import_all)

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def settings(self, name):
        node = models.prepare(self.imp, self.imp.p.models[name])
        p = models.settings(self.imp, node)
        return {k: v for k, v in p.items() if k not in ('sql', 'tags', 'name')}, node.note

    def test_usual_block(self):
        self.assertEqual(self.settings('usual'),
                         ({'layer': 'silver', 'materialized': 'incremental', 'unique_key': ['id'], 'strategy': 'merge',
                           'watermark': 'updated_at', 'lookback': '1 day', 'on_schema_change': 'ignore'}, None))
        self.assertEqual(self.settings('appended')[0],
                         {'layer': 'silver', 'materialized': 'incremental', 'strategy': 'append',
                          'watermark': 'updated_at', 'on_schema_change': 'ignore'})

    def test_meta(self):
        self.assertEqual(self.settings('by_meta')[0],
                         {'layer': 'silver', 'materialized': 'incremental', 'unique_key': ['id', 'kind'],
                          'strategy': 'delete+insert', 'watermark': 'loaded_at', 'lookback': '2 hours',
                          'on_schema_change': 'ignore'})

    def test_medallion_meta(self):
        # medallion's settings with no dbt word, as medallion export writes them
        got = self.settings('extras')[0]
        self.assertEqual((got['indexes'], got['statement_timeout'], got['deterministic']),
                         (['kind'], '5 minutes', True))
        self.assertNotIn('nosuch', got)

    def test_other_shapes_are_tables(self):
        params, note = self.settings('odd')
        self.assertEqual(params, {'layer': 'silver', 'materialized': 'table'})
        self.assertIn('imported as a table', note)

    def test_strategy_refused(self):
        with self.assertRaises(Skip) as caught:
            self.settings('overwrite')
        self.assertIn('incremental_strategy "insert_overwrite" has no medallion equivalent', str(caught.exception))
        self.assertIn(('model', 'overwrite', 'skipped', str(caught.exception)), self.imp.report)


if __name__ == '__main__':
    unittest.main()

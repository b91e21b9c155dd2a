"""What the unit tests of medallion-dbt share: the package on sys.path, and
a small dbt project written to a temporary directory, read by an Importer
that has no database (a dry run without --dsn: it only prints)."""
import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import textwrap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from medallion_dbt.importer import Importer  # noqa: E402
from medallion_dbt.project import Project  # noqa: E402

# The project: folders of each layer, folder configs at three depths, a
# schema that names a layer, one that is mapped (reporting), one that is
# not (stripe), a generic test of its own, sources.
FILES = {
    'dbt_project.yml': '''
        name: unit
        vars:
          low: 5
        models:
          +tags: everywhere
          unit:
            +tags: [project]
            staging:
              +materialized: view
              +tags: stg
            marts:
              +materialized: table
              +tags: ['Marts Tag', 'marts']
              finance:
                +schema: silver
                +tags: finance
                +unique_key: id
            reporting:
              +schema: reporting
            payments:
              +schema: stripe
            other:
              +materialized: ephemeral
    ''',
    'models/staging/stg_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
    'models/staging/sources.yml': '''
        version: 2
        sources:
          - name: shop
            schema: raw
            tables:
              - name: orders
              - name: customers
    ''',
    'models/marts/orders.sql': "select id, customer_id, amount, status, \"Mixed\" from {{ ref('stg_orders') }}\n",
    'models/marts/customers.sql': "select 1 as id\n",
    'models/marts/finance/revenue.sql': "select 1 as id\n",
    'models/marts/schema_layer.sql': "{{ config(schema='silver') }}\nselect 1 as id\n",
    'models/reporting/summary.sql': "select 1 as id\n",
    'models/payments/stripe_payments.sql': "select 1 as id\n",
    'models/payments/staging/stripe_raw.sql': "select 1 as id\n",
    'models/other/helper.sql': "select 1 as id\n",
    'models/marts/schema.yml': '''
        version: 2
        models:
          - name: orders
            tags: [yml_tag]
            columns:
              - name: ID
                tests: [unique, not_null]
              - name: Mixed
                quote: true
                tests: [not_null]
              - name: amount
                tests:
                  - positive
    ''',
    'tests/generic/positive.sql': '''
        {% test positive(model, column_name) %}
        select * from {{ model }} where {{ column_name }} <= 0
        {% endtest %}
    ''',
}


def write_project(files=None):
    """A temporary directory holding the project (FILES, or files)."""
    directory = tempfile.mkdtemp(prefix='medallion_dbt_unit_')
    for path, text in (files or FILES).items():
        full = os.path.join(directory, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w', encoding='utf-8') as f:
            f.write(textwrap.dedent(text).lstrip('\n'))
    return directory


def remove_project(directory):
    shutil.rmtree(directory, ignore_errors=True)


def arguments(**kwargs):
    """medallion-dbt import's options, as the command line gives them."""
    args = dict(dsn=None, dry_run=True, vars=None, layer_map=None, default_layer=None, dialect=None, target=None,
                seed_schema='seeds', prune=False, allow_partial=False, allow_local_package=None)
    args.update(kwargs)
    return argparse.Namespace(**args)


def importer(directory, **kwargs):
    args = arguments(**kwargs)
    return Importer(Project(directory, args), args)


def printed(call, *args):
    """(what call(*args) returns, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        value = call(*args)
    return value, out.getvalue()

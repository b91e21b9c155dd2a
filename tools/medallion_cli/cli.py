"""medallion's command line: argparse, the commands, exit codes (0 done or
nothing to do; 1 a model or test failed, or a change was refused: nothing
changed; 2 a problem with the project or the connection: nothing
changed)."""
import argparse
import sys

from medallion_dbt import VERSION
from medallion_dbt import cli as dbt_cli
from medallion_dbt.errors import ProjectError

from . import deploy, export
from .connect import connect, table


def run_command(args):
    conn = connect(args.dsn, autocommit=True)
    with conn.cursor() as cur:
        cur.execute('SELECT model, status, rows, ms, message FROM medallion_run(%s, full_refresh => %s, '
                    'threads => %s, exclude => %s)', [args.selector, args.full_refresh, args.threads, args.exclude])
        rows = cur.fetchall()
    table(rows, ['model', 'status', 'rows', 'ms', 'message'])
    return 1 if any(r[1] not in deploy.OK_STEPS for r in rows) else 0


def test_command(args):
    conn = connect(args.dsn, autocommit=True)
    with conn.cursor() as cur:
        cur.execute('SELECT model, test, kind, status, failures, message FROM medallion_test(%s, exclude => %s, '
                    'unit => %s)', [args.selector, args.exclude, args.unit])
        rows = cur.fetchall()
    table(rows, ['model', 'test', 'kind', 'status', 'failures', 'message'])
    return 1 if any(r[3] not in ('pass', 'warn') for r in rows) else 0


def plan_command(args):
    conn = connect(args.dsn, autocommit=True)
    with conn.cursor() as cur:
        cur.execute('SELECT step, wave, model, materialized, build, why, '
                    "array_to_string(tests, '; '), maintain "
                    'FROM medallion_plan(%s, threads => %s, exclude => %s) ORDER BY step',
                    [args.selector, args.threads, args.exclude])
        rows = cur.fetchall()
    table(rows, ['step', 'wave', 'model', 'materialized', 'build', 'why', 'tests', 'maintain'])
    return 0


def docs_command(args):
    conn = connect(args.dsn, autocommit=True, quiet=True)
    with conn.cursor() as cur:
        cur.execute('SELECT medallion_docs(%s)', [args.selector])
        sys.stdout.write(cur.fetchone()[0])
    return 0


def parser():
    top = argparse.ArgumentParser(prog='medallion', description='Deploy, run and test a medallion pipeline.')
    top.add_argument('--version', action='version', version=f'medallion {VERSION}')
    sub = top.add_subparsers(dest='command', required=True)

    d = sub.add_parser('deploy', help='define, build, test and publish a project directory in one transaction')
    dbt_cli.import_arguments(d)
    d.add_argument('--plan', action='store_true',
                   help='say what would change, be built and break; change nothing')
    d.add_argument('--diff', action='store_true', help='with --plan: compare each changed model\'s rows')
    d.add_argument('--stage', action='store_true',
                   help='build and test what changed, keep it unpublished with the definitions pending '
                   '(medallion promote ID publishes it)')
    d.set_defaults(func=lambda a: deploy.deploy(a), dry_run=False, allow_partial=False)

    for name, helptext, func in (('promote', 'publish a staged deploy in one transaction', deploy.promote),
                                 ('discard', 'drop a staged deploy', deploy.discard)):
        c = sub.add_parser(name, help=helptext)
        c.add_argument('stage_id', type=int, metavar='ID', help='the stage (medallion deploy --stage says it)')
        c.add_argument('--dsn', help='libpq connection string (default: PG* environment variables)')
        c.set_defaults(func=func)

    e = sub.add_parser('export', help='write the catalog as a project directory')
    e.add_argument('directory', help='where to write it (created; must be empty)')
    e.add_argument('--dsn', help='libpq connection string (default: PG* environment variables)')
    e.add_argument('--name', help='the project\'s name (default: the project the models were imported from, '
                   'or medallion)')
    e.set_defaults(func=lambda a: export.export(a))

    for name, helptext, func in (('run', 'build and publish the selected models', run_command),
                                 ('test', 'run the tests of the selected models', test_command),
                                 ('plan', 'what a run would build, and why', plan_command),
                                 ('docs', 'the pipeline as one HTML page, on standard output', docs_command)):
        c = sub.add_parser(name, help=helptext)
        c.add_argument('selector', nargs='?', default='all',
                       help='the models, in dbt\'s selector grammar (default all)')
        if name in ('run', 'test', 'plan'):
            c.add_argument('--exclude', help='models to leave out (a selector)')
        c.add_argument('--dsn', help='libpq connection string (default: PG* environment variables)')
        if name in ('run', 'plan'):
            c.add_argument('--threads', type=int, default=1, help='build workers (default 1)')
        if name == 'test':
            c.add_argument('--unit', action='store_true',
                           help='run the unit tests of the selected models (on given rows) instead of their data tests')
        if name == 'run':
            c.add_argument('--full-refresh', action='store_true', help='rebuild incremental models whole')
        c.set_defaults(func=func)

    i = sub.add_parser('import', help='medallion-dbt import', add_help=False)
    i.add_argument('rest', nargs=argparse.REMAINDER)
    i.set_defaults(func=lambda a: dbt_cli.main(['import'] + a.rest))
    return top


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args)
    except ProjectError as e:
        sys.stderr.write(f'medallion: {e}\nnothing was changed\n')
        return 2
    except Exception as e:     # a connection refused, an error of the database: said plainly
        if type(e).__module__.startswith('psycopg'):
            diag = getattr(e, 'diag', None)
            hint = f'\nHINT: {diag.message_hint}' if diag is not None and diag.message_hint else ''
            sys.stderr.write(f'medallion: {str(e).strip()}{hint}\nnothing was changed\n')
            return 2
        raise


def run():
    """The executable's entry point: main's status is the exit status."""
    sys.exit(main(sys.argv[1:]))

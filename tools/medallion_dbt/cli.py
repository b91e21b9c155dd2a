"""medallion-dbt's command line: argparse, the report, exit codes (0
imported; 1 something was skipped, so nothing was, unless
--allow-partial; 2 a problem with the project or the connection: nothing
was imported)."""
import argparse
import sys

from . import VERSION
from .errors import ProjectError, Refused, Skip, TransactionEnded
from .importer import Importer
from .project import Project
from .render import jinja_line


def print_report(report, out):
    width = max([len(n) for _, n, _, _ in report] + [10])
    kinds = max([len(k) for k, _, _, _ in report] + [9])
    for kind, name, status, reason in report:
        out.write(f'{kind:<{kinds}} {name:<{width}} {status:<12} {reason}'.rstrip() + '\n')
    counts = {}
    for _, _, status, _ in report:
        counts[status] = counts.get(status, 0) + 1
    out.write(', '.join(f'{n} {s}' for s, n in sorted(counts.items())) + '\n')


def do_import(args):
    project = Project(args.project, args)
    importer = None
    try:
        importer = Importer(project, args)
        importer.import_all()
    except (ProjectError, Refused, Skip) as e:
        if importer is not None:
            importer.db.rollback()
        if isinstance(e, Skip):
            # a skip of one object is reported where it happens; one that
            # gets here stopped the import: said, never a traceback
            raise ProjectError(str(e)) from None
        if isinstance(e, (Refused, TransactionEnded)):
            # said with the template's file and line
            where = jinja_line(e, project.dir) or project.dir
            raise (TransactionEnded if isinstance(e, TransactionEnded) else ProjectError)(f'{where}: {e}') from None
        raise
    skipped = [r for r in importer.report if r[2] == 'skipped']
    print_report(importer.report, sys.stdout)
    importer.db.finish(commit=not (args.dry_run or (skipped and not args.allow_partial)))
    if args.dry_run:
        sys.stderr.write('medallion-dbt: a dry run: what it ran was rolled back\n')
    if skipped and not args.allow_partial:
        if not args.dry_run:
            sys.stderr.write(f'medallion-dbt: {len(skipped)} skipped, so the import was rolled back: nothing was '
                             f'imported (--allow-partial imports the rest)\n')
        return 1
    return 0


def import_arguments(parser):
    """The options that say how a project is read (medallion-dbt import, and
    medallion deploy, which imports the same way)."""
    parser.add_argument('project', help='the dbt project directory (with dbt_project.yml)')
    parser.add_argument('--dsn', help='libpq connection string (default: PG* environment variables)')
    parser.add_argument('--prune', action='store_true', help='drop models and tests that left the project')
    parser.add_argument('--target', help='the dbt target name templates see (default dev)')
    parser.add_argument('--vars', help="YAML of variables, as dbt's --vars")
    parser.add_argument('--layer-map', action='append', metavar='FOLDER=LAYER',
                        help='a folder (or +schema, or (top) for the top of models/) that names a layer')
    parser.add_argument('--default-layer', metavar='LAYER',
                        help='the layer of a model whose folders and schema name none (else a model at the top of '
                             'models/ goes where its place in the DAG says)')
    parser.add_argument('--dialect', choices=['postgres', 'tsql'], help="the models' SQL dialect")
    parser.add_argument('--seed-schema', default='seeds', help='where seeds are loaded (default seeds)')
    parser.add_argument('--allow-local-package', action='append', metavar='DIR',
                        help="a local package outside the project (packages.yml local:) whose files may be read")


def main(argv=None):
    parser = argparse.ArgumentParser(prog='medallion-dbt', description='Import a dbt project into medallion.')
    parser.add_argument('--version', action='version', version=f'medallion-dbt {VERSION}')
    sub = parser.add_subparsers(dest='command', required=True)
    imp = sub.add_parser('import', help='import (or re-import) a dbt project')
    import_arguments(imp)
    imp.add_argument('--dry-run', action='store_true', help='print the SQL it would run; change nothing')
    imp.add_argument('--allow-partial', action='store_true', help='commit what could be imported')
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return do_import(args)
    except TransactionEnded as e:
        sys.stderr.write(f'medallion-dbt: {e}\n')
        return 2
    except ProjectError as e:
        sys.stderr.write(f'medallion-dbt: {e}\nnothing was imported\n')
        return 2
    except Exception as e:     # a connection refused, say: said plainly
        if type(e).__module__.startswith('psycopg'):
            sys.stderr.write(f'medallion-dbt: {e}\nnothing was imported\n')
            return 2
        raise



def run():
    """The executable's entry point: main's status is the exit status."""
    sys.exit(main(sys.argv[1:]))

"""A connection for the commands, with medallion's progress lines (NOTICEs)
written to standard error as they come, as dbt prints its own."""
import sys


def connect(dsn, autocommit, quiet=False):
    import psycopg
    conn = psycopg.connect(dsn or '', autocommit=autocommit)
    if not quiet:
        conn.add_notice_handler(lambda diag: sys.stderr.write(f'{diag.message_primary}\n'))
    return conn


def table(rows, headers, out=sys.stdout):
    """Rows as aligned columns under their headers."""
    shown = [[('' if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in shown]) for i, h in enumerate(headers)]
    out.write('  '.join(h.ljust(w) for h, w in zip(headers, widths)).rstrip() + '\n')
    for r in shown:
        out.write('  '.join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + '\n')

#!/usr/bin/python3
"""make check-sql: each SQL object is written once, in its place.

src/sql/functions/*.sql may hold only functions, procedures and views (with
their comments and grants): no state.  src/sql/install/*.sql and the update
files src/sql/update/*.sql may hold no function, procedure or view
definition: those are written once in src/sql/functions, which the Makefile
puts in the install script and in every update script.  Prints each
statement out of place and exits 1 if there is one.
"""
import os
import re
import sys

DEFINES = re.compile(r'^\s*CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|VIEW)\b', re.I)
STATELESS = re.compile(r'^\s*(CREATE\s+OR\s+REPLACE\s+(FUNCTION|PROCEDURE|VIEW)|COMMENT\s+ON\s+(FUNCTION|PROCEDURE|VIEW)'
                       r'|GRANT\s+SELECT\s+ON\s+\S+\s+TO|ALTER\s+(FUNCTION|PROCEDURE))\b', re.I)


def statements(text):
    """The top-level statements of text (comments, strings and dollar quotes skipped)."""
    out, i, n, start = [], 0, len(text), 0
    while i < n:
        if text.startswith('--', i):
            j = text.find('\n', i)
            i = n if j < 0 else j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
        elif text[i] == "'":
            i += 1
            while i < n and not (text[i] == "'" and text[i + 1:i + 2] != "'"):
                i += 2 if text[i] == "'" else 1
            i += 1
        elif text[i] == '$' and re.match(r'\$[A-Za-z_0-9]*\$', text[i:]):
            tag = re.match(r'\$[A-Za-z_0-9]*\$', text[i:]).group(0)
            j = text.find(tag, i + len(tag))
            i = n if j < 0 else j + len(tag)
        elif text[i] == ';':
            out.append(text[start:i + 1])
            start = i = i + 1
        else:
            i += 1
    return out


def strip_comments(stmt):
    stmt = re.sub(r'/\*.*?\*/', '', stmt, flags=re.S)
    return re.sub(r'--[^\n]*', '', stmt).strip()


def main(root):
    bad = []
    for folder, rule in (('functions', 'stateless'), ('install', 'state'), ('update', 'state'), ('after', 'state')):
        path = os.path.join(root, folder)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            if not name.endswith('.sql'):
                continue
            for stmt in statements(open(os.path.join(path, name)).read()):
                body = strip_comments(stmt)
                if body.startswith('\\echo'):
                    body = body.split('\n', 1)[1] if '\n' in body else ''
                if not body:
                    continue
                if rule == 'stateless' and not STATELESS.match(body):
                    bad.append(f'{folder}/{name}: state in a functions file: {body.splitlines()[0][:90]}')
                if rule == 'state' and DEFINES.match(body):
                    bad.append(f'{folder}/{name}: a function or view outside src/sql/functions: {body.splitlines()[0][:90]}')
    for line in bad:
        print(line)
    print(f'check-sql: {len(bad)} statement(s) out of place')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'src/sql'))

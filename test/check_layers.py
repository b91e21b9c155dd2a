#!/usr/bin/python3
"""make check-layers: each C module calls only its own layer and those below.

Reads the table src/MODULES (layer, layer name, file, header, purpose)
and fails, printing each finding, when
  - a C file or header in src/ is not in the table, or the table lists a
    file that is not there;
  - a file (.c or .h) includes the header of a higher layer;
  - a built object (src/*.o, after make) calls a function or uses a
    variable defined by a file of a higher layer: nm -u of the caller
    joined with nm -g --defined-only of the callee;
  - the layers, with each file collapsed to its layer, are not a DAG
    (tsort), or the files of one layer call each other in a loop;
  - a file calls into a file whose header (in the table) it does not
    include itself: each file includes what it uses, not through another
    header;
  - a C file is longer than MAX_LINES: a file that grows past it holds
    more than one concern, and is cut by concern (as run.c was).
There are no exceptions.
Usage: check_layers.py SRC_DIR.  Exit status 0 when all is well, 1 if not.
"""
import collections
import os
import re
import subprocess
import sys

MAX_LINES = 1200
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_table(path):
    """The table: files {file: (layer, header)}, layer names, errors."""
    files, names, errors = {}, {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) < 5 or not words[0].isdigit():
                errors.append(f'{path}:{n}: expected LAYER NAME FILE HEADER PURPOSE')
                continue
            layer, name, file, header = int(words[0]), words[1], words[2], words[3]
            if names.setdefault(layer, name) != name:
                errors.append(f'{path}:{n}: layer {layer} is named {names[layer]} above')
            if file in files:
                errors.append(f'{path}:{n}: {file} is listed twice')
            files[file] = (layer, header)
    return files, names, errors


def header_layers(files):
    """{header: layer}, and errors for a header shared across layers."""
    layers, errors = {}, []
    for file, (layer, header) in sorted(files.items()):
        if layers.setdefault(header, layer) != layer:
            errors.append(f'{header} serves files of layers {layers[header]} and {layer}')
    return layers, errors


def nm(args, obj):
    out = subprocess.run(['nm'] + args + [obj], check=True,
                         capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def calls(src, cfiles):
    """{(caller, callee): [symbols]} between the files' objects."""
    defined, used = {}, collections.defaultdict(set)
    for c in cfiles:
        obj = os.path.join(src, c[:-2] + '.o')
        if not os.path.exists(obj):
            return None, f'{obj} is not built: run make first'
        for words in nm(['-g', '--defined-only'], obj):
            if len(words) == 3:
                defined[words[2]] = c
        for words in nm(['-u'], obj):
            used[c].add(words[-1])
    pairs = collections.defaultdict(list)
    for c, symbols in used.items():
        for s in sorted(symbols):
            if s in defined and defined[s] != c:
                pairs[(c, defined[s])].append(s)
    return pairs, None


def loops(edges):
    """The loops tsort reports in edges (pairs), as lists of nodes."""
    text = ''.join(f'{a} {b}\n' for a, b in sorted(edges))
    err = subprocess.run(['tsort'], input=text, capture_output=True, text=True).stderr
    found, current = [], None
    for line in err.splitlines():
        if 'input contains a loop' in line:
            current = []
            found.append(current)
        elif current is not None:
            current.append(line.split(':', 1)[-1].strip())
    return found


def main(src):
    files, names, problems = read_table(os.path.join(src, 'MODULES'))
    headers, errors = header_layers(files)
    problems += errors

    present = sorted(f for f in os.listdir(src) if f.endswith(('.c', '.h')))
    for f in present:
        if f.endswith('.c') and f not in files:
            problems.append(f'src/{f} is not in src/MODULES')
        if f.endswith('.h') and f not in headers:
            problems.append(f'src/{f} is no file\'s header in src/MODULES')
    for f in sorted(set(files) | set(headers)):
        if f not in present:
            problems.append(f'src/MODULES lists {f}, which is not in src/')
    for f in present:
        with open(os.path.join(src, f)) as fh:
            length = sum(1 for _ in fh)
        if f.endswith('.c') and length > MAX_LINES:
            problems.append(f'src/{f} has {length} lines, more than {MAX_LINES}: cut it by concern')

    # includes
    for f in present:
        if f.endswith('.c') and f in files:
            layer = files[f][0]
        elif f.endswith('.h') and f in headers:
            layer = headers[f]
        else:
            continue
        with open(os.path.join(src, f)) as fh:
            text = fh.read()
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            if inc not in headers or headers[inc] <= layer:
                continue
            line = text.count('\n', 0, m.start()) + 1
            problems.append(f'src/{f}:{line} includes {inc} (layer {headers[inc]} {names[headers[inc]]}) '
                            f'from layer {layer} {names[layer]}')

    # calls, from the objects; medallion_docs.o is a library of its own
    cfiles = sorted(f for f in files if f.endswith('.c') and f != 'medallion_docs.c' and f in present)
    pairs, error = calls(src, cfiles)
    if error:
        problems.append(error)
        pairs = {}
    for (a, b), symbols in sorted(pairs.items()):
        with open(os.path.join(src, a)) as fh:
            included = set(INCLUDE.findall(fh.read()))
        if files[b][1] not in included:
            problems.append(f'{a} calls {b} ({" ".join(symbols)}) but does not include {files[b][1]}')
        if files[b][0] > files[a][0]:
            problems.append(f'{a} (layer {files[a][0]} {names[files[a][0]]}) calls up into {b} '
                            f'(layer {files[b][0]} {names[files[b][0]]}): {" ".join(symbols)}')

    # loops: the layers must form a DAG, and so must the files of each layer
    layer_edges = {(files[a][0], files[b][0]) for a, b in pairs if files[a][0] != files[b][0]}
    for loop in loops(layer_edges):
        problems.append(f'the layers call each other in a loop: {" ".join(loop)}')
    same_layer = {(a, b) for a, b in pairs if files[a][0] == files[b][0]}
    for loop in loops(same_layer):
        problems.append(f'files of one layer call each other in a loop: {" ".join(loop)}')

    for p in problems:
        print(p)
    print(f'check-layers: {len(files)} files in {len(names)} layers, {len(pairs)} calling pairs, '
          f'{len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'src'))

#!/usr/bin/env python3
"""Picks a small stored corpus from a large working one: a greedy set cover over the coverage edges that libFuzzer's
merge control file records for each input, keeping every regression-*.o first and then, while the stored corpus has
fewer than LIMIT files, the input that adds the most edges (the smaller one on a tie).

    mkdir -p .build/merge-scratch
    .build/release/FuzzLoad -merge=1 -merge_control_file=.build/merge.cf -max_len=16384 \\
        .build/merge-scratch Corpus/Load .build/seeds-load .build/corpus-load
    python3 Scripts/pick-corpus.py .build/merge.cf 80 new-load

Inputs named *.o keep their names; the others are named by their SHA-1, as libFuzzer names them.
"""
import hashlib, os, shutil, sys

control, limit, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(control).read().split('\n')
count = int(lines[0])
files = lines[2:2 + count]
edges = {}
for line in lines[2 + count:]:
    if line.startswith('COV '):
        fields = line.split()
        edges[int(fields[1])] = set(map(int, fields[2:]))
size = {i: os.path.getsize(f) for i, f in enumerate(files)}
everything = set().union(*edges.values())

chosen, names = [], set()
for i, f in enumerate(files):
    name = os.path.basename(f)
    if name.startswith('regression-') and name not in names:
        chosen.append(i)
        names.add(name)
covered = set().union(*(edges.get(i, set()) for i in chosen))
while len(chosen) < limit:
    best = max(edges, key=lambda i: (len(edges[i] - covered), -size[i]))
    if not edges[best] - covered:
        break
    chosen.append(best)
    covered |= edges[best]

os.makedirs(out, exist_ok=True)
for i in chosen:
    data = open(files[i], 'rb').read()
    name = os.path.basename(files[i])
    if not name.endswith('.o'):
        name = hashlib.sha1(data).hexdigest()
    open(os.path.join(out, name), 'wb').write(data)
print(f'{len(chosen)} inputs, {sum(size[i] for i in chosen)} bytes, {len(covered)} of {len(everything)} edges')

#!/usr/bin/python3
"""tools/include_graph.py [--objects BUILD/obj] [--dot FILE]: the architecture check of
`make test` (issue 16; docs/ARCHITECTURE.md).

Two graphs, both must be free of cycles and of edges that run from a lower layer up to a
higher one:
  1. the #include graph of src/, kernels/ and include/mesogif/ (from the sources);
  2. with --objects: the call graph between the object files of a build (a file depends on the
     file that defines a global symbol it uses; from `nm`), which is how two files that share
     one header can still call each other in a circle.
A C or header file at the top of src/ (not in a layer folder), or an include that names no file
of the tree, fails too. --dot writes the layer graph of the files (Graphviz) for a picture.

The layers, lowest first (a file may use its own layer and the ones below it):
"""
import collections
import os
import re
import subprocess
import sys

# Lowest first. Each entry: layer name, the folders (relative to the repository root) it holds.
LAYERS = [
    ("api", ["include/mesogif"]),   # the public declarations: types and prototypes only
    ("core", ["src/core"]),         # the per-realization update, host and device (header-only)
    ("util", ["src/util"]),         # errors, units, shards
    ("stats", ["src/stats"]),       # sufficient statistics, spectra (FFTW)
    ("model", ["src/model"]),       # model file, --set, stimuli, run options and results
    ("theory", ["src/theory"]),     # mean-field fixed points, spectra
    ("io", ["src/io"]),             # HDF5 files: write, read, info, merge
    ("engine", ["src/engine", "kernels"]),  # derivation, the job, driver, backends, checkpoints
    ("ffs", ["src/ffs", "kernels/ffs"]),  # forward flux sampling (rare switching), its CUDA engines
    ("cli", ["src/cli"]),           # the command line (not in the library)
]
__doc__ += "".join(f"    {i}. {n:7s} {', '.join(d)}\n" for i, (n, d) in enumerate(LAYERS))
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
SRC_EXT = (".c", ".h", ".cu", ".cuh")


def layer_of(path):
    folder = os.path.dirname(path)
    for name, dirs in LAYERS:
        if folder in dirs:
            return name
    return None


def source_files():
    files = []
    for top in ["include/mesogif", "src", "kernels"]:
        for d, _, names in os.walk(top):
            files += [os.path.join(d, n) for n in sorted(names) if n.endswith(SRC_EXT)]
    return sorted(files)


def resolve(including, target):
    for cand in (os.path.join("include", target), os.path.join("src", target),
                 os.path.join(os.path.dirname(including), target)):
        if os.path.isfile(cand):
            return os.path.normpath(cand)
    return None


def include_graph(files, problems):
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    graph = {}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            targets = inc.findall(fh.read())
        graph[f] = set()
        for t in targets:
            r = resolve(f, t)
            if r is None:
                problems.append(f"{f}: #include \"{t}\" names no file of src/, include/ or kernels/")
            else:
                graph[f].add(r)
    return graph


def object_graph(objdir, problems):
    """Call graph between object files: {source file: set of source files}."""
    objs = []
    for d, _, names in os.walk(objdir):
        objs += [os.path.join(d, n) for n in names if n.endswith(".o")]

    def source_of(o):
        rel = os.path.relpath(o, objdir)[:-2]
        if rel.startswith("cu_"):
            return "kernels/" + rel[3:] + ".cu"
        if rel == "default_model":      # the built-in model text, generated
            return "src/model/default_model.c"
        return "src/" + rel + ".c"

    defs, uses = {}, collections.defaultdict(set)
    for o in objs:
        src = source_of(o)
        if src != "src/model/default_model.c" and not os.path.isfile(src):
            continue                    # an object of a file that no longer exists
        out = subprocess.run(["nm", "-g", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRVW":
                defs.setdefault(p[2], src)
            elif len(p) == 2 and p[0] == "U":
                uses[src].add(p[1])
        uses.setdefault(src, set())
    return {s: {defs[x] for x in used if x in defs and defs[x] != s} for s, used in uses.items()}


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan), and self-loops."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(graph, what, problems):
    for comp in cycles(graph):
        problems.append(f"{what}: cycle among " + " ".join(comp))
    for a in sorted(graph):
        la = layer_of(a)
        for b in sorted(graph[a]):
            lb = layer_of(b)
            if la is None or lb is None:
                continue
            if RANK[lb] > RANK[la]:
                problems.append(f"{what}: {a} ({la}) uses {b} ({lb}), a higher layer")


def main(argv):
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    objdir = dot = None
    i = 0
    while i < len(argv):
        if argv[i] == "--objects" and i + 1 < len(argv):
            objdir, i = argv[i + 1], i + 2
        elif argv[i] == "--dot" and i + 1 < len(argv):
            dot, i = argv[i + 1], i + 2
        else:
            print(__doc__)
            return 2
    problems = []
    files = source_files()
    for f in files:
        if layer_of(f) is None:
            problems.append(f"{f}: not in a layer folder (tools/include_graph.py, "
                            "docs/ARCHITECTURE.md)")
    inc = include_graph(files, problems)
    check(inc, "#include", problems)
    n_calls = 0
    if objdir:
        calls = object_graph(objdir, problems)
        n_calls = sum(len(v) for v in calls.values())
        check(calls, "calls", problems)
    if dot:
        edges = collections.Counter()
        for a, bs in inc.items():
            for b in bs:
                if layer_of(a) and layer_of(b) and layer_of(a) != layer_of(b):
                    edges[(layer_of(a), layer_of(b))] += 1
        with open(dot, "w") as fh:
            fh.write("digraph layers {\n  rankdir=BT;\n")
            for (a, b), n in sorted(edges.items()):
                fh.write(f'  "{a}" -> "{b}" [label={n}];\n')
            fh.write("}\n")
    n_inc = sum(len(v) for v in inc.values())
    for p in problems:
        print("include_graph: " + p)
    print(f"include_graph: {len(files)} files, {n_inc} includes"
          + (f", {n_calls} call edges between objects" if objdir else "")
          + f", {len(LAYERS)} layers: " + " < ".join(n for n, _ in LAYERS)
          + (f"; {len(problems)} problems" if problems else "; no cycle, nothing runs upward"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

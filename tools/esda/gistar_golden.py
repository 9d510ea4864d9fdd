#!/usr/bin/env python3
"""Writes threat/testdata/esda_gistar.json: Getis-Ord Gi* z-scores and
Benjamini-Hochberg significant cells computed by PySAL's esda, the reference
Sety's danger zones are checked against (threat/gistar_golden_test.go).

Not run in CI: the JSON it writes is committed, and the Go test reads it.

The reference is esda's own code, not a re-implementation: esda.getisord.G_Local
(star=True, transform="B", i.e. binary weights with the cell itself included)
and esda.util.fdr, on lattices whose weights are built here with libpysal.

How it was run (PyPI is not reachable from Sety's machines):
  * numpy 1.24.2, scipy 1.10.1 and libpysal 4.7.0 from Debian 12's packages:
        apt-get install python3-libpysal
  * esda's source from GitHub (pysal/esda, commit 11450be, v2.10.0+2), whose
    esda/ folder is imported without its __init__ (which pulls in geopandas
    and scikit-learn, not needed for G_Local):
        /usr/bin/python3 tools/esda/gistar_golden.py /path/to/esda-checkout \
            > threat/testdata/esda_gistar.json

Each scenario is a lattice of ny rows of nx cell values (row by row). The
neighbourhood of cell (x, y) is rows y-ky..y+ky and columns x-kx[y]..x+kx[y],
wrapping around when "ring" (column nx-1 beside column 0), cut at the edges
otherwise. The tests are the cells of "box" [x, y, nx, ny]: two-sided
p-values 2*norm.sf(|z|) of those cells go through esda.util.fdr at
q = 0.10, 0.05 and 0.01, and a cell is significant when p < the cut-off.
"""

import json
import math
import os
import sys
import types
import warnings

warnings.simplefilter("ignore")  # libpysal warns that geopandas and remote data sets are absent

import numpy as np
from scipy import stats
import libpysal
from libpysal.weights import W


def import_esda(src):
    pkg = types.ModuleType("esda")
    pkg.__path__ = [os.path.join(src, "esda")]
    sys.modules["esda"] = pkg
    from esda.getisord import G_Local
    from esda.util import fdr
    return G_Local, fdr


def weights(nx, ny, ring, ky, kx):
    neighbors, wts = {}, {}
    for y in range(ny):
        for x in range(nx):
            i = y * nx + x
            ns = set()
            for yy in range(max(0, y - ky), min(ny - 1, y + ky) + 1):
                for xx in range(x - kx[y], x + kx[y] + 1):
                    if ring:
                        xx %= nx
                    elif xx < 0 or xx >= nx:
                        continue
                    j = yy * nx + xx
                    if j != i:
                        ns.add(j)
            neighbors[i] = sorted(ns)
            wts[i] = [1.0] * len(ns)
    return W(neighbors, wts, silence_warnings=True)


def decayed(rng, n):
    """n incidents' weights: severity 1, 2, 3 or 5 halving every 30 days
    over a 90-day window, as Sety weighs them."""
    sev = rng.choice([1.0, 2.0, 3.0, 5.0], size=n)
    age = rng.uniform(0, 90, size=n)
    return float(np.sum(sev * np.exp2(-age / 30)))


def lattice(rng, nx, ny, rate, spots=(), holes=()):
    x = np.zeros(ny * nx)
    for i in range(nx * ny):
        x[i] = decayed(rng, rng.poisson(rate))
    for cx, cy, n, sigma in spots:
        for _ in range(n):
            px = int(round(rng.normal(cx, sigma))) % nx
            py = int(round(rng.normal(cy, sigma)))
            if 0 <= py < ny:
                x[py * nx + px] += decayed(rng, 1)
    for x0, y0, w, h in holes:
        for y in range(y0, y0 + h):
            for xx in range(x0, x0 + w):
                x[y * nx + xx % nx] = 0.0
    return x


def round_half_up(v):
    return int(math.floor(v + 0.5))


def polar_kx(row0, ny, cell_m=250.0):
    """kx of grid rows row0.. as Sety's grid has them (threat/study.go)."""
    half = 2 * round_half_up(90 / (cell_m / 111195.0))
    deg = 180 / half
    return [min(round_half_up((5 / math.cos(math.radians((row0 + j + 0.5) * deg)) - 1) / 2), 2 * half) for j in range(ny)]


def scenarios(rng):
    out = []
    # Sparse incidents and three clusters of different strength.
    out.append(dict(name="sparse", nx=44, ny=34, ring=False, ky=2, kx=[2] * 34, box=[2, 2, 40, 30],
                    x=lattice(rng, 44, 34, 0.25, spots=[(10, 8, 40, 1.2), (30, 20, 14, 1.0), (20, 27, 7, 0.8)])))
    # Busy everywhere, with a hot cluster and a quiet hole: hot and cold spots.
    out.append(dict(name="dense", nx=44, ny=44, ring=False, ky=2, kx=[2] * 44, box=[2, 2, 40, 40],
                    x=lattice(rng, 44, 44, 6.0, spots=[(30, 12, 160, 1.5)], holes=[(8, 26, 6, 6)])))
    # Around the globe: a cluster across column 0 and a hole across it too.
    out.append(dict(name="ring", nx=48, ny=14, ring=True, ky=2, kx=[2] * 14, box=[0, 2, 48, 10],
                    x=lattice(rng, 48, 14, 3.0, spots=[(0, 7, 90, 1.2)], holes=[(44, 3, 3, 3)])))
    # Rows of Sety's 250 m grid at about 77-78 N: wider neighbourhoods.
    row0 = 34280
    kx = polar_kx(row0, 16)
    out.append(dict(name="polar", nx=80, ny=16, ring=False, ky=2, kx=kx, box=[max(kx), 2, 80 - 2 * max(kx), 12], row0=row0,
                    x=lattice(rng, 80, 16, 0.6, spots=[(40, 8, 70, 4.0)])))
    # A short ring whose northern rows' neighbourhoods are the whole ring.
    kx = [2, 2, 3, 4, 6, 9, 13, 14, 20, 30]
    out.append(dict(name="ring-pole", nx=28, ny=10, ring=True, ky=2, kx=kx, box=[0, 0, 28, 10],
                    x=lattice(rng, 28, 10, 2.0, spots=[(27, 2, 40, 1.0)])))
    return out


def main():
    G_Local, fdr = import_esda(sys.argv[1])
    rng = np.random.default_rng(27)
    doc = {
        "generator": "tools/esda/gistar_golden.py",
        "reference": "esda G_Local(star=True, transform='B', permutations=0) and esda.util.fdr; esda 11450be (v2.10.0+2), "
                     "libpysal %s, numpy %s, scipy from Debian 12" % (libpysal.__version__, np.__version__),
        "levels": [0.10, 0.05, 0.01],
        "scenarios": [],
    }
    for sc in scenarios(rng):
        nx, ny = sc["nx"], sc["ny"]
        w = weights(nx, ny, sc["ring"], sc["ky"], sc["kx"])
        y = np.asarray(sc["x"])
        g = G_Local(y, w, transform="B", star=True, permutations=0)
        z = np.asarray(g.Zs)
        bx, by, bnx, bny = sc["box"]
        tested = [(by + j) * nx + bx + i for j in range(bny) for i in range(bnx)]
        p = 2 * stats.norm.sf(np.abs(z[tested]))
        significant = []
        for q in doc["levels"]:
            cut = fdr(p, q)
            significant.append([tested[k] for k in range(len(tested)) if p[k] < cut])
        sc["x"] = [float(v) for v in y]
        sc["z"] = [float(v) for v in z]
        sc["significant"] = significant
        doc["scenarios"].append(sc)
        print("%s: %d cells, significant at q 0.10/0.05/0.01: %s" % (sc["name"], nx * ny, [len(s) for s in significant]), file=sys.stderr)
    # One scenario a line: small, and a change shows as the lines it touches.
    scs = doc.pop("scenarios")
    head = json.dumps(doc)
    sys.stdout.write(head[:-1] + ', "scenarios": [\n' + ",\n".join(json.dumps(sc) for sc in scs) + "\n]}\n")


if __name__ == "__main__":
    main()

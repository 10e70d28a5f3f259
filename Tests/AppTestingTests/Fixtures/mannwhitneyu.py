#!/usr/bin/env python3
"""Writes mannwhitneyu.json: fixed samples and SciPy's scipy.stats.mannwhitneyu answers for them.

Run once (python3 mannwhitneyu.py > mannwhitneyu.json); the samples are written out in the JSON,
so the Swift test needs neither NumPy nor its random generator. Made with SciPy 1.17.1 and
NumPy as installed beside it; the test compares U exactly and p-values to 1e-9 relative."""
import json
import numpy as np
import scipy
from scipy.stats import mannwhitneyu

rng = np.random.default_rng(20261204)

def lognormal(n, median_ms, sigma, digits):
    return [round(float(v), digits) for v in rng.lognormal(np.log(median_ms), sigma, n)]

cases = [
    ("small, no ties (exact)", [1.83, 0.50, 1.62, 2.48, 1.68], [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06 + 0.001], {}),
    ("small, ties (asymptotic)", [3, 5, 5, 8, 9], [1, 2, 3, 5, 6, 6, 7], {}),
    ("8 against 60, no ties (exact over a long tail)", lognormal(8, 300, 0.3, 6), lognormal(60, 240, 0.3, 6), {}),
    ("latencies rounded to 1 ms, 30 against 40", lognormal(30, 420, 0.4, 0), lognormal(40, 400, 0.4, 0), {}),
    ("2,000 against 2,500, 5 % slower", lognormal(2000, 315, 0.5, 1), lognormal(2500, 300, 0.5, 1), {}),
    ("the same values twice", [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], {}),
    ("without the continuity correction", lognormal(25, 100, 0.3, 2), lognormal(20, 110, 0.3, 2), {"use_continuity": False}),
    ("asymptotic asked for, no ties", [1.5, 2.5, 3.5, 4.5], [2.0, 3.0, 4.0, 5.0, 6.0], {"method": "asymptotic"}),
]

out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": []}
for name, x, y, options in cases:
    answers = {}
    for alternative in ("two-sided", "less", "greater"):
        r = mannwhitneyu(x, y, alternative=alternative, **options)
        answers[alternative] = {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}
    out["cases"].append({
        "name": name, "x": x, "y": y,
        "continuity": options.get("use_continuity", True),
        "method": options.get("method", "auto"),
        "answers": answers,
    })
print(json.dumps(out, indent=1))

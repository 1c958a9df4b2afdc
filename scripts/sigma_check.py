#!/usr/bin/env python3
"""A Sigma tool's view of a rule directory: loads every Sigma file (all *.yml except SecMon's own
bl_*.yml baselines and the *.tests.yml regression tests) with pySigma, the Sigma project's reference
library, and prints each error with its file. Also checks that no Sigma file holds a baseline and
that every bl_*.yml holds one. Exit status 1 when anything is wrong, 2 when pySigma is missing.

    python3 scripts/sigma_check.py rules
"""
import sys
from pathlib import Path

try:
    from sigma.collection import SigmaCollection
except ImportError:
    print("sigma_check.py: pySigma is not installed (pip install pysigma)", file=sys.stderr)
    sys.exit(2)
import yaml

root = Path(sys.argv[1] if len(sys.argv) > 1 else "rules")
files = sorted(p for p in root.rglob("*.yml") if not p.name.endswith(".tests.yml"))
sigma_files = [p for p in files if not p.name.startswith("bl_")]
problems = []
for path in files:
    for document in yaml.safe_load_all(path.read_text()):
        has_baseline = isinstance(document, dict) and "baseline" in document
        if path.name.startswith("bl_") and not has_baseline:
            problems.append(f"{path}: a bl_*.yml file holds SecMon baseline rules only")
        if not path.name.startswith("bl_") and has_baseline:
            problems.append(f"{path}: a baseline rule in a Sigma file (put it in a bl_*.yml file)")
collection = SigmaCollection.load_ruleset(sigma_files, collect_errors=True)
for rule in collection.rules:
    for error in rule.errors:
        problems.append(f"{getattr(rule, 'source', None) or rule.title}: {error}")
for problem in problems:
    print(problem)
print(f"sigma_check.py: {len(sigma_files)} Sigma files, {len(collection.rules)} rules loaded by pySigma, "
      f"{len(files) - len(sigma_files)} baseline files; {len(problems)} problems")
sys.exit(1 if problems else 0)

"""The README's pointing-game row agrees with the benchmark's committed results file (no drifting prose)."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_pointing_game_row_matches_results_file():
    results = json.loads((ROOT / "bench" / "results" / "pointing_game.json").read_text())
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| pointing game on two-object scenes"))
    by_name = {r["name"]: r for r in results["rows"]}
    checked = 0
    for name, r in by_name.items():
        m = re.search(re.escape(name) + r" (\d+\.\d) %", row)
        if m is None:
            continue
        assert float(m.group(1)) == round(100 * r["pointing_game"], 1), (
            f"README says {name} {m.group(1)} %, bench/results/pointing_game.json has {100 * r['pointing_game']:.1f} %")
        checked += 1
    named = [r["name"] for r in results["rows"] if r["name"] in row]
    assert checked >= 8 and len(named) >= 8, f"the README row should give every method and baseline; it names {named}"

"""Faithfulness of heat maps on scenes where low-level cues cannot find the answer.

Every test image (``dlcourse.data.make_shape_scenes``) holds two shapes of *different*
classes, each darker or brighter than the background at random, of random size and position,
with both boxes known. The lecture's GAP network is trained as a multi-label classifier on
such scenes (``dlcourse.viz.train_scenes_cnn``, the recipe and sizes of lecture 4 section 6,
``dlcourse._lecture_viz.BENCH_CONFIG``). Each heat map is asked for the **target** class
(object 0); the pointing game counts a hit only when the map's maximum lies inside the
target's box. Printed for every map, in one table:

* pointing game (target box), share of maxima on the distractor's box;
* deletion AUC (sigmoid score of the target class while the top-ranked pixels, up to 25 %,
  are replaced by the image mean; lower = better) and insertion AUC (top pixels put back into
  a blurred copy; higher = better).

Methods: Grad-CAM (relu3, relu2), occlusion, saliency, SmoothGrad, guided backprop.
Baselines: image brightness, edge energy, centre prior, random (model-free); Grad-CAM for the
*other* class; Grad-CAM of a randomly re-initialized network (model-randomization sanity check,
Adebayo et al. 2018, with the rank correlation of its maps to the trained ones).

Goal (issue 18): Grad-CAM >= 85 %, every model-free baseline <= 55 %, Grad-CAM for the
distractor's class on the distractor >= 85 %. The results go to a JSON file (default
``bench/results/pointing_game.json``; FAST mode: ``pointing_game_fast.json``).

    python bench/pointing_game.py            # full mode (lecture 4's full-mode numbers)
    python bench/pointing_game.py --fast     # the lecture's FAST mode (CI)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from dlcourse import _lecture_viz as lv  # private: lectures and benches only (rule 3)
from dlcourse import data, viz

GOAL_METHOD, GOAL_BASELINE = 0.85, 0.55
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="the lecture's FAST-mode sizes")
    ap.add_argument("--seed", type=int, default=0, help="training seed (the lecture uses 0)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default: bench/results/pointing_game[_fast].json)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    mode = "fast" if args.fast else "full"
    cfg = lv.BENCH_CONFIG[mode]
    out_path = args.out or RESULTS / ("pointing_game_fast.json" if args.fast else "pointing_game.json")
    t_all = time.perf_counter()
    load0 = os.getloadavg()
    print(f"# faithfulness bench ({mode} mode), torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}, load {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")

    t = time.perf_counter()
    train_set = data.make_shape_scenes(cfg["n_train"], cfg["size"], seed=0)
    test_set = data.make_shape_scenes(cfg["n_test"], cfg["size"], seed=1)
    model, history = viz.train_scenes_cnn(train_set, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                                          width=cfg["width"], lr=cfg["lr"], val=test_set, seed=args.seed,
                                          progress=False)
    randomized, _ = viz.train_scenes_cnn(train_set, epochs=0, width=cfg["width"], seed=args.seed + 1)
    t_train = time.perf_counter() - t
    acc = history.last["val_acc"]
    print(f"trained on {len(train_set)} scenes ({cfg['size']}x{cfg['size']}, 2 shapes each), {len(history)} epochs "
          f"in {t_train:.1f} s: both classes right on {acc:.1%} of {len(test_set)} test scenes")

    t = time.perf_counter()
    res = lv.faithfulness_benchmark(model, randomized, test_set, n_eval=cfg["n_eval"],
                                    occlusion_patch=cfg["occlusion_patch"], occlusion_stride=cfg["occlusion_stride"],
                                    smoothgrad_samples=cfg["smoothgrad_samples"], curve_n=cfg["curve_n"],
                                    curve_steps=cfg["curve_steps"])
    t_eval = time.perf_counter() - t
    rows = res["rows"]
    print(f"\n{res['n']} test scenes, heat maps asked for the target class ({t_eval:.1f} s)\n")
    print(lv.format_benchmark_table(rows))
    rho = res["rank_correlation_randomized"]
    print(f"\nsanity check: rank correlation of Grad-CAM maps, trained vs randomized network: {rho:.2f}")

    by = {r["name"]: r for r in rows}
    gc = by["Grad-CAM relu3"]["pointing_game"]
    worst_free = max(by[name]["pointing_game"] for name in lv.MODEL_FREE)
    other_on_distractor = by["Grad-CAM, other class"]["on_distractor"]
    goals = {
        "grad_cam_pointing_game": {"value": gc, "goal": f">= {GOAL_METHOD}", "met": gc >= GOAL_METHOD},
        "best_model_free_baseline": {"value": worst_free, "goal": f"<= {GOAL_BASELINE}",
                                     "met": worst_free <= GOAL_BASELINE},
        "grad_cam_other_class_on_distractor": {"value": other_on_distractor, "goal": f">= {GOAL_METHOD}",
                                               "met": other_on_distractor >= GOAL_METHOD},
    }
    print()
    for name, g in goals.items():
        print(f"goal {name}: {g['value']:.1%} (goal {g['goal']}): {'MET' if g['met'] else 'NOT MET'}")
    total = time.perf_counter() - t_all
    load1 = os.getloadavg()
    print(f"total {total:.1f} s, load {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "bench": "pointing_game", "mode": mode, "config": cfg, "seed": args.seed,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "load_before": load0, "load_after": load1,
        "train_seconds": t_train, "eval_seconds": t_eval, "total_seconds": total,
        "epochs": len(history), "scene_accuracy": acc, "n_eval": res["n"],
        "rows": rows, "rank_correlation_randomized": rho, "goals": goals,
    }
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(out_path)
    print(f"results written to {out_path}")
    return 0 if all(g["met"] for g in goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Pointing game and deletion AUC of the heat-map methods of lecture 4, on the generated shapes.

Trains the lecture's GAP network (``dlcourse.viz.train_shapes_cnn``, same data, seeds and
epochs as ``lectures/04_visualizing_cnns.ipynb``) on ``dlcourse.data.make_shapes``, whose
object boxes are known, then scores every method on held-out shapes:

* pointing game: share of images whose heat-map maximum lies inside the object box (strict:
  ties count against the method);
* deletion AUC: mean class probability while the top-ranked pixels (up to 25 %) are replaced
  by the image mean; lower = the map names the pixels the model needs.

Baselines: image brightness, a centre prior, random maps, Grad-CAM of the untrained network.
The heat-map methods are written out here (as in the lecture's cells): ``dlcourse`` does not
contain them (assignment 3 asks students to write them).

    python bench/pointing_game.py            # full mode (the lecture's numbers)
    python bench/pointing_game.py --fast     # the lecture's FAST mode (CI)
"""
from __future__ import annotations

import argparse
import platform
import sys
import time

import torch
from torch.nn import functional as F

from dlcourse import _lecture_viz as lv  # private: lectures and benches only (rule 3)
from dlcourse import data, viz


@torch.no_grad()
def occlusion(net, x, target, patch=6, stride=2, fill=0.0):
    """x: (N, C, H, W), target: (N,) -> (N, H, W) mean drop of the class probability."""
    net.eval()
    prob = lambda z: F.softmax(net(z), 1).gather(1, target[:, None])[:, 0]  # noqa: E731
    p0 = prob(x)
    n, _, h, w = x.shape
    heat, count = x.new_zeros(n, h, w), x.new_zeros(h, w)
    for y0 in range(0, h - patch + 1, stride):
        for x0 in range(0, w - patch + 1, stride):
            hidden = x.clone()
            hidden[:, :, y0:y0 + patch, x0:x0 + patch] = fill
            heat[:, y0:y0 + patch, x0:x0 + patch] += (p0 - prob(hidden))[:, None, None]
            count[y0:y0 + patch, x0:x0 + patch] += 1
    return heat / count.clamp(min=1)


def cam(net, x, target):
    """CAM of a GAP network: (N, C, H, W) -> (N, H, W)."""
    with lv.capture_activations(net, "relu3") as acts, torch.no_grad():
        net(x)
    maps = torch.einsum("nk,nkhw->nhw", net.fc.weight[target], acts["relu3"])
    return viz.upsample_maps(maps, x.shape[-2:])


def grad_cam(net, layer, x, target):
    """Grad-CAM of any conv layer: (N, C, H, W) -> (N, H, W)."""
    with lv.capture_gradients(net, layer) as rec:
        net(x).gather(1, target[:, None]).sum().backward()
    a, g = rec.activations[layer], rec.gradients[layer]
    net.zero_grad(set_to_none=True)
    return viz.upsample_maps(F.relu((g.mean((2, 3), keepdim=True) * a).sum(1)), x.shape[-2:])


def saliency(net, x, target):
    """|d score / d pixel|, max over channels: (N, C, H, W) -> (N, H, W)."""
    net.eval()
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).gather(1, target[:, None]).sum(), x)
    return g.abs().amax(1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="the lecture's FAST-mode sizes")
    ap.add_argument("--seed", type=int, default=0, help="training seed (the lecture uses 0)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    ap.add_argument("--min-gradcam", type=float, default=0.90,
                    help="exit 1 when Grad-CAM's pointing game is below this share (default 0.90)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    pick = (lambda full, fast: fast) if args.fast else (lambda full, fast: full)
    t_all = time.perf_counter()
    print(f"# pointing game bench ({'FAST' if args.fast else 'full'} mode), torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), {platform.processor() or platform.machine()}")

    t = time.perf_counter()
    train_set = data.make_shapes(pick(4000, 1500), 32, seed=0)
    test_set = data.make_shapes(pick(600, 300), 32, seed=1)
    model, history = viz.train_shapes_cnn(train_set, epochs=pick(8, 4), batch_size=pick(64, 16), val=test_set,
                                          seed=args.seed, progress=False)
    untrained, _ = viz.train_shapes_cnn(train_set, epochs=0, seed=args.seed)
    t_train = time.perf_counter() - t
    print(f"trained on {len(train_set)} shapes, {len(history)} epochs: test accuracy "
          f"{history.last['val_acc']:.1%} ({t_train:.1f} s)")

    t = time.perf_counter()
    n_eval = pick(600, 100)
    xe, ye, be = test_set.images[:n_eval], test_set.labels[:n_eval], test_set.boxes[:n_eval]
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    methods = {
        "Grad-CAM relu3": lambda: grad_cam(model, "relu3", xe, ye),
        "Grad-CAM relu2": lambda: grad_cam(model, "relu2", xe, ye),
        "CAM": lambda: cam(model, xe, ye),
        "occlusion 6x6": lambda: occlusion(model, xe, ye, patch=6, stride=pick(2, 3)),
        "saliency": lambda: saliency(model, xe, ye),
        "brightness": lambda: xe.mean(1),
        "Grad-CAM untrained": lambda: grad_cam(untrained, "relu3", xe, ye),
        "centre prior": lambda: torch.exp(-((xx - 15.5) ** 2 + (yy - 15.5) ** 2) / 50).expand(n_eval, 32, 32),
        "random": lambda: torch.rand(n_eval, 32, 32, generator=torch.Generator().manual_seed(0)),
    }
    rows = []
    for name, fn in methods.items():
        t_m = time.perf_counter()
        maps = fn().detach()
        secs = time.perf_counter() - t_m
        pg = viz.pointing_game(maps, be)
        auc = viz.deletion_curve(model, xe, maps, ye, steps=10, max_fraction=0.25).auc
        rows.append((name, pg, auc, secs))
    print(f"\n{n_eval} test images ({time.perf_counter() - t:.1f} s)")
    print(f"{'method':20s} {'pointing game':>14s} {'deletion AUC':>13s} {'map seconds':>12s}")
    for name, pg, auc, secs in rows:
        print(f"{name:20s} {pg:14.1%} {auc:13.3f} {secs:12.2f}")
    gc = rows[0][1]
    print(f"\nGrad-CAM (relu3) pointing game {gc:.1%}: {'OK' if gc >= args.min_gradcam else 'BELOW'} "
          f"the {args.min_gradcam:.0%} target")
    print(f"total {time.perf_counter() - t_all:.1f} s")
    return 0 if gc >= args.min_gradcam else 1


if __name__ == "__main__":
    sys.exit(main())

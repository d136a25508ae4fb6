# cell: occlusion
# loses: test_occlusion_visible, test_occlusion_hidden
# why: subtracts the other way round, score(occluded) - score(x): important regions come out negative
def occlusion_sensitivity(model, x, target, *, patch, stride, fill=0.0, batch_size=64):
    """Mean drop of the class score when a patch x patch square is hidden: (N, C, H, W) -> (N, H, W)."""
    n, c, h, w = x.shape
    if stride > patch or patch > min(h, w):
        raise ValueError("bad patch/stride")
    target = torch.as_tensor(target).long().reshape(-1).expand(n)
    rows = [k * stride for k in range(math.ceil((h - patch) / stride) + 1)]
    cols = [k * stride for k in range(math.ceil((w - patch) / stride) + 1)]
    windows = [(r, q) for r in rows for q in cols]
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            base = model(x).gather(1, target[:, None])[:, 0]
            heat, count = torch.zeros(n, h, w), torch.zeros(h, w)
            for r, q in windows:
                count[r:r + patch, q:q + patch] += 1
            for i in range(n):
                for start in range(0, len(windows), batch_size):
                    chunk = windows[start:start + batch_size]
                    copies = x[i:i + 1].repeat(len(chunk), 1, 1, 1)
                    for j, (r, q) in enumerate(chunk):
                        copies[j, :, r:r + patch, q:q + patch] = fill
                    diffs = model(copies)[:, target[i]] - base[i]
                    for j, (r, q) in enumerate(chunk):
                        heat[i, r:r + patch, q:q + patch] += diffs[j]
    finally:
        for m, flag in flags:
            m.training = flag
    return heat / count

# cell: occlusion
# loses: test_occlusion_visible, test_occlusion_hidden
# why: windows only where they fit, range(0, H - patch + 1, stride): the last rows/columns are never occluded (no clipped window)
def occlusion_sensitivity(model, x, target, *, patch, stride, fill=0.0, batch_size=64):
    """Mean drop of the class score when a patch x patch square is hidden: (N, C, H, W) -> (N, H, W)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
    n, c, h, w = x.shape
    if patch < 1 or stride < 1 or batch_size < 1:
        raise ValueError("patch, stride and batch_size must be >= 1")
    if patch > min(h, w):
        raise ValueError(f"patch {patch} does not fit in a {h}x{w} image")
    if stride > patch:
        raise ValueError(f"stride {stride} > patch {patch} would skip pixels")
    target = torch.as_tensor(target, device=x.device).long().reshape(-1).expand(n)
    rows = list(range(0, h - patch + 1, stride))
    cols = list(range(0, w - patch + 1, stride))
    windows = [(r, q) for r in rows for q in cols]
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            base = model(x).gather(1, target[:, None])[:, 0]
            heat = torch.zeros(n, h, w, device=x.device)
            count = torch.zeros(h, w, device=x.device)
            for r, q in windows:
                count[r:r + patch, q:q + patch] += 1
            for i in range(n):
                for start in range(0, len(windows), batch_size):
                    chunk = windows[start:start + batch_size]
                    copies = x[i:i + 1].repeat(len(chunk), 1, 1, 1)
                    for j, (r, q) in enumerate(chunk):
                        copies[j, :, r:r + patch, q:q + patch] = fill
                    drops = base[i] - model(copies)[:, target[i]]
                    for j, (r, q) in enumerate(chunk):
                        heat[i, r:r + patch, q:q + patch] += drops[j]
    finally:
        for m, flag in flags:
            m.training = flag
    return (heat / count.clamp(min=1)).float()

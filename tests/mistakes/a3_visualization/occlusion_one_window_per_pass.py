# cell: occlusion
# loses: test_occlusion_batching
# why: correct values, but one forward pass per window position: not batched (batch_size ignored)
def occlusion_sensitivity(model, x, target, *, patch, stride, fill=0.0, batch_size=64):
    """Mean drop of the class score when a patch x patch square is hidden: (N, C, H, W) -> (N, H, W)."""
    n, c, h, w = x.shape
    if stride > patch or patch > min(h, w):
        raise ValueError("bad patch/stride")
    target = torch.as_tensor(target).long().reshape(-1).expand(n)
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            base = model(x).gather(1, target[:, None])[:, 0]
            heat, count = torch.zeros(n, h, w), torch.zeros(h, w)
            for r in range(0, (math.ceil((h - patch) / stride)) * stride + 1, stride):
                for q in range(0, (math.ceil((w - patch) / stride)) * stride + 1, stride):
                    hidden = x.clone()
                    hidden[:, :, r:r + patch, q:q + patch] = fill
                    drop = base - model(hidden).gather(1, target[:, None])[:, 0]
                    heat[:, r:r + patch, q:q + patch] += drop[:, None, None]
                    count[r:r + patch, q:q + patch] += 1
    finally:
        for m, flag in flags:
            m.training = flag
    return heat / count

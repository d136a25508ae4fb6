# cell: saliency
# loses: test_saliency_hidden
# why: scores with model(x)[:, target].sum(): fine for one int target, but a list of targets picks every target for every image
def saliency_map(model, x, target):
    """max over channels of |d score / d pixel|: (N, C, H, W) -> (N, H, W)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
    n = x.shape[0]
    flags = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.enable_grad():
            xg = x.detach().clone().requires_grad_(True)
            score = model(xg)[:, torch.as_tensor(target)].sum()
            (grad,) = torch.autograd.grad(score, xg)
    finally:
        for m, flag in flags:
            m.training = flag
    return grad.abs().amax(1).float()

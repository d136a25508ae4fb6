# cell: saliency
# loses: test_saliency_visible, test_saliency_hidden
# why: wraps the forward pass in torch.no_grad() "because we are not training": there is no graph to differentiate
def saliency_map(model, x, target):
    """max over channels of |d score / d pixel|: (N, C, H, W) -> (N, H, W)."""
    n = x.shape[0]
    target = torch.as_tensor(target).long().reshape(-1).expand(n)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            xg = x.detach().clone().requires_grad_(True)
            score = model(xg).gather(1, target[:, None]).sum()
            (grad,) = torch.autograd.grad(score, xg)
    finally:
        model.train(was_training)
    return grad.abs().amax(1)

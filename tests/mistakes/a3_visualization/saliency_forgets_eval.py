# cell: saliency
# loses: test_saliency_hidden
# why: never calls model.eval(): dropout and batch-norm batch statistics change the gradient
def saliency_map(model, x, target):
    """max over channels of |d score / d pixel|: (N, C, H, W) -> (N, H, W)."""
    n = x.shape[0]
    target = torch.as_tensor(target).long().reshape(-1).expand(n)
    xg = x.detach().clone().requires_grad_(True)
    score = model(xg).gather(1, target[:, None]).sum()
    (grad,) = torch.autograd.grad(score, xg)
    return grad.abs().amax(1)

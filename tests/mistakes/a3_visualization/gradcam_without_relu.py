# cell: grad_cam
# loses: test_gradcam_hidden
# why: returns sum_k alpha_k A_k without the ReLU: evidence against the class shows up as negative heat
def grad_cam(model, layer_name, x, target):
    """Grad-CAM of layer ``layer_name``: (N, C, H, W) -> (N, H, W), upsampled bilinearly."""
    modules = dict(model.named_modules())
    if layer_name not in modules:
        raise ValueError(f"{layer_name!r} is not a layer of the model")
    n, _, h, w = x.shape
    target = torch.as_tensor(target).long().reshape(-1).expand(n)
    store = {}
    flags = [(m, m.training) for m in model.modules()]
    handle = modules[layer_name].register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    try:
        model.eval()
        score = model(x).gather(1, target[:, None]).sum()
        (g,) = torch.autograd.grad(score, store["a"])
    finally:
        handle.remove()
        for m, flag in flags:
            m.training = flag
    cam = (g.mean((2, 3), keepdim=True) * store["a"]).sum(1, keepdim=True).detach()
    return F.interpolate(cam, size=(h, w), mode="bilinear", align_corners=False)[:, 0]

# cell: grad_cam
# loses: test_gradcam_hidden
# why: upsamples the map to (H, H): right on square images, wrong (and mis-shaped) on a 12x16 batch
def grad_cam(model, layer_name, x, target):
    """Grad-CAM of layer ``layer_name``: (N, C, H, W) -> (N, H, W), upsampled bilinearly."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
    modules = dict(model.named_modules())
    if layer_name not in modules or layer_name == "":
        raise ValueError(f"{layer_name!r} is not a layer of the model")
    n, _, h, w = x.shape
    target = torch.as_tensor(target, device=x.device).long().reshape(-1).expand(n)
    store = {}
    flags = [(m, m.training) for m in model.modules()]
    handle = modules[layer_name].register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    try:
        model.eval()
        with torch.enable_grad():
            score = model(x).gather(1, target[:, None]).sum()
            a = store["a"]
            (g,) = torch.autograd.grad(score, a)
    finally:
        handle.remove()
        for m, flag in flags:
            m.training = flag
    cam = F.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True)).detach()
    return F.interpolate(cam, size=(h, h), mode="bilinear", align_corners=False)[:, 0].float()

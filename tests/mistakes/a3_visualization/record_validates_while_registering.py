# cell: record_activations
# loses: test_record_cleanup
# why: checks each name while registering the hooks: an unknown name raises after earlier layers got their hooks (left behind)
@contextlib.contextmanager
def record_activations(model, layer_names):
    """Yield ``{name: [output of each forward pass, detached]}`` for the named layers (eval mode)."""
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    modules = dict(model.named_modules())
    records = {name: [] for name in layer_names}
    flags = [(m, m.training) for m in model.modules()]
    handles = []

    def make_hook(name):
        def hook(module, inputs, output):
            records[name].append(output.detach())
        return hook

    for name in layer_names:
        if name not in modules or name == "":
            raise ValueError(f"{name!r} is not a layer of the model")
        handles.append(modules[name].register_forward_hook(make_hook(name)))
    try:
        model.eval()
        yield records
    finally:
        for h in handles:
            h.remove()
        for m, flag in flags:
            m.training = flag

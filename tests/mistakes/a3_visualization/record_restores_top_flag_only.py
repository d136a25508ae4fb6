# cell: record_activations
# loses: test_record_cleanup
# why: saves and restores only model.training (model.train(was_training)): a submodule that was in eval mode comes back in train mode
@contextlib.contextmanager
def record_activations(model, layer_names):
    """Yield ``{name: [output of each forward pass, detached]}`` for the named layers (eval mode)."""
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    modules = dict(model.named_modules())
    for name in layer_names:
        if not isinstance(name, str) or name not in modules or name == "":
            raise ValueError(f"{name!r} is not a layer of the model; layers: {[n for n in modules if n]}")
    records = {name: [] for name in layer_names}
    was_training = model.training
    handles = []

    def make_hook(name):
        def hook(module, inputs, output):
            records[name].append(output.detach())
        return hook

    try:
        model.eval()
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        yield records
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

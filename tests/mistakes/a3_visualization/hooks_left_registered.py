# cell: record_activations
# loses: test_record_visible, test_record_cleanup
# why: registers the forward hooks but never removes them (no handle.remove())
@contextlib.contextmanager
def record_activations(model, layer_names):
    """Yield ``{name: [output of each forward pass, detached]}`` for the named layers (eval mode)."""
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise ValueError(f"{name!r} is not a layer of the model")
    records = {name: [] for name in layer_names}
    was_training = [(m, m.training) for m in model.modules()]
    for name in layer_names:
        modules[name].register_forward_hook(lambda m, i, o, name=name: records[name].append(o.detach()))
    model.eval()
    try:
        yield records
    finally:
        for m, flag in was_training:
            m.training = flag

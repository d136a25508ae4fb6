# cell: record_activations
# loses: test_record_cleanup
# why: removes the hooks and restores the flags after the yield, but not in a finally: an exception inside the block leaves them behind
@contextlib.contextmanager
def record_activations(model, layer_names):
    """Yield ``{name: [output of each forward pass, detached]}`` for the named layers (eval mode)."""
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise ValueError(f"{name!r} is not a layer of the model")
    records = {name: [] for name in layer_names}
    flags = [(m, m.training) for m in model.modules()]
    handles = [modules[name].register_forward_hook(lambda m, i, o, name=name: records[name].append(o.detach()))
               for name in layer_names]
    model.eval()
    yield records
    for h in handles:
        h.remove()
    for m, flag in flags:
        m.training = flag

# cell: embeddings
# loses: test_embeddings_hidden
# why: runs the model in whatever mode it is in (train): batch norm uses batch statistics, so embeddings depend on the batch
def extract_embeddings(model, layer_name, images, batch_size=128):
    """Flattened outputs of ``layer_name``: (N, C, H, W) -> (N, D) float32 on the CPU."""
    modules = dict(model.named_modules())
    if layer_name not in modules:
        raise ValueError(f"{layer_name!r} is not a layer of the model")
    outs = []
    handle = modules[layer_name].register_forward_hook(lambda m, i, o: outs.append(o.detach()))
    try:
        with torch.no_grad():
            for start in range(0, images.shape[0], batch_size):
                model(images[start:start + batch_size])
    finally:
        handle.remove()
    return torch.cat([a.flatten(1) for a in outs]).float().cpu()


def tsne_2d(features, perplexity=30.0, seed=0):
    """2-D t-SNE of ``features: (N, D)`` -> NumPy array (N, 2)."""
    f = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    if perplexity >= f.shape[0]:
        raise ValueError("perplexity must be smaller than the number of points")
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(f)

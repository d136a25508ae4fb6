# cell: embeddings
# loses: test_tsne_hidden
# why: standardizes each feature before t-SNE (StandardScaler habit): noise dimensions get as much weight as the signal
def extract_embeddings(model, layer_name, images, batch_size=128):
    """Flattened outputs of ``layer_name``: (N, C, H, W) -> (N, D) float32 on the CPU."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a (N, C, H, W) tensor, got {getattr(images, 'shape', type(images))}")
    with record_activations(model, [layer_name]) as rec, torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            model(images[start:start + batch_size])
    return torch.cat([a.flatten(1) for a in rec[layer_name]]).float().cpu()


def tsne_2d(features, perplexity=30.0):
    """2-D t-SNE of ``features: (N, D)`` -> NumPy array (N, 2)."""
    f = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    if f.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {f.shape}")
    if perplexity >= f.shape[0]:
        raise ValueError(f"perplexity ({perplexity}) must be smaller than the number of points ({f.shape[0]})")
    f = (f - f.mean(0)) / (f.std(0) + 1e-8)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0).fit_transform(f)

# cell: build_stack
# loses: test_build_stack_visible, test_build_stack_hidden
# why: ignores pool=False: every stage ends with a MaxPool2d (passed the old visible test, which never set pool)
def build_stack(input_shape: tuple[int, int, int], num_classes: int, *, n: int, m: int, k: int,
                channels=(), hidden=(), pool: bool = True, bias: bool = True) -> nn.Sequential:
    """INPUT -> [(CONV -> RELU)*n -> POOL?]*m -> (FC -> RELU)*k -> FC as one flat nn.Sequential.

    Args:
        input_shape: ``(C, H, W)`` of one image.
        num_classes: outputs of the last Linear.
        n, m, k: convs per stage (0..3), stages, hidden FC layers.
        channels: output channels of the convs of each stage (m entries; empty when n == 0).
        hidden: sizes of the k hidden FC layers.
        pool: a MaxPool2d(2, 2) closes each stage.
        bias: biases in every Conv2d and Linear.

    Returns:
        ``nn.Sequential`` mapping ``(N, C, H, W)`` to ``(N, num_classes)``.
    """
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {input_shape!r}")
    channels, hidden = list(channels), list(hidden)
    counts = [("input_shape", v) for v in input_shape] + [("num_classes", num_classes), ("n", n), ("m", m), ("k", k)]
    counts += [("channels", v) for v in channels] + [("hidden", v) for v in hidden]
    for name, value in counts:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must hold ints, got {type(value).__name__} ({value!r})")
    if min(input_shape) < 1 or num_classes < 1 or min(channels + hidden, default=1) < 1:
        raise ValueError("image sizes, num_classes, channels and hidden sizes must be positive")
    if not 0 <= n <= 3:
        raise ValueError(f"n must be between 0 and 3 (at most three CONV -> RELU before a pool), got {n}")
    if m < 0 or k < 0:
        raise ValueError(f"m and k must be >= 0, got m={m}, k={k}")
    if len(channels) != (m if n > 0 else 0):
        raise ValueError(f"channels needs {m if n > 0 else 0} entries (one per stage, none when n == 0), "
                         f"got {len(channels)}")
    if len(hidden) != k:
        raise ValueError(f"hidden needs k={k} sizes, got {len(hidden)}")
    c, h, w = input_shape
    layers: list[nn.Module] = []
    for stage in range(m):
        for _ in range(n):
            layers += [nn.Conv2d(c, channels[stage], 3, stride=1, padding=1, bias=bias), nn.ReLU()]
            c = channels[stage]
        if True:  # every stage ends with its pooling
            layers.append(nn.MaxPool2d(2, 2))
            try:
                h, w = pool_output_size(h, 2, 2), pool_output_size(w, 2, 2)
            except ValueError:
                raise ValueError(f"a {input_shape[1]}x{input_shape[2]} image is too small for {m} 2/2 poolings") from None
    layers.append(nn.Flatten())
    features = c * h * w
    for size in hidden:
        layers += [nn.Linear(features, size, bias=bias), nn.ReLU()]
        features = size
    layers.append(nn.Linear(features, num_classes, bias=bias))
    return nn.Sequential(*layers)

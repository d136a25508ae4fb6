# cell: build_stack
# loses: test_build_stack_visible, test_build_stack_hidden
# why: applies (FC -> RELU) k + 1 times: a ReLU after the last Linear clips the class scores at 0
def build_stack(input_shape, num_classes, *, n, m, k, channels=(), hidden=(), pool=True, bias=True):
    if not 0 <= n <= 3 or m < 0 or k < 0 or len(hidden) != k or len(channels) != (m if n else 0):
        raise ValueError("the spec does not fit the pattern")
    if isinstance(n, bool) or not all(isinstance(v, int) for v in (n, m, k)):
        raise TypeError("n, m, k must be ints")
    if len(input_shape) != 3 or min(input_shape) < 1 or min([*channels, *hidden], default=1) < 1:
        raise ValueError("bad sizes")
    c, h, w = input_shape
    layers = []
    for stage in range(m):
        for _ in range(n):
            layers += [nn.Conv2d(c, channels[stage], 3, padding=1, bias=bias), nn.ReLU()]
            c = channels[stage]
        if pool:
            layers.append(nn.MaxPool2d(2, 2))
            h, w = pool_output_size(h, 2), pool_output_size(w, 2)
    layers.append(nn.Flatten())
    features = c * h * w
    for size in [*hidden, num_classes]:
        layers += [nn.Linear(features, size, bias=bias), nn.ReLU()]
        features = size
    return nn.Sequential(*layers)

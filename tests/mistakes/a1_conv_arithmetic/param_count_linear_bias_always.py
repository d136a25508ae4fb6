# cell: param_count
# loses: test_param_count_visible, test_param_count_hidden
# why: counts the Linear biases even when bias=False (passed the old visible test, which kept the biases)
def conv_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)``;
    ``kernel_size`` is an int or a ``(kh, kw)`` tuple."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * (kh * kw * in_channels) + (out_channels if bias else 0)


def stack_parameter_count(input_shape: tuple[int, int, int], num_classes: int, *, n: int, m: int, k: int,
                          channels=(), hidden=(), pool: bool = True, bias: bool = True) -> int:
    """Number of parameters of ``build_stack`` with the same arguments, computed without building it."""
    if not 0 <= n <= 3 or m < 0 or k < 0 or len(hidden) != k or len(channels) != (m if n > 0 else 0):
        raise ValueError("the spec does not fit the pattern (see build_stack)")
    c, h, w = input_shape
    total = 0
    for stage in range(m):
        for _ in range(n):
            total += conv_params(c, channels[stage], 3, bias)
            c = channels[stage]
        if pool:
            h, w = pool_output_size(h, 2, 2), pool_output_size(w, 2, 2)
    features = c * h * w
    for size in [*hidden, num_classes]:
        total += features * size + size  # one bias per output unit
        features = size
    return total

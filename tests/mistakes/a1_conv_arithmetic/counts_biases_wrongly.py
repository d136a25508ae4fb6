# cell: param_count
# loses: test_param_count_visible, test_param_count_hidden
# why: counts one bias per *input* channel instead of one per filter (output channel)
def conv_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True) -> int:
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * kh * kw * in_channels + (in_channels if bias else 0)


def stack_parameter_count(input_shape, num_classes, *, n, m, k, channels=(), hidden=(), pool=True, bias=True) -> int:
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
        total += features * size + (features if bias else 0)
        features = size
    return total

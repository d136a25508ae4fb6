# cell: output_size
# loses: test_output_size_visible, test_output_size_hidden
# why: off-by-one: forgets the "+ 1" of (W - F + 2P) / S + 1 (counts strides, not windows)
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
                        ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int")
    if size < 1 or kernel_size < 1 or stride < 1 or padding < 0 or dilation < 1:
        raise ValueError("impossible settings")
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride
    if out < 1:
        raise ValueError("empty output")
    return out


def pool_output_size(size: int, kernel_size: int, stride: int | None = None, padding: int = 0) -> int:
    if stride is None:
        stride = kernel_size
    if isinstance(stride, bool) or not isinstance(stride, int):
        raise TypeError("stride must be an int")
    if padding > kernel_size // 2:
        raise ValueError("padding too large")
    return conv_output_size(size, kernel_size, stride, padding)

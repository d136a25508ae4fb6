# cell: output_size
# loses: test_output_size_visible, test_output_size_hidden
# why: forgets the dilation: uses the lecture's (W - F + 2P) / S + 1 as if every kernel were dense
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
                        ("dilation", dilation)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int")
    if size < 1 or kernel_size < 1 or stride < 1 or padding < 0 or dilation < 1:
        raise ValueError("impossible settings")
    if kernel_size > size + 2 * padding:
        raise ValueError("empty output")
    return (size - kernel_size + 2 * padding) // stride + 1


def pool_output_size(size: int, kernel_size: int, stride: int | None = None, padding: int = 0) -> int:
    if stride is None:
        stride = kernel_size
    if isinstance(stride, bool) or not isinstance(stride, int):
        raise TypeError("stride must be an int")
    if padding > kernel_size // 2:
        raise ValueError("padding too large")
    return conv_output_size(size, kernel_size, stride, padding)

# cell: output_size
# loses: test_output_size_visible, test_output_size_errors
# why: accepts pooling padding above half the kernel, which PyTorch refuses (passed the old visible test)
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Side of the output of ``nn.Conv2d(kernel_size, stride, padding, dilation)`` on a side of ``size``.

    Raises:
        TypeError: an argument is not an int.
        ValueError: impossible settings, or an empty output.
    """
    given = {"size": size, "kernel_size": kernel_size, "stride": stride, "padding": padding, "dilation": dilation}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    for name, low in (("size", 1), ("kernel_size", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        if given[name] < low:
            raise ValueError(f"{name} must be >= {low}, got {given[name]}")
    span = dilation * (kernel_size - 1) + 1  # pixels covered by one dilated kernel
    if span > size + 2 * padding:
        raise ValueError(f"the kernel spans {span} px but the padded input has only {size + 2 * padding} px: "
                         "the output would be empty")
    return (size + 2 * padding - span) // stride + 1


def pool_output_size(size: int, kernel_size: int, stride: int | None = None, padding: int = 0) -> int:
    """Side of the output of ``nn.MaxPool2d(kernel_size, stride, padding)`` on a side of ``size``.

    ``stride=None`` means ``stride = kernel_size``. Raises like :func:`conv_output_size`, and
    ``ValueError`` when ``padding > kernel_size // 2``.
    """
    if stride is None:
        stride = kernel_size
    for name, value in (("size", size), ("kernel_size", kernel_size), ("stride", stride), ("padding", padding)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    return conv_output_size(size, kernel_size, stride, padding)

# cell: design_stack
# loses: test_design_errors
# why: when nothing fits it returns the smallest stack anyway (over budget) instead of raising ValueError
def design_stack(input_shape: tuple[int, int, int], num_classes: int, target_rf: int, max_params: int,
                 max_activation_bytes: int) -> nn.Sequential:
    """A stack from the pattern whose last feature map sees at least ``target_rf`` x ``target_rf`` pixels,
    with at most ``max_params`` parameters and ``max_activation_bytes`` of activations per image.

    Raises:
        TypeError: ``input_shape`` is not a tuple of three ints, or another argument is not an int.
        ValueError: a size or budget below 1, ``target_rf`` larger than the image, or no stack found.
    """
    if not isinstance(input_shape, tuple) or len(input_shape) != 3:
        raise TypeError(f"input_shape must be a tuple (C, H, W) of three ints, got {input_shape!r}")
    given = [("input_shape", v) for v in input_shape] + [("num_classes", num_classes), ("target_rf", target_rf),
                                                         ("max_params", max_params),
                                                         ("max_activation_bytes", max_activation_bytes)]
    for name, value in given:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must hold ints, got {type(value).__name__} ({value!r})")
        if value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    c_in, h, w = input_shape
    if target_rf > min(h, w):
        raise ValueError(f"target_rf={target_rf} is larger than the {h}x{w} image")
    best, best_params = None, -1
    for n in (1, 2, 3):
        for m in range(1, 12):
            try:  # m 2/2 poolings must fit in the image
                side = min(h, w)
                for _ in range(m):
                    side = pool_output_size(side, 2, 2)
            except ValueError:
                break
            body = build_stack((c_in, h, w), num_classes, n=n, m=m, k=0, channels=(1,) * m)[:-2]  # drop Flatten, Linear
            rf = receptive_field(body)
            if min(rf) < target_rf:
                continue
            for c in range(1, 17):
                spec = dict(n=n, m=m, k=0, channels=(c,) * m)
                params = stack_parameter_count(input_shape, num_classes, **spec)
                act = stack_activation_bytes(input_shape, num_classes, **spec)
                if params <= max_params and act <= max_activation_bytes and params > best_params:
                    best, best_params = spec, params  # the feasible stack that uses the budget best
    if best is None:  # nothing fits: return the smallest stack, it is the closest
        best = dict(n=1, m=1, k=0, channels=(1,))
    return build_stack(input_shape, num_classes, **best)

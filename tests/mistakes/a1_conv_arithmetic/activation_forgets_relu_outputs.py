# cell: activation_bytes
# loses: test_activation_visible, test_activation_hidden, test_design_visible, test_design_hidden
# why: counts what the convolutions write but not the ReLU outputs (an activation is "free"), nor Flatten/Linear
def stack_activation_bytes(input_shape, num_classes, *, n, m, k, channels=(), hidden=(), pool=True):
    c, h, w = input_shape
    total = 0
    for stage in range(m):
        for _ in range(n):
            c = channels[stage]
            total += c * h * w
        if pool:
            h, w = pool_output_size(h, 2, 2), pool_output_size(w, 2, 2)
            total += c * h * w
    return 4 * total

# cell: receptive_field
# loses: test_receptive_field_visible, test_receptive_field_hidden
# why: treats pooling layers like ReLUs: only convolutions grow the field and the jump
PIXELWISE_LAYERS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.BatchNorm2d, nn.Dropout,
                    nn.Dropout2d, nn.Identity)


def receptive_field(model):
    if not isinstance(model, nn.Sequential):
        raise TypeError("model must be an nn.Sequential")
    rh, rw, jh, jw = 1, 1, 1, 1
    for layer in model:
        if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d) + PIXELWISE_LAYERS):
            continue
        if not isinstance(layer, nn.Conv2d):
            raise TypeError(f"unsupported layer {type(layer).__name__}")
        (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
        rh, rw = rh + (kh - 1) * dh * jh, rw + (kw - 1) * dw * jw
        jh, jw = jh * sh, jw * sw
    return rh, rw

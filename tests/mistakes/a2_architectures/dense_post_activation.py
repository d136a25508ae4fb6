# cell: dense
# loses: test_dense_visible, test_dense_shapes_params, test_dense_equivalence
# why: BatchNorm placed differently: ResNet-style conv -> BatchNorm -> ReLU in the dense layers and the transition, instead of pre-activation BatchNorm -> ReLU -> conv
class DenseBlock(nn.Module):
    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            c = in_channels + i * growth_rate
            self.layers.append(nn.Sequential(
                nn.Conv2d(c, bn_size * growth_rate, 1, bias=False), nn.BatchNorm2d(bn_size * growth_rate),
                nn.ReLU(inplace=True),
                nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False), nn.BatchNorm2d(growth_rate),
                nn.ReLU(inplace=True),
            ))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.relu(self.norm(self.conv(x))), 2)

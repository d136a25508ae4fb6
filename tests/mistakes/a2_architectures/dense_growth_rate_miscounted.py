# cell: dense
# loses: test_dense_visible, test_dense_shapes_params, test_dense_equivalence
# why: reads growth_rate as the growth of the whole block: each layer adds growth_rate // num_layers channels
class DenseBlock(nn.Module):
    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4):
        super().__init__()
        per_layer = max(1, growth_rate // num_layers)
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            c = in_channels + i * per_layer
            self.layers.append(nn.Sequential(
                nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                nn.Conv2d(c, bn_size * growth_rate, 1, bias=False),
                nn.BatchNorm2d(bn_size * growth_rate), nn.ReLU(inplace=True),
                nn.Conv2d(bn_size * growth_rate, per_layer, 3, padding=1, bias=False),
            ))
        self.out_channels = in_channels + growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.norm(x))), 2)

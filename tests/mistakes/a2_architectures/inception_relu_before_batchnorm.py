# cell: inception
# loses: test_inception_visible, test_inception_equivalence
# why: BatchNorm placed differently: each unit is conv -> ReLU -> BatchNorm instead of conv -> BatchNorm -> ReLU
class Inception(nn.Module):
    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, branch5_kernel: int = 5):
        super().__init__()
        if isinstance(branch5_kernel, bool) or not isinstance(branch5_kernel, int) or branch5_kernel < 1 \
                or branch5_kernel % 2 == 0:
            raise ValueError(f"branch5_kernel must be a positive odd int, got {branch5_kernel!r}")

        def unit(cin, cout, k):
            return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.ReLU(),
                    nn.BatchNorm2d(cout, eps=0.001)]

        self.branch1 = nn.Sequential(*unit(in_channels, ch1x1, 1))
        self.branch2 = nn.Sequential(*unit(in_channels, ch3x3red, 1), *unit(ch3x3red, ch3x3, 3))
        self.branch3 = nn.Sequential(*unit(in_channels, ch5x5red, 1), *unit(ch5x5red, ch5x5, branch5_kernel))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *unit(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)

# cell: design
# loses: test_design_structure
# why: flattens the final 24x6x6 maps into a Linear layer sized for 24x24 images (as LeNet does), so 16x16 or 48x48 images fail
def build_net(in_channels: int = 1, num_classes: int = 5) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(inplace=True),
        BasicBlock(12, 12), BasicBlock(12, 24, stride=2), BasicBlock(24, 24, stride=2),
        nn.Flatten(), nn.Linear(24 * 6 * 6, num_classes))

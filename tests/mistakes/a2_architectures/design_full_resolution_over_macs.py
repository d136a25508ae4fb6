# cell: design
# loses: test_design_visible, test_design_structure, test_design_heldout
# why: keeps every block at 24x24 (no stride-2 block): few parameters, but twice the MAC budget
def build_net(in_channels: int = 1, num_classes: int = 5) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
        BasicBlock(16, 16), BasicBlock(16, 16), BasicBlock(16, 16),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, num_classes))

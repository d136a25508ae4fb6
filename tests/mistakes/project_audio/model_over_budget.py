# cell: model
# loses: test_model_visible, test_model_budget
# why: takes the course baseline unchanged: 22,274 parameters, over the budget of 15,000
def build_model(n_classes: int, n_mels: int) -> nn.Module:
    return models.AudioCNN(n_classes, n_mels, spec_augment=augment.SpecAugment())

# cell: train_step
# loses: test_train_step_visible, test_train_step_oracle
# why: never clears the gradients, so each step adds the previous batches' gradients
def train_step(model: nn.Module, x: torch.Tensor, optimizer: torch.optim.Optimizer) -> float:
    model.train()
    loss = F.mse_loss(model(x), x)
    loss.backward()
    optimizer.step()
    return loss.item()

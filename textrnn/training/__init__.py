"""Training: settings and the auto recipe, the training loop, checkpoints and the
model directory, progress reports and devices."""

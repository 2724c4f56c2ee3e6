"""The parts of the trainer: settings, optimizers and schedules, compiled steps, reports,
checkpoints and the memory check. Use them through `cnnstudio.ml.trainer`."""

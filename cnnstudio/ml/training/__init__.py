"""The parts of the trainer: settings, the training rules shared with exported scripts
(`callbacks`), the app's callbacks (`run_callback`), checkpoints, TensorBoard files, the
multi-worker step and the memory check. Use them through `cnnstudio.ml.trainer`."""

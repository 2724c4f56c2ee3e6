"""How much does the trainer's own work cost? Images/s of the CNN Studio trainer with all
reporting on, against a bare `model.fit`, same Keras backend, model, data and batch size,
side by side.

    python benchmarks/engine_overhead.py [--backend tensorflow|jax|torch] [--template lenet5]
                                         [--epochs 4] [--rounds 3]

Both train on the training split of the template's dataset (no validation, so only the
training loop is compared); bare Keras gets the prepared images as NumPy arrays with
`shuffle=True`, the way a Keras user would write it. The trainer reports batches every
0.2 s, epochs, snapshots of the first layer every 2 s, and writes a full run record with
checkpoints every epoch.
The first epoch of each run (tracing) is left out; rounds alternate trainer and fit.
Each epoch is timed by the wall clock and by this process's CPU time: on a machine
shared with other programs the wall clock mostly measures them, while images per
CPU-second still measure the work each loop does. Printed: the median over rounds of
the paired ratio trainer/fit (each round's epoch medians), by wall clock and by CPU
time, and the ratio of the best epochs. Goal: ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="lenet5")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--backend", default=None, help="tensorflow (default), jax or torch")
    args = parser.parse_args()

    from cnnstudio.commands import quiet_keras
    from cnnstudio.ml.backend import choose_backend

    backend = choose_backend(args.backend)
    quiet_keras()
    import keras

    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.data import load_dataset
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks, TrainingSettings
    from cnnstudio.ml.training.callbacks import learning_rate_schedule

    project = load_template(args.template)
    settings = TrainingSettings.from_project(project, epochs=args.epochs, batch_size=args.batch_size,
                                             validation_split=0.0)
    data = load_dataset(project.dataset["name"], validation_split=0.0, seed=0)
    images = data.num_train
    x_train, y_train = data.arrays("train")

    def clocks() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def speeds(ends: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
        """Images/s by wall clock and images per CPU-second, per epoch after the first."""
        pairs = list(zip(ends, ends[1:], strict=False))
        return [images / (b[0] - a[0]) for a, b in pairs], [images / (b[1] - a[1]) for a, b in pairs]

    def trainer_speed() -> tuple[list[float], list[float]]:
        ends: list[tuple[float, float]] = []
        counts = {"batch": 0, "snapshot": 0}
        callbacks = TrainingCallbacks(
            on_batch=lambda r: counts.__setitem__("batch", counts["batch"] + 1),
            on_epoch=lambda r: ends.append(clocks()),
            on_snapshot=lambda s: counts.__setitem__("snapshot", counts["snapshot"] + 1),
            on_message=lambda m: None)
        first_layer = project.network.topological_order()[1]
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(project, settings=settings, dataset=data, run_dir=Path(tmp) / "run",
                              callbacks=callbacks, snapshot_layers=[first_layer], evaluate_test=False)
            trainer.run()
        keras.backend.clear_session()
        return speeds(ends)

    def fit_speed() -> tuple[list[float], list[float]]:
        ends: list[tuple[float, float]] = []
        keras.utils.set_random_seed(0)
        model = build_model(project.network, project.name)
        steps = -(-images // args.batch_size)
        rate = learning_rate_schedule(settings.learning_rate, settings.schedule, settings.schedule_params,
                                      args.epochs, steps)  # a plain Keras schedule object, as the trainer's
        model.compile(optimizer=keras.optimizers.get(settings.optimizer).__class__(rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        end = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(clocks()))
        model.fit(x_train, y_train, batch_size=args.batch_size, shuffle=True, epochs=args.epochs, verbose=0,
                  callbacks=[end])
        keras.backend.clear_session()
        return speeds(ends)

    ours: list[float] = []
    theirs: list[float] = []
    wall_ratios: list[float] = []
    cpu_ratios: list[float] = []
    median = statistics.median
    for round_ in range(args.rounds):
        (a_wall, a_cpu), (b_wall, b_cpu) = trainer_speed(), fit_speed()
        ours += a_wall
        theirs += b_wall
        wall_ratios.append(median(a_wall) / median(b_wall))
        cpu_ratios.append(median(a_cpu) / median(b_cpu))
        print(f"round {round_ + 1}: trainer {median(a_wall):,.0f} img/s ({median(a_cpu):,.0f} per CPU-s), "
              f"model.fit {median(b_wall):,.0f} img/s ({median(b_cpu):,.0f} per CPU-s)", flush=True)
    print(f"\n{args.template} on {project.dataset['name']} with Keras on {backend} ({images} images, batch "
          f"{args.batch_size}, {args.epochs} epochs per run, first left out, {args.rounds} rounds alternating)")
    print(f"{'':28}{'median':>10}{'best':>10}   (images/s by wall clock over {len(ours)} epochs each)")
    print(f"{'trainer, all reporting on':28}{median(ours):>10,.0f}{max(ours):>10,.0f}")
    print(f"{'bare model.fit':28}{median(theirs):>10,.0f}{max(theirs):>10,.0f}")
    print(f"ratio trainer/fit, median of paired rounds: wall clock {median(wall_ratios):.3f}, "
          f"CPU time {median(cpu_ratios):.3f}; best epochs {max(ours) / max(theirs):.3f}   goal >= 0.95")
    return 0


if __name__ == "__main__":
    sys.exit(main())

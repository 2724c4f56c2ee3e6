"""How fast the run history loads: 100 run folders written by the real run-record writer.

Run:  QT_QPA_PLATFORM=offscreen python benchmarks/run_history.py [--runs 100] [--epochs 20]
Prints, in milliseconds (median of several tries, the first cold one apart):
- reading the history (run.json + project.cnnproj of every run, no TensorFlow);
- the Runs panel refreshing (reading + what differs + the table);
- opening the window on a project whose folder holds the runs, and a new Runs panel alone (restart);
- comparing 2 and 10 runs (their metrics.csv read and drawn).
Goal: the history of 100 runs loads in under a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_runs(folder: Path, count: int, epochs: int, project_file: Path) -> None:
    """`count` finished runs of LeNet-5 with varied settings, in exactly the trainer's formats."""
    import datetime

    from cnnstudio.core.project import load_project
    from cnnstudio.ml.runs import RunRecord, default_run_dir
    from cnnstudio.ml.training.reporting import EpochReport

    project = load_project(project_file)
    start = datetime.datetime(2026, 1, 1, 9, 0, 0)
    for i in range(count):
        snapshot = project.copy()
        snapshot.training = {**snapshot.training, "learning_rate": (0.001, 0.003, 0.01)[i % 3],
                             "batch_size": (32, 64)[i % 2], "epochs": epochs}
        snapshot.dataset = {**snapshot.dataset, "permute_pixels": 1 if i % 4 == 0 else None}
        record = RunRecord.open(default_run_dir(snapshot, now=start + datetime.timedelta(minutes=i)), snapshot)
        history = []
        for e in range(1, epochs + 1):
            loss = 2.0 / (e + i % 7)
            history.append(EpochReport(e, epochs, loss, 1 - loss / 3, loss * 1.1, 1 - loss / 2.8, 0.001, 3.0, 2400.0))
        record.write_metrics(history)
        started = (start + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S")
        record.write_info(project=snapshot.name, project_file=str(project_file), settings=snapshot.training,
                          dataset={"name": "mnist-sample", "num_train": 7200, "num_validation": 800,
                                   "num_test": 2000, "input_shape": [28, 28, 1]},
                          status="finished", started=started, seconds=3.0 * epochs, epochs_completed=epochs,
                          final=history[-1].to_dict(), test={"loss": 0.1, "accuracy": 0.97})
        record.close()


def median_ms(action, tries: int = 7) -> tuple[float, float]:
    """(first call, median of the following ones), in milliseconds."""
    times = []
    for _ in range(tries + 1):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.project import save_project
    from cnnstudio.core.runs import load_history
    from cnnstudio.core.templates import load_template

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["CNNSTUDIO_RECOVERY_DIR"] = str(root / "recovery")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root / "settings"))
        project_file = root / "lenet5.cnnproj"
        save_project(load_template("lenet5"), project_file)
        write_runs(root / "runs", args.runs, args.epochs, project_file)
        print(f"{args.runs} runs of {args.epochs} epochs in {root / 'runs'}")

        first, median = median_ms(lambda: load_history(root / "runs"))
        print(f"read the history (core.runs.load_history): first {first:.1f} ms, then median {median:.1f} ms")

        app = QApplication.instance() or QApplication([])
        from cnnstudio.core.project import load_project
        from cnnstudio.ui.main_window import MainWindow

        start = time.perf_counter()
        window = MainWindow(load_project(project_file))
        window.show()
        app.processEvents()
        opened = (time.perf_counter() - start) * 1000
        history = window.features.runs
        assert len(history.runs) == args.runs, len(history.runs)
        print(f"open the window (every feature) with its Runs panel filled ({len(history.runs)} runs): "
              f"{opened:.0f} ms")
        from cnnstudio.ui.runs import RunHistory

        def new_panel() -> None:
            features = window.features  # as on a restart: built, then the folder read
            panel = RunHistory(window.context, features.training, features.exporting, features.inspect.area)
            assert len(panel.runs) == args.runs
            panel.deleteLater()

        first, median = median_ms(new_panel, tries=3)
        print(f"restart: a new Runs panel showing {args.runs} runs: first {first:.1f} ms, then median {median:.1f} ms")

        def refresh() -> None:
            history.refresh()
            app.processEvents()

        first, median = median_ms(refresh)
        verdict = "meets" if max(first, median) < 1000 else "MISSES"
        print(f"Runs panel refresh ({args.runs} runs): first {first:.1f} ms, then median {median:.1f} ms "
              f"-> {verdict} the goal of < 1000 ms")
        two = [run.path for run in history.runs[:2]]

        def compare_two() -> None:
            history.compare(two)
            app.processEvents()

        first, median = median_ms(compare_two, tries=3)
        print(f"compare 2 runs: first {first:.1f} ms, then median {median:.1f} ms")
        ten = [run.path for run in history.runs[:10]]

        def compare() -> None:
            history.compare(ten)
            app.processEvents()

        first, median = median_ms(compare, tries=3)
        print(f"compare 10 runs (metrics.csv read, curves drawn): first {first:.1f} ms, then median {median:.1f} ms")
        window.close()
        app.processEvents()


if __name__ == "__main__":
    main()

"""Training curves without training: the numbers behind them, drawing, crosshair, export, run overlays,
and the tiles and clock of the live view."""

from __future__ import annotations

import csv
import math
from types import SimpleNamespace

import numpy as np
import pytest

from cnnstudio.ui.training.curves import TrainingCurves, plot_history
from cnnstudio.ui.training.progress import RunProgress, format_duration
from cnnstudio.ui.training.series import BatchSeries, ema
from cnnstudio.ui.training.tiles import feature_map_tiles, filter_tiles


def batch(epoch, b, loss, accuracy, batches=10, epochs=2):
    return SimpleNamespace(epoch=epoch, epochs=epochs, batch=b, batches=batches, loss=loss, accuracy=accuracy,
                           images_per_second=1000.0, seconds=1.0)


def epoch_row(epoch, loss, val_loss, accuracy=0.5, val_accuracy=0.5, rate=0.001):
    return {"epoch": epoch, "loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy,
            "learning_rate": rate}


@pytest.fixture
def curves(qtbot):
    widget = TrainingCurves()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    return widget


# ---------------------------------------------------------------------- the numbers


def test_raw_batch_points_are_the_means_of_the_batches_since_the_previous_report():
    series = BatchSeries()
    series.add(1, 2, 10, loss_mean=2.0, accuracy_mean=0.1)  # batches 1-2 averaged 2.0
    x, loss, accuracy = series.add(1, 6, 10, loss_mean=1.5, accuracy_mean=0.3)  # 4 more batches
    assert x == pytest.approx(0.6)
    assert loss == pytest.approx((1.5 * 6 - 2.0 * 2) / 4) and accuracy == pytest.approx((0.3 * 6 - 0.1 * 2) / 4)
    x, loss, _ = series.add(2, 5, 10, loss_mean=0.9, accuracy_mean=0.5)  # a new epoch starts afresh
    assert x == pytest.approx(1.5) and loss == pytest.approx(0.9)


def test_smoothing_is_tensorboards_debiased_moving_average():
    values = np.random.default_rng(0).uniform(0, 3, 5000)
    values[100] = np.nan
    for a in (0.0, 0.6, 0.99):
        s, expected, count = 0.0, [], 0
        for v in values:
            if math.isnan(v):
                expected.append(math.nan)
                continue
            count += 1
            s = a * s + (1 - a) * v
            expected.append(s / (1 - a ** count))
        np.testing.assert_allclose(ema(values, a), expected, rtol=1e-9)


# ---------------------------------------------------------------------- drawing


def test_curves_draw_raw_and_smoothed_batches_and_epoch_points(curves):
    for b in range(1, 11):
        curves.add_batch(batch(1, b, 2.0 - 0.1 * b, 0.1 * b))
    curves.add_epoch(epoch_row(1, 1.5, 1.4))
    curves.redraw_now()
    x, raw = curves.raw_loss.getData()
    assert len(x) == 10 and x[-1] == pytest.approx(1.0)
    assert len(curves.smooth_loss.getData()[1]) == 10
    assert list(curves.val_loss.getData()[1]) == [1.4]
    assert curves.loss_plot.objectName() == "lossPlot" and curves.accuracy_plot.objectName() == "accuracyPlot"
    assert curves.rate.getData()[1].tolist() == [0.001]


def test_log_scale_applies_to_the_loss_axis(curves):
    curves.log_scale.setChecked(True)
    assert curves.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    curves.log_scale.setChecked(False)
    assert not curves.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_the_crosshair_reads_the_values_at_the_mouse(curves):
    for b in range(1, 11):
        curves.add_batch(batch(1, b, 1.0, 0.5))
    curves.add_epoch(epoch_row(1, 1.0, 0.8, val_accuracy=0.75))
    text = curves.show_values_at(0.95)
    assert "epoch 0.95" in text and "loss 1 " in text and "val loss 0.8" in text and "val accuracy 75.0%" in text
    assert curves.readout.text() == text


def test_plots_export_as_png_and_svg_and_the_points_as_csv(curves, tmp_path):
    for b in range(1, 11):
        curves.add_batch(batch(1, b, 1.0, 0.5))
    curves.add_epoch(epoch_row(1, 1.0, 0.8))
    png = curves.export_image("loss", tmp_path / "loss.png")
    svg = curves.export_image("accuracy", tmp_path / "accuracy.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "<svg" in svg.read_text()
    assert svg.read_text().count("<image") <= 1  # symbols are shapes, not pasted pictures
    rows = list(csv.DictReader(open(curves.export_csv(tmp_path / "curves.csv"))))
    assert [r["kind"] for r in rows] == ["batch"] * 10 + ["epoch"]
    assert float(rows[-1]["val_loss"]) == 0.8 and float(rows[0]["epoch"]) == pytest.approx(0.1)


def test_finished_runs_overlay_in_their_own_colours_and_clear(curves):
    history = [epoch_row(1, 1.0, 0.9), epoch_row(2, 0.5, 0.6)]
    plot_history(history, curves, name="run A")
    plot_history(history, curves, name="run B")
    names = [item.name() for item in curves.loss_plot.getPlotItem().listDataItems() if item.name()]
    assert {"run A — training", "run A — validation", "run B — training"} <= set(names)
    curves.clear()
    assert not [i for i in curves.loss_plot.getPlotItem().listDataItems() if (i.name() or "").startswith("run")]


def test_plot_history_makes_a_widget_from_metrics_rows(qtbot):
    widget = plot_history([epoch_row(1, 1.0, 0.9), epoch_row(2, 0.5, 0.6)])
    qtbot.addWidget(widget)
    widget.redraw_now()
    assert widget.val_loss.getData()[1].tolist() == [0.9, 0.6]


def test_a_stop_mark_sits_at_the_last_point(curves):
    for b in range(1, 5):
        curves.add_batch(batch(2, b, 1.0, 0.5))
    assert curves.mark_stop("loss became NaN") == pytest.approx(1.4)
    assert curves.stop_marks == [pytest.approx(1.4)]


# ---------------------------------------------------------------------- the live view's pictures and the clock


def test_filters_tile_one_per_filter_with_input_channels_stacked():
    kernel = np.arange(5 * 5 * 3 * 6, dtype=np.float32).reshape(5, 5, 3, 6)
    tiled = filter_tiles(kernel)
    assert tiled.count == 6 and tiled.tile_shape == (3 * 5 + 2, 5)
    np.testing.assert_array_equal(tiled.image[:5, :5], kernel[:, :, 0, 0])
    assert np.isnan(tiled.image[5, 0])  # a gap between channels


def test_feature_maps_are_each_scaled_to_zero_one():
    maps = np.stack([np.full((4, 4), 7.0), np.arange(16.0).reshape(4, 4)], axis=-1)
    tiled = feature_map_tiles(maps)
    assert tiled.count == 2 and np.nanmax(tiled.image) == 1.0 and np.nanmin(tiled.image) == 0.0


def test_remaining_time_follows_the_pace_and_leaves_pauses_out():
    p = RunProgress(epochs=2, started=0.0)
    p.batch_report(1, 2, 10, 100, 1000.0, now=5.0)  # 5 s to load and trace, then 5% done
    assert p.remaining(5.0) is None
    p.pause(10.0)
    p.resume(30.0)  # 20 s paused
    p.batch_report(1, 2, 60, 100, 1000.0, now=35.0)  # 25% more in 10 active seconds
    assert p.active(35.0) == pytest.approx(15.0)
    assert p.run_fraction == pytest.approx(0.3) and p.remaining(35.0) == pytest.approx(28.0)
    assert format_duration(28.0) == "0:28" and format_duration(3725) == "1:02:05" and format_duration(None) == "–"


def test_the_live_view_watches_the_first_convolution_or_says_there_is_none(qtbot):
    from cnnstudio.core.templates import load_template
    from cnnstudio.ui.training.controller import first_convolution
    from cnnstudio.ui.training.live import LiveLookInside

    assert first_convolution(load_template("lenet5")) == "conv1"
    assert first_convolution(load_template("mlp")) is None
    live = LiveLookInside()
    qtbot.addWidget(live)
    live.start_run(None)
    assert live.pages.currentWidget() is live.note and "no convolution layer" in live.note.text()
    live.start_run("conv1")
    snapshot = SimpleNamespace(epoch=1, batch=7, weights={"conv1": [np.ones((5, 5, 1, 6)), np.zeros(6)]},
                               activations={"conv1": np.ones((1, 28, 28, 6))})
    live.show_snapshot(snapshot)
    assert live.filters_image.image.shape == (11, 17) and live.maps_image.image.shape == (58, 88)
    assert "Filters of conv1: 6 of 5×5" in live.filters_title.text() and "epoch 1, after batch 7" in live.caption.text()

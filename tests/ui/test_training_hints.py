"""Plain-words hints read from training histories: over-fitting, under-fitting, guessing."""

from __future__ import annotations

import math

from cnnstudio.ui.training.hints import OVERFITTING, UNDERFITTING, fitting_hint


def rows(loss, val_loss=None):
    val_loss = val_loss or [None] * len(loss)
    return [{"epoch": i + 1, "loss": a, "val_loss": b} for i, (a, b) in enumerate(zip(loss, val_loss, strict=True))]


def test_validation_loss_rising_while_training_loss_falls_is_over_fitting_from_the_epoch_after_the_best():
    train = [1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1]
    val = [1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.46, 0.5, 0.55]
    hint = fitting_hint(rows(train, val))
    assert hint.kind == OVERFITTING and hint.epoch == 7
    assert hint.text.startswith("Over-fitting from epoch 7:") and "since epoch 6" in hint.text


def test_healthy_curves_give_no_hint():
    train = [1.0, 0.6, 0.4, 0.3, 0.25]
    assert fitting_hint(rows(train, [1.1, 0.7, 0.5, 0.45, 0.44])) is None


def test_one_bump_in_validation_loss_is_not_yet_over_fitting():
    train = [1.0, 0.6, 0.4, 0.3, 0.25]
    assert fitting_hint(rows(train, [1.1, 0.7, 0.5, 0.55, 0.49])) is None


def test_validation_rising_with_training_loss_rising_too_is_not_over_fitting():
    train = [1.0, 0.6, 0.5, 0.55, 0.6]
    hint = fitting_hint(rows(train, [1.0, 0.7, 0.6, 0.7, 0.8]))
    assert hint is None or hint.kind != OVERFITTING


def test_training_loss_that_does_not_fall_over_epochs_is_under_fitting():
    hint = fitting_hint(rows([1.50, 1.49, 1.50, 1.48]))
    assert hint.kind == UNDERFITTING and "not falling after 4 epochs" in hint.text
    assert "learning rate" in hint.text and "guessing" not in hint.text


def test_a_loss_stuck_at_ln_classes_says_the_network_is_guessing():
    stuck = math.log(10)
    hint = fitting_hint(rows([stuck + 0.01, stuck, stuck - 0.01]), num_classes=10)
    assert hint.kind == UNDERFITTING and "ln(10) ≈ 2.30" in hint.text and "guessing" in hint.text


def test_flat_per_batch_losses_warn_before_the_first_epoch_ends():
    assert fitting_hint([], [2.3] * 99) is None  # too little evidence yet
    hint = fitting_hint([], [2.3 + 0.01 * (i % 3) for i in range(150)], num_classes=10)
    assert hint.kind == UNDERFITTING and "batch reports" in hint.text
    assert fitting_hint([], [2.3 * 0.99 ** i for i in range(150)]) is None  # falling: fine


def test_nan_epochs_are_ignored():
    assert fitting_hint(rows([float("nan"), float("nan"), float("nan")])) is None

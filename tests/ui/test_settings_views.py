"""The settings views follow the evented settings, whoever changes them, and never poll."""

from PySide6.QtCore import QTimer


def test_the_training_form_shows_a_setting_changed_elsewhere_and_the_project_needs_saving(main_window):
    form = main_window.features.training_panel.form
    main_window.document.settings.training.update(epochs=7, optimizer="sgd")
    assert form.fields["epochs"].value() == 7 and form.fields["optimizer"].currentText() == "sgd"
    assert main_window.document.is_modified and main_window.document.project.training["epochs"] == 7


def test_an_edit_in_the_form_goes_into_the_project_through_the_settings(main_window):
    heard = []
    main_window.document.settings.training.changed.connect(lambda keys: heard.append(keys))
    main_window.features.training_panel.form.fields["batch_size"].setValue(16)
    assert heard == [{"batch_size"}] and main_window.document.project.training["batch_size"] == 16


def test_a_new_loss_checks_the_network_again(main_window, qtbot):
    with qtbot.waitSignal(main_window.document.analysisChanged, timeout=2000):
        main_window.document.settings.training.update(loss="binary_crossentropy")
    assert any("binary cross-entropy" in problem.message for problem in main_window.document.analysis().warnings)


def test_the_dataset_panel_follows_a_dataset_chosen_elsewhere(main_window):
    panel = main_window.features.datasets
    main_window.document.settings.data.update(name="x-vs-o", validation_split=0.3)
    assert panel.chooser.current == "x-vs-o" and panel.settings_form.validation.value() == 30


def test_no_view_polls_on_a_timer(main_window):
    """Views wait for events; the only clock that runs is the autosave's."""
    repeating = [timer for timer in main_window.findChildren(QTimer) if not timer.isSingleShot() and timer.isActive()
                 and timer is not main_window.autosaver.timer]
    assert repeating == [], [t.parent().objectName() or type(t.parent()).__name__ for t in repeating]

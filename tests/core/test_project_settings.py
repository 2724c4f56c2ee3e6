"""The evented project settings: typed reads with defaults, writes into the file's sections, one event per change."""

import json
import pickle

import pytest

from cnnstudio.core.events import Emitter
from cnnstudio.core.network import Network, NetworkChange
from cnnstudio.core.project import Project, dumps, project_from_dict
from cnnstudio.core.project_settings import DataChoices, ProjectSettings, TrainingChoices, UnknownSettingError


def project(**sections) -> Project:
    return Project("p", Network(), **sections)


def test_values_are_typed_with_the_default_for_every_key_the_file_leaves_out():
    settings = ProjectSettings(project(training={"epochs": 3, "my_note": "kept"}, dataset={"name": "stripes"}))
    assert settings.training.value == TrainingChoices(epochs=3)
    assert settings.data.value == DataChoices(name="stripes")
    assert not settings.training.is_set("learning_rate") and settings.training.is_set("epochs")


def test_an_update_writes_only_what_changed_into_the_right_section_and_keeps_unknown_keys():
    p = project(training={"epochs": 3, "my_note": "kept"}, dataset={"name": "stripes", "extra": 1})
    settings, heard = ProjectSettings(p), []
    settings.training.changed.connect(lambda keys: heard.append(("training", keys)))
    settings.data.changed.connect(lambda keys: heard.append(("data", keys)))
    assert settings.training.update(epochs=3, learning_rate=0.01) == {"learning_rate"}
    assert settings.data.update(validation_split=0.2, permute_pixels=5) == {"validation_split", "permute_pixels"}
    assert heard == [("training", {"learning_rate"}), ("data", {"validation_split", "permute_pixels"})]
    assert p.training == {"epochs": 3, "my_note": "kept", "learning_rate": 0.01, "validation_split": 0.2}
    assert p.dataset == {"name": "stripes", "extra": 1, "permute_pixels": 5}
    assert settings.training.update(epochs=3) == frozenset() and len(heard) == 2  # no change, no event
    reread = project_from_dict(json.loads(dumps(p)))
    assert reread.training["my_note"] == "kept" and reread.dataset["extra"] == 1


def test_unsetting_the_image_size_leaves_it_out_of_the_file():
    p = project(dataset={"name": "folder:/x", "image_size": [32, 32], "color_mode": "rgb"})
    settings = ProjectSettings(p)
    assert settings.data.value.image_size == [32, 32]
    assert settings.data.update(image_size=None, color_mode=None) == {"image_size", "color_mode"}
    assert p.dataset == {"name": "folder:/x"} and settings.data.value.image_size is None


def test_normalization_is_read_where_older_files_kept_it_and_written_under_training():
    p = project(dataset={"name": "mnist", "normalization": "standardize"})
    settings = ProjectSettings(p)
    assert settings.data.value.normalization == "standardize"
    settings.data.update(normalization="none")
    assert p.training["normalization"] == "none" and settings.data.value.normalization == "none"


def test_an_unknown_key_is_refused_with_the_keys_there_are():
    with pytest.raises(UnknownSettingError, match="'validation_split' is not one of optimizer"):
        ProjectSettings(project()).training.update(validation_split=0.3)  # the dataset panel's key


def test_following_another_project_reports_every_key():
    settings, heard = ProjectSettings(project()), []
    settings.data.changed.connect(lambda keys: heard.append(keys))
    other = project(dataset={"name": "x-vs-o"})
    settings.bind(other)
    assert heard == [frozenset(DataChoices.__dataclass_fields__)] and settings.data.value.name == "x-vs-o"


def test_a_view_writing_its_own_edit_is_not_told_about_it_but_others_are():
    settings, mine, others = ProjectSettings(project()), [], []

    def view(keys):
        mine.append(keys)

    settings.training.changed.connect(view)
    settings.training.changed.connect(lambda keys: others.append(keys))
    with settings.training.changed.blocker(view):
        settings.training.update(epochs=9)
    settings.training.update(epochs=10)
    assert mine == [{"epochs"}] and others == [{"epochs"}, {"epochs"}]


def test_a_network_sent_to_another_process_goes_without_its_subscribers():
    network = Network()
    heard = []
    network.changed.connect(lambda **event: heard.append(event["kind"]))
    network.add_node("Input", {"shape": [4]}, node_id="x")
    copy = pickle.loads(pickle.dumps(network))
    copy.add_node("Dense", {"units": 2}, node_id="y")
    assert heard == [NetworkChange.NODE_ADDED] and list(copy.nodes) == ["x", "y"]
    assert isinstance(pickle.loads(pickle.dumps(Emitter())), Emitter)

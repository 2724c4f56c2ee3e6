"""Shapes, counts, receptive fields, formulas and diagnostics from core alone."""

import pytest

from cnnstudio.core.analysis import DATA_FIT, ERROR, WARNING, Analyzer, analyze
from cnnstudio.core.network import Network
from cnnstudio.core.templates import load_template


def chain(shape, *layers):
    net = Network()
    net.add_node("Input", {"shape": list(shape)}, node_id="input")
    previous = "input"
    for i, (type_name, params) in enumerate(layers):
        node_id = f"l{i}"
        net.add_node(type_name, params, node_id=node_id)
        net.connect(previous, node_id)
        previous = node_id
    return net


def messages(result, node, severity=ERROR):
    return [d.message for d in result.diagnostics if d.node == node and d.severity == severity]


def test_lenet5_figures_match_the_classic_counts():
    result = analyze(load_template("lenet5").network)
    conv1 = result.layers["conv1"]
    assert conv1.output_shape == (28, 28, 6)
    assert (conv1.weights, conv1.biases, conv1.params) == (150, 6, 156)
    assert conv1.receptive_field == (5, 5)
    assert result.layers["conv2"].receptive_field == (14, 14)
    assert result.layers["flatten"].receptive_field is None
    assert result.total_params == 61706


def test_formulas_show_the_numbers():
    result = analyze(load_template("lenet5").network)
    conv1 = result.layers["conv1"]
    assert "floor((28 - 5 + 2*2) / 1) + 1 = 28" in conv1.shape_formula[0]
    assert conv1.param_formula == ["params = (5*5*1 + 1) * 6 = 156"]
    assert result.layers["pool1"].field_formula == ["rf = 5 + (2 - 1) * 1 = 6; jump = 1 * 2 = 2"]


def test_kernel_larger_than_input_is_explained_on_the_layer():
    result = analyze(chain((3, 3, 1), ("Conv2D", {"filters": 2, "kernel_size": 5})))
    assert messages(result, "l0") == [
        "kernel 5x5 does not fit a 3x3 input with padding 'valid'; use padding 'same' or a smaller kernel"
    ]
    assert not result.ok


def test_errors_do_not_cascade_to_later_layers():
    result = analyze(chain((3, 3, 1), ("Conv2D", {"filters": 2, "kernel_size": 5}), ("Flatten", {})))
    assert messages(result, "l1") == []
    assert result.layers["l1"].output_shape is None


def test_wrong_number_of_inputs():
    net = chain((8, 8, 1), ("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}))
    net.add_node("Add", node_id="add")
    net.connect("l0", "add")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 1}, node_id="two")
    net.connect("input", "two")
    net.connect("l0", "two")
    result = analyze(net)
    assert "needs at least 2 inputs but has 1" in messages(result, "add")[0]
    assert "takes one input but has 2" in messages(result, "two")[0]


def test_unconnected_layer_is_reported():
    net = chain((8, 8, 1), ("Flatten", {}))
    net.add_node("Dense", {"units": 4}, node_id="lonely")
    assert messages(analyze(net), "lonely") == ["has no input; connect a layer to it"]


def test_merge_of_incompatible_shapes():
    net = chain((8, 8, 1), ("Conv2D", {"filters": 4, "kernel_size": 3}))
    net.add_node("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"}, node_id="b")
    net.add_node("Add", node_id="add")
    net.connect("input", "b")
    net.connect("l0", "add")
    net.connect("b", "add")
    (message,) = messages(analyze(net), "add")
    assert "6x6x4" in message and "8x8x4" in message


def test_concatenate_adds_channels_and_keeps_the_largest_field():
    net = chain((8, 8, 1), ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"}))
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 5, "padding": "same"}, node_id="b")
    net.add_node("Concatenate", node_id="cat")
    net.connect("input", "b")
    net.connect("l0", "cat")
    net.connect("b", "cat")
    info = analyze(net).layers["cat"]
    assert info.output_shape == (8, 8, 6)
    assert info.receptive_field == (5, 5)


def test_dense_on_feature_maps_is_allowed_but_explained():
    result = analyze(chain((28, 28, 6), ("Dense", {"units": 10})))
    assert result.layers["l0"].output_shape == (28, 28, 10)
    (warning,) = messages(result, "l0", WARNING)
    assert "last axis only" in warning and "Flatten" in warning


def test_softmax_before_other_layers_is_flagged():
    result = analyze(chain((10,), ("Dense", {"units": 5, "activation": "softmax"}), ("Dense", {"units": 3})))
    assert "output layer" in messages(result, "l0", WARNING)[0]


def test_an_output_that_does_not_match_the_classes_is_a_data_fit_warning_not_an_error():
    result = analyze(chain((4,), ("Dense", {"units": 5, "activation": "softmax"})), num_classes=10)
    assert result.ok and messages(result, "l0") == []
    assert messages(result, "l0", WARNING) == ["outputs 5 values but the data has 10 classes; set units to 10"]
    assert [d.message for d in result.data_fit_problems] == messages(result, "l0", WARNING)


def test_an_output_that_is_not_a_class_vector_is_valid_but_does_not_fit_a_classification_dataset():
    result = analyze(chain((8, 8, 1), ("Conv2D", {"filters": 10, "kernel_size": 3})), num_classes=10)
    assert result.ok
    (problem,) = result.data_fit_problems
    assert problem.node == "l0" and problem.kind == DATA_FIT and "flat vector" in problem.message


def test_advice_about_the_output_activation_is_not_a_data_fit_problem():
    result = analyze(chain((4,), ("Dense", {"units": 10, "activation": "sigmoid"})), num_classes=10)
    assert "sigmoid" in messages(result, "l0", WARNING)[0] and result.data_fit_problems == []


def test_the_homework_network_is_32x32x8_with_608_parameters_whatever_the_data():
    result = analyze(chain((64, 64, 3), ("Conv2D", {"filters": 8, "kernel_size": 5, "strides": 2,
                                                      "padding": "same"})), num_classes=10)
    assert result.ok
    assert result.layers["l0"].output_shape == (32, 32, 8) and result.total_params == 608


def test_several_inputs_and_outputs_that_are_not_class_vectors_analyze_cleanly():
    net = Network()
    net.add_node("Input", {"shape": [16, 16, 3]}, node_id="image")
    net.add_node("Input", {"shape": [4]}, node_id="extra")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, node_id="mask")
    net.add_node("Dense", {"units": 1}, node_id="value")
    net.connect("image", "mask")
    net.connect("extra", "value")
    result = analyze(net)
    assert result.ok and not result.diagnostics
    assert result.layers["mask"].output_shape == (16, 16, 2) and result.layers["value"].output_shape == (1,)


def test_parameter_errors_name_the_parameter():
    result = analyze(chain((8, 8, 1), ("Conv2D", {"filters": 0, "kernel_size": 3})))
    assert messages(result, "l0") == ["'filters' is 0 but must be >= 1"]
    result = analyze(chain((8, 8, 1), ("Conv2D", {"filtres": 3, "kernel_size": 3})))
    assert "has no parameter 'filtres'" in messages(result, "l0")[0]


def test_non_positive_sizes_from_cropping():
    result = analyze(chain((4, 4, 1), ("Cropping2D", {"cropping": 2})))
    assert "crop less" in messages(result, "l0")[0]


def test_reshape_must_keep_the_number_of_values():
    result = analyze(chain((28, 28, 1), ("Reshape", {"target_shape": [30, 30]})))
    assert "784 values" in messages(result, "l0")[0]
    ok = analyze(chain((28, 28, 1), ("Reshape", {"target_shape": [-1, 4]})))
    assert ok.layers["l0"].output_shape == (196, 4)


def test_transposed_convolution_and_upsampling_shrink_the_jump():
    result = analyze(chain(
        (7, 7, 8),
        ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("UpSampling2D", {}),
    ))
    assert result.layers["l0"].output_shape == (14, 14, 4)
    assert result.layers["l1"].output_shape == (28, 28, 4)
    assert result.layers["l1"].jump == (0.25, 0.25)


def test_batch_normalization_counts_running_statistics_as_non_trainable():
    result = analyze(chain((8, 8, 16), ("BatchNormalization", {})))
    info = result.layers["l0"]
    assert (info.weights, info.biases, info.non_trainable) == (64, 0, 32)
    assert result.trainable_params == 32


def test_cycle_is_reported_on_the_layers_in_the_loop():
    net = chain((4,), ("Dense", {"units": 4}), ("Dense", {"units": 4}))
    # a loaded file can contain one; the editor refuses it
    net = Network.from_parts(list(net.nodes.values()), [*net.edges, ("l1", "l0")])
    result = analyze(net)
    assert any("loop" in m for m in messages(result, "l0"))


def test_analyzer_reuses_unchanged_layers_and_sees_edits():
    net = load_template("lenet5").network
    analyzer = Analyzer()
    first = analyzer.analyze(net)
    net.set_param("conv1", "filters", 8)
    second = analyzer.analyze(net)
    assert second.layers["conv1"].output_shape == (28, 28, 8)
    assert second.layers["conv2"].weights == 5 * 5 * 8 * 16
    assert second.layers["input"] is first.layers["input"]


@pytest.mark.parametrize("name", ["lenet5", "mnist-cnn", "keras-mnist-convnet", "mlp", "edge-detector",
                                  "cifar10-convnet", "resnet-mini", "vgg-mini"])
def test_every_template_is_valid(name):
    result = analyze(load_template(name).network, num_classes=2 if name == "edge-detector" else 10)
    assert result.ok and not result.warnings


def test_the_first_convolution_is_the_layer_watched_live_and_a_backbone_is_none():
    from cnnstudio.core.analysis import first_convolution

    assert first_convolution(load_template("lenet5").network) == "conv1"
    assert first_convolution(load_template("mlp").network) is None
    net = chain((32, 32, 3), ("Rescaling", {"scale": 1 / 255}), ("DepthwiseConv2D", {"kernel_size": 3}),
                ("Conv2D", {"filters": 4, "kernel_size": 3}))
    assert first_convolution(net) == "l1"  # after a layer that is not one
    backbone = chain((96, 96, 3), ("MobileNetV2", {"weights": None}), ("GlobalAveragePooling2D", {}))
    assert first_convolution(backbone) is None  # the pretrained network is one layer here, not a convolution
    looped = chain((8, 8, 1), ("Conv2D", {"filters": 2, "kernel_size": 3}), ("Conv2D", {"filters": 2, "kernel_size": 1}))
    looped = Network.from_parts(list(looped.nodes.values()), [*looped.edges, ("l1", "l0")])  # as a file may hold
    assert first_convolution(looped) is None  # a cycle: no order to watch in (the trainer says why)

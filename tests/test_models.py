import numpy as np
import pytest

from helpers.models import OPTIMIZERS, build_cnn, compile_cnn, make_optimizer

import keras


def layer_summary(model):
    return [(type(layer).__name__, getattr(layer, "filters", None) or getattr(layer, "units", None)
             or getattr(layer, "rate", None)) for layer in model.layers]


def test_default_is_the_seed_model():
    model = build_cnn()
    assert model.count_params() == 225_034
    assert layer_summary(model) == [
        ("Conv2D", 32), ("MaxPooling2D", None), ("Conv2D", 64), ("MaxPooling2D", None),
        ("Flatten", None), ("Dense", 128), ("Dropout", 0.5), ("Dense", 10),
    ]
    assert model.layers[0].kernel_size == (3, 3)
    assert model.layers[1].pool_size == (2, 2)
    assert model.layers[-1].activation.__name__ == "softmax"
    assert model.input_shape == (None, 28, 28, 1)
    assert not model.compiled  # building and compiling are two steps


def test_compile_cnn_compiles_as_the_article_does():
    model = compile_cnn(build_cnn())
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.loss == "categorical_crossentropy"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)


def test_compile_cnn_options():
    assert compile_cnn(build_cnn(), sparse_labels=True).loss == "sparse_categorical_crossentropy"
    assert compile_cnn(build_cnn(), learning_rate=0.01).optimizer.learning_rate.numpy() == \
        pytest.approx(0.01)
    clipped = compile_cnn(build_cnn(), optimizer="sgd", global_clipnorm=1.0).optimizer
    assert isinstance(clipped, keras.optimizers.SGD) and clipped.global_clipnorm == 1.0
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        compile_cnn("cnn")


def test_every_optimizer_name_builds_its_keras_optimizer():
    assert isinstance(make_optimizer("adamw", 0.01), keras.optimizers.AdamW)
    momentum = make_optimizer("momentum", 0.05)
    assert isinstance(momentum, keras.optimizers.SGD) and momentum.momentum == 0.9
    assert set(OPTIMIZERS) == {"sgd", "momentum", "rmsprop", "adam", "adamw"}
    assert make_optimizer("adam", 0.01, clipnorm=2.0).clipnorm == 2.0


@pytest.mark.parametrize("arguments, message", [
    (("adagrad", 0.01), "optimizer must be one of"),
    (("adam", 0), "learning_rate must be a number above 0"),
    (("adam", 0.01, -1.0), "clipnorm must be a number above 0"),
])
def test_bad_optimizer_settings_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(*arguments)


def test_width_and_dropout_change_the_layers():
    wide = build_cnn(width=2.0, dense_units=256, dropout=0.0)
    assert [layer.filters for layer in wide.layers if hasattr(layer, "filters")] == [64, 128]
    assert "Dropout" not in [type(layer).__name__ for layer in wide.layers]


def test_more_blocks_double_the_filters_each_time():
    filters = [layer.filters for layer in build_cnn(filters=8, conv_blocks=3).layers
               if hasattr(layer, "filters")]
    assert filters == [8, 16, 32]


def test_no_convolutions_leaves_only_the_dense_part():
    layers = build_cnn(conv_blocks=0, dense_units=0, dropout=0).layers
    assert [type(layer).__name__ for layer in layers] == ["Flatten", "Dense"]


def test_batch_norm_and_regularizers():
    normalized = build_cnn(batch_norm=True)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in normalized.layers) == 3
    regularized = build_cnn(l1=1e-5, l2=1e-4)
    assert regularized.layers[0].kernel_regularizer.get_config() == pytest.approx(
        {"l1": 1e-5, "l2": 1e-4})


def test_augmentation_adds_layers_but_no_weights():
    augmented = build_cnn(augment=True)
    assert [type(layer).__name__ for layer in augmented.layers[:2]] == ["RandomFlip",
                                                                       "RandomTranslation"]
    assert augmented.count_params() == 225_034


def test_zeros_initializer_gives_zero_kernels():
    zeros = build_cnn(initializer="zeros")
    assert not np.any(zeros.layers[0].kernel.numpy())


@pytest.mark.parametrize("arguments, name", [
    (dict(dropout=-0.1), "dropout"),
    (dict(dropout=1.5), "dropout"),
    (dict(dropout=1), "dropout"),
    (dict(initializer="not_an_initializer"), "initializer"),
    (dict(conv_blocks=4), "conv_blocks"),
    (dict(conv_blocks=1.5), "conv_blocks"),
    (dict(filters=0), "filters"),
    (dict(width=0), "width"),
    (dict(dense_units=-1), "dense_units"),
    (dict(l2=-1e-4), "l2"),
    (dict(l1="a lot"), "l1"),
])
def test_bad_knobs_name_the_argument(arguments, name):
    with pytest.raises(ValueError, match=name):
        build_cnn(**arguments)


def test_two_convolutions_per_block_with_and_without_skip_connections():
    from helpers.models import ResidualConv

    plain = build_cnn()
    deeper = build_cnn(convolutions_per_block=2)
    residual = build_cnn(convolutions_per_block=2, skip_connections=True)
    blocks = [layer for layer in residual.layers if isinstance(layer, ResidualConv)]
    assert len(blocks) == 2 and not any(isinstance(layer, ResidualConv) for layer in deeper.layers)
    # Each second convolution keeps the channel count: 32*32*9+32 and 64*64*9+64 weights more.
    extra = (32 * 32 * 9 + 32) + (64 * 64 * 9 + 64)
    assert deeper.count_params() - plain.count_params() == extra
    assert residual.count_params() == deeper.count_params()
    with pytest.raises(ValueError, match="skip_connections=True needs convolutions_per_block=2"):
        build_cnn(skip_connections=True)
    with pytest.raises(ValueError, match="convolutions_per_block must be an integer from 1 to 2"):
        build_cnn(convolutions_per_block=3)
    zeros = keras.ops.zeros((1, 13, 13, 32))
    assert keras.ops.convert_to_numpy(blocks[0](zeros)).shape == (1, 13, 13, 32)
    assert residual.predict(keras.ops.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 10)
    config = blocks[0].get_config()
    assert ResidualConv.from_config(config).get_config()["kernel_initializer"] == \
        config["kernel_initializer"]


def test_named_initializers_tiny_and_huge_set_the_weight_scale():
    tiny = build_cnn(initializer="tiny").layers[0].get_weights()[0]
    huge = build_cnn(initializer="huge").layers[0].get_weights()[0]
    assert np.std(tiny) < 1e-3 and 50 < np.std(huge) < 200


@pytest.mark.parametrize("sparse_labels", [False, True])
def test_a_penalized_model_records_its_cross_entropy_without_the_penalty(sparse_labels):
    import numpy as np
    from problems import small_problem

    from helpers.training import set_seed, train

    images, labels = small_problem()
    set_seed(0)
    model = compile_cnn(build_cnn(filters=4, dense_units=8, l2=0.1), sparse_labels=sparse_labels)
    history = train(model, images, labels, epochs=2, batch_size=32, validation_split=0.25,
                    verbose=0)
    # Keras' loss is the cross-entropy plus the penalty; the metric is the cross-entropy alone.
    penalty = float(sum(np.asarray(loss) for loss in model.losses))
    assert penalty > 0.01
    assert history["val_loss"][-1] == pytest.approx(history["val_cross_entropy"][-1] + penalty,
                                                    rel=1e-4)
    unpenalized = train(compile_cnn(build_cnn(filters=4, dense_units=8)), images, labels,
                        epochs=1, batch_size=32, validation_split=0.25, verbose=0)
    assert "val_cross_entropy" not in unpenalized  # nothing to take out: the loss is comparable

"""The seed CNN and the variants later notebooks use to induce and cure curve patterns.

Introduced in ``02_train_the_cnn.ipynb``. ``build_cnn()`` with no arguments is exactly the
article's model: Conv2D(32) -> MaxPool -> Conv2D(64) -> MaxPool -> Flatten -> Dense(128) ->
Dropout(0.5) -> Dense(10, softmax), 225,034 parameters. ``compile_cnn(model)`` compiles it as the
article does (Adam, cross-entropy, accuracy); building and compiling are two steps, as in Keras.
"""

from helpers import checks
from helpers.data import IMAGE_SIZE, NUM_CLASSES

import keras

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
MAX_CONV_BLOCKS = 3  # a fourth 3x3 conv + 2x2 pool would shrink a 28x28 image below 1x1


# Named starting points for the initialization experiments (notebook 09), besides Keras' names.
NAMED_INITIALIZERS = {
    "tiny": lambda: keras.initializers.RandomNormal(stddev=1e-4),
    "huge": lambda: keras.initializers.RandomNormal(stddev=100.0),
}


@keras.saving.register_keras_serializable(package="helpers")
class ResidualConv(keras.layers.Layer):
    """A 3x3 convolution (same padding, ReLU) whose output is added to its input: a skip connection.

    Used by ``build_cnn(convolutions_per_block=2, skip_connections=True)``.
    """

    def __init__(self, kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.convolution = keras.layers.Conv2D(
            input_shape[-1], (3, 3), padding="same", activation="relu",
            kernel_initializer=self.kernel_initializer, kernel_regularizer=self.kernel_regularizer)
        self.convolution.build(input_shape)

    def call(self, inputs):
        return inputs + self.convolution(inputs)

    def get_config(self):
        return {**super().get_config(),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)}


def _initializer(initializer):
    if isinstance(initializer, keras.initializers.Initializer):
        return initializer
    if initializer in NAMED_INITIALIZERS:
        return NAMED_INITIALIZERS[initializer]()
    try:
        return keras.initializers.get(initializer)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"initializer {initializer!r} is not a Keras initializer name; try 'glorot_uniform' "
            f"(the default), 'he_normal', 'he_uniform', 'lecun_normal', 'zeros', 'tiny' (normal, "
            f"std 1e-4), 'huge' (normal, std 100) or pass a keras.initializers.Initializer"
        ) from error


def build_cnn(
    conv_blocks=2,
    filters=32,
    width=1.0,
    dense_units=128,
    dropout=0.5,
    l1=0.0,
    l2=0.0,
    batch_norm=False,
    initializer="glorot_uniform",
    augment=False,
    convolutions_per_block=1,
    skip_connections=False,
):
    """Build the seed CNN, or a variant of it (uncompiled: ``compile_cnn`` compiles it).

    Block ``i`` has ``round(filters * width * 2**i)`` 3x3 filters, so the defaults give 32 and 64.
    ``conv_blocks=0`` leaves only the dense part. ``augment=True`` adds random horizontal flips
    and shifts of up to 10% (active in training only: data augmentation). ``convolutions_per_block=2``
    adds a second 3x3 convolution (same padding) to each block: a deeper network;
    ``skip_connections=True`` adds each block's input to that second convolution's output
    (``ResidualConv``, as in a ResNet). ``initializer`` also takes ``"tiny"`` and ``"huge"``.
    """
    checks.integer(conv_blocks, "conv_blocks", 0, MAX_CONV_BLOCKS)
    checks.integer(filters, "filters", low=1)
    checks.integer(convolutions_per_block, "convolutions_per_block", 1, 2)
    if skip_connections and convolutions_per_block != 2:
        raise ValueError("skip_connections=True needs convolutions_per_block=2 (the skip goes "
                         f"around the second convolution), got {convolutions_per_block}")
    checks.number(width, "width", low=0, low_open=True)
    checks.integer(dense_units, "dense_units", low=0)
    checks.number(dropout, "dropout", 0, 1, high_open=True)
    checks.number(l1, "l1", low=0)
    checks.number(l2, "l2", low=0)
    initializer = _initializer(initializer)

    def regularizer():
        return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None

    def layer_options():
        # A fresh initializer per layer: a shared instance would give layers equal weights.
        return dict(
            kernel_initializer=initializer.__class__.from_config(initializer.get_config()),
            kernel_regularizer=regularizer(),
        )

    layers = [keras.Input(shape=INPUT_SHAPE)]
    if augment:
        layers += [keras.layers.RandomFlip("horizontal"),
                   keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")]
    for block in range(conv_blocks):
        block_filters = max(1, round(filters * width * 2**block))
        layers.append(keras.layers.Conv2D(
            block_filters, (3, 3), activation=None if batch_norm else "relu", **layer_options()
        ))
        if batch_norm:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation("relu")]
        if skip_connections:
            layers.append(ResidualConv(**layer_options()))
        elif convolutions_per_block == 2:
            layers.append(keras.layers.Conv2D(block_filters, (3, 3), padding="same",
                                              activation="relu", **layer_options()))
        layers.append(keras.layers.MaxPooling2D((2, 2)))
    layers.append(keras.layers.Flatten())
    if dense_units:
        layers.append(keras.layers.Dense(
            dense_units, activation=None if batch_norm else "relu", **layer_options()
        ))
        if batch_norm:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation("relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(NUM_CLASSES, activation="softmax", **layer_options()))
    return keras.Sequential(layers, name="cnn")


OPTIMIZERS = {
    "sgd": lambda **options: keras.optimizers.SGD(**options),
    "momentum": lambda **options: keras.optimizers.SGD(momentum=0.9, **options),
    "rmsprop": lambda **options: keras.optimizers.RMSprop(**options),
    "adam": lambda **options: keras.optimizers.Adam(**options),
    "adamw": lambda **options: keras.optimizers.AdamW(**options),
}


PENALTY_FREE_LOSS = "cross_entropy"  # the metric name; history.without_penalty reads it
# Batches per compiled call (Keras' steps_per_execution). Same batches, same weights, same curves
# to the last bit; on a 2-core CPU a step of the seed CNN spent about 3 ms of its 10-14 ms (batch
# 32-64) going to and from Python, and 8 steps per call take most of that away. Keras then calls
# a callback's batch methods once per call: train() runs one step per call for anything that
# reads each batch (record_batches, listeners, batch callbacks).
STEPS_PER_EXECUTION = 8


def make_optimizer(name, learning_rate, clipnorm=None, global_clipnorm=None):
    """Return a fresh Keras optimizer by name (one of ``OPTIMIZERS``).

    ``clipnorm`` clips each variable's gradient to that norm separately; ``global_clipnorm``
    clips the whole gradient (all variables together) to that norm.
    """
    checks.one_of(name, "optimizer", tuple(OPTIMIZERS))
    checks.number(learning_rate, "learning_rate", low=0, low_open=True)
    for value, option in ((clipnorm, "clipnorm"), (global_clipnorm, "global_clipnorm")):
        if value is not None:
            checks.number(value, option, low=0, low_open=True)
    return OPTIMIZERS[name](learning_rate=learning_rate, clipnorm=clipnorm,
                            global_clipnorm=global_clipnorm)


def compile_cnn(model, optimizer="adam", learning_rate=0.001, clipnorm=None, global_clipnorm=None,
                sparse_labels=False, steps_per_execution=STEPS_PER_EXECUTION):
    """Compile ``model`` with a named optimizer, cross-entropy and accuracy; return the model.

    The defaults are the article's: Adam at 0.001, categorical cross-entropy (one-hot labels;
    ``train`` one-hot encodes integer labels per batch). ``sparse_labels=True`` compiles for
    integer labels instead. A model with L1 or L2 penalties also records the cross-entropy
    without them, as the metric ``cross_entropy`` (``history.without_penalty`` compares on it).
    ``steps_per_execution`` batches run per compiled call (``STEPS_PER_EXECUTION``: faster, same
    curves; ``train`` drops it to 1 while anything reads each batch).
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    metrics = ["accuracy"]
    if model.losses:  # weight penalties (L1, L2): Keras adds them to both loss and val_loss
        cross_entropy = (keras.metrics.SparseCategoricalCrossentropy if sparse_labels
                         else keras.metrics.CategoricalCrossentropy)
        metrics.append(cross_entropy(name=PENALTY_FREE_LOSS))
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate, clipnorm, global_clipnorm),
        loss="sparse_categorical_crossentropy" if sparse_labels else "categorical_crossentropy",
        metrics=metrics,
        steps_per_execution=checks.positive_integer(steps_per_execution, "steps_per_execution"),
    )
    return model

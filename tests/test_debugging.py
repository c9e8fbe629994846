import math

import numpy as np
import pytest
from problems import small_problem

from helpers import debugging
from helpers.models import build_cnn, compile_cnn
from helpers.training import set_seed, train

import keras


def watched_model(optimizer="sgd", learning_rate=0.1, **options):
    return compile_cnn(debugging.watch_steps(build_cnn(filters=4, dense_units=8)),
                       optimizer=optimizer, learning_rate=learning_rate, **options)


def test_watched_model_trains_exactly_like_the_model_it_watches():
    images, labels = small_problem()
    histories = []
    for watch in (False, True):
        set_seed(0)
        model = build_cnn(filters=4, dense_units=8)
        model = compile_cnn(debugging.watch_steps(model) if watch else model)
        histories.append(train(model, images, labels, epochs=2, batch_size=40, verbose=0,
                               record_batches=True))
    plain, watched = histories
    assert watched["loss"] == pytest.approx(plain["loss"], rel=1e-5)
    # Keras weights the running mean by batch size; the watched step must too (last batch: 32).
    assert watched.batch_loss == pytest.approx(plain.batch_loss, rel=1e-4)


def test_step_watcher_records_the_norm_and_each_layers_update_ratio_per_step():
    images, labels = small_problem()
    set_seed(0)
    model = watched_model(optimizer="sgd", learning_rate=0.1)
    before = [layer.get_weights()[0].copy() for layer in model.layers if hasattr(layer, "kernel")]
    watcher = debugging.StepWatcher()
    train(model, images[:32], labels[:32], epochs=1, batch_size=32, verbose=0, listeners=[watcher])
    assert list(watcher.update_ratios) == ["1 Conv2D", "2 Conv2D", "3 Dense", "4 Dense"]
    assert len(watcher.gradient_norms) == len(watcher.learning_rates) == 1
    assert watcher.learning_rates == pytest.approx([0.1])
    after = [layer.get_weights()[0] for layer in model.layers if hasattr(layer, "kernel")]
    for (name, ratios), old, new in zip(watcher.update_ratios.items(), before, after):
        expected = np.linalg.norm(new - old) / np.linalg.norm(old)
        assert ratios == pytest.approx([expected], rel=1e-4), name
    # Plain SGD: the update is the rate times the gradient, so the norms agree.
    updates = [new - old for old, new in zip(before, after)]
    kernel_update = math.sqrt(sum((update ** 2).sum() for update in updates))
    assert watcher.gradient_norms[0] >= kernel_update / 0.1 * (1 - 1e-4)


def test_gradient_norm_is_measured_before_clipping():
    images, labels = small_problem()
    norms = {}
    for clip in (None, 1e-3):
        set_seed(0)
        watcher = debugging.StepWatcher()
        train(watched_model(global_clipnorm=clip), images, labels, epochs=1, batch_size=64,
              verbose=0, listeners=[watcher])
        norms[clip] = watcher.gradient_norms
    assert norms[None][0] == pytest.approx(norms[1e-3][0], rel=1e-5)
    assert norms[1e-3][0] > 1e-3


def test_step_watcher_refuses_a_model_that_is_not_watched():
    images, labels = small_problem()
    model = compile_cnn(build_cnn(filters=4, dense_units=8))
    with pytest.raises(ValueError, match="watch_steps"):
        train(model, images, labels, epochs=1, verbose=0, listeners=[debugging.StepWatcher()])
    with pytest.raises(ValueError, match="model must be a built keras.Model"):
        debugging.watch_steps("cnn")


def test_linear_warmup_raises_the_rate_to_its_target_then_leaves_it():
    images, labels = small_problem(count=160)
    set_seed(0)
    watcher = debugging.StepWatcher()
    train(watched_model(learning_rate=0.5), images, labels, epochs=2, batch_size=32, verbose=0,
          listeners=[watcher], callbacks=[debugging.LinearWarmup(0.5, 4)])
    assert watcher.learning_rates == pytest.approx([0.125, 0.25, 0.375, 0.5] + [0.5] * 6)
    with pytest.raises(ValueError, match="warmup_steps must be an integer of at least 1"):
        debugging.LinearWarmup(0.1, 0)
    with pytest.raises(ValueError, match="learning_rate must be a number above 0"):
        debugging.LinearWarmup(-1.0, 10)


@pytest.mark.parametrize("schedule, expected", [
    ("constant", [0.1] * 6),
    ("step", [0.1] * 4 + [0.01] * 2),
    ("cosine", [0.1 * 0.5 * (1 + math.cos(math.pi * epoch / 6)) for epoch in range(6)]),
])
def test_scheduled_learning_rate(schedule, expected):
    rates = [debugging.scheduled_learning_rate(schedule, epoch, 0.1, 6) for epoch in range(6)]
    assert rates == pytest.approx(expected)


def test_schedule_callbacks_are_keras_callbacks_and_check_their_arguments():
    assert debugging.schedule_callbacks("constant", 0.1, 5) == []
    (plateau,) = debugging.schedule_callbacks("plateau", 0.1, 5)
    assert isinstance(plateau, keras.callbacks.ReduceLROnPlateau)
    (step,) = debugging.schedule_callbacks("step", 0.1, 6)
    assert isinstance(step, keras.callbacks.LearningRateScheduler)
    assert step.schedule(5) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="schedule must be one of constant, step, cosine, plateau"):
        debugging.schedule_callbacks("linear", 0.1, 5)
    with pytest.raises(ValueError, match="epochs must be an integer of at least 1"):
        debugging.schedule_callbacks("step", 0.1, 0)


def test_repeat_batch_keeps_or_breaks_the_pairing():
    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    labels = np.array([0, 1, 2, 3])
    repeated_images, repeated_labels = debugging.repeat_batch(images, labels, 3)
    assert repeated_images.shape == (12, 28, 28) and repeated_labels.tolist() == [0, 1, 2, 3] * 3
    _, broken = debugging.repeat_batch(images, labels, 50, reshuffle_labels=True, seed=1)
    copies = broken.reshape(50, 4)
    assert all(sorted(copy) == [0, 1, 2, 3] for copy in copies)  # the same labels ...
    assert len({tuple(copy) for copy in copies}) > 5  # ... in a new order each time
    with pytest.raises(ValueError, match="steps must be an integer of at least 1"):
        debugging.repeat_batch(images, labels, 0)
    with pytest.raises(ValueError, match="same length"):
        debugging.repeat_batch(images, labels[:3], 2)


def test_sort_by_class_is_stable():
    images = np.arange(6)[:, None]
    labels = np.array([2, 0, 1, 0, 2, 1])
    sorted_images, sorted_labels = debugging.sort_by_class(images, labels)
    assert sorted_labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert sorted_images.ravel().tolist() == [1, 3, 2, 5, 0, 4]


def test_periodicity_tells_a_repeating_pattern_from_noise():
    rng = np.random.default_rng(0)
    epochs, per_epoch = 8, 30
    trend = np.exp(-np.arange(epochs * per_epoch) / 100)
    staircase = np.tile(np.repeat([1.0, 1.5, 2.0], per_epoch // 3), epochs)
    noise = rng.normal(1, 0.1, epochs * per_epoch)
    assert debugging.periodicity(trend * staircase * noise, per_epoch) > 0.8
    assert debugging.periodicity(trend * noise, per_epoch) < 0.3
    with pytest.raises(ValueError, match="at least 4 epochs"):
        debugging.periodicity(noise[:90], per_epoch)
    with pytest.raises(ValueError, match="finite"):
        debugging.periodicity([*noise[:-1], math.nan], per_epoch)


def test_longest_rise_and_first_jump():
    assert debugging.longest_rise([3, 2, 2.5, 2.4, 2.6, 2.8, 3.0, 2.9]) == 3
    assert debugging.longest_rise([3, 2, 1]) == 0
    values = [1.0] * 30 + [2.0, 5.0, 1.0]
    assert debugging.first_jump(values, factor=3, window=20) == 32  # counted from 1
    assert debugging.first_jump(values, factor=10, window=20) is None
    with pytest.raises(ValueError, match="factor must be a number above 1"):
        debugging.first_jump(values, factor=1)


def test_smoothers_lag_start_low_and_peek_ahead():
    ramp = np.arange(200, dtype=float)
    ema = debugging.exponential_moving_average(ramp, 0.9)
    centred = debugging.centred_moving_average(ramp, 19)
    assert debugging.lag(centred, ema, max_lag=30) == 9  # w / (1 - w) steps on a straight line
    assert debugging.exponential_moving_average([2.0, 2.0], 0.9, bias_correction=False) == \
        pytest.approx([0.2, 0.38])
    assert debugging.exponential_moving_average([2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0])
    assert debugging.centred_moving_average([1, 2, 3, 10], 3) == pytest.approx([1.5, 2, 5, 6.5])
    with pytest.raises(ValueError, match="window must be odd"):
        debugging.centred_moving_average(ramp, 4)
    with pytest.raises(ValueError, match="same length"):
        debugging.lag(ramp, ramp[:-1], 5)


def test_per_image_losses_average_to_what_keras_evaluates():
    images, labels = small_problem()
    set_seed(0)
    model = compile_cnn(build_cnn(filters=4, dense_units=8), sparse_labels=True)
    losses = debugging.per_image_losses(model, images, labels)
    keras_loss = model.evaluate(images[..., None] / 255.0, labels, verbose=0)[0]
    assert losses.shape == (len(images),) and losses.mean() == pytest.approx(keras_loss, rel=1e-4)


@pytest.mark.slow  # trains on the real Fashion-MNIST
def test_the_seed_cnn_overfits_one_real_batch_and_a_broken_pipeline_cannot(fashion_mnist):
    (images, labels), _ = fashion_mnist
    losses = {}
    for broken in (False, True):
        stream = debugging.repeat_batch(images[:32], labels[:32], 100, reshuffle_labels=broken)
        set_seed(0)
        history = train(compile_cnn(build_cnn()), *stream, epochs=1, batch_size=32,
                        shuffle=False, record_batches=True, verbose=0)
        losses[broken] = np.mean(history.batch_loss[-10:])
    assert losses[False] < 0.2 and losses[True] > 2.0


def test_batch_mean_spread_is_zero_for_equal_losses_and_shrinks_like_one_over_root_batch():
    assert debugging.batch_mean_spread(np.full(64, 0.5), 8) == 0.0
    # Two batches of 2: means 1 and 3, standard deviation 1, mean 2.
    assert debugging.batch_mean_spread([0.0, 2.0, 2.0, 4.0, 99.0], 2) == pytest.approx(0.5)
    per_image = np.random.default_rng(0).exponential(size=64 * 512)
    small, large = (debugging.batch_mean_spread(per_image, size) for size in (8, 512))
    assert small / large == pytest.approx(math.sqrt(512 / 8), rel=0.2)
    with pytest.raises(ValueError, match="at least 2 \\* batch_size"):
        debugging.batch_mean_spread(np.ones(10), 8)
    with pytest.raises(ValueError, match="batch_size"):
        debugging.batch_mean_spread(np.ones(10), 0)


def test_fixed_set_loss_measures_the_fixed_images_every_so_many_training_images():
    images, labels = small_problem(count=132)
    set_seed(0)
    model = compile_cnn(build_cnn(filters=4, dense_units=8), sparse_labels=True)
    probe = debugging.FixedSetLoss(images[100:], labels[100:], every_images=64)
    train(model, images[:100], labels[:100], epochs=2, batch_size=32, verbose=0, listeners=[probe])
    # Images seen after each batch: 32 64 96 100 | 132 164 196 200; a multiple of 64 is passed
    # at 64, 132 (128) and 196 (192).
    assert probe.images_seen == [64, 132, 196]
    assert probe.steps == [2, 5, 7]  # 4 batches per epoch, the 4th a short one of 4 images
    assert len(probe.losses) == 3 and all(loss > 0 for loss in probe.losses)
    every_epoch = debugging.FixedSetLoss(images[100:], labels[100:], every_images=100)
    set_seed(0)
    model = compile_cnn(build_cnn(filters=4, dense_units=8), sparse_labels=True)
    train(model, images[:100], labels[:100], epochs=2, batch_size=32, verbose=0,
          listeners=[every_epoch])
    assert every_epoch.images_seen == [100, 200]
    final = debugging.per_image_losses(model, images[100:], labels[100:]).mean()
    assert every_epoch.losses[-1] == pytest.approx(final, rel=1e-5)
    with pytest.raises(ValueError, match="every_images"):
        debugging.FixedSetLoss(images, labels, every_images=0)

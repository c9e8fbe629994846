import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from helpers import data

# Where the real files are on this machine (found before any test moves the sources around).
REAL_SOURCE = data.locate_fashion_mnist()


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """No FASHION_MNIST_DIR, no Debian package, an empty Keras cache."""
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIRECTORY", tmp_path / "debian")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


def copy_real_files(directory):
    if REAL_SOURCE is None:
        pytest.fail("Fashion-MNIST files are needed: sudo apt-get install dataset-fashion-mnist")
    directory.mkdir(parents=True, exist_ok=True)
    for name in data.FILE_NAMES:
        shutil.copy(REAL_SOURCE.directory / name, directory / name)
    return directory


def write_idx(path, magic, dims, payload):
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">I" + "I" * len(dims), magic, *dims) + payload)


def test_load_returns_what_keras_returns(fashion_mnist):
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))
    assert np.bincount(y_train).tolist() == [6000] * 10


def test_load_matches_keras_reading_its_cache(no_sources):
    # Keras reads $KERAS_HOME once, at import, so its side runs in a fresh process.
    copy_real_files(data.keras_cache_directory())
    assert data.locate_fashion_mnist().name == "Keras cache"
    script = (
        "import hashlib, keras\n"
        "for pair in keras.datasets.fashion_mnist.load_data():\n"
        "    for a in pair:\n"
        "        print(a.dtype, a.shape, hashlib.sha256(a.tobytes()).hexdigest())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
    ours = [f"{a.dtype} {a.shape} {hashlib.sha256(a.tobytes()).hexdigest()}"
            for pair in data.load_fashion_mnist(verbose=False) for a in pair]
    assert result.stdout.split("\n")[-5:-1] == ours


def test_sources_are_tried_in_order(no_sources, monkeypatch, capsys):
    assert data.locate_fashion_mnist() is None
    copy_real_files(data.keras_cache_directory())
    assert data.locate_fashion_mnist().name == "Keras cache"
    copy_real_files(data.DEBIAN_DIRECTORY)
    assert "Debian" in data.locate_fashion_mnist().name
    custom = copy_real_files(no_sources / "custom")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(custom))
    assert data.locate_fashion_mnist().directory == custom
    data.load_fashion_mnist()
    assert "$FASHION_MNIST_DIR" in capsys.readouterr().out


def test_wrong_directory_variable_is_an_error(no_sources, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(no_sources / "nowhere"))
    with pytest.raises(FileNotFoundError, match="FASHION_MNIST_DIR.*missing"):
        data.load_fashion_mnist()


def test_offline_with_nothing_found_says_how_to_get_the_data(no_sources, monkeypatch):
    def offline():
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "_download_with_keras", offline)
    with pytest.raises(FileNotFoundError) as error:
        data.load_fashion_mnist()
    message = str(error.value)
    assert "network is unreachable" in message
    assert str(data.DEBIAN_DIRECTORY) in message
    assert str(data.keras_cache_directory()) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "Go online" in message


def test_download_is_checked(no_sources, monkeypatch, fashion_mnist, capsys):
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    monkeypatch.setattr(data, "_download_with_keras", lambda: fashion_mnist)
    data.load_fashion_mnist()
    assert "Keras download" in capsys.readouterr().out
    broken = x_test.copy()
    broken[0, 0, 0] ^= 1
    monkeypatch.setattr(data, "_download_with_keras",
                        lambda: ((x_train, y_train), (broken, y_test)))
    with pytest.raises(data.DatasetError, match="t10k-images"):
        data.load_fashion_mnist()


def test_truncated_file_is_named(no_sources, monkeypatch):
    custom = copy_real_files(no_sources / "custom")
    target = custom / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:100_000])
    monkeypatch.setenv("FASHION_MNIST_DIR", str(custom))
    with pytest.raises(data.DatasetError, match="train-images-idx3-ubyte.gz.*(Delete|replace)"):
        data.load_fashion_mnist()


def test_corrupt_content_fails_the_checksum(no_sources, monkeypatch):
    custom = copy_real_files(no_sources / "custom")
    target = custom / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.open(target).read())
    raw[100] = (raw[100] + 1) % 10
    with gzip.open(target, "wb") as handle:
        handle.write(bytes(raw))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(custom))
    with pytest.raises(data.DatasetError, match="t10k-labels.*checksum"):
        data.load_fashion_mnist()


@pytest.mark.parametrize("magic, dims, payload_size, message", [
    (2049, (10000, 28, 28), 10000 * 784, "magic=2049"),
    (2051, (9999, 28, 28), 9999 * 784, "count=9999"),
    (2051, (10000, 32, 32), 10000 * 1024, "32x32"),
    (2051, (10000, 28, 28), 5000, "truncated"),
])
def test_bad_headers_are_refused(tmp_path, monkeypatch, magic, dims, payload_size, message):
    for good in data.DEBIAN_DIRECTORY.iterdir():  # the other three files are the real ones
        shutil.copy(good, tmp_path / good.name)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(path, magic, dims, bytes(payload_size))
    monkeypatch.setenv(data.DIRECTORY_VARIABLE, str(tmp_path))
    with pytest.raises(data.DatasetError, match=message):
        data.load_fashion_mnist(verbose=False)


def test_preprocess_images_gives_float32_in_unit_range():
    images = np.array([[[0, 255], [128, 1]]], dtype=np.uint8)
    result = data.preprocess_images(images)
    assert result.dtype == np.float32 and result.shape == (1, 2, 2, 1)
    assert result.min() == 0.0 and result.max() == 1.0
    with pytest.raises(ValueError, match="images must be uint8"):
        data.preprocess_images(result[..., 0])
    with pytest.raises(ValueError, match="images must have shape"):
        data.preprocess_images(images[0])


def test_one_hot_matches_keras():
    import keras

    labels = np.array([0, 3, 9, 3], dtype=np.uint8)
    np.testing.assert_array_equal(data.one_hot(labels), keras.utils.to_categorical(labels, 10))
    assert data.one_hot(labels).dtype == np.float32
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        data.one_hot(np.array([10]))
    with pytest.raises(ValueError, match="labels must be a 1-D array"):
        data.one_hot(np.array([0.5]))


def test_split_is_the_last_fraction_like_keras():
    # Keras' fit(validation_split=0.2) validates on the samples after floor(n * 0.8), unshuffled.
    images, labels = np.arange(1003 * 4).reshape(1003, 4), np.arange(1003) % 10
    (x_train, y_train), (x_val, y_val) = data.split_train_validation(images, labels, 0.2)
    np.testing.assert_array_equal(x_train, images[:802])
    np.testing.assert_array_equal(y_val, labels[802:])
    np.testing.assert_array_equal(x_val, images[802:])
    assert len(x_train) + len(x_val) == 1003
    with pytest.raises(ValueError, match="validation_split"):
        data.split_train_validation(images, labels, 1.5)
    with pytest.raises(ValueError, match="same length"):
        data.split_train_validation(images, labels[:-1])


def test_stratified_subset_is_seeded_and_keeps_the_class_mix(fashion_mnist):
    (x_train, y_train), _ = fashion_mnist
    x_a, y_a = data.stratified_subset(x_train, y_train, 2000, seed=1)
    x_b, y_b = data.stratified_subset(x_train, y_train, 2000, seed=1)
    x_c, _ = data.stratified_subset(x_train, y_train, 2000, seed=2)
    assert len(y_a) == 2000 and np.bincount(y_a).tolist() == [200] * 10
    np.testing.assert_array_equal(x_a, x_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert not np.array_equal(x_a, x_c)
    _, y_odd = data.stratified_subset(x_train, y_train, 1005, seed=0)
    assert len(y_odd) == 1005 and set(np.bincount(y_odd)) <= {100, 101}
    with pytest.raises(ValueError, match="size must be"):
        data.stratified_subset(x_train, y_train, 0)


def test_label_noise_changes_exactly_the_reported_labels():
    labels = np.arange(1000, dtype=np.uint8) % 10
    noisy, changed = data.add_label_noise(labels, 0.3, seed=0)
    assert len(changed) == 300
    assert np.count_nonzero(noisy != labels) == 300
    assert np.all(noisy[changed] != labels[changed])
    assert noisy.dtype == labels.dtype and noisy.max() <= 9
    again, _ = data.add_label_noise(labels, 0.3, seed=0)
    np.testing.assert_array_equal(noisy, again)
    assert len(data.add_label_noise(labels, 0.0)[1]) == 0
    with pytest.raises(ValueError, match="fraction"):
        data.add_label_noise(labels, 1.2)


def test_count_overlap_finds_shared_images():
    images = np.arange(5 * 4, dtype=np.uint8).reshape(5, 2, 2)
    others = np.concatenate([images[[1, 3]], np.full((2, 2, 2), 255, dtype=np.uint8)])
    assert data.count_overlap(images, others) == 2
    assert data.count_overlap(images, images) == 5
    with pytest.raises(ValueError, match="same image shape"):
        data.count_overlap(images, np.zeros((1, 3, 3), dtype=np.uint8))


def test_reduce_classes_keeps_a_fraction_of_the_chosen_classes_only():
    from helpers.data import reduce_classes

    labels = np.repeat(np.arange(10, dtype=np.uint8), 100)
    images = np.arange(1000)
    kept_images, kept_labels = reduce_classes(images, labels, (2, 7), 0.1, seed=3)
    counts = np.bincount(kept_labels, minlength=10)
    assert counts[2] == counts[7] == 10
    assert all(counts[c] == 100 for c in range(10) if c not in (2, 7))
    assert np.all(np.diff(kept_images) > 0)  # original order kept
    assert np.array_equal(labels[kept_images], kept_labels)
    again = reduce_classes(images, labels, (2, 7), 0.1, seed=3)[0]
    assert np.array_equal(again, kept_images)


@pytest.mark.parametrize("classes, fraction, message", [
    ((), 0.5, "classes must be one or more class numbers"),
    ((10,), 0.5, "classes must be one or more class numbers"),
    ((1,), 0.0, "keep_fraction must be a number above 0 and at most 1"),
])
def test_reduce_classes_refuses_bad_arguments(classes, fraction, message):
    from helpers.data import reduce_classes

    labels = np.repeat(np.arange(10, dtype=np.uint8), 10)
    with pytest.raises(ValueError, match=message):
        reduce_classes(np.zeros(100), labels, classes, fraction)


def test_add_training_images_keeps_the_originals_and_never_takes_a_validation_image(fashion_mnist):
    (x_train, y_train), _ = fashion_mnist
    x_subset, y_subset = data.stratified_subset(x_train, y_train, 1000, seed=4)
    training, validation = data.split_train_validation(x_subset, y_subset, 0.2)
    more_x, more_y = data.add_training_images(x_train, y_train, training, validation, 2400, seed=5)
    assert len(more_x) == len(more_y) == 2400
    assert np.array_equal(more_x[:800], training[0]) and np.array_equal(more_y[:800], training[1])
    assert data.count_overlap(more_x, validation[0]) == data.count_overlap(training[0], validation[0])
    assert data.count_overlap(more_x[800:], training[0]) == 0
    # The class mix of the added images follows the data's; a seed draws the same images again.
    assert np.bincount(more_y[800:], minlength=10).min() >= 150
    again_x, _ = data.add_training_images(x_train, y_train, training, validation, 2400, seed=5)
    assert np.array_equal(again_x, more_x)
    with pytest.raises(ValueError, match="size"):
        data.add_training_images(x_train, y_train, training, validation, 700)

"""Fashion-MNIST: find it, load it, check it, and prepare it for the CNN.

Introduced in ``02_train_the_cnn.ipynb``. ``load_fashion_mnist()`` returns exactly what
``keras.datasets.fashion_mnist.load_data()`` returns, but also works offline when the data is
installed locally, and refuses corrupt files instead of returning wrong arrays.
"""

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import checks

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 28

DIRECTORY_VARIABLE = "FASHION_MNIST_DIR"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class _IdxFile:
    name: str
    magic: int
    count: int
    sha256: str  # of the decoded array bytes, header excluded (the .gz bytes differ by source)


_TRAIN_IMAGES = _IdxFile(
    "train-images-idx3-ubyte.gz", 2051, 60000,
    "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
)
_TRAIN_LABELS = _IdxFile(
    "train-labels-idx1-ubyte.gz", 2049, 60000,
    "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
)
_TEST_IMAGES = _IdxFile(
    "t10k-images-idx3-ubyte.gz", 2051, 10000,
    "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
)
_TEST_LABELS = _IdxFile(
    "t10k-labels-idx1-ubyte.gz", 2049, 10000,
    "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
)
_FILES = (_TRAIN_IMAGES, _TRAIN_LABELS, _TEST_IMAGES, _TEST_LABELS)
FILE_NAMES = tuple(f.name for f in _FILES)

_HOW_TO_GET_THE_DATA = f"""Three ways to get Fashion-MNIST:
  1. Debian/Ubuntu: sudo apt-get install {DEBIAN_PACKAGE}   (installs it under {DEBIAN_DIRECTORY})
  2. Copy the four files ({", ".join(FILE_NAMES)})
     into the Keras cache, {{keras_cache}}, or into any folder named by ${DIRECTORY_VARIABLE}.
  3. Go online: Keras downloads the files into its cache on first use."""


class DatasetError(ValueError):
    """A Fashion-MNIST file exists but is truncated, corrupt or not what it claims to be."""


@dataclass(frozen=True)
class DataSource:
    """Where Fashion-MNIST was found: a name for people and the directory holding the files."""

    name: str
    directory: Path | None

    def __str__(self):
        return self.name if self.directory is None else f"{self.name} ({self.directory})"


def keras_cache_directory():
    """Return the folder where Keras caches Fashion-MNIST ($KERAS_HOME or ~/.keras)."""
    # The same rule as Keras' own: $KERAS_HOME, else ~/.keras, else /tmp/.keras when ~ is read-only.
    keras_home = os.environ.get("KERAS_HOME")
    if keras_home is None:
        base = Path.home() if os.access(Path.home(), os.W_OK) else Path("/tmp")
        keras_home = base / ".keras"
    return Path(keras_home) / "datasets" / "fashion-mnist"


def _has_all_files(directory):
    return all((directory / name).is_file() for name in FILE_NAMES)


def locate_fashion_mnist():
    """Return the DataSource that ``load_fashion_mnist`` will read; None means a Keras download."""
    custom = os.environ.get(DIRECTORY_VARIABLE)
    if custom:
        directory = Path(custom).expanduser()
        missing = [name for name in FILE_NAMES if not (directory / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"{DIRECTORY_VARIABLE}={custom!r} does not hold the Fashion-MNIST files: "
                f"missing {', '.join(missing)}. Point {DIRECTORY_VARIABLE} at the folder with "
                f"all four files, or unset it to use the other sources."
            )
        return DataSource(f"${DIRECTORY_VARIABLE}", directory)
    if _has_all_files(DEBIAN_DIRECTORY):
        return DataSource(f"Debian package {DEBIAN_PACKAGE}", DEBIAN_DIRECTORY)
    if _has_all_files(keras_cache_directory()):
        return DataSource("Keras cache", keras_cache_directory())
    return None


def _read_idx(path, expected):
    """Decode one IDX .gz file into a uint8 array after checking header, size and checksum."""
    fix = (
        f"Delete or replace {path} (reinstall the package {DEBIAN_PACKAGE}, copy the file again, "
        f"or delete it from the Keras cache so Keras downloads it again)."
    )
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"{path} is not a readable gzip file ({error}). {fix}") from error
    is_images = expected.magic == 2051
    header_size = 16 if is_images else 8
    if len(raw) < header_size:
        raise DatasetError(f"{path} is too short to hold an IDX header. {fix}")
    magic, count = struct.unpack(">II", raw[:8])
    if magic != expected.magic or count != expected.count:
        raise DatasetError(
            f"{path} has IDX header magic={magic}, count={count}; expected "
            f"magic={expected.magic}, count={expected.count}. {fix}"
        )
    shape = (count,)
    if is_images:
        rows, columns = struct.unpack(">II", raw[8:16])
        if (rows, columns) != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{path} holds {rows}x{columns} images, expected 28x28. {fix}")
        shape = (count, rows, columns)
    payload = raw[header_size:]
    if len(payload) != int(np.prod(shape)):
        raise DatasetError(
            f"{path} holds {len(payload)} bytes of data, expected {int(np.prod(shape))} "
            f"(the file is truncated or padded). {fix}"
        )
    if hashlib.sha256(payload).hexdigest() != expected.sha256:
        raise DatasetError(f"{path} decodes to data whose checksum is not Fashion-MNIST's. {fix}")
    return np.frombuffer(payload, np.uint8).reshape(shape)


def _check_arrays(arrays, origin):
    for array, expected in zip(arrays, _FILES):
        digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
        if array.dtype != np.uint8 or len(array) != expected.count or digest != expected.sha256:
            raise DatasetError(
                f"{origin} returned data for {expected.name} that is not Fashion-MNIST "
                f"(wrong size or checksum). Delete {keras_cache_directory()} and try again."
            )


def _download_with_keras():
    import keras

    return keras.datasets.fashion_mnist.load_data()


def load_fashion_mnist(verbose=True):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, like Keras' load_data()."""
    source = locate_fashion_mnist()
    if source is None:
        try:
            (x_train, y_train), (x_test, y_test) = _download_with_keras()
        except Exception as error:
            looked = [
                f"${DIRECTORY_VARIABLE} (not set)",
                f"{DEBIAN_DIRECTORY} (package {DEBIAN_PACKAGE})",
                str(keras_cache_directory()),
                f"Keras download (failed: {error})",
            ]
            raise FileNotFoundError(
                "Fashion-MNIST was not found. Looked in:\n  - "
                + "\n  - ".join(looked)
                + "\n"
                + _HOW_TO_GET_THE_DATA.format(keras_cache=keras_cache_directory())
            ) from error
        _check_arrays((x_train, y_train, x_test, y_test), "Keras' download")
        source = DataSource("Keras download", keras_cache_directory())
    else:
        x_train, y_train, x_test, y_test = (
            _read_idx(source.directory / f.name, f) for f in _FILES
        )
    if verbose:
        print(f"Fashion-MNIST loaded from {source}: {len(x_train)} training and "
              f"{len(x_test)} test images.")
    return (x_train, y_train), (x_test, y_test)


def preprocess_images(images):
    """Scale uint8 pixels to float32 in [0, 1] and add the channel axis: (n, 28, 28, 1)."""
    checks.array(images, "images")
    if images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 pixels 0-255 as loaded, got dtype {images.dtype} "
            f"(already preprocessed?)"
        )
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), got {images.shape}")
    return (images.astype(np.float32) / np.float32(255.0))[..., np.newaxis]


def one_hot(labels, num_classes=NUM_CLASSES):
    """Return float32 one-hot rows for integer labels, like ``keras.utils.to_categorical``."""
    checks.class_labels(labels, "labels", num_classes)
    return np.eye(num_classes, dtype=np.float32)[labels]


def split_train_validation(images, labels, validation_split=0.2):
    """Split off the LAST ``validation_split`` of the samples, as ``fit(validation_split=...)`` does.

    Keras takes the validation samples from the end of the arrays before any shuffling, so this
    split gives exactly the samples that ``model.fit(..., validation_split=0.2)`` validates on.
    Returns ``(train_images, train_labels), (validation_images, validation_labels)`` (views).
    """
    checks.same_length(images, labels)
    checks.number(validation_split, "validation_split", 0, 1, low_open=True, high_open=True)
    split_at = int(np.floor(len(images) * (1.0 - validation_split)))
    if split_at in (0, len(images)):
        raise ValueError(
            f"validation_split={validation_split} leaves no training or no validation sample "
            f"out of {len(images)}"
        )
    return (images[:split_at], labels[:split_at]), (images[split_at:], labels[split_at:])


def stratified_subset(images, labels, size, seed=0):
    """Return a seeded subset of ``size`` samples with the class mix of ``labels``, in original order."""
    checks.same_length(images, labels)
    checks.class_labels(labels, "labels", int(labels.max()) + 1 if len(labels) else 1)
    checks.integer(size, "size", 1, len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quotas = counts * size / len(labels)
    take = np.floor(quotas).astype(int)
    # Hand out the samples lost to rounding to the classes with the largest remainders.
    for index in np.argsort(-(quotas - take), kind="stable")[: size - take.sum()]:
        take[index] += 1
    chosen = [
        rng.choice(np.flatnonzero(labels == label), count, replace=False)
        for label, count in zip(classes, take)
    ]
    indices = np.sort(np.concatenate(chosen))
    return images[indices], labels[indices]


def add_label_noise(labels, fraction, seed=0, num_classes=NUM_CLASSES):
    """Replace a seeded ``fraction`` of labels by a different class.

    Returns ``(noisy_labels, changed_indices)``; every index in ``changed_indices`` now holds a
    wrong label, so ``len(changed_indices)`` is exactly how many labels changed.
    """
    checks.class_labels(labels, "labels", num_classes)
    checks.number(fraction, "fraction", 0, 1)
    rng = np.random.default_rng(seed)
    count = int(round(fraction * len(labels)))
    changed = np.sort(rng.choice(len(labels), count, replace=False))
    noisy = labels.copy()
    # A shift of 1..num_classes-1 always lands on a different class.
    shifts = rng.integers(1, num_classes, size=count)
    noisy[changed] = (labels[changed] + shifts) % num_classes
    return noisy, changed


def _fingerprint(image):
    """Return a digest of one image's pixels: equal for identical images, pixel for pixel."""
    return hashlib.sha1(image.tobytes()).digest()


def count_overlap(images, other_images):
    """Return how many of ``other_images`` also appear, pixel for pixel, in ``images``."""
    checks.array(images, "images")
    checks.array(other_images, "other_images")
    if images.shape[1:] != other_images.shape[1:]:
        raise ValueError(f"images and other_images must have the same image shape, got "
                         f"{images.shape[1:]} and {other_images.shape[1:]}")
    seen = {_fingerprint(image) for image in images}
    return sum(_fingerprint(image) in seen for image in other_images)


def add_training_images(images, labels, training, validation, size, seed=0):
    """Return ``training`` plus seeded, stratified samples of ``images`` that are in neither
    ``training`` nor ``validation`` (pixel for pixel): ``size`` samples in all.

    More data for the same validation set: a run on the result is compared with a run on
    ``training`` on one fixed validation set, and its training set holds every original image.
    """
    (training_images, training_labels), (validation_images, _) = training, validation
    checks.same_length(images, labels)
    checks.integer(size, "size", len(training_labels), len(labels))
    used = {_fingerprint(image) for image in (*training_images, *validation_images)}
    free = np.array([_fingerprint(image) not in used for image in images])
    extra = size - len(training_labels)
    if extra > free.sum():
        raise ValueError(f"size={size} needs {extra} more images, but only {free.sum()} are in "
                         f"neither the training nor the validation set")
    if extra == 0:
        return training_images, training_labels
    extra_images, extra_labels = stratified_subset(images[free], labels[free], extra, seed=seed)
    return (np.concatenate([training_images, extra_images]),
            np.concatenate([training_labels, extra_labels]))


def reduce_classes(images, labels, classes, keep_fraction, seed=0):
    """Keep a seeded ``keep_fraction`` of the samples of ``classes`` (and all others): imbalance.

    Returns ``(images, labels)`` in their original order; the other classes are untouched.
    """
    checks.same_length(images, labels)
    checks.class_labels(labels, "labels", NUM_CLASSES)
    classes = tuple(classes)
    if not classes or any(not isinstance(c, (int, np.integer)) or not 0 <= c < NUM_CLASSES
                          for c in classes):
        raise ValueError(f"classes must be one or more class numbers from 0 to {NUM_CLASSES - 1}, "
                         f"got {classes!r}")
    checks.number(keep_fraction, "keep_fraction", 0, 1, low_open=True)
    rng = np.random.default_rng(seed)
    keep = np.ones(len(labels), dtype=bool)
    for label in classes:
        members = np.flatnonzero(labels == label)
        dropped = rng.choice(members, len(members) - int(round(keep_fraction * len(members))),
                             replace=False)
        keep[dropped] = False
    return images[keep], labels[keep]

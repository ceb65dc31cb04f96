"""Helpers shared by the lecture's programs (the course's utils.py, offline).

The course downloads its data sets; here `download_one_file` only checks that the stand-in written by
standin_data.py is in place, and says how to create it when it is not. Everything else (reading MNIST's
idx files, the tf.data pipelines, Huber loss) is written the way the lecture writes it.
"""
import os
import struct
import sys

os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'

import numpy as np
import tensorflow as tf


def overrides(settings: dict) -> None:
    """Lets `python program.py NAME=value …` change a program's upper-case settings (tests run small)."""
    for arg in sys.argv[1:]:
        name, sep, value = arg.partition('=')
        if sep and name.isupper() and name in settings:
            settings[name] = type(settings[name])(value)


def huber_loss(labels, predictions, delta=14.0):
    residual = tf.abs(labels - predictions)
    def f1(): return 0.5 * tf.square(residual)
    def f2(): return delta * residual - 0.5 * tf.square(delta)
    return tf.cond(residual < delta, f1, f2)


def safe_mkdir(path):
    """Creates a directory if there isn't one already."""
    try:
        os.mkdir(path)
    except OSError:
        pass


def download_one_file(download_url, local_dest, expected_byte=None, unzip_and_remove=False):
    """The course downloads `download_url`; offline, the stand-in must already be at `local_dest`
    (or, for a .gz, at `local_dest` without its suffix)."""
    if os.path.exists(local_dest) or os.path.exists(local_dest[:-3]):
        print('%s already exists' % local_dest)
    else:
        raise FileNotFoundError('%s is missing: run `python standin_data.py` in this directory to write the '
                                'offline stand-ins for %s' % (local_dest, download_url))


def download_mnist(path):
    """Makes sure the MNIST files are in `path` (yann.lecun.com/exdb/mnist's four files)."""
    safe_mkdir(path)
    url = 'http://yann.lecun.com/exdb/mnist'
    filenames = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
    for filename in filenames:
        download_one_file(url + '/' + filename, os.path.join(path, filename), unzip_and_remove=True)


def parse_data(path, dataset, flatten):
    if dataset != 'train' and dataset != 't10k':
        raise NameError('dataset must be train or t10k')
    with open(os.path.join(path, dataset + '-labels-idx1-ubyte'), 'rb') as file:
        _, num = struct.unpack('>II', file.read(8))
        labels = np.fromfile(file, dtype=np.int8)
        one_hot = np.zeros((num, 10))           # float64 one-hot labels, as the course builds them
        one_hot[np.arange(num), labels] = 1
    with open(os.path.join(path, dataset + '-images-idx3-ubyte'), 'rb') as file:
        _, num, rows, cols = struct.unpack('>IIII', file.read(16))
        imgs = np.fromfile(file, dtype=np.uint8).reshape(num, rows, cols)
        imgs = imgs.astype(np.float32) / 255.0
        if flatten:
            imgs = imgs.reshape([num, -1])
    return imgs, one_hot


def read_mnist(path, flatten=True, num_train=None):
    """((train images, labels), (validation images, labels), (test images, labels)) as numpy arrays."""
    imgs, labels = parse_data(path, 'train', flatten)
    num_train = num_train or int(len(labels) * 55 / 60)   # 55,000 of MNIST's 60,000
    indices = np.random.permutation(labels.shape[0])
    train_idx, val_idx = indices[:num_train], indices[num_train:]
    train = imgs[train_idx], labels[train_idx]
    val = imgs[val_idx], labels[val_idx]
    test = parse_data(path, 't10k', flatten)
    return train, val, test


def get_mnist_dataset(batch_size):
    """The train and test `tf.data` pipelines over MNIST (shuffled train batches, ordered test batches)."""
    mnist_folder = 'data/mnist'
    download_mnist(mnist_folder)
    train, val, test = read_mnist(mnist_folder, flatten=False)

    train_data = tf.data.Dataset.from_tensor_slices(train)
    train_data = train_data.shuffle(10000)
    train_data = train_data.batch(batch_size)

    test_data = tf.data.Dataset.from_tensor_slices(test)
    test_data = test_data.batch(batch_size)
    return train_data, test_data


def show(image):
    """Renders a 2-D array of pixels (needs matplotlib)."""
    from matplotlib import pyplot as plt
    plt.imshow(image, cmap='gray')
    plt.show()

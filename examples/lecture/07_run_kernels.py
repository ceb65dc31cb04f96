"""Classic image filters as convolutions, on an image read with TF's file and image ops (lecture 07).

    python 07_run_kernels.py [RGB=1] [SHOW=1]      (after `python standin_data.py`)

`tf.read_file` + `tf.image.decode_image` read data/friday.jpg; each 3x3 kernel of kernels.py is applied
with `tf.nn.conv2d` (stride 3). The program prints each filtered image's shape and value range, and shows
them side by side when SHOW=1 (matplotlib).
"""
import os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'

import tensorflow as tf

import kernels
import utils

RGB = 0
SHOW = 0
utils.overrides(globals())


def read_one_image(filename):
    """An image file → a float tensor in [0, 1)."""
    image_string = tf.read_file(filename)
    image_decoded = tf.image.decode_image(image_string)
    image = tf.cast(image_decoded, tf.float32) / 256.0
    return image


def convolve(image, kernels, rgb=True, strides=[1, 3, 3, 1], padding='SAME'):
    images = [image[0]]
    for i, kernel in enumerate(kernels):
        filtered_image = tf.nn.conv2d(image, kernel, strides=strides, padding=padding)[0]
        if i == 2:
            filtered_image = tf.minimum(tf.nn.relu(filtered_image), 255)
        images.append(filtered_image)
    return images


def show_images(images, rgb=True):
    from matplotlib import gridspec
    from matplotlib import pyplot as plt
    gs = gridspec.GridSpec(1, len(images))
    for i, image in enumerate(images):
        plt.subplot(gs[0, i])
        if rgb:
            plt.imshow(image)
        else:
            plt.imshow(image.reshape(image.shape[0], image.shape[1]), cmap='gray')
        plt.axis('off')
    plt.show()


def main():
    rgb = bool(RGB)
    if rgb:
        kernels_list = [kernels.BLUR_FILTER_RGB, kernels.SHARPEN_FILTER_RGB, kernels.EDGE_FILTER_RGB,
                        kernels.TOP_SOBEL_RGB, kernels.EMBOSS_FILTER_RGB]
    else:
        kernels_list = [kernels.BLUR_FILTER, kernels.SHARPEN_FILTER, kernels.EDGE_FILTER,
                        kernels.TOP_SOBEL, kernels.EMBOSS_FILTER]
    kernels_list = kernels_list[1:]
    image = read_one_image('data/friday.jpg')
    if not rgb:
        image = tf.image.rgb_to_grayscale(image)
    image = tf.expand_dims(image, 0)  # a batch of one image
    images = convolve(image, kernels_list, rgb)
    with tf.Session() as sess:
        images = sess.run(images)  # the filtered images as numpy arrays
    for name, image in zip(['original', 'sharpen', 'edge', 'top sobel', 'emboss'], images):
        print('{:9s} shape {} min {:.4f} max {:.4f} mean {:.4f}'.format(
            name, image.shape, image.min(), image.max(), image.mean()))
    if SHOW:
        show_images(images, rgb)


if __name__ == '__main__':
    main()

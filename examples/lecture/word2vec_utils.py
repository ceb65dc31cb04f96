"""Data helpers of the lecture's word2vec programs: text8 → vocabulary → skip-gram batches."""
from collections import Counter
import os
import random
import zipfile

import numpy as np
import tensorflow as tf

import utils


def read_data(file_path):
    """The zip's first member, split into a list of tokens."""
    with zipfile.ZipFile(file_path) as f:
        words = tf.compat.as_str(f.read(f.namelist()[0])).split()
    return words


def build_vocab(words, vocab_size, visual_fld):
    """The `vocab_size` most frequent words (index 0 is UNK), also written to visual_fld/vocab.tsv."""
    utils.safe_mkdir(visual_fld)
    dictionary = dict()
    count = [('UNK', -1)]
    count.extend(Counter(words).most_common(vocab_size - 1))
    with open(os.path.join(visual_fld, 'vocab.tsv'), 'w') as file:
        for index, (word, _) in enumerate(count):
            dictionary[word] = index
            file.write(word + '\n')
    index_dictionary = dict(zip(dictionary.values(), dictionary.keys()))
    return dictionary, index_dictionary


def convert_words_to_index(words, dictionary):
    """Each word's index in the dictionary (0 for words outside it)."""
    return [dictionary[word] if word in dictionary else 0 for word in words]


def generate_sample(index_words, context_window_size):
    """Skip-gram pairs (center, target): targets within a random window around each center word."""
    for index, center in enumerate(index_words):
        context = random.randint(1, context_window_size)
        for target in index_words[max(0, index - context): index]:
            yield center, target
        for target in index_words[index + 1: index + context + 1]:
            yield center, target


def most_common_words(visual_fld, num_visualize):
    """Writes the `num_visualize` most frequent words to visual_fld/vocab_<num_visualize>.tsv."""
    with open(os.path.join(visual_fld, 'vocab.tsv'), 'r') as file:
        words = file.readlines()[:num_visualize]
    with open(os.path.join(visual_fld, 'vocab_' + str(num_visualize) + '.tsv'), 'w') as file:
        file.writelines(words)


def batch_gen(download_url, expected_byte, vocab_size, batch_size, skip_window, visual_fld):
    """Endless batches of (center words, target words); targets are a float64 column, as the course's
    generator builds them (`np.zeros([batch_size, 1])`), converted to int32 by `from_generator`."""
    local_dest = 'data/text8.zip'
    utils.download_one_file(download_url, local_dest, expected_byte)
    words = read_data(local_dest)
    dictionary, _ = build_vocab(words, vocab_size, visual_fld)
    index_words = convert_words_to_index(words, dictionary)
    del words
    single_gen = generate_sample(index_words, skip_window)

    while True:
        center_batch = np.zeros(batch_size, dtype=np.int32)
        target_batch = np.zeros([batch_size, 1])
        for index in range(batch_size):
            center_batch[index], target_batch[index] = next(single_gen)
        yield center_batch, target_batch

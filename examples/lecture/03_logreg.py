"""Logistic regression on MNIST with tf.data (lecture 03).

    python 03_logreg.py [n_epochs=N …]      (after `python standin_data.py`)

A reinitializable iterator switches between the shuffled training batches and the test batches; the
model is one weight matrix and a bias, trained with Adam on softmax cross entropy.
"""
import os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'
import time

import numpy as np
import tensorflow as tf

import utils

learning_rate = 0.01
batch_size = 128
n_epochs = 30
LEARNING_RATE, BATCH_SIZE, N_EPOCHS = learning_rate, batch_size, n_epochs
utils.overrides(globals())
learning_rate, batch_size, n_epochs = LEARNING_RATE, BATCH_SIZE, N_EPOCHS

# Step 1: read in the data
mnist_folder = 'data/mnist'
utils.download_mnist(mnist_folder)
train, val, test = utils.read_mnist(mnist_folder, flatten=True)
n_test = len(test[1])

# Step 2: datasets and one iterator for both
train_data = tf.data.Dataset.from_tensor_slices(train)
train_data = train_data.shuffle(10000)
train_data = train_data.batch(batch_size)

test_data = tf.data.Dataset.from_tensor_slices(test)
test_data = test_data.batch(batch_size)

iterator = tf.data.Iterator.from_structure(train_data.output_types, train_data.output_shapes)
img, label = iterator.get_next()
train_init = iterator.make_initializer(train_data)
test_init = iterator.make_initializer(test_data)

# Step 3: weights (small random normal) and bias (zeros)
w = tf.get_variable(name='weights', shape=(784, 10), initializer=tf.random_normal_initializer(0, 0.01))
b = tf.get_variable(name='bias', shape=(1, 10), initializer=tf.zeros_initializer())

# Step 4: the logits
logits = tf.matmul(img, w) + b

# Step 5: the loss, mean softmax cross entropy over the batch
entropy = tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=label, name='entropy')
loss = tf.reduce_mean(entropy, name='loss')

# Step 6: the training op
optimizer = tf.train.AdamOptimizer(learning_rate).minimize(loss)

# Step 7: how many predictions of a batch are right
preds = tf.nn.softmax(logits)
correct_preds = tf.equal(tf.argmax(preds, 1), tf.argmax(label, 1))
accuracy = tf.reduce_sum(tf.cast(correct_preds, tf.float32))

writer = tf.summary.FileWriter('./graphs/logreg', tf.get_default_graph())
with tf.Session() as sess:
    start_time = time.time()
    sess.run(tf.global_variables_initializer())

    for i in range(n_epochs):
        sess.run(train_init)
        total_loss = 0
        n_batches = 0
        try:
            while True:
                _, l = sess.run([optimizer, loss])
                total_loss += l
                n_batches += 1
        except tf.errors.OutOfRangeError:
            pass
        print('Average loss epoch {0}: {1}'.format(i, total_loss / n_batches))
    print('Total time: {0} seconds'.format(time.time() - start_time))

    sess.run(test_init)
    total_correct_preds = 0
    try:
        while True:
            accuracy_batch = sess.run(accuracy)
            total_correct_preds += accuracy_batch
    except tf.errors.OutOfRangeError:
        pass
    print('Accuracy {0}'.format(total_correct_preds / n_test))
writer.close()

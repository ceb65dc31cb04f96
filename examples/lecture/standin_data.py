"""Small stand-ins for the lecture's downloads, written where the programs look for them (`data/…`).

    python standin_data.py [DIR]        # writes DIR/data/… (default: the current directory)

The course's programs download MNIST, text8, an image and a tweet corpus; these programs run offline on
generated files of the same formats, small enough for a test:

- data/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte: MNIST's idx files (uncompressed, as the course's
  `download_mnist` leaves them) holding 28x28 "digits" drawn from 10 noisy class templates;
- data/text8.zip: one member, a space-separated corpus whose words come in topics (so word2vec has
  structure to learn) with Zipfian frequencies;
- data/friday.jpg: a 96x128 RGB photograph stand-in (gradients and shapes; a JPEG, as the course's);
- data/trump_tweets.txt: one generated "tweet" per line, in the character-level model's vocabulary.
"""
import os
import struct
import sys
import zipfile

import numpy as np


def mnist_like(n: int, seed: int):
    """`n` 28x28 uint8 images and their int labels: class templates, shifted, plus noise."""
    rng = np.random.RandomState(1234)  # the same 10 templates for train and test
    templates = np.zeros((10, 28, 28), np.float32)
    for k in range(10):
        for _ in range(4):  # four random strokes per class
            r, c = rng.randint(4, 24, 2)
            dr, dc = rng.randint(-1, 2, 2)
            for s in range(10):
                rr, cc = np.clip(r + dr * s, 0, 27), np.clip(c + dc * s, 0, 27)
                templates[k, max(rr - 1, 0):rr + 2, max(cc - 1, 0):cc + 2] = 1.0
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 10, n).astype(np.uint8)
    images = np.empty((n, 28, 28), np.uint8)
    for i, k in enumerate(labels):
        shifted = np.roll(templates[k], rng.randint(-2, 3, 2), axis=(0, 1))
        images[i] = np.round(255 * np.clip(shifted + rng.normal(0, 0.3, (28, 28)), 0, 1))
    return images, labels


def write_idx(folder: str, name: str, images, labels) -> None:
    with open(os.path.join(folder, f"{name}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 2049, len(labels)) + labels.tobytes())
    with open(os.path.join(folder, f"{name}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, len(images), 28, 28) + images.tobytes())


TOPICS = [
    "cat dog horse cow sheep goat pig duck hen mouse rabbit fox wolf bear deer",
    "red green blue yellow black white orange purple brown pink grey violet",
    "one two three four five six seven eight nine ten eleven twelve zero",
    "king queen prince princess castle crown throne royal palace knight lord lady",
    "run walk jump swim climb fly crawl dance skip hop sprint march stroll",
    "apple banana cherry grape lemon mango melon peach pear plum berry lime",
    "car bus train plane boat ship truck bike tram taxi rocket subway",
    "rain snow wind storm cloud sun fog hail frost thunder breeze mist",
]
FILLERS = "the of and a to in is was for on with as by at from".split()


def text8_like(n_words: int, seed: int) -> str:
    rng = np.random.RandomState(seed)
    topics = [t.split() for t in TOPICS]
    words = []
    while len(words) < n_words:
        topic = topics[rng.randint(len(topics))]
        zipf = 1.0 / np.arange(1, len(topic) + 1)
        for _ in range(12):  # a "sentence" stays on one topic
            words.append(FILLERS[rng.randint(len(FILLERS))] if rng.rand() < 0.3 else
                         topic[rng.choice(len(topic), p=zipf / zipf.sum())])
    return " ".join(words[:n_words])


def friday_like(height: int = 96, width: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([255 * x / width, 255 * y / height, 128 + 64 * np.sin(x / 7) * np.cos(y / 5)], -1)
    img[20:60, 30:70] = [250, 240, 30]                              # a yellow square
    img[((y - 60) ** 2 + (x - 95) ** 2) < 20 ** 2] = [20, 40, 200]  # a blue disc
    return np.clip(img, 0, 255).astype(np.uint8)


SUBJECTS = ["We", "The media", "Our country", "Everybody", "The economy", "My team", "They"]
VERBS = ["will be", "is doing", "has never been", "must become", "was never"]
ENDS = ["great again!", "so strong.", "a total disaster.", "winning big!", "fantastic, believe me.",
        "very unfair!", "the best ever. #MAGA"]


def tweets_like(n: int, seed: int) -> str:
    rng = np.random.RandomState(seed)
    return "\n".join(f"{SUBJECTS[rng.randint(len(SUBJECTS))]} {VERBS[rng.randint(len(VERBS))]} "
                     f"{ENDS[rng.randint(len(ENDS))]} {ENDS[rng.randint(len(ENDS))]}" for _ in range(n)) + "\n"


def write_all(root: str = ".", n_train: int = 1200, n_test: int = 400, n_words: int = 60000,
              n_tweets: int = 400, seed: int = 0) -> None:
    """Writes every stand-in under `root/data` (sizes are small: a test runs each program in seconds)."""
    data = os.path.join(root, "data")
    mnist = os.path.join(data, "mnist")
    os.makedirs(mnist, exist_ok=True)
    write_idx(mnist, "train", *mnist_like(n_train, seed))
    write_idx(mnist, "t10k", *mnist_like(n_test, seed + 1))
    with zipfile.ZipFile(os.path.join(data, "text8.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("text8", text8_like(n_words, seed))
    with open(os.path.join(data, "trump_tweets.txt"), "w") as f:
        f.write(tweets_like(n_tweets, seed))
    from PIL import Image  # Pillow (a matplotlib dependency) writes the JPEG
    Image.fromarray(friday_like()).save(os.path.join(data, "friday.jpg"), quality=95)


if __name__ == "__main__":
    write_all(sys.argv[1] if len(sys.argv) > 1 else ".")

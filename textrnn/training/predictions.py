"""A trained model's probabilities over prepared splits: what the choices made on val
after training (the wide path's mixture, a multi-label model's thresholds) start from."""

import numpy as np

from textrnn.training import artifacts


def probabilities(model_dir, paths):
    """[(probabilities, targets)] of the model's best checkpoint over prepared splits, the
    model loaded once: softmax rows and class ids, or for a multi-label model each label's
    sigmoid and 0/1 rows."""
    import tensorflow as tf
    from textrnn.features import data
    model, config, _ = artifacts.load_model(model_dir)
    token_encoder = artifacts.token_encoder(model_dir, config)
    label_encoder = artifacts.label_encoder(model_dir, config)
    squash = tf.nn.sigmoid if label_encoder.multi_label else tf.nn.softmax
    predict = tf.function(lambda ids: squash(tf.cast(model(ids, training=False), tf.float32)),
                          reduce_retracing=True)
    out = []
    for path in paths:
        probs, targets = [], []
        for ids, batch_targets in data.eval_dataset(path, token_encoder, label_encoder, 512):
            probs.append(predict(ids).numpy())
            targets.append(batch_targets.numpy())
        out.append((np.concatenate(probs), np.concatenate(targets)))
    return out

"""TensorFlow runtime settings that make small-network RL fast on a CPU."""

from __future__ import annotations


def configure_threads(threads: int = 1) -> None:
    """Limit TensorFlow's intra- and inter-op thread pools (1 measured 10-40% faster for small nets).

    Must run before TensorFlow executes its first operation; later calls are ignored with no error.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already initialised
        pass

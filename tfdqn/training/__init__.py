"""Training: the Trainer loop, episodes, resume (checkpointed state), a run's assembly and `train()`."""

"""The DQN learner: the agent (act, learn, sync the target), TD and C51 targets, schedules, evaluation."""

"""The Rainbow ablation's configs: each part alone over the environment's base, all of them the preset."""

from benchmarks import rainbow
from tfdqn import config_for_env


def test_ablation_suite_configs_are_valid_and_rainbow_is_the_preset():
    for env_id in rainbow.ENVS:
        configs = {p: config_for_env(env_id, **rainbow.part_fields(p, env_id)) for p in rainbow.PARTS}
        base = configs["defaults"]  # the environment's config (its preset too) with none of Rainbow's parts
        assert base == config_for_env(env_id).replace(**rainbow.RAINBOW_OFF)
        assert (base.n_step, base.dueling, base.prioritized, base.noisy, base.distributional) == (1,) + (False,) * 4
        assert configs["rainbow"] == config_for_env(env_id, "rainbow")
        for part in ("dueling", "n_step", "prioritized", "noisy", "distributional"):  # one part over the base
            changed = {k for k, v in configs[part].to_dict().items() if v != base.to_dict()[k]}
            assert part in changed and changed <= set(rainbow.part_fields(part, env_id))
        assert configs["n_step"].n_step == 3
    # LunarLander's ablation base: the plain defaults its rows in rainbow.md were measured on (fields that do
    # nothing while their part is off aside), but for what its preset got afterwards: the learning-rate schedule
    # (README: "Learning-rate schedules for the final policy") and the layer norm ("LayerNormalization in the hidden
    # layers"), so a rerun of the ablation now measures on that preset
    inert = {f for fields in rainbow.INERT.values() for f in fields}
    lunar_base = config_for_env("LunarLander-v3", **rainbow.part_fields("defaults", "LunarLander-v3")).to_dict()
    plain = config_for_env("LunarLander-v3", None).to_dict()
    assert {k for k, v in lunar_base.items() if k not in inert and v != plain[k]} <= {
        "learning_rate_final",
        "learning_rate_decay_start",
        "learning_rate_decay_steps",
        "layer_norm",
    }

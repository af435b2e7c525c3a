import numpy as np
import pytest

from synthgain.study import (
    DigitsGenerator,
    StudyConfig,
    assign_classes,
    digits_replicate,
    generate_synthetic,
    load_digits_split,
)


@pytest.fixture(scope="module")
def split():
    return load_digits_split(0)


@pytest.fixture(scope="module")
def setting(split):
    cfg = StudyConfig(K=2, J=2, L=3, anchors_per_class=4, per_class=30, noise=0.0)
    classes = assign_classes(cfg, list(range(10)), np.random.default_rng(2))
    xa_all, ya_all = split.take("anchor", classes["anchored"])
    xa, ya = xa_all[::3][:8], ya_all[::3][:8]
    known = classes["task"] + classes["irrelevant"]
    gen = DigitsGenerator().fit(*split.take("pool", known), known, rng=0)
    return cfg, classes, xa, ya, gen


def test_split_is_disjoint_and_proportioned(split):
    sizes = {k: v.shape[0] for k, v in split.x.items()}
    assert sum(sizes.values()) == 1797
    assert sizes["pool"] == pytest.approx(0.45 * 1797, abs=10)
    rows = [tuple(r) for k in split.x for r in split.x[k]]
    from sklearn.datasets import load_digits
    assert len(set(rows)) == len({tuple(r) for r in load_digits().data})  # no row twice
    for part in split.y.values():
        assert set(np.unique(part)) == set(range(10))


def test_irrelevant_classes_appear_in_the_stated_proportion(setting):
    cfg, classes, xa, ya, gen = setting
    syn = generate_synthetic(gen, classes, xa, ya, cfg, rng=1)
    n = cfg.per_class * (cfg.K + cfg.J + cfg.L)
    assert syn.x.shape == (n, 64)
    irrelevant = np.isin(syn.source, classes["irrelevant"])
    assert irrelevant.mean() == pytest.approx(cfg.L / (cfg.K + cfg.J + cfg.L))
    # every row is labelled with a task class; irrelevant rows keep their prompt's label
    assert set(np.unique(syn.labels)) <= set(classes["task"])
    assert np.all(syn.labels[~irrelevant] == syn.source[~irrelevant])


def test_prompts_name_anchors_of_their_own_class_only(setting):
    cfg, classes, xa, ya, gen = setting
    syn = generate_synthetic(gen, classes, xa, ya, cfg, rng=1)
    has = syn.prompt_anchor >= 0
    assert np.all(np.isin(syn.labels[has], classes["anchored"]))
    assert np.all(ya[syn.prompt_anchor[has]] == syn.labels[has])
    assert not np.any(np.isin(syn.labels[~has], classes["anchored"]))


def test_noise_has_the_stated_scale_and_leaves_the_content_unchanged(setting):
    cfg, classes, xa, ya, gen = setting
    from dataclasses import replace

    clean = generate_synthetic(gen, classes, xa, ya, cfg, rng=7)
    noisy = generate_synthetic(gen, classes, xa, ya, replace(cfg, noise=3.0), rng=7)
    np.testing.assert_array_equal(clean.clean, noisy.clean)
    np.testing.assert_array_equal(clean.x, clean.clean)
    eps = (noisy.x - noisy.clean).ravel()
    n = eps.size
    assert abs(eps.mean()) < 4 * 3.0 / np.sqrt(n)
    assert abs(eps.std() - 3.0) < 4 * 3.0 / np.sqrt(2 * n)  # se of a normal sd


def test_generator_samples_match_its_class_mixture(setting):
    _, classes, _, _, gen = setting
    c = classes["unanchored"][0]
    x = gen.sample(c, 4000, np.random.default_rng(0))
    z = gen.encode(x)
    mix = gen.mixtures_[c]
    se = np.sqrt(np.diag(mix.covariance()) / z.shape[0])
    assert np.all(np.abs(z.mean(axis=0) - mix.mean()) < 4.5 * se)


def test_anchor_conditioning_picks_the_anchors_component(setting):
    _, classes, xa, ya, gen = setting
    c = classes["anchored"][0]
    mix = gen.mixtures_[c]
    a = xa[ya == c][:1].repeat(500, axis=0)
    post = mix.predict_proba(gen.encode(a[:1]))[0]
    comp = np.argmax(mix.predict_proba(gen.encode(gen.sample(c, 500, np.random.default_rng(3),
                                                                 a))), axis=1)
    freq = np.bincount(comp, minlength=mix.n_components) / 500
    # components are well separated in 20-d, so the drawn component is recovered
    assert np.all(np.abs(freq - post) < 4 * np.sqrt(post * (1 - post) / 500) + 0.02)


def test_replicate_is_reproducible_and_complete(split):
    cfg = StudyConfig(K=2, J=1, L=1, anchors_per_class=5, per_class=20)
    a = digits_replicate(cfg, split, 11)
    b = digits_replicate(cfg, split, 11)
    assert a == b
    assert np.isfinite(a["gain_both"]) and np.isfinite(a["kl_gap_mixture"])
    assert a["gain_both"] == pytest.approx(a["accuracy_both"] - a["accuracy_anchor"])


def test_seed_int_equals_seed_sequence_for_the_split_and_a_replicate():
    from synthgain.study import StudyConfig, digits_replicate, load_digits_split

    a, b = load_digits_split(rng=3), load_digits_split(rng=np.random.SeedSequence(3))
    assert all(np.array_equal(a.x[p], b.x[p]) for p in a.x)
    cfg = StudyConfig(K=2, J=1, L=1, per_class=15)
    r1 = digits_replicate(cfg, a, 4)
    r2 = digits_replicate(cfg, a, np.random.SeedSequence(4))
    assert r1.keys() == r2.keys()
    assert all(r1[k] == r2[k] or (r1[k] != r1[k] and r2[k] != r2[k]) for k in r1)

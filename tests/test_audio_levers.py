"""The levers for unseen speakers (VTLP, frame shift, mixup, per-utterance normalization, test-time
averaging, ensembles, the Recipe) and the audio path on every available device."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcourse.audio import augment as A
from dlcourse.audio import cache as C
from dlcourse.audio import datasets as D
from dlcourse.audio import features as F
from dlcourse.audio import models as M
from dlcourse.audio.recipe import Recipe, build_model, predict_proba, train_models

SR = 8000
FP = F.FeatureParams()
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + \
    (["mps"] if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() else [])


def _tone(freq: float, seconds: float = 1.0) -> torch.Tensor:
    return torch.sin(2 * math.pi * freq * torch.arange(int(SR * seconds)) / SR) * 0.5


def test_mel_centers_increase_and_match_the_filter_peaks():
    c = A.mel_centers(FP)
    assert c.shape == (FP.n_mels,) and bool((c.diff() > 0).all())
    assert 20 < float(c[0]) < 200 and 3000 < float(c[-1]) < 4000
    # a tone at a band's centre lands in that band (independent check through the real features)
    for b in (5, 20, 33):
        feats = F.log_mel(_tone(float(c[b])), FP)
        assert int(feats.mean(1).argmax()) == b


@pytest.mark.parametrize("alpha", [0.9, 1.1, 1.2])
def test_warp_frequency_moves_a_tone_like_scaling_its_frequency(alpha):
    """VTLP oracle: warping the features of a tone at f puts its peak where the tone at alpha*f has it."""
    c = A.mel_centers(FP)
    for f0 in (600.0, 1200.0):
        x = F.log_mel(_tone(f0), FP)[None, None]
        warped = A.warp_frequency(x, alpha, c)
        assert warped.shape == x.shape and warped.dtype == x.dtype
        want = int(F.log_mel(_tone(f0 * alpha), FP).mean(1).argmax())
        got = int(warped[0, 0].mean(1).argmax())
        assert abs(got - want) <= 1, f"alpha={alpha}, f0={f0}: peak in band {got}, the scaled tone's is {want}"
    torch.testing.assert_close(A.warp_frequency(x, 1.0, c), x)
    with pytest.raises(ValueError, match="alpha"):
        A.warp_frequency(x, 3.0, c)
    with pytest.raises(ValueError, match="centers"):
        A.warp_frequency(x, 1.0, c[:10])


def test_freq_warp_module_only_in_training_and_per_item():
    mod = A.FreqWarp(A.mel_centers(FP), 0.15)
    x = torch.randn(8, 1, 40, 30)
    assert mod.eval()(x) is x
    torch.manual_seed(0)
    y = mod.train()(x)
    assert y.shape == x.shape and not torch.equal(x, y)
    with pytest.raises(ValueError, match="max_warp"):
        A.FreqWarp(A.mel_centers(FP), 0.6)


def test_shift_frames_matches_a_manual_shift_and_fills_with_the_floor():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 1, 3, 10)
    y = A.shift_frames(x, torch.tensor([2, -3]))
    torch.testing.assert_close(y[0, ..., 2:], x[0, ..., :-2])
    torch.testing.assert_close(y[1, ..., :-3], x[1, ..., 3:])
    assert bool((y[0, ..., :2] == x[0].min()).all()) and bool((y[1, ..., -3:] == x[1].min()).all())
    torch.testing.assert_close(A.shift_frames(x, 0), x)
    mod = A.RandomFrameShift(4)
    assert mod.eval()(x) is x and mod.train()(x).shape == x.shape


def test_mixup_targets_are_the_same_mix_as_the_inputs():
    torch.manual_seed(0)
    n, k = 16, 4
    y = torch.arange(n) % k
    x = torch.nn.functional.one_hot(y, k).float()[:, None, :, None].expand(n, 1, k, 3).contiguous()
    xm, ym = A.mixup(x, y, k, 0.4)
    assert xm.shape == x.shape and ym.shape == (n, k) and ym.dtype == torch.float32
    torch.testing.assert_close(ym.sum(1), torch.ones(n))
    torch.testing.assert_close(xm[:, 0, :, 0], ym)             # the inputs were one-hot: mix == target
    assert bool((ym.max(1).values >= 0.5 - 1e-6).all()), "each item keeps the larger share"
    with pytest.raises(ValueError, match="alpha"):
        A.mixup(x, y, k, 0.0)


def test_mixup_generator_decides_the_weights_and_the_pairs():
    """One seeded generator gives the same mix whatever torch's global generator did in between."""
    n, k = 32, 4
    y = torch.arange(n) % k
    x = torch.randn(n, 1, 5, 3, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    a = A.mixup(x, y, k, 0.4, generator=torch.Generator().manual_seed(7))
    torch.manual_seed(123)
    torch.rand(10)
    b = A.mixup(x, y, k, 0.4, generator=torch.Generator().manual_seed(7))
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v)
    c = A.mixup(x, y, k, 0.4, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(a[1], c[1])
    lam = a[1].max(1).values                                       # the larger share of each mix
    assert bool((lam >= 0.5 - 1e-6).all() & (lam <= 1 + 1e-6).all()) and float(lam.std()) > 0


def test_deltas_add_the_time_derivative_as_a_second_channel(tmp_path):
    import torchaudio.functional as AF

    torch.manual_seed(0)
    model = M.AudioCNN(4, 40, channels=(4, 8), deltas=True).eval()
    assert model.features[0][0].in_channels == 2 and model.config["deltas"] is True
    x = torch.randn(3, 1, 40, 20)
    with torch.no_grad():
        z = model.norm(x)
        want = model.classifier(model.features(torch.cat([z, AF.compute_deltas(z)], 1)).mean(3).flatten(1))
        torch.testing.assert_close(model(x), want)
    M.save_model(model, tmp_path / "m", class_names=list("abcd"), features=FP)
    back, _ = M.load_model(tmp_path / "m")
    torch.testing.assert_close(back(x), model(x))
    assert build_model(4, FP, Recipe(deltas=True, channels=(4, 8))).config["deltas"] is True


def test_band_utterance_norm_removes_a_constant_colouring_per_band():
    torch.manual_seed(0)
    model = M.AudioCNN(5, 40, utterance_norm="band").eval()
    x = torch.randn(4, 1, 40, 63)
    tilt = torch.linspace(-3, 3, 40).view(1, 1, 40, 1)            # a microphone's / vocal tract's colouring
    torch.testing.assert_close(model(x + tilt), model(x), atol=1e-4, rtol=1e-4)
    plain = M.AudioCNN(5, 40).eval()
    assert not torch.allclose(plain(x + tilt), plain(x), atol=1e-3)
    clip = M.AudioCNN(5, 40, utterance_norm="clip").eval()
    torch.testing.assert_close(clip(2 * x + 5), clip(x), atol=1e-4, rtol=1e-4)   # gain and offset in log
    with pytest.raises(ValueError, match="utterance_norm"):
        M.AudioCNN(5, 40, utterance_norm="speaker")


def test_peak_level_makes_the_features_independent_of_the_recording_level():
    """FeatureParams.peak_level scales each row to one peak: a quiet and a loud take give the same features."""
    g = torch.Generator().manual_seed(0)
    wave = torch.zeros(2, FP.clip_samples)
    wave[:, 2000:5000] = torch.randn(2, 3000, generator=g) * torch.hann_window(3000)
    quiet_loud = wave * torch.tensor([[0.01], [0.5]])
    fp = F.FeatureParams(peak_level=0.5)
    out = F.log_mel(quiet_loud, fp)
    assert out.shape == (2, *fp.shape)
    torch.testing.assert_close(out[0], F.log_mel(wave[0] * 0.5 / wave[0].abs().max(), FP), atol=1e-4, rtol=1e-4)
    plain = F.log_mel(quiet_loud, FP)
    assert float((plain[1] - plain[0]).abs().max()) > 1.0           # without it the floor contrast differs
    torch.testing.assert_close(F.log_mel(quiet_loud[:1] * 3, fp), out[:1], atol=1e-4, rtol=1e-4)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="peak_level"):
            F.FeatureParams(peak_level=bad)
    with pytest.raises(TypeError, match="peak_level"):
        F.FeatureParams(peak_level="0.5")
    with pytest.raises(TypeError, match="FeatureParams"):
        Recipe(features={"peak_level": 0.5})


def test_log_floor_hides_background_noise_below_it_and_keeps_the_word():
    """A floor of 1e-4 (the recipe's) makes a quiet room and digital silence alike; 1e-6 tells them apart."""
    g = torch.Generator().manual_seed(0)
    word = torch.zeros(FP.clip_samples)
    word[3000:5000] = torch.randn(2000, generator=g) * torch.hann_window(2000)
    word = word * 0.5 / word.abs().max()
    room = word + 1e-3 * torch.randn(FP.clip_samples, generator=g)     # background noise 54 dB below the peak
    low, recipe = F.FeatureParams(peak_level=0.5, log_floor=1e-6), Recipe().features
    assert recipe.log_floor == 1e-4
    for fp, most in ((low, None), (recipe, 0.1)):
        diff = F.log_mel(room, fp) - F.log_mel(word, fp)
        silent, voiced = diff[:, :15].abs().mean(), diff[:, 28:36].abs().mean()   # frames before / in the word
        assert voiced < 0.05, fp.log_floor
        if most is None:
            assert silent > 1.0              # the room noise is a feature
        else:
            assert silent < most             # the room noise is under the floor
    torch.testing.assert_close(F.log_mel(torch.zeros(FP.clip_samples), recipe),
                               torch.full(recipe.shape, math.log(1e-4)))
    for bad in (0.0, -1e-4, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="log_floor"):
            F.FeatureParams(log_floor=bad)


def test_time_pool_max_and_mean_and_save_load(tmp_path):
    """time_pool="max" takes the maximum of the last feature maps over time, "mean" their average; any length works."""
    torch.manual_seed(0)
    x = torch.randn(2, 1, 40, 30) * 3 - 6
    longer = torch.randn(3, 1, 40, 90) * 3 - 6
    mx = M.AudioCNN(10, 40, time_pool="max").eval()
    mean = M.AudioCNN(10, 40, time_pool="mean").eval()
    mean.load_state_dict(mx.state_dict())
    with torch.no_grad():
        h = mx.features(mx.norm(x))                                   # (N, C, bands, frames)
        torch.testing.assert_close(mx(x), mx.classifier(h.amax(dim=3).flatten(1)))
        torch.testing.assert_close(mean(x), mean.classifier(h.mean(dim=3).flatten(1)))
        assert mx(longer).shape == (3, 10)
    M.save_model(mx, tmp_path / "m", class_names=[str(i) for i in range(10)], features=FP)
    back, info = M.load_model(tmp_path / "m")
    assert back.config["time_pool"] == "max" and info["architecture"]["time_pool"] == "max"
    torch.testing.assert_close(back(longer), mx(longer))
    with pytest.raises(ValueError, match="time_pool"):
        M.AudioCNN(10, 40, time_pool="median")
    assert build_model(10, FP, Recipe(time_pool="max")).config["time_pool"] == "max"


def test_recipe_defaults_fit_the_budget_and_reject_bad_fields():
    r = Recipe()
    m = build_model(10, FP, r)
    from dlcourse import training
    assert training.count_parameters(m) * r.ensemble <= 25_000
    # the default length is a number of epochs (its result must not depend on the machine's load)
    assert r.time_budget is None and r.max_epochs >= 1
    assert r.features.peak_level is not None        # the level-independent front end
    for bad in (dict(ensemble=0), dict(variants=-1), dict(tta_warps=()), dict(label_smoothing=1.0),
                dict(weight_decay=-1.0)):
        with pytest.raises(ValueError):
            Recipe(**bad)
    with pytest.raises(TypeError, match="AugmentConfig"):
        Recipe(augment={"p_noise": 0})
    d = r.to_dict()
    assert d["augment"]["p_noise"] == r.augment.p_noise and r.replace(ensemble=2).ensemble == 2


def test_predict_proba_averages_models_and_test_time_variants():
    torch.manual_seed(0)
    a, b = M.AudioCNN(3, 40).eval(), M.AudioCNN(3, 40).eval()
    x = torch.randn(5, 1, 40, 30)
    pa, pb = predict_proba(a, x), predict_proba(b, x)
    assert pa.shape == (5, 3)
    torch.testing.assert_close(pa.sum(1), torch.ones(5))
    torch.testing.assert_close(predict_proba([a, b], x), (pa + pb) / 2)
    c = A.mel_centers(FP)
    want = (torch.softmax(a(A.warp_frequency(x, 0.9, c)), 1) + torch.softmax(a(x), 1)) / 2
    torch.testing.assert_close(predict_proba(a, x, tta_warps=(0.9, 1.0), features=FP), want)
    # batching does not change the result
    torch.testing.assert_close(predict_proba([a, b], x, tta_shifts=(0, 3), batch_size=2),
                               predict_proba([a, b], x, tta_shifts=(0, 3)))


def test_train_models_builds_an_ensemble_with_mixup(tmp_path):
    clips = D.load_generated(tmp_path / "gen", "all", n_speakers=3, takes=2, n_classes=3, seed=0)
    c = C.build_cache(clips, tmp_path / "cache", augment=A.AugmentConfig(), n_variants=1, verbose=False)
    r = Recipe(ensemble=2, max_epochs=2, time_budget=None, mixup_alpha=0.3, max_warp=0.1, frame_shift=3,
               utterance_norm="band", channels=(4, 8), batch_size=8)
    models, hists = train_models(c, r, seed=0)
    assert len(models) == 2 and all(not m.training for m in models) and [len(h) for h in hists] == [2, 2]
    assert "train_loss" in hists[0].last and "train_acc" not in hists[0].last   # mixed items have no label
    assert not torch.equal(models[0].classifier.weight, models[1].classifier.weight)   # own seeds
    again, _ = train_models(c, r, seed=0)
    torch.testing.assert_close(again[0].classifier.weight, models[0].classifier.weight)
    smooth, sh = train_models(c, r.replace(ensemble=1, label_smoothing=0.3), seed=0)
    assert sh[0]["train_loss"][0] != hists[0]["train_loss"][0], "label_smoothing must change the loss"
    with pytest.raises(ValueError, match="label_smoothing"):
        M.fit_within(models[0], [], max_epochs=1, label_smoothing=1.0)


# ---- every device-dependent function on every available device ------------------------------------

@pytest.mark.parametrize("dev", DEVICES)
def test_features_follow_the_input_device(dev):
    wave = torch.stack([_tone(440), _tone(1000)])
    cpu = F.log_mel(wave, FP)
    on = F.log_mel(wave.to(dev), FP)
    assert on.device.type == dev and on.shape == cpu.shape
    torch.testing.assert_close(on.cpu(), cpu, atol=1e-3, rtol=1e-3)
    assert F.stft_db(_tone(440).to(dev)).device.type == dev


@pytest.mark.parametrize("dev", DEVICES)
def test_augmentations_follow_the_input_device(dev):
    wave = torch.stack([_tone(300), 0.3 * _tone(900)]).to(dev)
    g = torch.Generator().manual_seed(0)
    noisy = A.add_noise(wave, torch.tensor([10.0, 20.0]), generator=g)
    assert noisy.device.type == dev
    torch.testing.assert_close(A.snr_db(wave, noisy).cpu(), torch.tensor([10.0, 20.0]), atol=1e-3, rtol=0)
    assert A.add_noise(wave, 5.0).device.type == dev
    for out in (A.time_shift(wave, 100), A.gain(wave, torch.tensor([3.0, -3.0], device=dev)),
                A.speed(wave, SR, 1.1), A.tempo(wave, 1.1), A.telephone(wave, SR), A.reverb(wave, SR, 0.2)):
        assert out.device.type == dev and out.shape == wave.shape
    cpu_v = A.random_variants(wave.cpu(), SR, A.AugmentConfig(), np.random.default_rng(3))
    dev_v = A.random_variants(wave, SR, A.AugmentConfig(), np.random.default_rng(3))
    assert dev_v.device.type == dev
    torch.testing.assert_close(dev_v.cpu(), cpu_v, atol=1e-3, rtol=1e-3)   # same random choices
    feats = F.log_mel(wave, FP)[:, None]
    c = A.mel_centers(FP)
    for mod in (A.FreqWarp(c, 0.1).to(dev), A.RandomFrameShift(3), A.SpecAugment()):
        assert mod.train()(feats).device.type == dev
    assert A.warp_frequency(feats, torch.tensor([0.9, 1.1]), c).device.type == dev
    xm, ym = A.mixup(feats, torch.tensor([0, 1], device=dev), 2)
    assert xm.device.type == dev and ym.device.type == dev


@pytest.mark.parametrize("dev", DEVICES)
def test_cache_builder_and_reader_follow_the_device(dev, tmp_path):
    clips = D.load_generated(tmp_path / "gen", "all", n_speakers=2, takes=1, n_classes=3, seed=0)
    ref = C.build_cache(clips, tmp_path / "cpu", augment=A.AugmentConfig(), n_variants=1, verbose=False)
    on = C.build_cache(clips, tmp_path / dev, augment=A.AugmentConfig(), n_variants=1, verbose=False, device=dev)
    x_ref, y_ref = ref.dataset().arrays(variant=1)
    x, y = on.dataset().arrays(variant=1, device=dev)
    assert x.device.type == dev and y.device.type == dev and x.shape == x_ref.shape
    torch.testing.assert_close(x.cpu(), x_ref, atol=2e-2, rtol=1e-2)   # float16 storage
    torch.testing.assert_close(y.cpu(), y_ref)
    model = build_model(3, FP, Recipe(max_warp=0.1, utterance_norm="band")).to(dev)
    p = predict_proba(model.eval(), x, tta_warps=(0.95, 1.0), tta_shifts=(0, 2), features=FP)
    assert p.device.type == dev and p.shape == (len(x), 3)

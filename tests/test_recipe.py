"""--recipe=auto: choices made from the data by rule, explicit flags winning, early stopping."""

import json

import pytest

from conftest import make_train_commands, run_make_train, ROOT, TINY_MODEL, run_cli
from textrnn.text import vocab
from textrnn.training import recipe


def fake_prepared(path, lengths, classes=2):
    """A textrnn-prepare-shaped folder whose train texts have the given token counts."""
    path.mkdir(parents=True)
    (path / vocab.MANIFEST_FILE).write_text("{}", encoding="utf-8")
    with open(path / "train.txt", "w", encoding="utf-8") as out:
        for i, n in enumerate(lengths):
            out.write(f"c{i % classes}\t{' '.join(['字'] * n)}\n")
    return path


def chosen(data_dir):
    return {c.flag: c.value for c in recipe.choose(str(data_dir))}


def test_short_texts_get_short_sequences_and_long_texts_longer(tmp_path):
    short = chosen(fake_prepared(tmp_path / "short", [10] * 95 + [30] * 5))
    long = chosen(fake_prepared(tmp_path / "long", [300] * 100))
    huge = chosen(fake_prepared(tmp_path / "huge", [5000] * 100))
    assert short["num_timesteps"] == 16
    assert long["num_timesteps"] == 304
    assert huge["num_timesteps"] == 400


def test_tiny_corpus_gets_few_steps_a_narrow_network_and_large_corpus_more(tmp_path):
    tiny = chosen(fake_prepared(tmp_path / "tiny", [20] * 100))
    large = chosen(fake_prepared(tmp_path / "large", [20] * 40_000))
    assert tiny["num_train_steps"] == recipe.MIN_STEPS and tiny["num_embedding_size"] == 64
    assert large["num_train_steps"] == recipe.EPOCHS * 625 and large["num_embedding_size"] == 128
    assert large["early_stopping_evals"] > 0 and large["wide"] is True
    assert large["eval_every_steps"] == large["num_train_steps"] // recipe.EVALS_PER_RUN


def test_wide_ngram_budget_counts_the_texts_the_wide_path_reads(tmp_path, monkeypatch):
    data_dir = fake_prepared(tmp_path / "big", [20] * 40_000, classes=20)
    size_mb = (data_dir / "train.txt").stat().st_size / 2**20
    all_of_it = chosen(data_dir)
    monkeypatch.setattr(recipe, "WIDE_MAX_TRAIN_MB", size_mb / 3.5)  # one line in 4 read
    sampled = chosen(data_dir)
    assert sampled["wide_max_train_mb"] == size_mb / 3.5
    assert all_of_it["wide_max_ngrams"] == recipe.wide_ngrams(40_000, 20) == 310_000
    assert sampled["wide_max_ngrams"] == recipe.wide_ngrams(10_000, 20) == 1_000_000


def test_several_labels_a_text_get_their_own_choices(tmp_path):
    single = chosen(fake_prepared(tmp_path / "single", [20] * 3000))
    several = fake_prepared(tmp_path / "several", [20] * 3000)
    (several / vocab.MANIFEST_FILE).write_text('{"multi_label": true}', encoding="utf-8")
    (several / vocab.CATEGORIES_FILE).write_text("c0\nc1\nc2\n", encoding="utf-8")
    several = chosen(several)
    assert single["keep_prob"] == 0.5 and several["keep_prob"] == 1.0
    assert several["positive_weight"] == "none" and "bucket_by_length" not in several
    same = lambda choices: {flag: value for flag, value in choices.items()
                            if flag not in recipe.MULTI_LABEL and flag != "positive_weight"}
    assert same(several) == same(single)


def test_data_dir_that_is_not_prepared_is_refused(tmp_path):
    from textrnn.util.errors import UserError
    with pytest.raises(UserError, match="not a textrnn-prepare output folder"):
        recipe.choose(str(tmp_path))


def test_auto_recipe_says_why_writes_a_flagfile_and_explicit_flags_win(demo_prepared_char,
                                                                        tmp_path):
    model_dir = tmp_path / "m"
    result = run_cli("train", "--recipe=auto", f"--data_dir={demo_prepared_char}",
                     f"--model_dir={model_dir}", "--num_train_steps=30", "--num_timesteps=24",
                     "--eval_every_steps=15", "--wide=false", "--export=false",
                     "--abstain_target_accuracy=0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "auto recipe: --num_embedding_size=64: 1,500 train texts" in result.stderr
    assert "] calibration: temperature " in result.stderr
    assert "] abstain below confidence " in result.stderr
    assert "auto recipe: --num_timesteps=24 (given explicitly)" in result.stderr
    flagfile = (model_dir / "recipe.flags").read_text(encoding="utf-8")
    assert "--num_timesteps=24\n" in flagfile and "--num_lstm_nodes=64\n" in flagfile
    assert "\n# confidence: abstain below confidence " in flagfile  # what it chose, and why
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["calibration"]["abstain"]["threshold"] <= 1.0
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["train"]
    assert config["num_timesteps"] == 24 and config["num_embedding_size"] == 64
    assert config["warmup_steps"] == 1  # follows the explicit step count
    # the written flagfile repeats the run: same choices, resumable in the same folder
    again = run_cli("train", f"--flagfile={model_dir / 'recipe.flags'}",
                    f"--data_dir={demo_prepared_char}", f"--model_dir={model_dir}",
                    "--export=false")
    assert again.returncode == 0, again.stderr[-3000:]
    again_flagfile = (model_dir / "recipe.flags").read_text(encoding="utf-8")
    assert again_flagfile.count("# confidence: calibration: ") == 1  # replaced, not added


def test_early_stopping_stops_and_keeps_the_best_val_checkpoint(demo_prepared, tmp_path):
    from textrnn.training.config import TrainConfig
    from textrnn.training.loop import train
    # a learning rate too small to change any prediction: val never improves after step 10
    metrics = train(TrainConfig(
        data_dir=str(demo_prepared), model_dir=str(tmp_path / "m"),
        **{**TINY_MODEL, "num_train_steps": 1000, "eval_every_steps": 10,
           "learning_rate": 1e-12, "early_stopping_evals": 2}, export=False))
    assert metrics["global_step"] == 30 and metrics["best_step"] == 10
    best = sorted(p.name for p in (tmp_path / "m" / "best").glob("*.index"))
    assert best == ["ckpt-10.index"], best


def test_make_train_with_data_and_no_flags_runs_the_auto_recipe(tmp_path):
    data = tmp_path / "tiny"
    data.mkdir()
    for split in ("train", "val", "test"):
        lines = (ROOT / "data" / "demo" / f"{split}.txt").read_text(encoding="utf-8").splitlines()
        (data / f"{split}.txt").write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    # without the wide path's in-graph word cut, whose dictionary is most of a short run's
    # export (test_wide.py exports it)
    commands = make_train_commands(f"DATA={data}", f"RUN={run}",
                                   "TRAIN_ARGS=--num_train_steps=20 --nowide_words")
    assert [module for module, _ in commands] == ["prepare", "train"]
    assert "--tokenizer=char" in commands[0][1] and "--recipe=auto" in commands[1][1]
    out, err, code = run_make_train(f"DATA={data}", f"RUN={run}",
                                    "TRAIN_ARGS=--num_train_steps=20 --nowide_words")
    assert code == 0, err[-3000:]
    assert (run / "model" / "recipe.flags").is_file()
    assert (run / "model" / "export" / "saved_model.pb").is_file()
    assert out.strip().splitlines()[-1].startswith("step 20: test accuracy ")


def test_make_train_with_one_file_has_it_split(tmp_path):
    (prepare, args), _ = make_train_commands("DATA=some/reviews.csv",
                                             "PREPARE_ARGS=--encoding=gb18030")
    assert prepare == "prepare" and "--train=some/reviews.csv" in args
    assert not any(a.startswith(("--val=", "--test=")) for a in args)
    assert "--encoding=gb18030" in args and "--out_dir=runs/reviews/prepared" in args


def test_the_wide_paths_ngram_budget_shrinks_with_corpus_size():
    from textrnn.training.recipe import wide_ngrams
    assert wide_ngrams(800, 10) == 1_000_000          # small corpora keep every n-gram
    assert wide_ngrams(50_000, 25) == 200_000         # measured: 6 min 46 s end to end
    assert wide_ngrams(10_000_000, 10) == 100_000     # never below the floor
    assert wide_ngrams(33_456, 10) % 10_000 == 0


def test_with_vectors_the_embedding_is_their_width_and_drops_less(tmp_path):
    data = fake_prepared(tmp_path / "data", [10] * 3000)
    vectors = tmp_path / "v.vec"
    vectors.write_text("2 6\n字 1 2 3 4 5 6\n的 1 2 3 4 5 6\n", encoding="utf-8")
    without = chosen(data)
    with_vectors = {c.flag: c for c in recipe.choose(str(data), vectors_file=str(vectors))}
    assert without["embedding_dropout"] == 0.5
    assert with_vectors["embedding_dropout"].value == recipe.VECTORS_EMBEDDING_DROPOUT < 0.5
    assert "pretrained vectors" in with_vectors["embedding_dropout"].why
    assert with_vectors["num_embedding_size"].value == 6
    assert with_vectors["freeze_embedding_steps"].value == 0
    assert "freeze_embedding_steps" not in without
    # nothing else changes for a user without vectors
    others = set(without) - {"embedding_dropout", "num_embedding_size"}
    assert all(with_vectors[f].value == without[f] for f in others)

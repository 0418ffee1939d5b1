"""Explanations measured: faithful by deletion, fast, and free for prediction.

For each shared corpus, textrnn's default model (peers.py's seed-1 run in
--work_dir, trained when absent) is exported again with and without the
`explain` signature, and a seeded sample of test texts is explained for the
class the model predicts, by:

- textrnn: the SavedModel's `explain` signature (training/attributions.py);
- LIME: lime's LimeTextExplainer, 1,000 samples, calling the same
  `serving_default` on raw text split into the same units (removed units are
  deleted, as the deletion test deletes them), top 5 features;
- leave-one-out occlusion: each unit deleted from the raw text alone, the drop of
  the served probability (a unit at a time: its cost grows with the text);
- random: units in a seeded random order (the mean of 3 orders).

Faithfulness by deletion: the k = 1..5 units of largest attribution (toward the
class) are deleted from the raw text and the served probability of the class
is taken again; AOPC is the mean over k of the drop from the text's probability.
LIME and occlusion run on the first texts of the sample whose units add up to at
most --slow_units (all of them on titles; a few long cnews articles): every
method is also scored on that subset, so their AOPCs compare on the same texts.

Speed, in process: texts explained a second at batch 32 (textrnn; LIME on the
subset), and the cost of an explained text over a predicted one (serving_default
at batch 32 on the same texts; median of --repeats). Also the SavedModel's
size and serving_default's p50 for one text, with and without the signature,
calls alternating between the two.

    python benchmarks/explain.py --work_dir=runs/peers          # peers.py's runs
    python benchmarks/explain.py --corpora=waimai_10k --texts=100
    python benchmarks/explain.py --model_dir=runs/demo/model --raw_dir=data/demo
    python benchmarks/explain.py --quick --model_dir=M --raw_dir=data/demo   # seconds

LIME is an optional peer (`pip install lime`, in the bench extra): without it the
report says so and measures the rest.
"""

import argparse
import os
import random
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import peers  # noqa: E402

TOP_K = 5
LIME_SAMPLES = 1000
RANDOM_ORDERS = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(common.ROOT, "benchmarks", "results",
                                                      "explain.json"))
    parser.add_argument("--corpora", default=",".join(peers.CORPORA))
    parser.add_argument("--work_dir", default=None, help="where peers.py's seed-1 runs are "
                        "(NAME-textrnn-seed1/model), or are trained (default: a temporary "
                        "folder)")
    parser.add_argument("--texts", type=int, default=300, help="test texts a corpus")
    parser.add_argument("--slow_units", type=int, default=40000, help="LIME and occlusion "
                        "explain the first texts of the sample with at most this many units "
                        "in all")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each (median)")
    parser.add_argument("--model_dir", default=None, help="explain this model directory "
                        "instead (with --raw_dir, its corpus folder)")
    parser.add_argument("--raw_dir", default=None, help="the raw corpus folder of --model_dir "
                        "(train.txt, val.txt or dev.txt, test.txt)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 texts, one "
                        "timing, no export without the signature to compare (of --model_dir's "
                        "export, else of a 400-line slice of waimai_10k trained quick)")
    return parser.parse_args(argv)


def model_dir(name, raw_dir, work_dir, quick, given=None):
    """peers.py's seed-1 model of the corpus in work_dir, trained there when absent
    (`given`: that model directory)."""
    if given:
        return given
    run_dir = os.path.join(work_dir, f"{name}-textrnn-seed1")
    model = os.path.join(run_dir, "model")
    if not os.path.isfile(os.path.join(model, "metrics.json")):
        splits = {s: peers.read_split(p) for s, p in common.raw_paths(raw_dir).items()}
        peers.textrnn(raw_dir, sorted(set(splits["train"][1])), 1, run_dir, quick)
    return model


def exports(model, out_dir, quick):
    """(SavedModel with explain, SavedModel without), exported by this code; quick: the
    model's own export and no second one."""
    from textrnn.training.export import export_models
    if quick:
        return os.path.join(model, "export"), None
    return (export_models([model], os.path.join(out_dir, "with")),
            export_models([model], os.path.join(out_dir, "without"), explain=False))


def sample(raw_dir, n):
    texts, _ = peers.read_split(common.raw_paths(raw_dir)["test"])
    rng = random.Random(1)
    return rng.sample(texts, min(n, len(texts)))


def without(text, units):
    """`text` with the characters of `units` (explanations.Unit) deleted."""
    drop = sorted((u.start, u.end) for u in units)
    out, at = [], 0
    for start, end in drop:
        out.append(text[at:start])
        at = end
    return "".join(out) + text[at:]


class Served:
    """The served probability of given classes, through serving_default, in batches."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.calls = 0

    def probabilities(self, texts, batch_size=256):
        rows = []
        for i in range(0, len(texts), batch_size):
            batch = [self.predictor.model_input(t) for t in texts[i:i + batch_size]]
            rows.append(self.predictor.run(batch)["probabilities"])
            self.calls += len(batch)
        return np.concatenate(rows) if rows else np.zeros((0, len(self.predictor.labels)))


def deletion_curve(served, explained, orders):
    """[texts, TOP_K] drops of the explained class's probability when the first k units
    of each text's order are deleted, k = 1..TOP_K (a text with fewer units: all)."""
    variants, owners = [], []
    for i, (e, order) in enumerate(zip(explained, orders)):
        for k in range(1, TOP_K + 1):
            variants.append(without(e.text, order[:k]))
            owners.append(i)
    p = served.probabilities(variants)
    column = [served.predictor.labels.index(e.label) for e in explained]
    drops = np.array([explained[i].probability - p[j, column[i]] for j, i in enumerate(owners)])
    return drops.reshape(len(explained), TOP_K)


def by_attribution(units, scores):
    """Units ordered by score, largest (most toward the class) first."""
    return [units[i] for i in np.argsort(-np.asarray(scores), kind="stable")]


def occlusion_orders(served, explained):
    """Each text's units ordered by the drop of the served probability when deleted alone."""
    variants, spans = [], []
    for e in explained:
        spans.append((len(variants), len(e.units)))
        variants += [without(e.text, [u]) for u in e.units]
    p = served.probabilities(variants)
    orders = []
    for e, (first, n) in zip(explained, spans):
        c = served.predictor.labels.index(e.label)
        orders.append(by_attribution(e.units, e.probability - p[first:first + n, c]))
    return orders


def lime_orders(served, explained):
    """(each text's units ordered by LIME's weights for the class, seconds a text), or
    (None, None) when lime is not installed."""
    try:
        from lime.lime_text import LimeTextExplainer
    except ImportError:
        print("lime is not installed (pip install lime): LIME is not measured",
              file=sys.stderr)
        return None, None
    labels = served.predictor.labels
    orders, started = [], time.perf_counter()
    for e in explained:
        tokens = [u.token for u in e.units]
        explainer = LimeTextExplainer(class_names=labels, split_expression=lambda _: tokens,
                                      bow=False, mask_string="", random_state=1)
        c = labels.index(e.label)
        found = explainer.explain_instance(
            e.text, lambda texts: served.probabilities(list(texts)), labels=(c,),
            num_features=TOP_K, num_samples=LIME_SAMPLES)
        weights = np.full(len(e.units), -np.inf)
        for index, weight in found.as_map()[c]:
            weights[index] = weight
        orders.append(by_attribution(e.units, weights))
    return orders, (time.perf_counter() - started) / max(len(explained), 1)


def random_orders(explained, seed):
    rng = random.Random(seed)
    return [rng.sample(e.units, len(e.units)) for e in explained]


def aopc(curves):
    return round(float(np.mean(curves)), 6) if len(curves) else None


def paired(ours, other):
    """Mean and standard error of the per-text AOPC difference, ours - other."""
    d = np.mean(ours, axis=1) - np.mean(other, axis=1)
    return dict(mean=round(float(d.mean()), 6),
                se=round(float(d.std(ddof=1) / np.sqrt(len(d))), 6) if len(d) > 1 else None)


def timed(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def speed(predictor, texts, repeats):
    """Seconds a text, explained and predicted, at batch 32 (median of `repeats`)."""
    inputs = [predictor.model_input(t) for t in texts]
    predict = lambda: [predictor.run(inputs[i:i + 32]) for i in range(0, len(inputs), 32)]
    explain = lambda: [predictor.run(inputs[i:i + 32], "explain")
                       for i in range(0, len(inputs), 32)]
    predict(), explain()  # traced once before timing
    return timed(explain, repeats) / len(texts), timed(predict, repeats) / len(texts)


def serving_p50(with_dir, without_dir, text, calls=200):
    """serving_default's median seconds for one text, with and without the explain
    signature, calls alternating between the two SavedModels."""
    from textrnn.serving.inference import Predictor
    models = [Predictor(with_dir), Predictor(without_dir)]
    for m in models:
        m.run([text])
    times = [[], []]
    for i in range(2 * calls):
        m = models[i % 2]
        started = time.perf_counter()
        m.run([text])
        times[i % 2].append(time.perf_counter() - started)
    return [round(float(np.median(t)) * 1000, 3) for t in times]


def additivity(explained):
    """How far the attributions' sums are from probability - baseline probability."""
    gaps = [abs(sum(u.attribution for u in e.units) - (e.probability - e.baseline_probability))
            for e in explained if e.units]
    changes = [abs(e.probability - e.baseline_probability) for e in explained if e.units]
    return dict(mean_abs_gap=round(float(np.mean(gaps)), 6),
                mean_abs_change=round(float(np.mean(changes)), 6))


def run_corpus(name, raw_dir, work_dir, args):
    from textrnn.serving.inference import Predictor
    model = model_dir(name, raw_dir, work_dir, args.quick, args.model_dir)
    with_dir, without_dir = exports(model, os.path.join(work_dir, f"{name}-explain"),
                                    args.quick)
    predictor = Predictor(with_dir)
    texts = sample(raw_dir, args.texts)
    explained = list(predictor.explain(texts, batch_size=32))
    served = Served(predictor)
    ours = [by_attribution(e.units, [u.attribution for u in e.units]) for e in explained]
    units = np.cumsum([len(e.units) for e in explained])
    slow = max(1, int(np.searchsorted(units, args.slow_units, side="right")))
    curves = dict(textrnn=deletion_curve(served, explained, ours),
                  random=np.mean([deletion_curve(served, explained, random_orders(explained, s))
                                  for s in range(RANDOM_ORDERS)], axis=0))
    subset = explained[:slow]
    lime, lime_seconds = lime_orders(served, subset)
    slow_curves = dict(occlusion=deletion_curve(served, subset, occlusion_orders(served, subset)))
    if lime is not None:
        slow_curves["lime"] = deletion_curve(served, subset, lime)
    explain_s, predict_s = speed(predictor, texts, args.repeats)
    result = dict(
        texts=len(texts), mean_units=round(float(units[-1] / len(texts)), 1),
        aopc={k: aopc(v) for k, v in curves.items()},
        subset=dict(texts=slow, aopc={**{k: aopc(v[:slow]) for k, v in curves.items()},
                                      **{k: aopc(v) for k, v in slow_curves.items()}},
                    textrnn_minus={k: paired(curves["textrnn"][:slow], v)
                                   for k, v in slow_curves.items()}),
        curves={k: np.round(np.mean(v, axis=0), 6).tolist()
                for k, v in {**curves, **slow_curves}.items()},
        additivity=additivity(explained),
        speed=dict(explain_ms=round(explain_s * 1000, 3), predict_ms=round(predict_s * 1000, 3),
                   explain_over_predict=round(explain_s / predict_s, 2),
                   lime_ms=lime_seconds and round(lime_seconds * 1000, 1),
                   over_lime=lime_seconds and round(lime_seconds / explain_s, 1)),
        saved_model_mb=without_dir and dict(explain=peers.saved_model_mb(with_dir),
                                            without=peers.saved_model_mb(without_dir)),
        serving_p50_ms=without_dir and dict(zip(("explain", "without"), serving_p50(
            with_dir, without_dir, texts[0]))))
    print(f"{name}: AOPC {result['aopc']}, subset {result['subset']}, speed "
          f"{result['speed']}", file=sys.stderr, flush=True)
    return result


def main(argv=None):
    args = parse_args(argv)
    corpora = ["waimai_10k"] if args.quick else args.corpora.split(",")
    if args.quick:
        args.texts, args.repeats = 20, 1
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="textrnn-explain-")
    os.makedirs(work_dir, exist_ok=True)
    report = dict(machine=common.machine_info(), quick=args.quick, top_k=TOP_K,
                  lime_samples=LIME_SAMPLES, command=common.command_line(__file__, argv),
                  corpora={})
    if bool(args.model_dir) != bool(args.raw_dir):
        raise SystemExit("give --model_dir and --raw_dir together")
    given = [(os.path.basename(os.path.abspath(args.raw_dir)), args.raw_dir)] if args.raw_dir \
        else common.shared_corpora(corpora, work_dir, args.quick)
    common.each_corpus(report, given, lambda name, raw_dir: run_corpus(
        name, raw_dir, work_dir, args), args.out)

if __name__ == "__main__":
    main()

"""Render the measured JSON files of benchmarks/results as Markdown tables.

    python benchmarks/report.py [--results benchmarks/results] > tables.md

Only reads numbers; it measures nothing and computes only medians' ratios
that the JSON files already hold. speed.md embeds its output.
"""

import argparse
import os

import speed_tables
from common import fmt, load_if_present as load


RECIPE_NAMES = {
    "original_defective": "textrnn, original recipe (`flags/original.flags --padding=original`: `<UNK>` padding, step 50)",
    "original_fixed": "textrnn, original recipe with the padding fixed (`flags/original.flags`)",
    "thucnews": "textrnn, tuned on jieba words (`flags/thucnews.flags`)",
    "cnews": "textrnn, tuned (`flags/cnews.flags`, 400 jieba tokens)",
    "cnews_200_tokens": "textrnn, `flags/cnews.flags --num_timesteps=200`",
    "thucnews_char": "textrnn, tuned on characters (`flags/thucnews_char.flags`)",
    "thucnews_bigram": "textrnn, tuned on character pairs (`flags/thucnews_bigram.flags`)",
    "thucnews_ensemble": "textrnn ensemble: words + characters + character pairs (the three tuned rows above, one SavedModel)",
    "cnews_ensemble": "textrnn ensemble: 400 + 200 tokens (the two rows above, one SavedModel)",
    "thucnews_word_char": "ablation: the ensemble without its bigram member",
    "thucnews_word_bigram": "ablation: the ensemble without its char member",
    "thucnews_char_bigram": "ablation: the ensemble without its word member",
}
# accuracy.py's corpora in peers.json, whose baselines the accuracy tables show beside textrnn
PEER_CORPORA = {"headlines": "thucnews_titles", "cnews": "cnews"}


def spread(summary, scale=100, digits=2):
    if not summary:
        return "—"
    return (f"{summary['mean'] * scale:.{digits}f} (min {summary['min'] * scale:.{digits}f}, "
            f"max {summary['max'] * scale:.{digits}f}, n={summary['n']})")


def peer_rows(peers, corpus):
    """The baselines peers.py measured on the same corpus: (name, accuracy, F1, seconds)."""
    systems = (((peers or {}).get("corpora") or {}).get(PEER_CORPORA[corpus]) or {}).get(
        "systems", {})
    return [(f"{SYSTEM_NAMES[k]} (`benchmarks/peers.py`)", f"{100 * r['test_accuracy']:.2f}",
             f"{r['macro_f1']:.4f}", f"{r['train_seconds']:,.0f}")
            for k, r in systems.items() if k in ("tfidf_svm", "fasttext")]


def accuracy_tables(a, peers=None):
    """THUCNews and cnews tables from accuracy.json, with peers.json's baselines."""
    out = ["## Accuracy", "",
           f"`{a.get('command', 'python benchmarks/accuracy.py')}`; seeds {a['seeds']}; the "
           "best-validation checkpoint of each run is scored on test. Mean over seeds, with "
           "the range. Baselines' rows: benchmarks/peers.py on the same splits (settings "
           "chosen on dev, mean of its seeds). textrnn's training seconds: the original "
           "recipes and the cnews runs were trained on a machine shared with other jobs (load "
           "6-12), the headline members on a quiet one; an ensemble's is the sum of its "
           "members'. Compare them loosely. An ensemble is scored through its exported "
           "SavedModel; its seed s is the seed-s run of each member. What each "
           "change bought (an ablation on dev), and the exact commands: "
           "[benchmarks/results/accuracy.md](benchmarks/results/accuracy.md).", "",
           "For context only, not comparable: Chinese-Text-Classification-Pytorch's published "
           "table for the same dev/test trained on the full 180,000-line train set (5.4x this "
           "one) with pretrained embeddings: TextRNN 91.12%, TextCNN 91.22%, TextRCNN 91.54%, "
           "FastText 92.23%, Transformer 89.91%, BERT 94.83%.", ""]
    for corpus, title in (("headlines", "THUCNews headlines (train 33,456 / dev 9,984 / test 9,986)"),
                          ("cnews", "cnews full-text sample (train 799 / val 103 / test 98; small: one "
                                    "test document is about one point)")):
        rows = [(k, r) for k, r in [*a["recipes"].items(), *a.get("ensembles", {}).items()]
                if r.get("corpus") == corpus]
        if not rows:
            continue
        out += [f"### {title}", "",
                "| system | test accuracy % | macro-F1 | train seconds | dev (val) accuracy % |",
                "| --- | --- | --- | --- | --- |"]
        out += [f"| {n} | {acc} | {f1} | {t} | – |" for n, acc, f1, t in peer_rows(peers, corpus)]
        for key, recipe in rows:
            summary = recipe["summary"]
            f1 = summary.get("test_macro_f1")
            out.append(f"| **{RECIPE_NAMES.get(key, key)}** | {spread(summary['test_accuracy'])} | "
                       f"{f1['mean']:.4f} | {summary['train_seconds']['mean']:,.0f} | "
                       f"{spread(summary['val_accuracy'])} |")
        out.append("")
    return out


SYSTEM_NAMES = {"textrnn": "textrnn (`make train DATA=...`: auto recipe, wide & deep)",
                "textrnn_vectors": "textrnn with pretrained character vectors (`make train "
                                   "DATA=... VECTORS=...`)",
                "tfidf_svm": "TF-IDF char 1-3-grams + LinearSVC",
                "tfidf_svm_refit": "the same SVM trained again on train + val at its C "
                                   "(reference: what textrnn's refit alone buys)",
                "fasttext": "fastText"}


def peers_table(p):
    """Your data, no tuning: textrnn's default recipe against the simple baselines."""
    seeds = ", ".join(str(s) for s in p["seeds"])
    out = ["## Your data, no tuning: the default recipe against the baselines", "",
           f"`{p['command']}`: on each shared corpus, every system chooses its settings on "
           f"val (dev) and is scored once on test; mean of seeds {seeds} (± population std). "
           "Seconds are each system's whole training (textrnn's includes prepare, the wide "
           "path and export), run one after the other on the same machine: compare them as "
           f"ratios. Machine: {p['machine']['cpu_count']} CPUs, {p['machine']['cpu_model']}.", "",
           "| corpus | system | test accuracy | macro-F1 | train s | SavedModel MB |",
           "| --- | --- | ---: | ---: | ---: | ---: |"]
    margins, refit_margins = [], []
    for name, c in p["corpora"].items():
        systems = c["systems"]
        for system, r in systems.items():
            out.append(f"| {name} ({c['train_lines']:,} train, {c['classes']} classes) | "
                       f"{SYSTEM_NAMES.get(system, system)} | {100 * r['test_accuracy']:.2f}% "
                       f"± {100 * r['test_accuracy_std']:.2f} | {r['macro_f1']:.4f} | "
                       f"{r['train_seconds']:,.0f} | {fmt(r.get('saved_model_mb'), 1)} |")
        if "textrnn" in systems and "tfidf_svm" in systems:
            margins.append(systems["textrnn"]["test_accuracy"] - systems["tfidf_svm"]["test_accuracy"])
        if "textrnn" in systems and "tfidf_svm_refit" in systems:
            refit_margins.append(systems["textrnn"]["test_accuracy"]
                                 - systems["tfidf_svm_refit"]["test_accuracy"])
    if margins:
        out += ["", f"Mean margin of textrnn over TF-IDF + LinearSVC across the {len(margins)} "
                    f"corpora: {100 * sum(margins) / len(margins):+.2f} points."]
    out += _vectors_lines(p["corpora"])
    if refit_margins:
        out += ["", f"Over the same SVM trained again on train + val (the reference row): "
                    f"{100 * sum(refit_margins) / len(refit_margins):+.2f} points."]
    if p.get("notes"):
        out += [""] + [f"- {note}" for note in p["notes"]]
    return out + [""]


def _vectors_lines(corpora):
    """textrnn_vectors against textrnn and the SVM, and the recurrent members alone."""
    pairs = {name: c["systems"] for name, c in corpora.items()
             if {"textrnn", "textrnn_vectors", "tfidf_svm"} <= set(c["systems"])}
    if not pairs:
        return []
    mean = lambda runs: sum(r["recurrent_test_accuracy"] for r in runs) / len(runs)
    out = ["", "With pretrained vectors (`textrnn_vectors`), per corpus: the default "
           "model's test accuracy against textrnn's, and its recurrent member alone "
           "(the model the vectors change) against textrnn's recurrent member:", "",
           "| corpus | textrnn_vectors − textrnn | − TF-IDF + LinearSVC | recurrent member: "
           "with vectors | without | vectors' coverage of val tokens |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    margins = []
    for name, s in pairs.items():
        v, t, svm = s["textrnn_vectors"], s["textrnn"], s["tfidf_svm"]
        margins.append(v["test_accuracy"] - svm["test_accuracy"])
        have = all("recurrent_test_accuracy" in r for r in v["runs"] + t["runs"])
        coverage = [r.get("pretrained", {}).get("val_coverage") for r in v["runs"]]
        out.append(f"| {name} | {100 * (v['test_accuracy'] - t['test_accuracy']):+.2f} | "
                   f"{100 * margins[-1]:+.2f} | "
                   + (f"{100 * mean(v['runs']):.2f}% | {100 * mean(t['runs']):.2f}%"
                      if have else "— | —")
                   + f" | {fmt(100 * coverage[0], 1) + '%' if coverage and coverage[0] else '—'} |")
    out += ["", f"Mean margin of textrnn_vectors over TF-IDF + LinearSVC: "
                f"{100 * sum(margins) / len(margins):+.2f} points."]
    return out


def pretrained_table(r):
    """benchmarks/studies/pretrained.py: how the recurrent member treats the vectors, on val."""
    options = list(r["mean"])
    out = ["## Pretrained vectors: how the embedding trains", "",
           f"`{r['command']}`: the auto recipe's recurrent member alone (`--nowide`), "
           f"seed(s) {', '.join(map(str, r['seeds']))}, with `{r['vectors']}`; val accuracy "
           "(test in brackets). The recipe takes the option with vectors that has the best "
           f"mean val accuracy: **{r['chosen_by_val']}**."
           + (f" {r['note']}." if r.get("note") else ""), "",
           "| corpus | " + " | ".join(options) + " |", "| --- |" + " ---: |" * len(options)]
    for name, runs in r["corpora"].items():
        cells = []
        for option in options:
            done = runs.get(option) or []
            cells.append(" / ".join(f"{100 * x['val_accuracy']:.2f} ({100 * x['test_accuracy']:.2f})"
                                    for x in done) or "—")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("| mean | " + " | ".join(
        f"{100 * r['mean'][o]['val_accuracy']:.2f} ({100 * r['mean'][o]['test_accuracy']:.2f})"
        for o in options) + " |")
    return out + ["", "random: no vectors; train: trained as the rest; thaw: frozen for the "
                  "first third of the steps; slow: a tenth of the learning rate; frozen: "
                  "never updated.", ""]


def wide_vectors_table(r):
    """benchmarks/studies/wide_vectors.py: the vectors as features of the TF-IDF + SVM peer."""
    corpora = r["corpora"]
    alphas = [row["alpha"] for row in next(iter(corpora.values()))["rows"]]
    out = ["## Pretrained vectors in the wide path: TF-IDF + LinearSVC with mean vectors", "",
           f"`{r['command']}`: the TF-IDF + LinearSVC peer, its features extended by the "
           f"L2-normalised mean of the text's `{r['vectors']}` character vectors times alpha; "
           "C chosen on val for each alpha, alpha and C together by val accuracy (ties to the "
           "smaller alpha). Val accuracy, test in brackets; alpha 0 is the peers table's "
           "TF-IDF + LinearSVC row. textrnn's wide path (`--wide_vectors`) chooses the weight "
           "at its own C, keeping it only above alpha 0's val score.", "",
           "| corpus | " + " | ".join(f"alpha {a:g}" for a in alphas)
           + " | chosen on val | test gain |", "| --- |" + " ---: |" * (len(alphas) + 2)]
    for name, result in corpora.items():
        cells = [f"{100 * row['val_accuracy']:.2f} ({100 * row['test_accuracy']:.2f})"
                 for row in result["rows"]]
        chosen, plain = result["chosen"], result["rows"][0]
        gain = 100 * (chosen["test_accuracy"] - plain["test_accuracy"])
        out.append(f"| {name} | " + " | ".join(cells) + f" | alpha {chosen['alpha']:g}, "
                   f"C {chosen['C']:g} | {gain:+.2f} |")
    return out + [""]


def wide_vectors_runs_table(r):
    """benchmarks/studies/wide_vectors_runs.py: the served model with and without the wide
    path's vectors, on the same finished runs."""
    out = ["## Pretrained vectors in the wide path: the served model", "",
           f"`{r['command']}`: finished `make train DATA=... VECTORS=...` runs (the shared "
           "character vectors) trained without the wide path's vectors, and the same runs with "
           "their wide path trained again with them (`--wide_vectors`); test accuracy of the "
           "exported model, mean over the seeds. The wide path's seconds (each run's) were "
           "measured while other runs shared the machine: a rough cost, not a ratio measured "
           "side by side. Machine: "
           f"{r['machine']['cpu_count']} CPUs, {r['machine']['cpu_model']}.", "",
           "| corpus | seeds | without | with vectors | gain | vectors' weight chosen on val | "
           "wide path s (without / with) |", "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for name, c in r["corpora"].items():
        runs = [run for run in r["runs"] if run["corpus"] == name]
        weights = ", ".join(f"{run['with_vectors']['vector_weight']:g}" for run in runs)
        seconds = ", ".join(f"{run['without']['wide_seconds']:.0f} / "
                            f"{run['with_vectors']['wide_seconds']:.0f}" for run in runs)
        out.append(f"| {name} | {', '.join(map(str, c['seeds']))} | {100 * c['without']:.2f}% | "
                   f"{100 * c['with_vectors']:.2f}% | {100 * c['gain']:+.2f} | {weights} | "
                   f"{seconds} |")
    return out + [""]


def vectors_pass_table(v):
    f = v["file"]
    out = ["## Reading a large vectors file", "", f"`{v['command']}`: a word2vec text file of "
           f"{f['rows']:,} rows of {f['dim']} values ({f['mb']:,.0f} MB, {f['characters']:,} "
           "single characters first), read for a run with the wide path's vectors: the "
           f"recurrent model's vocabulary ({v['kept']['vocabulary']:,} rows kept) and every "
           f"single character ({v['kept']['characters']:,}). One pass serves both "
           "(`vectors.load_many`) against a pass for each, in alternating pairs.", "",
           "| pair | two passes s | one pass s | one / two |", "| ---: | ---: | ---: | ---: |"]
    out += [f"| {i} | {p['two_passes_s']} | {p['one_pass_s']} | {p['ratio']:.2f} |"
            for i, p in enumerate(v["pairs"], start=1)]
    return out + ["", f"Median ratio {v['ratio']['median']:.2f}.", ""]


def api_overhead_table(a):
    out = ["## The Python API beside the command line", "",
           f"`{a['command']}`: {a['benchmark']}, on {a['corpus']} with seed {a['seed']} "
           f"({a['machine']['cpu_model']}, {a['machine']['cpu_count']} cores). Each run is a "
           "fresh process timed from start to end; both models are scored on the raw test "
           "text through their SavedModels.", "",
           "| run | command line s | TextClassifier s | command line test accuracy | "
           "TextClassifier test accuracy |", "| ---: | ---: | ---: | ---: | ---: |"]
    for i, (c, p) in enumerate(zip(a["runs"]["command"], a["runs"]["api"]), start=1):
        out.append(f"| {i} | {c['seconds']:.1f} | {p['seconds']:.1f} | "
                   f"{c['test_accuracy']!r} | {p['test_accuracy']!r} |")
    same = "equal to the last digit" if a["same_accuracy"] else "NOT equal"
    return out + ["", f"TextClassifier / command line wall time: {a['api_over_command']:.3f} "
                      f"(means {a['mean_seconds']['api']:.1f} s and "
                      f"{a['mean_seconds']['command']:.1f} s); accuracies {same}.", ""]


def confidence_table(c):
    """benchmarks/confidence.py: calibration, prediction sets and abstaining, mean of seeds."""
    out = ["## Confidence: calibration, prediction sets, abstaining", "",
           f"`{c['command']}` (seeds {', '.join(map(str, c['seeds']))}; "
           f"{c['machine']['cpu_model']}): textrnn's default model (`TextClassifier()`, "
           "scored through its SavedModel on the raw test text) beside TF-IDF + LinearSVC "
           "calibrated by scikit-learn's CalibratedClassifierCV (sigmoid, 5 folds). Sets and "
           "the abstain threshold of both are fitted on val by the same arithmetic "
           "(textrnn.training.calibration); test scores, mean of the seeds. ECE: 15 "
           "equal-width bins. 'any T' is the ECE the best single temperature fitted on test "
           "itself would give textrnn: what calibration on val could reach at best.", "",
           "| corpus | test texts | system | accuracy | ECE | ECE before | ECE any T | "
           "coverage @0.1 (size) | coverage @0.05 (size) | abstain @0.95: answered, "
           "accuracy of the answered |",
           "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    mean = lambda runs, get: sum(get(r) for r in runs) / len(runs)
    for corpus, v in c["corpora"].items():
        for system, runs in v["systems"].items():
            sets = lambda a: (f"{mean(runs, lambda r: r[f'sets_{a}']['coverage']):.4f} "
                              f"({mean(runs, lambda r: r[f'sets_{a}']['mean_set_size']):.2f})")
            answered = [r["abstain"]["answered_accuracy"] for r in runs
                        if r["abstain"]["answered_accuracy"] is not None]
            abstain = f"{mean(runs, lambda r: r['abstain']['answered']):.1%}, " + (
                f"{sum(answered) / len(answered):.4f}" if answered else "none answered")
            if answered and len(answered) < len(runs):
                abstain += f" ({len(answered)} of {len(runs)} seeds answer any)"
            before = (f"{mean(runs, lambda r: r['before']['ece']):.4f}" if "before" in runs[0]
                      else "")
            best = (f"{mean(runs, lambda r: r['ece_best_temperature']):.4f}"
                    if "ece_best_temperature" in runs[0] else "")
            out.append(f"| {corpus} | {v['test_lines']:,} | {system} | "
                       f"{mean(runs, lambda r: r['test_accuracy']):.4f} | "
                       f"{mean(runs, lambda r: r['ece']):.4f} | {before} | {best} | "
                       f"{sets('0.1')} | {sets('0.05')} | {abstain} |")
    notes = c.get("notes", [])
    return out + ([""] + notes if notes else []) + [""]


def refit_calibration_table(r):
    out = ["### Study: the temperature before the refit, or on a held-out half", "",
           f"`{r['command']}`: test ECE (15 bins) of the wide path's stand-in (TF-IDF + "
           "LinearSVC, C=0.3) refit on train + val, its temperature fitted on val with the "
           "model trained on train alone ('before', textrnn's rule) or on half of val with "
           "a model refit on train + the other half ('half', mean of three halves); the best "
           "temperature fitted on test itself for reference.", "",
           "| corpus | test texts | uncalibrated | before | half | best on test |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for corpus, v in r["corpora"].items():
        out.append(f"| {corpus} | {v['test_texts']:,} | {v['uncalibrated']:.4f} | "
                   f"{v['before']:.4f} | {v['slice']:.4f} | {v['best_temperature_on_test']:.4f} |")
    return out + [""]


def memory_table(m):
    out = ["## Memory on large corpora", "", f"`{m['command']}`: peak resident memory. "
           "'largest process' is /usr/bin/time -v's maximum RSS; 'tree' sums the parent and "
           "its tokenizer workers, sampled every 0.2 s. Corpora: thucnews_titles and cnews train "
           "lines repeated, each repetition with its own marker; val and test: thucnews_titles "
           "dev and test.", "",
           "| corpus MB | tokenizer | workers | prepare s | prepare MB (largest process) | "
           "prepare MB (tree) | train steps | train MB |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in m["results"]:
        out.append(f"| {r['corpus_mb']:,.0f} | {r['tokenizer']} | {r['workers']} | "
                   f"{r['prepare_seconds']} | {r['prepare_max_rss_mb']} | "
                   f"{r['prepare_tree_peak_rss_mb']} | {r['train_steps']} | {r['train_tree_peak_rss_mb']} |")
    auto = [r for r in m["results"] if "auto_seconds" in r]
    if auto:
        out += ["", "The default recipe end to end on the prepared corpus (`textrnn-train "
                "--recipe=auto`, as `make train DATA=...` runs it after prepare: the recurrent "
                "path with early stopping, the wide path, export):", "",
                "| corpus MB | train s | peak MB (largest process) | recurrent steps | wide path: "
                "train texts (every k-th line) | wide path s | SavedModel MB | test accuracy |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in auto:
            out.append(f"| {r['corpus_mb']:,.0f} | {r['auto_seconds']:,.0f} | "
                       f"{r['auto_max_rss_mb']:,.0f} | {r['auto_steps']:,} | "
                       f"{r['auto_wide_train_texts']:,} (k={r['auto_wide_every']}) | "
                       f"{r['auto_wide_seconds']:,.0f} | {r['auto_saved_model_mb']} | "
                       f"{r['auto_test_accuracy']:.4f} |")
    notes = m.get("notes", [])
    return out + ([""] + notes if notes else []) + [""]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "results"))
    parser.add_argument("--studies", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "studies", "results"), help="the studies' results (benchmarks/studies/)")
    parser.add_argument("--write", default=None, help="write a whole BENCHMARKS.md here "
                        "(default: print the speed tables only)")
    args = parser.parse_args()
    r = args.results
    lines = speed_tables.speed_lines(r)
    if not args.write:
        print("\n".join(lines))
        return
    page = ["# textrnn benchmarks", "",
            "Regenerated by `make bench` (hours on two CPU cores) from the JSON files in "
            "`benchmarks/results/`; every number below was measured by the script named with "
            "it. Speed is reported as ratios measured side by side in one process: absolute "
            "rates on this shared machine are noise.", ""]
    peers = load(os.path.join(r, "peers.json"))
    if peers:
        page += peers_table(peers)
    import multilabel_tables
    multilabel = load(os.path.join(r, "peers_multilabel.json"))
    if multilabel:
        page += multilabel_tables.peers_table(multilabel)
    thresholds = load(os.path.join(r, "thresholds.json"))
    if thresholds:
        page += multilabel_tables.thresholds_table(thresholds)
    calibration = load(os.path.join(args.studies, "calibration.json"))
    if calibration:
        page += multilabel_tables.calibration_table(calibration)
    pretrained = load(os.path.join(args.studies, "pretrained.json"))
    if pretrained:
        page += pretrained_table(pretrained)
    wide_vectors = load(os.path.join(args.studies, "wide_vectors.json"))
    if wide_vectors:
        page += wide_vectors_table(wide_vectors)
    wide_vectors_runs = load(os.path.join(args.studies, "wide_vectors_runs.json"))
    if wide_vectors_runs:
        page += wide_vectors_runs_table(wide_vectors_runs)
    vectors_pass = load(os.path.join(r, "vectors_pass.json"))
    if vectors_pass:
        page += vectors_pass_table(vectors_pass)
    confidence = load(os.path.join(r, "confidence.json"))
    if confidence:
        page += confidence_table(confidence)
    refit_calibration = load(os.path.join(args.studies, "refit_calibration.json"))
    if refit_calibration:
        page += refit_calibration_table(refit_calibration)
    import trust_tables
    for name, table in (("explain", trust_tables.explain_table),
                        ("audit", trust_tables.audit_table),
                        ("selection", trust_tables.selection_table)):
        found = load(os.path.join(r, f"{name}.json"))
        if found:
            page += table(found)
    api_overhead = load(os.path.join(r, "api_overhead.json"))
    if api_overhead:
        page += api_overhead_table(api_overhead)
    accuracy = load(os.path.join(r, "accuracy.json"))
    if accuracy:
        page += accuracy_tables(accuracy, peers)
    page += ["## Speed", "", "How to read these tables and what each change bought: "
             "[benchmarks/results/speed.md](benchmarks/results/speed.md).", ""] + lines
    memory = load(os.path.join(r, "memory.json"))
    if memory:
        page += memory_table(memory)
    with open(args.write, "w", encoding="utf-8") as out:
        out.write("\n".join(page).rstrip() + "\n")


if __name__ == "__main__":
    main()

"""Render the measured JSON files of benchmarks/results as Markdown tables.

    python benchmarks/report.py [--results benchmarks/results] > tables.md

Only reads numbers; it measures nothing and computes only medians' ratios
that the JSON files already hold. speed.md embeds its output.
"""

import argparse
import json
import os


def load(path):
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def fmt(x, digits=0):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def size_line(sizes):
    return (f"emb {sizes['num_embedding_size']}, {len(sizes['num_lstm_nodes'])}x"
            f"{'bi-' if sizes['bidirectional'] else ''}LSTM {sizes['num_lstm_nodes'][0]}, "
            f"T={sizes['num_timesteps']}, batch {sizes['batch_size']}, fc {sizes['num_fc_nodes']}, "
            f"pooling {sizes['pooling']}, keep_prob {sizes['keep_prob']}"
            + (f", embedding_dropout {sizes['embedding_dropout']}, label_smoothing "
               f"{sizes['label_smoothing']}" if sizes.get("embedding_dropout") else ""))


def training_tables(name, t, source):
    out = [f"#### {name} — {size_line(t['sizes'])}", "",
           f"From `{source}`. {t['batches_per_segment']} identical batches per timed segment "
           f"({t['examples_per_segment']:,} examples); batch widths {t['batches']['batch_width_min']}"
           f"–{t['batches']['batch_width_max']} ({t['batches']['batch_widths_distinct']} distinct), "
           f"mean valid length {t['batches']['mean_valid_length']}, padded fraction "
           f"{t['batches']['padded_fraction']}. Load average per round: "
           + ", ".join(str(l[0]) for l in t["load_average_per_round"]) + ".", "",
           "| contender | median ex/s | min | max | warm-up s (one segment, incl. compiles) |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for k, v in t["examples_per_second"].items():
        out.append(f"| {k} | {fmt(v['median'])} | {fmt(v['min'])} | {fmt(v['max'])} | "
                   f"{t['warmup_seconds'].get(k, '—')} |")
    out += ["", "| ratio (per round) | median | min | max |", "| --- | ---: | ---: | ---: |"]
    for k, v in t["ratios"].items():
        out.append(f"| {k} | {v['median']:.2f} | {v['min']:.2f} | {v['max']:.2f} |")
    return out + [""]


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


def prepare_targets(result):
    """The preparation targets: the default worker count never slower than one
    worker, and two workers >= 1.8x at >= 100 MB."""
    from textrnn.prepare import PARALLEL_MIN_MB
    measured = [(c["bytes"], c["scaling_2_over_1_workers"]["median"])
                for c in result["corpora"].values() if "scaling_2_over_1_workers" in c]
    above = [ratio for size, ratio in measured if size >= PARALLEL_MIN_MB * 2**20]
    large = [ratio for size, ratio in measured if size >= 100e6]
    text = (f"The default (`--num_workers=0`) runs one process below {PARALLEL_MIN_MB} MB of "
            "input, so there it is one worker's speed; above it, two workers measured "
            + (f"{min(above):.2f}x or more." if above else "nothing (no corpus that large)."))
    if large:
        verdict = "met" if min(large) >= 1.8 else "not met"
        text += f" At 100 MB or more: {min(large):.2f}x (target 1.8x: {verdict})."
    return text


def serving_table(files):
    """One row per serving*.json: raw text in, segmentation's share, long texts."""
    lines = ["## Serving, raw text in", "",
             "`benchmarks/serving.py` (`make bench-serving`), in-process "
             "`tf.saved_model.load(E).signatures[...]` after warm-up, 2 threads. "
             "*serve*: `serving_default`; *tokenize*: the `tokenize` signature, i.e. the "
             "in-graph segmentation alone; *share*: tokenize time / serve time (single text "
             "p50; batch). Multiply-adds per text: the recurrent members at the texts' mean "
             "token count (embedding lookups free). CLI: `textrnn-predict` on one text, a "
             "new process each time.", "",
             "| model | input | texts (mean chars) | multiply-adds / text | serve p50 / p99 ms | "
             "serve batch-256 texts/s | tokenize p50 ms | tokenize batch-256 texts/s | "
             "share single / batch | long texts: serve / tokenize texts/s (batch 16), share | "
             "CLI s |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for sv in files:
        if "tokenize_single_text_latency" not in sv:
            continue
        s1, t1 = sv["single_text_latency"], sv["tokenize_single_text_latency"]
        b = sv["batch_256_throughput"]["texts_per_second"]["median"]
        tb = sv["tokenize_batch_256_throughput"]["texts_per_second"]["median"]
        share = sv["segmentation_share"]
        long = sv.get("long_texts")
        long_cell = "—"
        if long:
            long_cell = (f"{fmt(long['batch_16_throughput']['texts_per_second']['median'])} / "
                         f"{fmt(long['tokenize_batch_16_throughput']['texts_per_second']['median'])}"
                         f" ({long['mean_chars_raw']:.0f} chars), "
                         f"{long['segmentation_share']['batch']:.2f}")
        cli = sv.get("cli_end_to_end") or {}
        cli_cell = f"{cli['seconds']['median']:.2f}" if cli else "—"
        macs = sv.get("multiply_adds_per_text")
        lines.append(
            f"| {sv.get('title', '?')} | {sv.get('input', '?')} | "
            f"{sv['texts']['source']} ({sv['texts']['mean_chars_raw']:.0f}) | "
            f"{fmt(macs) if macs else '—'} | {s1['p50_ms']} / {s1['p99_ms']} | {fmt(b)} | "
            f"{t1['p50_ms']} | {fmt(tb)} | {share['single_text_p50']:.2f} / {share['batch']:.2f} "
            f"| {long_cell} | {cli_cell} |")
    original = next((sv for sv in files if "original" in sv.get("title", "")
                     and "segmentation_share" in sv), None)
    if original:
        share = original["segmentation_share"]
        rate = original["batch_256_throughput"]["texts_per_second"]["median"]
        p50 = original["single_text_latency"]["p50_ms"]
        cli = (original.get("cli_end_to_end") or {}).get("seconds", {}).get("median")
        lines += ["", "Against the targets for the original-size word model, raw text in: batch "
                  f"256 {fmt(rate)} texts/s (target 20,000: {'met' if rate >= 20000 else 'not met'}); "
                  f"single-text p50 {p50} ms (target 2 ms: {'met' if p50 <= 2 else 'not met'}); "
                  f"segmentation's share {share['batch']:.2f} of batch time and "
                  f"{share['single_text_p50']:.2f} of single-text time (target 0.25: "
                  f"{'met' if max(share.values()) <= 0.25 else 'not met'}); `textrnn-predict` "
                  f"end to end {cli:.2f} s (target 1.5 s: "
                  f"{'met' if cli and cli <= 1.5 else 'not met'}; `import tensorflow` alone "
                  "takes about 3 s on this machine). The word models and the ensemble were "
                  "trained for 50 steps only: their speed does not depend on their weights. "
                  "The default recipe's model is trained in full, as `make train DATA=...` "
                  "trains it, because its graph depends on training: a path whose mixture "
                  "weight val sets to 0 is left out. Its *tokenize* columns are its recurrent "
                  "member's characters; the wide path's in-graph jieba cut (its word "
                  "features) counts in *serve*."]
    lines.append("")
    return lines


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
           "ratios.", "",
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
    """benchmarks/pretrained.py: how the recurrent member treats the vectors, on val."""
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


def serving_http_table(files):
    """One block per serving_http*.json: the service under load beside the in-process rate."""
    lines = ["## Serving over HTTP: `textrnn-serve`", "",
             "`benchmarks/serving_http.py` (`make bench-serving-http`): `textrnn-serve "
             "--saved_model=E` on loopback, 1, 8 and 32 closed-loop clients (each sends its "
             "next request when it has its answer, keep-alive) with one-text and 64-text "
             "`:predict` requests, beside the same SavedModel's in-process signature measured "
             "in the same run (2 threads, batches of 256). The clients run on the same two "
             "cores as the service. *share*: texts/s over the in-process batch-256 rate.", ""]
    for h in files:
        ref = h["in_process"]
        rate = ref["batch_256_texts_per_second"]
        service = h["service"]
        lines += [f"**{h['title']}** — in process: single text p50 "
                  f"{ref['single_text_p50_ms']} ms, batch 256 {fmt(rate)} texts/s; the service "
                  f"started in {service['start_up_seconds']} s and held "
                  f"{fmt(service['resident_mb'])} MB resident ({fmt(service['peak_resident_mb'])} "
                  f"MB at its peak).", "",
                  "| clients | texts / request | requests/s | texts/s | share | p50 ms | p99 ms "
                  "| errors |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for run in h["runs"]:
            lines.append(f"| {run['clients']} | {run['texts_per_request']} | "
                         f"{fmt(run['requests_per_second'])} | {fmt(run['texts_per_second'])} | "
                         f"{run['texts_per_second'] / rate:.2f} | {run['p50_ms']} | "
                         f"{run['p99_ms']} | {run['errors']} |")
        by = {(r["clients"], r["texts_per_request"]): r for r in h["runs"]}
        lone, crowd = by[(1, 1)], by[(32, 1)]
        lines += ["", f"A lone one-text request costs {lone['p50_ms'] - ref['single_text_p50_ms']:.1f} "
                  "ms over the in-process call at p50 (HTTP, JSON, the hop to the model thread); "
                  f"32 concurrent one-text clients share batched calls and reach "
                  f"{crowd['texts_per_second'] / lone['texts_per_second']:.1f}x one client's "
                  "rate. " + "Targets: " + "; ".join(
            f"{name}: {t['measured']} ({'met' if t['met'] else 'not met'})"
            for name, t in h["targets"].items()) + ".", ""]
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "results"))
    parser.add_argument("--write", default=None, help="write a whole BENCHMARKS.md here "
                        "(default: print the speed tables only)")
    args = parser.parse_args()
    r = args.results
    lines = []
    speeds = [(f, load(os.path.join(r, f))) for f in ("speed.json",)]
    speeds = [(f, s) for f, s in speeds if s]
    if speeds:
        m = speeds[0][1]["machine"]
        lines += ["### Machine", "",
                  f"{m['cpu_count']} CPUs ({m['cpu_model']}), Python {m['python']}, TensorFlow "
                  f"{m.get('tensorflow')}, Keras {m.get('keras')}, torch {m.get('torch')}; "
                  f"TF intra/inter-op {m['tf_intra_op']}/{m['tf_inter_op']}, torch threads "
                  f"{m['torch_threads']}/{m['torch_interop_threads']}, OMP_WAIT_POLICY "
                  f"{m.get('omp_wait_policy')}. Load average at start of each file: "
                  + "; ".join(f"{f}: {s['machine']['load_average_at_start']}" for f, s in speeds),
                  ""]
        lines += ["### Training: textrnn Trainer vs PyTorch on identical batches", ""]
        for f, s in speeds:
            for name, t in s.get("training", {}).items():
                lines += training_tables(name, t, f)
        for f, s in speeds:
            for name, a in (s.get("ablations") or {}).items():
                lines += [f"### Ablations ({name} sizes, from `{f}`)", "",
                          f"{a['batches_per_segment']} identical batches per segment; load "
                          "average per round: " + ", ".join(
                              str(l[0]) for l in a["load_average_per_round"]) + ".", "",
                          "| variant | median ex/s | min | max | warm-up s |",
                          "| --- | ---: | ---: | ---: | ---: |"]
                for k, v in a["examples_per_second"].items():
                    lines.append(f"| {k} | {fmt(v['median'])} | {fmt(v['min'])} | "
                                 f"{fmt(v['max'])} | {a['warmup_seconds'].get(k, '—')} |")
                lines += ["", "| ratio (per round) | median | min | max |",
                          "| --- | ---: | ---: | ---: |"]
                for k, v in a["ratios"].items():
                    lines.append(f"| {k} | {v['median']:.2f} | {v['min']:.2f} | {v['max']:.2f} |")
                lines.append("")
            if s.get("pipeline"):
                lines += [f"### Input pipeline alone (`textrnn.features.data.train_dataset`, from `{f}`)", "",
                          "| size set | cache | batch | median ex/s | min | max |",
                          "| --- | --- | ---: | ---: | ---: | ---: |"]
                for k, v in s["pipeline"].items():
                    e = v["examples_per_second"]
                    lines.append(f"| {k.replace('_cache', '')} | {'yes' if k.endswith('_cache') else 'no'} "
                                 f"| {v['batch_size']} | {fmt(e['median'])} | {fmt(e['min'])} | "
                                 f"{fmt(e['max'])} |")
                lines.append("")
            if isinstance(s.get("onednn"), dict):
                lines += [f"### oneDNN (child processes, original sizes, from `{f}`)", "",
                          "| TF_ENABLE_ONEDNN_OPTS | textrnn ex/s | torch_padded ex/s | ratio |",
                          "| --- | ---: | ---: | ---: |"]
                for run in s["onednn"]["runs"]:
                    lines.append(f"| {run['env']['TF_ENABLE_ONEDNN_OPTS']} | "
                                 f"{fmt(run['textrnn']['median'])} | "
                                 f"{fmt(run['torch_padded']['median'])} | "
                                 f"{run['ratio']['median']:.2f} |")
                lines.append("")
            if isinstance(s.get("omp_wait_policy"), dict):
                lines += [f"### PyTorch OMP_WAIT_POLICY (child processes, original sizes, "
                          f"from `{f}`)", "",
                          "| OMP_WAIT_POLICY | textrnn ex/s | torch_padded ex/s | ratio |",
                          "| --- | ---: | ---: | ---: |"]
                for run in s["omp_wait_policy"]["runs"]:
                    lines.append(f"| {run['env']['OMP_WAIT_POLICY'] or 'unset (libgomp default)'} | "
                                 f"{fmt(run['textrnn']['median'])} | "
                                 f"{fmt(run['torch_padded']['median'])} | "
                                 f"{run['ratio']['median']:.2f} |")
                lines.append("")
    p = load(os.path.join(r, "prepare_speed.json"))
    if p:
        lines += ["### Preparation (`textrnn.prepare.prepare`, jieba, train+val+test)", "",
                  f"Load average at start {p['machine']['load_average_at_start']}, at end "
                  f"{p['machine'].get('load_average_at_end')}.", "",
                  "| corpus | MB | lines | workers | median s | MB/s (median) | lines/s (median) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, c in p["corpora"].items():
            if "skipped" in c:
                lines.append(f"| {name} | skipped: {c['skipped']} | | | | | |")
                continue
            for w, run in c["runs"].items():
                lines.append(f"| {name} | {c['bytes'] / 1e6:.2f} | {c['lines']:,} | "
                             f"{w.split('_')[0]} | {run['seconds']['median']:.2f} | "
                             f"{run['mb_per_second']['median']:.3f} | "
                             f"{fmt(run['lines_per_second']['median'])} |")
        lines += ["", "| corpus | speed-up 2 workers / 1 worker (per pair) median | min | max |",
                  "| --- | ---: | ---: | ---: |"]
        for name, c in p["corpora"].items():
            sc = c.get("scaling_2_over_1_workers")
            if sc:
                lines.append(f"| {name} | {sc['median']:.2f} | {sc['min']:.2f} | {sc['max']:.2f} |")
        lines += ["", prepare_targets(p), ""]
    lines += serving_table([load(os.path.join(r, name)) for name in sorted(os.listdir(r))
                            if name.startswith("serving") and name.endswith(".json")])
    http = [load(os.path.join(r, name)) for name in sorted(os.listdir(r))
            if name.startswith("serving_http") and name.endswith(".json")]
    if http:
        lines += serving_http_table(http)
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
    calibration = load(os.path.join(r, "calibration.json"))
    if calibration:
        page += multilabel_tables.calibration_table(calibration)
    pretrained = load(os.path.join(r, "pretrained.json"))
    if pretrained:
        page += pretrained_table(pretrained)
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

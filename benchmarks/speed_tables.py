"""BENCHMARKS.md's speed tables (report.py renders the page): speed.json,
prepare_speed.json, serving*.json and serving_http*.json."""

import os

from common import fmt, load_if_present as load


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


def prepare_targets(result):
    """The preparation targets: the default worker count never slower than one
    worker, and two workers >= 1.8x at >= 100 MB."""
    from textrnn.text.prepare import PARALLEL_MIN_MB
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


def speed_lines(results_dir):
    """The Speed section's tables: training against PyTorch, the input pipeline,
    preparation and serving, from the JSON files of `results_dir`."""
    r = results_dir
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
    return lines

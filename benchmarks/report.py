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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "results"))
    args = parser.parse_args()
    r = args.results
    lines = []
    speeds = [(f, load(os.path.join(r, f))) for f in ("speed.json", "speed_part2.json")]
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
                lines += [f"### Input pipeline alone (`textrnn.data.train_dataset`, from `{f}`)", "",
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
        lines.append("")
    sv = load(os.path.join(r, "serving.json"))
    if sv:
        s1, b = sv["single_text_latency"], sv["batch_256_throughput"]["texts_per_second"]
        lines += ["### Serving (SavedModel of a flags/demo.flags model, jieba, demo test texts)", "",
                  f"Load average at start {sv['machine']['load_average_at_start']}, at end "
                  f"{sv['machine'].get('load_average_at_end')}. SavedModel load "
                  f"{sv['load_seconds']} s, first call {sv['first_call_ms']:.0f} ms.", "",
                  "| measurement | n | p50 ms | p90 ms | p99 ms | mean ms |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |",
                  f"| signature, one segmented text | {s1['n']} | {s1['p50_ms']} | {s1['p90_ms']} | "
                  f"{s1['p99_ms']} | {s1['mean_ms']} |"]
        pr = sv.get("predictor_single_raw_text_latency")
        if pr:
            lines.append(f"| Predictor, one raw text (jieba included) | {pr['n']} | {pr['p50_ms']} | "
                         f"{pr['p90_ms']} | {pr['p99_ms']} | {pr['mean_ms']} |")
        lines += ["", f"Batch 256 through the signature: median {fmt(b['median'])} texts/s "
                      f"(min {fmt(b['min'])}, max {fmt(b['max'])}, {b['n']} reps)."]
        cli = sv.get("cli_end_to_end")
        if isinstance(cli, dict):
            c = cli["seconds"]
            lines.append(f"`{cli['command']}` end to end (new process each time): median "
                         f"{c['median']:.2f} s (min {c['min']:.2f}, max {c['max']:.2f}, n {c['n']}).")
        elif cli:
            lines.append(f"CLI: {cli}")
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

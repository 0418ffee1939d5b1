"""BENCHMARKS.md's multi-label tables (report.py renders the page): peers_multilabel.json
and thresholds.json."""

SYSTEM_NAMES = {"textrnn": "textrnn (`make train DATA=... MULTI_LABEL=1`)",
                "tfidf_svm": "TF-IDF + one-vs-rest LinearSVC",
                "tfidf_svm_top": "TF-IDF + one-vs-rest LinearSVC, top label when none",
                "fasttext": "fastText `-loss ova`"}


def peers_table(p):
    """textrnn's multi-label default against the baselines."""
    corpus = next(k for k in p if k not in ("machine", "seeds", "quick", "command"))
    c = p[corpus]
    seeds = ", ".join(str(s) for s in p["seeds"])
    out = ["## Several labels a text: the default recipe against the baselines", "",
           f"`{p['command']}`: on {corpus} ({c['train_lines']:,} train sentences, "
           f"{c['labels']} labels, 45% of texts with two or more) every system makes its "
           "choices on dev and is scored once on test; mean of seeds "
           f"{seeds}. Macro-F1 is over the labels with a positive in test. Seconds are each "
           "system's whole training (textrnn's includes prepare, the wide path, the "
           "thresholds and export), one after the other on the same machine.", "",
           "| system | micro-F1 | macro-F1 | exact match | train s |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for system, r in c["systems"].items():
        out.append(f"| {SYSTEM_NAMES.get(system, system)} | {r['micro_f1']:.4f} | "
                   f"{r['macro_f1']:.4f} | {r['exact_match']:.4f} | "
                   f"{r['train_seconds']:,.0f} |")
    systems = c["systems"]
    peers = [s for s in systems if s != "textrnn"]
    if "textrnn" in systems and peers:
        t = systems["textrnn"]
        best = {m: max(systems[s][m] for s in peers) for m in ("micro_f1", "macro_f1")}
        out += ["", f"textrnn against the best peer: micro-F1 "
                    f"{t['micro_f1'] - best['micro_f1']:+.4f}, macro-F1 "
                    f"{t['macro_f1'] - best['macro_f1']:+.4f}; its longest run took "
                    f"{max(r['train_seconds'] for r in t['runs']):,.0f} s."]
    return out + [""]


def thresholds_table(r):
    """Where per-label thresholds start to carry (benchmarks/thresholds.py)."""
    out = ["## Several labels a text: per-label thresholds and the val positives they need",
           "", f"`{r['command']}`: the recurrent models' probabilities on val and test "
           "(the served mixture's wide path has seen val in its refit); "
           "per-label thresholds fitted on val for the labels with at least m val positives "
           "(the others at the global threshold), scored on test; mean over the models. "
           "`rule` is what training chose (training/multilabel.py).", "",
           "| thresholds | test micro-F1 | test macro-F1 |", "| --- | ---: | ---: |"]
    for name, scores in r["mean_test"].items():
        label = name.replace("per_label_min_", "per label, m = ").replace("_", " ")
        out.append(f"| {label} | {scores['micro_f1']:.4f} | {scores['macro_f1']:.4f} |")
    return out + [""]

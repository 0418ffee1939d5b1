"""BENCHMARKS.md's multi-label tables (report.py renders the page): peers_multilabel.json,
thresholds.json and calibration.json."""

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
           "thresholds and export), one after the other on the same machine "
           f"({p['machine']['cpu_count']} CPUs, {p['machine']['cpu_model']}).", "",
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
        longest = max(r["train_seconds"] for r in t["runs"])
        out += ["", f"textrnn against the best peer: micro-F1 "
                    f"{t['micro_f1'] - best['micro_f1']:+.4f}, macro-F1 "
                    f"{t['macro_f1'] - best['macro_f1']:+.4f}; its longest run took "
                    f"{longest:,.0f} s (target: under 300 s, "
                    f"{'met' if longest < 300 else 'not met'})."]
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


def calibration_table(r):
    """One temperature for all labels of the wide path, or one a label
    (benchmarks/studies/calibration.py)."""
    out = ["## Several labels a text: one temperature for the wide path, or one a label", "",
           f"`{r['command']}`: each run's wide classifier solved again on train at its C "
           "(the served one has seen val in its refit); its sigmoid at the shared "
           "temperature, or at each label's own (fitted on val by that label's log-loss, "
           "for the labels with at least m val positives); then the mixture weight and the "
           "thresholds chosen on val as training chooses them, scored on test; mean over "
           "the runs. textrnn keeps the shared temperature.", "",
           "| temperature | wide val log-loss | wide test log-loss | val micro-F1 | "
           "test micro-F1 | test macro-F1 | test exact match |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in r["mean"].items():
        label = name.replace("per_label_min_", "one a label, m = ")
        out.append(f"| {label} | {m['wide_val_log_loss']:.4f} | {m['wide_test_log_loss']:.4f} "
                   f"| {m['val_micro_f1']:.4f} | {m['test_micro_f1']:.4f} | "
                   f"{m['test_macro_f1']:.4f} | {m['test_exact_match']:.4f} |")
    val = [m["val_micro_f1"] for m in r["mean"].values()]
    losses = {k: (m["wide_val_log_loss"], m["wide_test_log_loss"]) for k, m in r["mean"].items()}
    shared = losses.pop("shared")
    out += ["", f"The served model's val micro-F1, what training chooses by, spans "
                f"{min(val):.4f}-{max(val):.4f} over the variants; per-label temperatures "
                f"lower the val log-loss they are fitted to ({shared[0]:.4f} shared, "
                f"{min(v for v, _ in losses.values()):.4f} at best) and leave test's within "
                f"{max(abs(t - shared[1]) for _, t in losses.values()):.4f} of the shared "
                "one's."]
    return out + [""]

"""BENCHMARKS.md's tables of the benchmarks of trust and data: explanations (explain.py),
the audit (audit.py), what to label next (selection.py)."""


def _with_notes(lines, report):
    """A table's lines, then the report's notes, then a blank line."""
    notes = report.get("notes", [])
    return lines + ([""] + notes if notes else []) + [""]


def _aopc_cell(aopc, name):
    value = aopc.get(name)
    return "" if value is None else f"{value:.4f}"


def explain_table(e):
    """benchmarks/explain.py: faithfulness by deletion, speed, and what it costs prediction."""
    out = ["## Explanations: faithful by deletion, fast", "",
           f"`{e['command']}` ({e['machine']['cpu_model']}): the default model of each corpus "
           "(peers.py's seed-1 run) explains the class it predicts for a seeded sample of test "
           f"texts. AOPC: the mean drop of that class's served probability when the top k = "
           f"1..{e['top_k']} units are deleted from the raw text (higher: more faithful). LIME "
           f"({e['lime_samples']:,} samples on the same units) and leave-one-out occlusion of "
           "the served model run on the first texts of the sample with at most --slow_units "
           "units in all ('LIME texts'); textrnn and random are also scored on those texts, "
           "and 'textrnn - LIME' is the paired difference there (± its standard error). "
           "Speed in process at batch 32: an explained text's cost over a predicted one's, "
           "and LIME's time a text over textrnn's.", "",
           "| corpus | texts (units a text) | AOPC textrnn | random | LIME texts | textrnn | "
           "LIME | occlusion | random | textrnn - LIME | explain / predict | LIME / textrnn "
           "| sum of attributions vs p - baseline |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
           "| ---: |"]
    for corpus, r in e["corpora"].items():
        sub, speed, add = r["subset"], r["speed"], r["additivity"]
        lime = sub.get("textrnn_minus", {}).get("lime")
        diff = f"{lime['mean']:+.4f} ± {lime['se']:.4f}" if lime and lime["se"] else ""
        over_lime = f"{speed['over_lime']:,.0f}×" if speed.get("over_lime") else ""
        out.append(
            f"| {corpus} | {r['texts']} ({r['mean_units']:g}) | {r['aopc']['textrnn']:.4f} | "
            f"{r['aopc']['random']:.4f} | {sub['texts']} | "
            f"{_aopc_cell(sub['aopc'], 'textrnn')} | {_aopc_cell(sub['aopc'], 'lime')} | "
            f"{_aopc_cell(sub['aopc'], 'occlusion')} | {_aopc_cell(sub['aopc'], 'random')} | "
            f"{diff} | {speed['explain_over_predict']:.1f}× | {over_lime} | "
            f"{add['mean_abs_gap']:.3f} off a change of {add['mean_abs_change']:.3f} |")
    out += ["", "What the signature costs prediction: the SavedModel's size and "
            "serving_default's p50 for one text (in process, calls alternating between the "
            "two), with the explain signature and without:", "",
            "| corpus | SavedModel MB with / without | p50 ms with / without |",
            "| --- | ---: | ---: |"]
    for corpus, r in e["corpora"].items():
        size, p50 = r["saved_model_mb"], r["serving_p50_ms"]
        if not size:  # a --quick run compares no second export
            continue
        out.append(f"| {corpus} | {size['explain']} / {size['without']} | "
                   f"{p50['explain']} / {p50['without']} |")
    return _with_notes(out, e)


def audit_table(a):
    """benchmarks/audit.py: planted wrong labels and copies found."""
    out = ["## The audit: planted wrong labels and copies", "",
           f"`{a['command']}` ({a['machine']['cpu_model']}): {a['flip_share']:.0%} of (a seeded "
           f"sample of at most {a['max_texts']:,}) train texts relabelled, uniformly among the "
           "other classes or to each text's most confusable class; the flagged texts scored "
           "against the relabelled ones. textrnn: its audit (the wide path cross-fitted in 5 "
           "folds, then cleanlab's find_label_issues); peer: cleanlab's find_label_issues on "
           "5-fold cross_val_predict probabilities of TF-IDF character 1-3-grams + "
           "LogisticRegression. Mean of the seeds "
           f"({', '.join(map(str, a['seeds']))}).", "",
           "| corpus | texts | flips | textrnn P / R / F1 | peer P / R / F1 | F1 difference | "
           "seconds textrnn / peer |", "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    mean = lambda rows, who, key: sum(r[who][key] for r in rows) / len(rows)
    for corpus, r in a["corpora"].items():
        for kind in ("uniform", "confusable"):
            rows = [x for x in r["runs"] if x["kind"] == kind]
            if not rows:
                continue
            cell = lambda who: " / ".join(f"{mean(rows, who, k):.3f}"
                                          for k in ("precision", "recall", "f1"))
            diff = mean(rows, "textrnn", "f1") - mean(rows, "peer", "f1")
            out.append(f"| {corpus} | {r['texts']:,} | {kind} | {cell('textrnn')} | "
                       f"{cell('peer')} | {diff:+.3f} | {mean(rows, 'textrnn', 'seconds'):.0f} / "
                       f"{mean(rows, 'peer', 'seconds'):.0f} |")
    out += _recovery_rows(a)
    out += ["", "Copies of test texts planted in train, found as duplicates of their original "
            "(exact copies with the same label and with another; near copies: a character or a "
            "punctuation mark changed):", "",
            "| corpus | same label | other label | near copies |", "| --- | ---: | ---: | ---: |"]
    for corpus, r in a["corpora"].items():
        c = r["copies"]
        cell = lambda k: f"{c[k]['found']} of {c[k]['copies']}"
        out.append(f"| {corpus} | {cell('same label')} | {cell('other label')} | {cell('near')} |")
    return _with_notes(out, a)


def _recovery_rows(a):
    """The default recipe retrained on the clean, the noisy and the cleaned train."""
    rows = [(corpus, r["recovery"]) for corpus, r in a["corpora"].items() if "recovery" in r]
    if not rows:
        return []
    out = ["", "The default recipe (seed 1) trained on the clean sample, on it with seed 1's "
           "uniform flips ('noisy'), on the noisy one without the texts the audit flagged "
           "('cleaned'), and on the noisy one with the flagged texts given their true labels "
           "back ('reviewed': what a person who checks the flagged list ends with); test "
           "accuracy, and the share of the noise's loss each wins back:", "",
           "| corpus | clean | noisy | cleaned (texts dropped) | reviewed | recovered: cleaned "
           "/ reviewed |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    share = lambda value: "" if value is None else f"{value:.0%}"
    for corpus, r in rows:
        acc, back = r["test_accuracy"], r["recovered"]
        out.append(f"| {corpus} | {acc['clean']:.4f} | {acc['noisy']:.4f} | "
                   f"{acc['cleaned']:.4f} ({r['dropped']:,}) | {acc['reviewed']:.4f} | "
                   f"{share(back['cleaned'])} / {share(back['reviewed'])} |")
    return out


def selection_table(s):
    """benchmarks/selection.py: learning curves of chosen against random texts."""
    out = ["## What to label next: chosen against random texts", "",
           f"`{s['command']}` ({s['machine']['cpu_model']}): from {s['start']} random labelled "
           f"texts, {s['rounds']} rounds of +{s['step']} texts chosen by textrnn's selection or "
           "at random from the rest of train (labels revealed when chosen); the wide path "
           "trained again each round and scored on test. Mean test accuracy over rounds 2 to "
           f"{s['rounds']} (mean of seeds {', '.join(map(str, s['seeds']))}); the curves: "
           "[benchmarks/results/selection.svg](benchmarks/results/selection.svg).", "",
           "The peer: small-text's margin sampling (BreakingTies) over the same learner's "
           "probabilities.", "",
           "| corpus | pool | test | textrnn | random | margin (points) | small-text margin "
           "sampling | textrnn - small-text (points) |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for corpus, r in s["corpora"].items():
        m = r["mean_rounds_2_5"]
        peer = f"{m['small_text']:.4f} | {r['over_small_text_points']:+.2f}" \
            if "small_text" in m else " | "
        out.append(f"| {corpus} | {r['pool']:,} | {r['test']:,} | {m['textrnn']:.4f} | "
                   f"{m['random']:.4f} | {r['margin_points']:+.2f} | {peer} |")
    return _with_notes(out, s)

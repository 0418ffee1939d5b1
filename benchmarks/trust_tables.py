"""BENCHMARKS.md's tables of the benchmarks of trust: explanations (explain.py)."""


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
    notes = e.get("notes", [])
    return out + ([""] + notes if notes else []) + [""]

"""Confusion matrices (and a multi-label model's per-label scores), reliability diagrams
and accuracy-coverage curves as pictures: a PNG or SVG file, and a TensorBoard image.

Each cell shows the count and its share of the row (the true class), and is
shaded by that share, so a class's errors read along its row whatever its
size. SVG keeps the text as text (any browser draws the Chinese labels with
its own fonts). A PNG needs a font with the labels' characters: when the
machine has none, the axes show class ids and a legend file beside the PNG
names them (PATH.labels.txt), instead of drawing empty boxes.
"""

import io
import os
import warnings

import numpy as np

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
                "Heiti SC", "AR PL UMing CN", "Droid Sans Fallback")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    return plt


def cjk_font():
    """The family of an installed font that draws Chinese, or None."""
    from matplotlib import font_manager
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def _needs_cjk(labels):
    return any(ord(ch) > 0x2E7F for label in labels for ch in label)


def confusion_figure(matrix, labels, title, tick_labels=None):
    """A matplotlib Figure of `matrix` (rows: true class, columns: predicted)."""
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=np.int64)
    n = len(labels)
    ticks = tick_labels or labels
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.6 * n + 2.0)
    figure, axes = plt.subplots(figsize=(size + 1.0, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    axes.set_xticks(range(n), ticks, rotation=45 if n > 6 else 0, ha="right" if n > 6 else "center")
    axes.set_yticks(range(n), ticks)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    font = 7 if n > 12 else 9
    for row in range(n):
        for col in range(n):
            if matrix[row, col] or row == col:
                color = "white" if shares[row, col] > 0.5 else "black"
                axes.text(col, row, f"{matrix[row, col]}\n{shares[row, col]:.0%}", ha="center",
                          va="center", fontsize=font, color=color)
    figure.tight_layout()
    return figure


def save_confusion(path, matrix, labels, title="confusion matrix"):
    """Write the picture to path: SVG when it ends in .svg, else PNG. Returns the
    legend file written beside a PNG drawn with class ids, or None."""
    return _save(path, labels, title,
                 lambda ticks, title: confusion_figure(matrix, labels, title, ticks))


def label_scores_figure(labels, precision, recall, f1, support, title, tick_labels=None):
    """A matplotlib Figure of each label's precision, recall and F1 (a multi-label
    model's report), its support beside its bars."""
    plt = _pyplot()
    n = len(labels)
    rows = np.arange(n)
    figure, axes = plt.subplots(figsize=(8.0, max(3.0, 0.32 * n + 1.5)))
    for offset, values, name in ((-0.27, precision, "precision"), (0.0, recall, "recall"),
                                 (0.27, f1, "F1")):
        axes.barh(rows + offset, values, height=0.27, label=name)
    for row, count in zip(rows, support):
        axes.text(1.01, row, f"{count}", va="center", fontsize=7)
    axes.set_yticks(rows, tick_labels or labels, fontsize=7 if n > 20 else 9)
    axes.invert_yaxis()
    axes.set_xlim(0.0, 1.08)
    axes.set_xlabel("score (numbers: the label's support in the file)")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def save_label_scores(path, labels, precision, recall, f1, support, title):
    """Like save_confusion, for label_scores_figure."""
    return _save(path, labels, title, lambda ticks, title: label_scores_figure(
        labels, precision, recall, f1, support, title, ticks))


def reliability_figure(bins, title):
    """A reliability diagram: each bin's mean outcome against its mean confidence, the
    diagonal where they agree, and how many texts each bin holds."""
    plt = _pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True,
                                         gridspec_kw=dict(height_ratios=[3, 1]))
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    width = bins[0]["high"] - bins[0]["low"] if bins else 1 / 15
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    top.bar(centres, [b["accuracy"] for b in bins], width=width * 0.9, alpha=0.7,
            label="share right")
    top.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-",
             color="black", markersize=3, label="at the bin's mean probability")
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel="share right", title=title)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, [b["count"] for b in bins], width=width * 0.9, color="grey")
    bottom.set(xlabel="probability", ylabel="texts")
    figure.tight_layout()
    return figure


def save_reliability(path, bins, title):
    """A reliability diagram (metrics.reliability's bins) to path, SVG or PNG by suffix."""
    _save(path, [], title, lambda ticks, title: reliability_figure(bins, title))


def coverage_figure(curve, title, chosen=None):
    """The accuracy-coverage curve (metrics.accuracy_coverage's points): the accuracy of
    the texts answered when the least confident are left out; `chosen`, the (answered,
    accuracy) of an abstain threshold, marked."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.plot([p["coverage"] for p in curve], [p["accuracy"] for p in curve], "o-",
              markersize=3, color="black", label="most confident texts answered")
    if chosen is not None:
        axes.plot([chosen[0]], [chosen[1]], "s", color="tab:red", label="abstain threshold")
    low = min([p["accuracy"] for p in curve] + [chosen[1] if chosen else 1.0])
    axes.set(xlim=(0, 1.02), ylim=(max(0.0, low - 0.05), 1.005), xlabel="share answered",
             ylabel="accuracy of the answered", title=title)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    return figure


def save_coverage(path, curve, title, chosen=None):
    """The accuracy-coverage curve to path, SVG or PNG by suffix."""
    _save(path, [], title, lambda ticks, title: coverage_figure(curve, title, chosen))


def _save(path, labels, title, draw):
    """`draw(tick_labels, title)`'s figure to path (SVG or PNG by the suffix); class ids
    and a legend file when a PNG's labels need a font the machine lacks."""
    plt = _pyplot()
    svg = path.lower().endswith(".svg")
    legend = None
    tick_labels = None
    font = cjk_font()
    if svg:
        plt.rcParams["svg.fonttype"] = "none"  # text stays text: the browser picks fonts
        plt.rcParams["font.family"] = ["sans-serif"]
    elif _needs_cjk(labels) and font is None:
        tick_labels = [str(i) for i in range(len(labels))]
        legend = path + ".labels.txt"
        title += f" (class ids: {os.path.basename(legend)})"
    elif font:
        plt.rcParams["font.sans-serif"] = [font] + plt.rcParams["font.sans-serif"]
    figure = draw(tick_labels, title)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with warnings.catch_warnings():
        # SVG text is drawn by the viewer's fonts: matplotlib's missing glyphs do not matter
        if svg:
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(path, format="svg" if svg else "png", dpi=120)
    plt.close(figure)
    if legend:
        with open(legend, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(f"{i}\t{label}\n" for i, label in enumerate(labels))
    return legend


def confusion_image(matrix, labels, title):
    """PNG bytes of the picture, for tf.summary.image (decode first).

    Class ids on the axes when no font draws the labels; the caller puts
    the id -> label legend in the image's description."""
    plt = _pyplot()
    font = cjk_font()
    tick_labels = None
    if _needs_cjk(labels) and font is None:
        tick_labels = [str(i) for i in range(len(labels))]
    elif font:
        plt.rcParams["font.sans-serif"] = [font] + plt.rcParams["font.sans-serif"]
    figure = confusion_figure(matrix, labels, title, tick_labels)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()

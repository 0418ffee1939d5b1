"""Explanations as people read them: the `explain` signature's outputs for one text as
a record, marked up for a terminal, or shaded in HTML (a notebook, a page).

The numbers are the SavedModel's (training/attributions.py says how they are
computed; docs/explain.md what they mean); nothing here recomputes them.
"""

import dataclasses
import html

GREEN, RED, RESET = "\x1b[1;32m", "\x1b[1;31m", "\x1b[0m"
_FONTS = ('"PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", '
          '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif')


@dataclasses.dataclass(frozen=True)
class Unit:
    """One unit of a text: `token` is text[start:end] (code points)."""
    token: str
    start: int
    end: int
    attribution: float


@dataclasses.dataclass
class Explanation:
    """Why the model gives `text` the probability `probability` of `label`: each unit's
    share of probability - baseline_probability (the empty text's probability of
    `label`)."""
    text: str
    label: str
    probability: float
    baseline_probability: float
    units: list

    def top(self, k=5):
        """The k units of largest |attribution|, largest first."""
        return sorted(self.units, key=lambda u: -abs(u.attribution))[:k]

    def to_dict(self):
        return {"text": self.text, "label": self.label, "probability": self.probability,
                "baseline_probability": self.baseline_probability,
                "units": [dataclasses.asdict(u) for u in self.units]}

    def marked(self, k=3, colour=False):
        """The text with its k most influential units marked: in colour (green toward the
        label, red against) or in brackets ([toward], {against})."""
        chosen = {u.start: u for u in self.top(k)}
        out, at = [], 0
        for start in sorted(chosen):
            unit = chosen[start]
            toward = unit.attribution >= 0
            if colour:
                mark = (GREEN if toward else RED) + unit.token + RESET
            else:
                mark = ("[" if toward else "{") + unit.token + ("]" if toward else "}")
            out += [self.text[at:unit.start], mark]
            at = unit.end
        return "".join(out) + self.text[at:]

    def _repr_html_(self):
        return html_block(self)


def table_row(explanation, k=5, colour=False):
    """Two lines for people: label, probability and the marked text; then the k largest
    units with their attributions."""
    e = explanation
    top = "  ".join(f"{u.token} {u.attribution:+.4f}" for u in e.top(k))
    return (f"{e.label} {e.probability:.4f} (empty text {e.baseline_probability:.4f})\t"
            f"{e.marked(k, colour)}\n    {top or '(no units)'}")


def from_outputs(texts, outputs, labels, label=None):
    """[Explanation] of `texts` from the explain signature's outputs (numpy, padded rows);
    `label`: explain that class instead of each text's predicted one."""
    records = []
    column = None if label is None else class_index(labels, label)
    for i, text in enumerate(texts):
        n = int(outputs["num_tokens"][i])
        if column is None:
            name = outputs["label"][i].decode("utf-8")
            shares, p, p0 = (outputs["attributions"][i], outputs["probability"][i],
                             outputs["baseline_probability"][i])
        else:
            name = label
            shares = outputs["class_attributions"][i][:, column]
            p, p0 = (outputs["probabilities"][i][column],
                     outputs["baseline_probabilities"][i][column])
        units = [Unit(t.decode("utf-8"), int(s), int(e), float(a)) for t, s, e, a in zip(
            outputs["tokens"][i][:n], outputs["token_starts"][i][:n],
            outputs["token_ends"][i][:n], shares[:n])]
        records.append(Explanation(text, name, float(p), float(p0), units))
    return records


def class_index(labels, label):
    """The column of `label` among the model's `labels` (a ValueError naming them if none)."""
    try:
        return list(labels).index(label)
    except ValueError:
        raise ValueError(f"label {label!r} is not one of the model's labels: "
                         f"{', '.join(labels)}") from None


def _shade(attribution, largest):
    """A CSS background for one unit: green toward the label, red against, as strong as
    its share of the text's largest |attribution|."""
    alpha = 0.0 if largest <= 0 else min(1.0, abs(attribution) / largest) * 0.85
    colour = "22, 163, 74" if attribution >= 0 else "220, 38, 38"
    return f"background: rgba({colour}, {alpha:.3f})"


def html_block(explanation):
    """One text shaded by its attributions, with its label and probabilities (HTML)."""
    e = explanation
    largest = max((abs(u.attribution) for u in e.units), default=0.0)
    parts, at = [], 0
    for unit in e.units:
        parts.append(html.escape(e.text[at:unit.start]))
        parts.append(f'<span title="{html.escape(unit.token)} {unit.attribution:+.4f}" '
                     f'style="{_shade(unit.attribution, largest)}">'
                     f"{html.escape(e.text[unit.start:unit.end])}</span>")
        at = unit.end
    parts.append(html.escape(e.text[at:]))
    return (f'<div class="textrnn-explanation" style="font-family: {html.escape(_FONTS)}; '
            f'line-height: 1.9; margin: 0.6em 0">'
            f'<div style="font-size: 0.85em; color: #555">{html.escape(e.label)} '
            f"{e.probability:.4f} (empty text: {e.baseline_probability:.4f})</div>"
            f'<div style="font-size: 1.15em">{"".join(parts)}</div></div>')


def write_page(path, explanations, title="textrnn explanations"):
    """html_page into `path`, complete or not at all."""
    from textrnn.util import atomic
    with atomic.writing(path) as out:
        out.write(html_page(explanations, title))


def html_page(explanations, title="textrnn explanations"):
    """A self-contained HTML page of every explanation (no external assets)."""
    blocks = "\n".join(html_block(e) for e in explanations)
    legend = ("Each unit is shaded by its share of the label's probability: green toward "
              "the label, red against it; hover a unit for its number.")
    return ("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>\n"
            f'<body style="max-width: 60em; margin: 2em auto; padding: 0 1em">'
            f"<h1 style=\"font-size: 1.2em\">{html.escape(title)}</h1>"
            f'<p style="color: #555">{legend}</p>\n{blocks}\n</body></html>\n')

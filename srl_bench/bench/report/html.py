"""``index.html``: the whole leaderboard on one page, to open from a file or share.

Nothing is fetched from the network: the CSS and the few lines of JavaScript are inline. The page of a
leaderboard folder links its plots from ``plots/`` beside it (the folder is what is committed and
shared, and the plots are in it already); the page printed by ``--format html`` embeds every plot as a
base64 ``data:`` URI, so that one file stands alone. A tab per environment (table, interval plot, RL
curves, then seed 0 of each method: training curves, learned state, nearest neighbours, reconstructions)
and one for the aggregates across environments; a click on a column header sorts the table by it.
Without JavaScript every section is shown, one after the other.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from srl_bench.bench.config import REFERENCES
from srl_bench.bench.leaderboard import (TITLES, UNSEPARATED, arrow, best_rows, dim_text, epochs_text, rank_metrics,
                                         rank_text, references_separated, seed_counts, shown_metrics)
from srl_bench.bench.report.aggregate import BASELINE, SCORES, STATISTIC_TITLES

CSS = """
:root { --ink: #1d2430; --muted: #5b6678; --line: #d9dee7; --accent: #1f4e9c; --best: #e8f0ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #f6f7f9; }
header, main, footer { max-width: 1500px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p, li { color: var(--muted); max-width: 110ch; }
code { background: #eceff4; padding: 0 3px; border-radius: 3px; font-size: 12px; }
nav.tabs { display: flex; flex-wrap: wrap; gap: 4px; max-width: 1500px; margin: 12px auto 0; padding: 0 20px;
           border-bottom: 1px solid var(--line); }
nav.tabs button { font: inherit; border: 1px solid var(--line); border-bottom: none; background: #e9ecf1;
                  padding: 6px 14px; border-radius: 6px 6px 0 0; cursor: pointer; color: var(--ink); }
nav.tabs button.active { background: #fff; font-weight: 600; color: var(--accent); }
section.tab { background: #fff; border: 1px solid var(--line); border-top: none; padding: 4px 18px 18px;
              max-width: 1500px; margin: 0 auto 12px; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; background: #fff; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { position: sticky; top: 0; background: #f0f2f6; cursor: pointer; user-select: none; font-weight: 600; }
th[aria-sort="ascending"]::after { content: " ▲"; font-size: 10px; }
th[aria-sort="descending"]::after { content: " ▼"; font-size: 10px; }
td.name, th.name { text-align: left; }
td.best { background: var(--best); }
tr.reference td { color: var(--muted); font-style: italic; }
.ci { color: var(--muted); font-size: 11px; }
figure { margin: 0; background: #fff; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 3px; }
.gallery { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.gallery figure { max-width: 100%; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 24px; }
"""

JS = """
(function () {
  var buttons = document.querySelectorAll('nav.tabs button');
  function show(id) {
    document.querySelectorAll('section.tab').forEach(function (s) { s.hidden = s.id !== id; });
    buttons.forEach(function (b) { b.classList.toggle('active', b.getAttribute('data-tab') === id); });
  }
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      show(b.getAttribute('data-tab'));
      if (history.replaceState) { history.replaceState(null, '', '#' + b.getAttribute('data-tab')); }
    });
  });
  if (buttons.length) {
    var wanted = location.hash.slice(1);
    show(wanted && document.getElementById(wanted) ? wanted : buttons[0].getAttribute('data-tab'));
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-value'), y = b.cells[col].getAttribute('data-value');
          var nx = x === null || x === '', ny = y === null || y === '';
          if (nx || ny) { return nx === ny ? 0 : (nx ? 1 : -1); }
          var fx = parseFloat(x), fy = parseFloat(y);
          var c = (!isNaN(fx) && !isNaN(fy)) ? fx - fy : x.localeCompare(y);
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def inline_markdown(text: str) -> str:
    """The little markdown of the header lines as HTML: `code`, **bold**, *italic*."""
    out = _esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<i>\1</i>", out)


def _header_html(lines: list[str]) -> str:
    parts: list[str] = []
    items: list[str] = []
    for line in lines:
        if line.startswith("# "):
            continue
        if line.startswith("- "):
            items.append(f"<li>{inline_markdown(line[2:])}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            parts.append(f"<p>{inline_markdown(line)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(parts)


def _value(value: Any) -> str:
    """A sort key for ``data-value`` ("" for none)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else _esc(value)
    return "" if not math.isfinite(number) else repr(number)


def _interval_cell(mean: float, low: float, high: float, n: int, best: bool) -> str:
    if not n or not math.isfinite(mean):
        return '<td data-value="">—</td>'
    text = f"<b>{mean:.3f}</b>" if best else f"{mean:.3f}"
    if n > 1 and math.isfinite(low) and math.isfinite(high):
        text += f' <span class="ci">[{low:.3f}, {high:.3f}]</span>'
    else:
        text += f' <span class="ci">(n={n})</span>'
    css = ' class="best"' if best else ""
    return f'<td data-value="{_value(mean)}"{css}>{text}</td>'


def _image(folder: Path, plot: Any, embed: bool) -> str:
    if embed:
        source = "data:image/png;base64," + base64.b64encode((folder / plot.path).read_bytes()).decode("ascii")
    else:
        source = _esc(quote(Path(plot.path).as_posix()))
    return (f'<figure><img src="{source}" alt="{_esc(plot.caption)}" loading="lazy">'
            f"<figcaption>{_esc(plot.caption)} <code>{_esc(plot.path)}</code></figcaption></figure>")


def env_table(group: pd.DataFrame) -> str:
    """One environment's leaderboard as a sortable HTML table."""
    present = shown_metrics(group)
    best = {m: best_rows(group, m) for m in present}
    head = ('<tr><th data-type="num">rank</th><th class="name">method</th>'
            + "".join(f"<th>{_esc((TITLES.get(m, m) + ' ' + arrow(m)).strip())}</th>" for m in present)
            + "<th>dim</th><th>epochs</th><th>seeds</th></tr>")
    body = []
    for index, row in group.iterrows():
        seeds, seeds_shown = seed_counts(row, present)
        cells = [f'<td data-value="{_value(row.get("mean_rank"))}">{_esc(rank_text(row))}</td>',
                 f'<td class="name" data-value="{_esc(row["method"])}">{_esc(row["method"])}</td>']
        cells += [_interval_cell(row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"], int(row[f"{m}_n"]),
                                 index in best[m]) for m in present]
        cells += [f'<td data-value="{_value(row.get("state_dim"))}">{_esc(dim_text(row))}</td>',
                  f'<td data-value="{_value(row["epochs_mean"])}">{_esc(epochs_text(row))}</td>',
                  f'<td data-value="{seeds}">{_esc(seeds_shown)}</td>']
        css = ' class="reference"' if row["reference"] else ""
        body.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="sortable"><thead>{head}</thead><tbody>'
            + "".join(body) + "</tbody></table></div>")


def across_table(report: Any) -> str:
    """The aggregates across environments as a sortable HTML table ("" when there are none)."""
    rows = []
    for score, methods, improvement in report.across_rows():
        for method, row in methods.items():
            cells = [f'<td class="name" data-value="{_esc(SCORES[score].title)}">{_esc(SCORES[score].title)}</td>',
                     f'<td class="name" data-value="{_esc(method)}">{_esc(method)}</td>']
            for statistic in STATISTIC_TITLES:
                point, low, high, best = row[statistic]
                cells.append(_interval_cell(point, low, high, row["n_seeds"], best))
            poi = improvement.get(method)
            cells.append(_interval_cell(poi[0], poi[1], poi[2], row["n_seeds"], poi[3]) if poi is not None
                         else '<td data-value="">—</td>')
            cells.append(f'<td data-value="{row["n_seeds"] * row["n_tasks"]}">{row["n_seeds"]} × {row["n_tasks"]}</td>')
            css = ' class="reference"' if method in REFERENCES else ""
            rows.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    if not rows:
        return ""
    head = ('<tr><th class="name">score</th><th class="name">method</th><th>IQM ↑</th><th>optimality gap ↓</th>'
            f"<th>P(&gt; {_esc(BASELINE)}) ↑</th><th>seeds × envs</th></tr>")
    return (f'<div class="table-wrap"><table class="sortable"><thead>{head}</thead><tbody>'
            + "".join(rows) + "</tbody></table></div>")


def render_html(report: Any, folder: Path, embed: bool = False) -> str:
    """The page showing the plots of ``report.plots`` (files under ``folder``): linked by their path
    relative to ``folder`` (the page is written there), or, with ``embed``, inside the page."""
    folder = Path(folder)

    def image(plot: Any) -> str:
        return _image(folder, plot, embed)

    sections: list[tuple[str, str, str]] = []  # (id, tab title, body)
    plots = report.plots
    across = across_table(report)
    if across:
        figures = "".join(image(p) for p in plots if p.section == "across")
        sections.append(("across", "Across environments", (
            "<h2>Across environments</h2>"
            "<p>Per method, over every (seed, environment) run: the interquartile mean (IQM) and the optimality gap "
            "(1 − mean(min(score, 1)); 0 = every run at 1), each with a 95% stratified-bootstrap interval (rliable); "
            f"P(&gt; {_esc(BASELINE)}): the probability that a run of the method beats a run of the "
            f"<code>{_esc(BASELINE)}</code> encoder on the same environment, averaged over environments. RL normalised "
            "score: 1 = the ground-truth agent, 0 = the random policy; R²: 1 = the true state read back exactly. "
            "Bold: the best value per column (references aside).</p>"
            f'<div class="pair">{across}</div><div class="gallery">{figures}</div>')))
    for i, env in enumerate(report.envs()):
        group = report.table[report.table["env"] == env]
        env_plots = [p for p in plots if p.section == env]
        intervals = "".join(image(p) for p in env_plots if p.kind == "intervals")
        ranked_by = rank_metrics(group)
        body = [f"<h2>{_esc(env)}</h2>",
                f'<div class="pair">{env_table(group)}{intervals}</div>',
                "<p>Rank: mean rank over " + (_esc(", ".join(ranked_by)) if ranked_by else "no metric (none that every "
                                              "method has)")
                + "; bold: the best mean per column (references aside); mean over seeds with its 95% "
                  "stratified-bootstrap interval. Click a column header to sort.</p>"]
        if references_separated(group) is False:
            body.append(f"<p><strong>{_esc(UNSEPARATED[0])}</strong>{_esc(UNSEPARATED[1])}</p>")
        curves = [p for p in env_plots if p.kind == "rl_curves"]
        if curves:
            body.append("<h3>Downstream RL</h3>" + "".join(image(p) for p in curves))
        methods = list(dict.fromkeys(p.method for p in env_plots if p.method is not None))
        if methods:
            body.append("<h3>Runs</h3><p>One run per method (seed 0): its training curves, its learned state against "
                        "the true state and its nearest neighbours in learned space on a sample of held-out frames, "
                        "and, for methods with a decoder, its reconstructions.</p>")
            for method in methods:
                figures = "".join(image(p) for p in env_plots if p.method == method)
                body.append(f"<details open><summary>{_esc(method)}</summary><div class=\"gallery\">{figures}</div>"
                            "</details>")
        sections.append((f"env-{i}", env, "".join(body)))
    if not sections:
        sections.append(("empty", "Leaderboard", "<p>No finished runs.</p>"))
    nav = "".join(f'<button type="button" data-tab="{sid}">{_esc(title)}</button>' for sid, title, _ in sections)
    main = "".join(f'<section class="tab" id="{sid}">{body}</section>' for sid, _, body in sections)
    notes = "".join(f"<li>{_esc(note)}</li>" for note in report.notes)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Leaderboard: {_esc(report.name)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>Leaderboard: {_esc(report.name)}</h1>\n{_header_html(report.header())}</header>\n"
        f'<nav class="tabs">{nav}</nav>\n<main>{main}</main>\n'
        "<footer><p>Made by srl-bench from the benchmark's cell records alone; the numbers are in "
        "<code>leaderboard.csv</code>, <code>aggregates.csv</code> and <code>leaderboard.json</code> beside this page."
        f"</p>{'<ul>' + notes + '</ul>' if notes else ''}</footer>\n"
        f"<script>{JS}</script>\n</body>\n</html>\n"
    )

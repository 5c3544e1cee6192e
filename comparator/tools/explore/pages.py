"""The explorer's HTML: server-rendered, no scripts, every value escaped.

Colours of the side-by-side diff (the browser test looks for them in screenshots):
changed lines ``#fff3bf``, stable-only lines ``#ffd6d6``, dark-only lines ``#d3f9d8``; lines that
differ but were not compared (ignored by the rules) grey ``#8c959f`` text, no background.

With the summary of a run past two sides the overview also shows each candidate's divergence
(``Candidates``) and, per candidate, route and field, its divergence next to the secondary's
noise share there and the verdict (``Fields per candidate``); records name their candidate,
the fields judged noise and an orphan's missing sides.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from comparator.core.compare.headline import HEADLINES, record_headline
from comparator.tools.explore.store import RecordStore, ranked, route_views, top_fields
from comparator.tools.views.record_filter import (
    RecordFilter,
    audit_hits,
    differences,
    missing_sides,
    noise_fields,
)
from comparator.tools.views.request_line import request_line
from comparator.tools.views.side_by_side import (
    compared_paths,
    fold,
    short_value,
    side_by_side,
)
from comparator.tools.views.time_arg import format_time_ms

PAGE_SIZE = 50
KINDS = ("status", "body", "headers", "error", "missing_dark", "missing_stable", "audit")

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #1f2328; }
h1 { font-size: 20px; margin: .8em 0 .2em; } h2 { font-size: 16px; margin: 1.4em 0 .4em; }
.muted { color: #656d76; } a { color: #0550ae; text-decoration: none; }
a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border-bottom: 1px solid #d0d7de; padding: 3px 8px; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
form.filters { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; margin: .6em 0; }
form.filters label { margin-right: 10px; } input[type=text] { width: 14em; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
table.diff { width: 100%; table-layout: fixed; }
table.diff td { font-family: ui-monospace, monospace; font-size: 12.5px; white-space: pre-wrap;
  word-break: break-all; border: none; padding: 0 6px; }
table.diff th { width: 50%; }
tr.changed td { background: #fff3bf; } td.removed { background: #ffd6d6; }
td.added { background: #d3f9d8; } tr.skipped td { color: #656d76; font-style: italic; }
tr.ignored td { color: #8c959f; text-decoration: line-through dotted; }
tr.clean td { color: #1a7f37; } p.nav a { margin-right: .4em; }
tr.noise td { color: #8c959f; } tr.verdict-noise td { color: #656d76; }
.candidate { font-weight: 600; margin-right: 3px; }
.kind { display: inline-block; padding: 0 6px; border-radius: 8px; background: #ddf4ff;
  margin-right: 3px; font-size: 12px; }
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _query(record_filter_args: dict[str, str], **changes: Any) -> str:
    args = {**record_filter_args, **{k: str(v) for k, v in changes.items() if v is not None}}
    args = {k: v for k, v in args.items() if v != ""}
    return _e("?" + urlencode(args)) if args else ""  # HTML-escaped: used in attributes


def layout(title: str, body: str, source: str) -> bytes:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(title)}</title><link rel=stylesheet href=/style.css></head><body>"
        f'<h1><a href="/">Mismatch explorer</a></h1><div class=muted>{_e(source)}</div>'
        f"{body}</body></html>"
    )
    return html.encode("utf-8")


def filter_form(
    args: dict[str, str],
    routes: list[str],
    candidates: list[str] | None = None,
    kinds: list[str] | None = None,
) -> str:
    """``candidates``: the records' candidates (runs past two sides: a candidate filter);
    ``kinds``: kinds the records have beyond :data:`KINDS` (``missing_<side>``)."""
    route_options = "".join(
        f"<option value='{_e(r)}'{' selected' if args.get('route') == r else ''}>{_e(r)}</option>"
        for r in routes
    )
    every_kind = [*KINDS, *sorted(set(kinds or ()) - set(KINDS))]
    kind_options = "".join(
        f"<option value='{_e(k)}'{' selected' if args.get('kind') == k else ''}>{_e(k)}</option>"
        for k in every_kind
    )
    candidate_select = ""
    if candidates:
        options = "".join(
            f"<option value='{_e(c)}'{' selected' if args.get('candidate') == c else ''}>"
            f"{_e(c)}</option>"
            for c in candidates
        )
        candidate_select = (
            "<label>candidate <select name=candidate id=candidate>"
            f"<option value=''>(all)</option>{options}</select></label>"
        )
    return (
        "<form class=filters method=get action=/>"
        f"<label>route <select name=route id=route><option value=''>(all)</option>{route_options}"
        "</select></label>"
        f"<label>kind <select name=kind id=kind><option value=''>(all)</option>{kind_options}"
        "</select></label>"
        f"{candidate_select}"
        f"<label>field <input type=text name=field id=field value='{_e(args.get('field', ''))}'"
        " placeholder='$.items'></label>"
        f"<label>since <input type=text name=since id=since value='{_e(args.get('since', ''))}'"
        " placeholder='2h or RFC 3339'></label>"
        f"<label>until <input type=text name=until id=until value='{_e(args.get('until', ''))}'"
        "></label>"
        "<button type=submit id=apply>Filter</button> <a href=/>clear</a></form>"
    )


def overview(
    store: RecordStore,
    record_filter: RecordFilter,
    args: dict[str, str],
    *,
    source: str,
    page: int,
    summary: dict[str, Any] | None,
    problem: str | None = None,
) -> bytes:
    selected = store.select(record_filter)
    parts = [filter_form(args, store.routes(), store.candidates(), store.kinds())]
    if problem:
        parts.append(f"<p class=muted id=problem>{_e(problem)}</p>")
    state = store.state
    parts.append(
        f"<p id=counts>{len(selected):,} of {len(store):,} records match ({state}"
        + (f"; {store.dropped:,} older records not kept" if store.dropped else "")
        + (f"; error: {_e(store.error)}" if store.error else "")
        + ")</p>"
    )
    parts.append(_candidates_table(summary, args))
    parts.append(_routes_table(selected, args, summary))
    parts.append(_noise_table(summary, args))
    parts.append(_fields_table(selected, args, summary))
    parts.append(_samples_table(selected, args, page))
    return layout("Mismatch explorer", "".join(parts), source)


def route_totals(
    summary: dict[str, Any] | None, candidates: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Per route of a run summary (``--summary``), its entry (pairs, divergence_rate, ...);
    filtered on one candidate of a run past two sides, that candidate's."""
    routes = (summary or {}).get("routes")
    if len(candidates) == 1:
        entry = summary_candidates(summary).get(candidates[0])
        if entry is not None:
            routes = entry.get("routes")
    if not isinstance(routes, dict):
        return {}
    return {str(k): v for k, v in routes.items() if isinstance(v, dict)}


def summary_candidates(summary: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The ``candidates`` of a summary of a run past two sides (empty for a two-sided run)."""
    found = (summary or {}).get("candidates")
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def candidate_totals(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Each candidate's divergence, overall and per route, and per field its divergence next
    to the secondary's noise share there and the verdict (when the run had a secondary)."""
    out: dict[str, Any] = {}
    for name, entry in summary_candidates(summary).items():
        routes: dict[str, Any] = {}
        for route, known in _dicts(entry.get("routes")).items():
            noise = _dicts(known.get("noise"))
            pairs = known.get("pairs")
            fields: dict[str, Any] = {}
            for path, count in _dicts_or_counts(known.get("fields")).items():
                fields[path] = {"differences": count, "divergence": _rate(count, pairs)}
            for path, judged in noise.items():
                fields[path] = {
                    "differences": judged.get("differences"),
                    "divergence": judged.get("divergence"),
                    "noise_share": judged.get("noise_share"),
                    "verdict": judged.get("verdict"),
                }
            routes[route] = {
                "pairs": pairs,
                "divergence_rate": known.get("divergence_rate"),
                "fields": fields,
            }
        out[name] = {
            "pairs": entry.get("pairs"),
            "divergence_rate": entry.get("divergence_rate"),
            "error_rate": entry.get("error_rate"),
            "noise_cancelled_pairs": entry.get("noise_cancelled_pairs"),
            "routes": routes,
        }
    return out


def _dicts(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, dict)}


def _dicts_or_counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _rate(count: Any, pairs: Any) -> float | None:
    if isinstance(count, int) and isinstance(pairs, int) and pairs > 0:
        return round(count / pairs, 6)
    return None


def _percent(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value:.2%}"


def _candidates_table(summary: dict[str, Any] | None, args: dict[str, str]) -> str:
    """Runs past two sides: each candidate against stable, overall and per route."""
    totals = candidate_totals(summary)
    if not totals:
        return ""
    rows = []
    for name, entry in totals.items():
        if args.get("candidate") and args["candidate"] != name:
            continue
        errors = entry.get("error_rate") if isinstance(entry.get("error_rate"), dict) else {}
        scopes = [("(all)", entry)] + [
            (route, known)
            for route, known in entry["routes"].items()
            if not args.get("route") or args["route"] == route
        ]
        for route, known in scopes:
            pairs = known.get("pairs")
            error_cells = (
                f"<td class=num>{_percent(errors.get('stable'))}</td>"
                f"<td class=num>{_percent(errors.get(name))}</td>"
                if route == "(all)"
                else "<td></td><td></td>"
            )
            link = (
                _e(route)
                if route == "(all)"
                else f"<a href='/{_query(args, route=route, candidate=name, page=None)}'>"
                f"{_e(route)}</a>"
            )
            rows.append(
                "<tr>"
                f"<td><a href='/{_query(args, candidate=name, page=None)}'>{_e(name)}</a></td>"
                f"<td>{link}</td>"
                f"<td class=num>{pairs if isinstance(pairs, int) else ''}</td>"
                f"<td class=num>{_percent(known.get('divergence_rate'))}</td>"
                f"{error_cells}</tr>"
            )
    return (
        "<h2>Candidates</h2><table id=candidates><tr><th>candidate</th><th>route</th>"
        "<th>pairs</th><th>divergence</th><th>errors stable</th><th>errors candidate</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _noise_table(summary: dict[str, Any] | None, args: dict[str, str]) -> str:
    """Runs past two sides: per candidate, route and differing field, its divergence next to
    the secondary's noise share and the verdict (``divergence``, ``noise``, ``undecided``)."""
    totals = candidate_totals(summary)
    rows = []
    with_noise = False
    for name, entry in totals.items():
        if args.get("candidate") and args["candidate"] != name:
            continue
        for route, known in entry["routes"].items():
            if args.get("route") and args["route"] != route:
                continue
            for path, field in known["fields"].items():
                with_noise = with_noise or "noise_share" in field
                verdict = field.get("verdict")
                rows.append(
                    f"<tr class='verdict-{_e(verdict or 'none')}'><td>{_e(name)}</td>"
                    f"<td>{_e(route)}</td><td>{_field_link(args, route, path)}</td>"
                    f"<td class=num>{_e(field.get('differences'))}</td>"
                    f"<td class=num>{_percent(field.get('divergence'))}</td>"
                    f"<td class=num>{_percent(field.get('noise_share'))}</td>"
                    f"<td>{_e(verdict or '')}</td></tr>"
                )
    if not rows:
        return ""
    note = (
        ""
        if with_noise
        else "<p class=muted>noise shares come with a secondary (a second copy of stable)</p>"
    )
    return (
        "<h2>Fields per candidate</h2><table id=noise><tr><th>candidate</th><th>route</th>"
        "<th>field</th><th>differences</th><th>divergence</th><th>noise share</th>"
        "<th>verdict</th></tr>" + "".join(rows) + "</table>" + note
    )


def _share(count: int, pairs: Any) -> str:
    """``4 of 15 pairs`` when the route's pairs are known, else ``4 records``."""
    if isinstance(pairs, int) and pairs > 0:
        return f"{count:,} of {pairs:,} pairs"
    return f"{count:,} records"


def _routes_table(
    selected: list[tuple[int, dict[str, Any]]], args: dict[str, str], summary: dict[str, Any] | None
) -> str:
    """Every route with records, and with a run summary every route it compared: a clean
    route shows 0% (Diffy lists them too), so a quiet route is told from an unseen one."""
    views = route_views(selected)
    totals = route_totals(summary, _candidate_arg(args))
    if args.get("route"):  # a route filter: that route only
        totals = {r: t for r, t in totals.items() if r in views or r == args["route"]}
    rows = []
    order = sorted(
        set(views) | set(totals), key=lambda r: (-(views[r].records if r in views else 0), r)
    )
    for route in order:
        view = views.get(route)
        known = totals.get(route) or {}
        rate = known.get("divergence_rate")
        pairs = known.get("pairs")
        kinds = fields = ""
        if view is not None:
            kinds = "".join(f"<span class=kind>{_e(k)} {n}</span>" for k, n in ranked(view.kinds))
            fields = ", ".join(
                f"{_field_link(args, route, name)} ({_share(n, pairs)})"
                for name, n in ranked(view.fields)[:4]
            )
        rows.append(
            f"<tr{'' if view is not None else ' class=clean'}>"
            f"<td><a href='/{_query(args, route=route, page=None)}'>{_e(route)}</a></td>"
            f"<td class=num>{0 if view is None else view.records:,}</td>"
            f"<td class=num>{'' if pairs is None else f'{pairs:,}'}</td>"
            f"<td class=num>{'' if not isinstance(rate, int | float) else f'{rate:.2%}'}</td>"
            f"<td>{kinds}</td><td>{fields}</td></tr>"
        )
    if not rows:
        return "<h2>Routes</h2><p class=muted>no records</p>"
    note = (
        ""
        if summary
        else (
            "<p class=muted>pairs and divergence per route, and the routes without divergence, "
            "come with <code>--summary summary.json</code></p>"
        )
    )
    return (
        "<h2>Routes</h2><table id=routes><tr><th>route</th><th>records</th>"
        "<th>pairs</th><th>divergence</th><th>kinds</th><th>top differing fields</th></tr>"
        + "".join(rows)
        + "</table>"
        + note
    )


def _candidate_arg(args: dict[str, str]) -> tuple[str, ...]:
    return (args["candidate"],) if args.get("candidate") else ()


def _field_link(args: dict[str, str], route: str, name: str) -> str:
    href = "/" + _query(args, route=route, field=name, page=None)
    return f"<a href='{href}'><code>{_e(name)}</code></a>"


def _time(value: Any) -> str:
    return format_time_ms(value if isinstance(value, int) and not isinstance(value, bool) else None)


def _fields_table(
    selected: list[tuple[int, dict[str, Any]]],
    args: dict[str, str],
    summary: dict[str, Any] | None = None,
) -> str:
    top = top_fields(selected)
    if not top:
        return ""
    totals = route_totals(summary, _candidate_arg(args))
    most = top[0][2]
    rows = "".join(
        "<tr>"
        f"<td>{_field_link(args, route, name)}</td>"
        f"<td>{_e(route)}</td><td class=num>{count:,}</td>"
        f"<td class=num>{_e(_share(count, (totals.get(route) or {}).get('pairs')))}</td>"
        f"<td><progress value={count} max={most}></progress></td></tr>"
        for route, name, count in top
    )
    return (
        "<h2>Top differing fields</h2><table id=fields><tr><th>field</th><th>route</th>"
        f"<th>records</th><th>share</th><th></th></tr>{rows}</table>"
    )


def _samples_table(
    selected: list[tuple[int, dict[str, Any]]], args: dict[str, str], page: int
) -> str:
    pages = max(1, -(-len(selected) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = selected[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = []
    for number, record in shown:
        kinds = "".join(f"<span class=kind>{_e(k)}</span>" for k in record.get("kinds") or [])
        names = sorted({str(d.get("field") or d.get("path")) for d in differences(record)})
        fields = ", ".join(f"<code>{_e(n)}</code>" for n in names[:3])
        if len(names) > 3:
            fields += f" +{len(names) - 3}"
        event_time = record.get("event_time")
        candidate = (
            f"<span class=candidate>{_e(record['candidate'])}</span> "
            if isinstance(record.get("candidate"), str)
            else ""
        )
        rows.append(
            "<tr>"
            f"<td><a class=sample href='/record/{number}{_query(args)}'>#{number}</a></td>"
            f"<td class=mono>{_e(_time(event_time))}</td>"
            f"<td>{_e(record.get('route'))}</td><td>{candidate}{kinds}</td><td>{fields}</td>"
            f"<td class=mono>{_e(record.get('request_id'))}</td></tr>"
        )
    nav = []
    if page > 1:
        nav.append(f"<a id=prev href='/{_query(args, page=page - 1)}'>&larr; newer</a>")
    nav.append(f"page {page} of {pages}")
    if page < pages:
        nav.append(f"<a id=next href='/{_query(args, page=page + 1)}'>older &rarr;</a>")
    return (
        "<h2>Mismatch samples</h2><table id=samples><tr><th>#</th><th>event time</th>"
        "<th>route</th><th>kinds</th><th>differing fields</th><th>request</th></tr>"
        + "".join(rows)
        + f"</table><p>{' &middot; '.join(nav)}</p>"
    )


def neighbours(numbers: list[int], number: int) -> tuple[int | None, int | None]:
    """The records before and after ``number`` among the selected ``numbers``, in the list's
    order (newest first: before is newer)."""
    try:
        index = numbers.index(number)
    except ValueError:
        return None, None
    before = numbers[index - 1] if index > 0 else None
    after = numbers[index + 1] if index + 1 < len(numbers) else None
    return before, after


def trace_link(trace_url: str | None, trace_id: Any) -> str:
    """The trace id, as a link when ``--trace-url`` gives a template (``{trace_id}``)."""
    if not isinstance(trace_id, str) or not trace_id:
        return "-"
    if not trace_url:
        return _e(trace_id)
    href = trace_url.replace("{trace_id}", quote(trace_id, safe=""))
    return f"<a id=trace href='{_e(href)}' rel=noreferrer>{_e(trace_id)}</a>"


def record_page(
    number: int,
    record: dict[str, Any],
    args: dict[str, str],
    *,
    source: str,
    neighbours: tuple[int | None, int | None] = (None, None),
    all_lines: bool = False,
    trace_url: str | None = None,
) -> bytes:
    kinds = "".join(f"<span class=kind>{_e(k)}</span>" for k in record.get("kinds") or [])
    event_time = record.get("event_time")
    facts = [
        ("route", record.get("route")),
        ("request", request_line(record) or "-"),
        ("request id", record.get("request_id")),
        ("event time", _time(event_time)),
        ("detected", record.get("detected_at") or "-"),
        ("rules digest", record.get("rules_digest") or "-"),
        ("latency regression", "yes" if record.get("latency_regression") else "no"),
    ]
    candidate = record.get("candidate") if isinstance(record.get("candidate"), str) else None
    if candidate:
        facts.insert(1, ("candidate", f"{candidate} (its response is the dark side)"))
    if missing_sides(record):
        facts.append(("missing sides", ", ".join(missing_sides(record))))
    noise = noise_fields(record)
    if noise:
        facts.append(("noise fields (not counted)", ", ".join(noise)))
    facts_html = "".join(f"<tr><th>{_e(k)}</th><td class=mono>{_e(v)}</td></tr>" for k, v in facts)
    facts_html += (
        f"<tr><th>trace</th><td class=mono>{trace_link(trace_url, record.get('trace_id'))}"
        "</td></tr>"
    )
    found = differences(record)
    counted = record_headline(found)
    under: list[dict[str, Any]] = []
    if counted is not None:  # the failure counts once; what follows from it is folded
        under = [d for d in found if d.get("path") not in HEADLINES]
        found = [d for d in found if d.get("path") in HEADLINES]
    diff_rows = "".join(_difference_row(d, noise) for d in found)
    if under:
        diff_rows += (
            f"<tr><td colspan=4><details id=collapsed><summary>{len(under)} differences of "
            f"the failed response ({_e(counted)} differs: counted once, not as fields)"
            "</summary><table>" + "".join(_difference_row(d) for d in under) + "</table>"
            "</details></td></tr>"
        )
    before, after = neighbours
    nav = [f"<a href='/{_query(args)}'>&larr; back to the list</a>"]
    if before is not None:
        nav.append(f"<a id=previous href='/record/{before}{_query(args)}'>&larr; newer</a>")
    if after is not None:
        nav.append(f"<a id=next href='/record/{after}{_query(args)}'>older &rarr;</a>")
    body = [
        f"<p class=nav>{' · '.join(nav)}</p>",
        f"<h2 id=title>#{number} {_e(record.get('route'))} {kinds}</h2>",
        f"<table id=facts>{facts_html}</table>",
    ]
    audit_rows = "".join(
        f"<tr><td>{_e(hit.get('severity'))}</td><td>{_e(hit.get('rule'))}</td>"
        f"<td class=mono>{_e(hit.get('where'))}</td><td>{_e(hit.get('problem'))}</td></tr>"
        for hit in audit_hits(record)
    )
    if audit_rows:
        body.append(
            "<h2>Audit rules broken</h2><table id=audit><tr><th>severity</th><th>rule</th>"
            f"<th>where</th><th>problem</th></tr>{audit_rows}</table>"
        )
    dark_label = f"{candidate} (dark)" if candidate else "dark"
    if diff_rows:
        body.append(
            "<h2>Differences</h2><table id=differences><tr><th>path</th><th>change</th>"
            f"<th>stable</th><th>{_e(dark_label)}</th></tr>{diff_rows}</table>"
        )
    body.append("<h2>Side by side</h2>")
    lines_link = (
        f"<a id=lines href='/record/{number}{_query(args)}'>fold equal lines</a>"
        if all_lines
        else f"<a id=lines href='/record/{number}{_query({**args, 'lines': 'all'})}'>"
        "show every line</a>"
    )
    body.append(f"<p>{lines_link}</p>")
    body.append(
        diff_table(
            record.get("stable"),
            record.get("dark"),
            compared_paths(record),
            context=None if all_lines else 4,
            dark_label=dark_label,
        )
    )
    body.append(
        "<details><summary>record (JSON)</summary><pre class=mono id=raw>"
        f"{_e(json.dumps(record, indent=2, ensure_ascii=False))}</pre></details>"
    )
    return layout(f"#{number} {record.get('route')}", "".join(body), source)


def _difference_row(d: dict[str, Any], noise: list[str] | None = None) -> str:
    if noise and str(d.get("field") or d.get("path")) in noise:
        return (
            "<tr class=noise title='noise: differs as often between stable and the secondary'>"
            f"<td><code>{_e(d.get('path'))}</code> (noise)</td><td>{_e(d.get('change'))}</td>"
            f"<td class=mono>{_e(_diff_value(d, 'stable'))}</td>"
            f"<td class=mono>{_e(_diff_value(d, 'dark'))}</td></tr>"
        )
    return (
        "<tr>"
        f"<td><code>{_e(d.get('path'))}</code></td><td>{_e(d.get('change'))}</td>"
        f"<td class=mono>{_e(_diff_value(d, 'stable'))}</td>"
        f"<td class=mono>{_e(_diff_value(d, 'dark'))}</td></tr>"
    )


def diff_table(
    stable: Any,
    dark: Any,
    compared: list[str] | None = None,
    *,
    context: int | None = 4,
    dark_label: str = "dark",
) -> str:
    """The side-by-side table; rows the rules left out of the comparison (``compared``: the
    record's difference paths) are grey, not highlighted. Equal runs are folded to
    ``context`` lines around each difference (None: every line)."""
    rows = []
    aligned = side_by_side(stable, dark, compared)
    for row in aligned if context is None else fold(aligned, context=context):
        if row.tag == "skipped":
            rows.append(f"<tr class=skipped><td>... {row.skipped} equal lines</td><td></td></tr>")
            continue
        left = "" if row.left is None else _e(row.left)
        right = "" if row.right is None else _e(row.right)
        if row.tag == "changed":
            rows.append(f"<tr class=changed><td>{left}</td><td>{right}</td></tr>")
        elif row.tag == "removed":
            rows.append(f"<tr><td class=removed>{left}</td><td></td></tr>")
        elif row.tag == "added":
            rows.append(f"<tr><td></td><td class=added>{right}</td></tr>")
        elif row.tag == "ignored":
            rows.append(
                f"<tr class=ignored title='differs, but not compared (rules)'><td>{left}</td>"
                f"<td>{right}</td></tr>"
            )
        else:
            rows.append(f"<tr><td>{left}</td><td>{right}</td></tr>")
    return (
        f"<table class=diff id=sidebyside><tr><th>stable</th><th>{_e(dark_label)}</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _diff_value(difference: dict[str, Any], side: str) -> str:
    change = difference.get("change")
    if (side == "stable" and change == "added") or (side == "dark" and change == "removed"):
        return "(absent)"
    return short_value(difference.get(side), 300) if side in difference else "-"


def not_found(source: str) -> bytes:
    return layout("not found", "<p>No such record (it may have been let go).</p>", source)

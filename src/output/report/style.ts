// The page's stylesheet (inline: the page loads nothing).
export const STYLE = `
:root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --card: #ffffff; --accent: #2563eb; --warn-bg: #fffbeb; --warn-line: #f59e0b; --bad: #dc2626; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
header.top { background: #0f172a; color: #f8fafc; padding: 18px 28px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 20px; font-weight: 650; letter-spacing: .01em; }
header.top .sub { color: #cbd5e1; font-size: 13px; }
header.top .sub code { color: #e2e8f0; }
nav.toc { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-top: 10px; font-size: 13px; }
nav.toc a { color: #93c5fd; text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
main { max-width: 1320px; margin: 0 auto; padding: 18px 28px 40px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 18px; }
section > h2 { margin: 0 0 10px; font-size: 17px; font-weight: 650; }
h3 { font-size: 14px; margin: 14px 0 6px; }
p.note { color: var(--muted); margin: 6px 0; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 0 0 18px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .v { font-size: 22px; font-weight: 650; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .d { color: var(--muted); font-size: 12px; }
.card.alert-card .v { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: #334155; background: #f1f5f9; position: sticky; top: 0; z-index: 1; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th::after { content: " \\2195"; color: #94a3b8; font-size: 11px; }
table.sortable th.asc::after { content: " \\2191"; color: var(--fg); }
table.sortable th.desc::after { content: " \\2193"; color: var(--fg); }
.scroll { overflow: auto; max-height: 640px; border: 1px solid var(--line); border-radius: 6px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
.mono.wrap, td.cmd { word-break: break-all; white-space: pre-wrap; }
#alerts-table td.cmd { min-width: 280px; }
#alerts-table td:nth-child(7), #alerts-table td:nth-child(9) { min-width: 150px; }
#alerts-table td:nth-child(2) { min-width: 180px; }
#alerts-table td:nth-child(8) { white-space: nowrap; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.chip { display: inline-block; border: 1px solid var(--line); background: #f8fafc; border-radius: 999px; padding: 1px 9px; font-size: 12px; }
.missing { background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 8px; padding: 10px 16px; margin: 0 0 18px; }
.missing h2 { font-size: 14px; margin: 0 0 4px; }
.missing ul { margin: 0; padding-left: 18px; }
tr.ambiguous td { background: #fff7ed; }
tr.conflict td { background: #fef2f2; }
tr.ambiguous td:first-child, tr.conflict td:first-child { box-shadow: inset 3px 0 0 var(--warn-line); }
tr.conflict td:first-child { box-shadow: inset 3px 0 0 var(--bad); }
.resolve { color: #9a3412; font-size: 12px; }
.level { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 12px; font-weight: 600; color: #fff; background: #64748b; }
.level-critical { background: #7f1d1d; } .level-high { background: #dc2626; } .level-medium { background: #d97706; } .level-low { background: #2563eb; } .level-informational { background: #64748b; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; margin: 0 0 10px; font-size: 13px; }
.controls input[type=search] { padding: 5px 8px; border: 1px solid #cbd5e1; border-radius: 6px; min-width: 260px; font: inherit; }
.controls select { padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 6px; font: inherit; }
.graph-wrap { overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
svg.graph { display: block; margin: 0 auto; font-family: inherit; max-width: 100%; height: auto; }
svg.graph.dense .edge path { stroke-opacity: .3; }
svg.graph .edge path { fill: none; stroke: #64748b; stroke-opacity: .55; }
svg.graph .edge.self path { stroke-dasharray: 3 2; }
svg.graph .edge-label { display: none; fill: #334155; font-size: .85em; text-anchor: middle; dominant-baseline: central; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.graph.show-edge-labels .edge-label { display: inline; }
svg.graph .node circle { stroke: #0f172a; stroke-width: 1.2; }
svg.graph .node.kind-unattributed > circle { stroke-dasharray: 4 3; stroke: #475569; stroke-width: 2; }
svg.graph .node.kind-host > circle { stroke: #92400e; stroke-width: 2.5; }
svg.graph .node.kind-external > circle { stroke: #0f172a; stroke-width: 3.5; }
svg.graph .node.kind-namespace > circle { stroke-width: 3; }
svg.graph .node-label { fill: #0f172a; }
svg.graph .node.kind-unattributed .node-label, svg.graph .node.kind-host .node-label, svg.graph .node.kind-external .node-label { font-style: italic; fill: #475569; }
svg.graph .node.has-alerts > circle { stroke: var(--bad); stroke-width: 2.5; stroke-dasharray: none; }
svg.graph .badge circle { fill: var(--bad); stroke: #fff; stroke-width: 1.5; }
svg.graph .badge text { fill: #fff; font-size: 10px; font-weight: 700; text-anchor: middle; }
svg.graph.focus .edge path { stroke-opacity: .12; }
svg.graph.focus .node { opacity: .35; }
svg.graph.focus .edge.hi path { stroke: #1d4ed8; stroke-opacity: .95; }
svg.graph.focus .node.hi { opacity: 1; }
svg.graph.focus .edge-label { display: none; }
svg.graph.focus .edge-label.hi { display: inline; fill: #1d4ed8; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; color: #334155; margin: 8px 0 0; align-items: center; }
.legend svg { vertical-align: middle; }
svg.timeline { display: block; font-family: inherit; }
svg.timeline .row-bg { fill: #f8fafc; }
svg.timeline .row-label { text-anchor: end; fill: #334155; }
svg.timeline .row-total { text-anchor: end; fill: #64748b; font-variant-numeric: tabular-nums; }
svg.timeline .axis line { stroke: #94a3b8; }
svg.timeline .axis text { fill: #475569; }
svg.timeline .axis .axis-caption { fill: var(--muted); }
.tip { position: fixed; z-index: 10; pointer-events: none; background: #0f172a; color: #f8fafc; font-size: 12px; padding: 3px 7px; border-radius: 4px; white-space: nowrap; }
details summary { cursor: pointer; color: var(--accent); font-size: 12px; }
ol.top { margin: 2px 0; padding-left: 0; list-style: none; }
ol.top li { margin: 1px 0; }
ol.top .count { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 8px 0 24px; }
@media print { .controls, nav.toc { display: none; } .scroll, .graph-wrap { max-height: none; overflow: visible; } }
`;

import type { ReportData } from './data.js';

/**
 * The report as one self-contained HTML page: data embedded as JSON, styles and the drawing script inline,
 * SVG drawn in the browser. No network, no external files: it opens from disk anywhere.
 */
export function renderReport(data: ReportData): string {
  // `<` escaped so no string in the data can close the script element.
  const json = JSON.stringify(data).replaceAll('<', '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>xray-lake report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>xray-lake</h1>
  <p id="period"></p>
</header>
<section id="summary" class="cards"></section>
<section>
  <h2>Service graph</h2>
  <p class="note">Callers left, callees right, from the <code>service_edges</code> view. Red: root cause of an insight; amber: anomalous in one; green: no insight. Edge width grows with calls.</p>
  <svg id="graph" role="img" aria-label="service graph"></svg>
</section>
<section>
  <h2>Insights</h2>
  <table id="insights"><thead><tr><th>root cause</th><th>categories</th><th>start</th><th>end</th><th>summary</th><th>services</th><th>sample traces</th><th>against the labels</th></tr></thead><tbody></tbody></table>
</section>
<section id="incidents-section">
  <h2>Labelled incidents</h2>
  <table id="incidents"><thead><tr><th>incident</th><th>service</th><th>category</th><th>start</th><th>end</th><th>outcome</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>p95 latency and fault rate per service</h2>
  <p class="note">Hourly, from the <code>service_latency</code> and <code>service_faults</code> views. Shaded: insights the service took part in.</p>
  <div id="series"></div>
</section>
<section>
  <h2>Waterfall</h2>
  <p class="note" id="waterfall-why"></p>
  <div id="waterfall"></div>
</section>
<footer id="footer"></footer>
<script type="application/json" id="data">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d8dde6; --bg:#f6f7fa; --ok:#2e8b57; --warn:#d98e04; --bad:#c62828; --p95:#3559c7; --fault:#c62828; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0 24px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 18px 0 6px; }
h1 { margin: 0; font-size: 22px; } h2 { font-size: 16px; margin: 28px 0 6px; }
#period, .note, footer { color: var(--muted); margin: 4px 0; }
section { max-width: 1400px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
td.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; background: #eef1f6; margin: 0 3px 3px 0; }
.bad { color: var(--bad); font-weight: 600; } .ok { color: var(--ok); font-weight: 600; }
svg { background: #fff; border: 1px solid var(--line); border-radius: 8px; }
#series { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.chart-title { font-weight: 600; margin: 0 0 2px; }
.wf-row { display: grid; grid-template-columns: 320px 1fr 70px; align-items: center; gap: 8px; font-size: 12px; }
.wf-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wf-track { position: relative; height: 14px; background: #eef1f6; border-radius: 3px; }
.bar { position: absolute; top: 2px; height: 10px; border-radius: 2px; background: var(--p95); min-width: 2px; }
.bar.fault { background: var(--bad); } .bar.error { background: var(--warn); } .bar.inferred { background: #8a94a8; }
`;

// Plain browser JavaScript (no modules, no network): draws from the embedded JSON.
const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(tag, attrs, parent, text) {
    var node = tag.indexOf('svg:') === 0 ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function iso(t) { return typeof t === 'string' ? t.slice(0, 16).replace('T', ' ') : new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' '); }
  function pct(x) { return x === null || x === undefined ? '-' : x.toFixed(2) + '%'; }
  function ms(x) { return x === null || x === undefined ? '-' : (x * 1000).toFixed(0) + ' ms'; }

  document.getElementById('period').textContent = iso(data.from) + ' to ' + iso(data.to) + ' UTC · lake ' + data.lakeRoot;
  var summary = document.getElementById('summary');
  function card(label, value) { var c = el('div', { 'class': 'card' }, summary); el('b', {}, c, value); el('span', {}, c, label); }
  card('traces archived', data.traces.toLocaleString('en-US'));
  card('services', String(data.services.length));
  card('insights', String(data.insights.length));
  if (data.scores) {
    card('recall on labelled incidents', Math.round(100 * data.scores.recall) + '%');
    card('precision of insights', Math.round(100 * data.scores.precision) + '%');
    card('median time to detect', data.scores.medianDelayBuckets === null ? '-' : data.scores.medianDelayBuckets + ' × 5 min');
  }

  // Service graph: layered left to right by the longest call path from an entry service.
  var health = {};
  data.insights.forEach(function (i) {
    i.services.forEach(function (s) { if (health[s] !== 'root') health[s] = 'member'; });
    health[i.root] = 'root';
  });
  var names = data.services.map(function (s) { return s.service; });
  data.edges.forEach(function (e) { [e.caller, e.callee].forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); }); });
  var depth = {};
  names.forEach(function (n) { depth[n] = 0; });
  for (var pass = 0; pass < names.length; pass++)
    data.edges.forEach(function (e) { if (e.caller !== e.callee && depth[e.callee] < depth[e.caller] + 1) depth[e.callee] = Math.min(depth[e.caller] + 1, names.length); });
  var columns = {};
  names.forEach(function (n) { (columns[depth[n]] = columns[depth[n]] || []).push(n); });
  var layers = Object.keys(columns).map(Number).sort(function (a, b) { return a - b; });
  var rows = Math.max.apply(null, layers.map(function (l) { return columns[l].length; }).concat([1]));
  var W = Math.max(700, layers.length * 230), H = Math.max(160, rows * 90 + 40);
  var graph = document.getElementById('graph');
  graph.setAttribute('viewBox', '0 0 ' + W + ' ' + H); graph.setAttribute('width', W); graph.setAttribute('height', H);
  var pos = {};
  layers.forEach(function (l, li) {
    columns[l].forEach(function (n, i) { pos[n] = { x: 90 + li * ((W - 180) / Math.max(1, layers.length - 1)), y: (H / (columns[l].length + 1)) * (i + 1) }; });
  });
  var defs = el('svg:defs', {}, graph);
  var marker = el('svg:marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '9', markerHeight: '9', markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
  el('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8a94a8' }, marker);
  var maxCalls = Math.max.apply(null, data.edges.map(function (e) { return e.calls; }).concat([1]));
  data.edges.forEach(function (e) {
    var a = pos[e.caller], b = pos[e.callee];
    if (!a || !b || e.caller === e.callee) return;
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
    var line = el('svg:line', { 'class': 'edge', x1: a.x + dx / len * 22, y1: a.y + dy / len * 22, x2: b.x - dx / len * 24, y2: b.y - dy / len * 24,
      stroke: e.faults > 0.01 * e.calls ? '#e08a8a' : '#aab2c2', 'stroke-width': 1 + 4 * e.calls / maxCalls, 'marker-end': 'url(#arrow)' }, graph);
    el('svg:title', {}, line, e.caller + ' → ' + e.callee + ': ' + e.calls.toLocaleString('en-US') + ' calls, ' + e.faults + ' faults');
  });
  var byName = {};
  data.services.forEach(function (s) { byName[s.service] = s; });
  names.forEach(function (n) {
    var p = pos[n], s = byName[n], h = health[n];
    var g = el('svg:g', { 'class': 'node', transform: 'translate(' + p.x + ',' + p.y + ')' }, graph);
    el('svg:circle', { r: 20, fill: h === 'root' ? '#c62828' : h === 'member' ? '#d98e04' : '#2e8b57', stroke: '#fff', 'stroke-width': 2 }, g);
    el('svg:text', { y: 36, 'text-anchor': 'middle', 'font-size': 12 }, g, n);
    if (s) el('svg:text', { y: 50, 'text-anchor': 'middle', 'font-size': 10, fill: '#5b6475' }, g, 'p95 ' + ms(s.p95) + ' · faults ' + pct(s.faultPct));
    el('svg:title', {}, g, n + (h ? ' (' + (h === 'root' ? 'root cause of an insight' : 'anomalous in an insight') + ')' : ''));
  });

  // Insight table.
  var tbody = document.querySelector('#insights tbody');
  if (data.insights.length === 0) el('td', { colspan: 8 }, el('tr', {}, tbody), 'No insight over the period.');
  data.insights.forEach(function (i) {
    var tr = el('tr', { 'class': 'insight', 'data-id': i.id }, tbody);
    el('td', { 'class': 'bad' }, tr, i.root);
    var cats = el('td', {}, tr); i.categories.forEach(function (c) { el('span', { 'class': 'tag' }, cats, c); });
    el('td', {}, tr, iso(i.start));
    el('td', {}, tr, i.end ? iso(i.end) : 'open');
    el('td', {}, tr, i.summary);
    el('td', {}, tr, i.services.join(', '));
    el('td', { 'class': 'mono' }, tr, i.samples.slice(0, 3).join(' '));
    el('td', { 'class': i.verdict && i.verdict.indexOf('detected') === 0 ? 'ok' : '' }, tr, i.verdict || '');
  });
  var ibody = document.querySelector('#incidents tbody');
  if (data.incidents.length === 0) document.getElementById('incidents-section').style.display = 'none';
  data.incidents.forEach(function (i) {
    var tr = el('tr', {}, ibody);
    [i.name, i.service, i.category, iso(i.start), iso(i.end)].forEach(function (v) { el('td', {}, tr, v); });
    el('td', { 'class': /missed|false/.test(i.outcome) ? 'bad' : 'ok' }, tr, i.outcome);
  });

  // Series: one small chart per service and metric, insight windows shaded.
  var seriesBox = document.getElementById('series');
  var t0 = Date.parse(data.from) / 1000, t1 = Date.parse(data.to) / 1000;
  function chart(s, values, title, cls, unit) {
    var box = el('div', { 'class': 'chart-box' }, seriesBox);
    el('p', { 'class': 'chart-title' }, box, s.service + ' · ' + title);
    var w = 420, h = 120, pad = 30;
    var svg = el('svg:svg', { 'class': 'chart', width: w, height: h, viewBox: '0 0 ' + w + ' ' + h }, box);
    var max = Math.max.apply(null, values.filter(function (v) { return v !== null; }).concat([1e-9]));
    function X(t) { return pad + (w - pad - 6) * (t - t0) / Math.max(1, t1 - t0); }
    function Y(v) { return h - 16 - (h - 28) * v / max; }
    data.insights.forEach(function (i) {
      if (i.services.indexOf(s.service) < 0) return;
      var a = X(Date.parse(i.start) / 1000), b = X(i.end ? Date.parse(i.end) / 1000 : t1);
      el('svg:rect', { 'class': 'insight-window', x: a, y: 8, width: Math.max(3, b - a), height: h - 24, fill: i.root === s.service ? '#f6c9c9' : '#fbe3b5' }, svg);
    });
    el('svg:line', { x1: pad, x2: w - 6, y1: h - 16, y2: h - 16, stroke: '#d8dde6' }, svg);
    var d = '', pen = false;
    values.forEach(function (v, k) {
      if (v === null) { pen = false; return; }
      d += (pen ? ' L ' : ' M ') + X(s.hours[k]).toFixed(1) + ' ' + Y(v).toFixed(1); pen = true;
    });
    el('svg:path', { 'class': cls, d: d.trim() || 'M 0 0', fill: 'none', stroke: cls === 'p95' ? '#3559c7' : '#c62828', 'stroke-width': 1.5 }, svg);
    el('svg:text', { x: 2, y: 14, 'font-size': 10, fill: '#5b6475' }, svg, unit(max));
    el('svg:text', { x: pad, y: h - 3, 'font-size': 10, fill: '#5b6475' }, svg, iso(t0).slice(5));
    el('svg:text', { x: w - 6, y: h - 3, 'font-size': 10, fill: '#5b6475', 'text-anchor': 'end' }, svg, iso(t1).slice(5));
  }
  data.series.forEach(function (s) {
    chart(s, s.p95, 'p95', 'p95', ms);
    chart(s, s.faultRate, 'fault rate', 'fault', function (v) { return v.toFixed(1) + '%'; });
  });

  // Waterfall of one trace.
  var wf = document.getElementById('waterfall');
  if (!data.waterfall) { wf.textContent = 'No trace to show.'; }
  else {
    var segs = data.waterfall.segments;
    document.getElementById('waterfall-why').textContent = 'Trace ' + data.waterfall.traceId + ': ' + data.waterfall.why + '.';
    var s0 = Math.min.apply(null, segs.map(function (x) { return x.start; }));
    var s1 = Math.max.apply(null, segs.map(function (x) { return x.end; }));
    var span = Math.max(1e-6, s1 - s0);
    segs.forEach(function (x) {
      var row = el('div', { 'class': 'wf-row' }, wf);
      el('div', { 'class': 'wf-name', style: 'padding-left:' + (x.depth * 14) + 'px', title: x.service + ' / ' + x.name }, row, (x.kind === 'segment' || x.kind === 'inferred' ? x.service : x.name));
      var track = el('div', { 'class': 'wf-track' }, row);
      el('div', { 'class': 'bar' + (x.fault ? ' fault' : x.error || x.throttle ? ' error' : '') + (x.kind === 'inferred' ? ' inferred' : ''),
        // A zero-length span still shows (min-width), kept inside its track at the right edge.
        style: 'left:min(' + (100 * (x.start - s0) / span).toFixed(2) + '%, calc(100% - 2px));width:' + (100 * (x.end - x.start) / span).toFixed(2) + '%',
        title: x.name + ' ' + ((x.end - x.start) * 1000).toFixed(1) + ' ms' }, track);
      el('div', {}, row, ((x.end - x.start) * 1000).toFixed(1) + ' ms');
    });
  }
  document.getElementById('footer').textContent = 'Generated ' + iso(data.generatedAt) + ' UTC by xray-lake demo. Self-contained: no network.';
  document.body.setAttribute('data-drawn', 'true');
})();
`;

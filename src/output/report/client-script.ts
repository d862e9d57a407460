// The page's only script (vanilla, no framework; pinned by hash in the page's Content-Security-Policy):
// builds the alerts table from the embedded JSON (text only, never markup), sorts and filters
// tables, highlights a node's edges in the graph, toggles edge labels and zooms the graph.
export const CLIENT_SCRIPT = `
(function () {
  'use strict';
  var dataEl = document.getElementById('report-data');
  var data = dataEl ? JSON.parse(dataEl.textContent || '{}') : {};

  function cell(tr, text, cls, sortKey) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    if (sortKey !== undefined) td.setAttribute('data-sort', String(sortKey));
    if (text !== null && typeof text === 'object') td.appendChild(text); else td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function span(text, cls) {
    var s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }
  function stack(main, sub) {
    var f = document.createDocumentFragment();
    f.appendChild(document.createTextNode(main));
    if (sub) { f.appendChild(document.createElement('br')); f.appendChild(span(sub, 'muted small')); }
    return f;
  }

  // ---- alerts table: rows from JSON, columns named in data.alerts.columns
  var alerts = data.alerts;
  var body = document.getElementById('alerts-body');
  if (alerts && body) {
    var c = {};
    alerts.columns.forEach(function (name, i) { c[name] = i; });
    var levels = alerts.levels;
    alerts.rows.forEach(function (r) {
      var tr = document.createElement('tr');
      var level = r[c.level];
      var rank = levels.indexOf(level);
      cell(tr, span(level || '?', 'level level-' + level), '', rank === -1 ? levels.length : rank);
      cell(tr, stack(r[c.rule_title] || r[c.rule_id], r[c.rule_title] ? r[c.rule_id] : ''), '', r[c.rule_title] || r[c.rule_id]);
      cell(tr, stack(r[c.svc] || 'unattributed', r[c.svc_namespace]), r[c.svc] ? '' : 'muted', r[c.svc]);
      cell(tr, r[c.pod], 'mono small');
      cell(tr, stack(r[c.pid] ? 'pid ' + r[c.pid] : '', r[c.exe]), 'small', Number(r[c.pid]) || 0);
      cell(tr, r[c.command_line], 'cmd mono');
      cell(tr, r[c.target], 'mono small wrap');
      var t = Number(r[c.time]);
      cell(tr, isFinite(t) && r[c.time] !== '' ? new Date(t * 1000).toISOString().replace('T', ' ').replace('Z', '') : r[c.time], 'small', isFinite(t) ? t : 0);
      cell(tr, r[c.matched], 'mono small wrap');
      tr.setAttribute('data-level', level);
      tr.setAttribute('data-text', r.join('\\u0001').toLowerCase());
      body.appendChild(tr);
    });
    var filter = document.getElementById('alert-filter');
    var levelSel = document.getElementById('alert-level');
    var count = document.getElementById('alerts-count');
    var apply = function () {
      var q = (filter.value || '').toLowerCase().trim();
      var lv = levelSel.value;
      var shown = 0;
      Array.prototype.forEach.call(body.rows, function (tr) {
        var ok = (!lv || tr.getAttribute('data-level') === lv) && (!q || tr.getAttribute('data-text').indexOf(q) !== -1);
        tr.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + body.rows.length + ' shown';
    };
    filter.addEventListener('input', apply);
    levelSel.addEventListener('change', apply);
    apply();
  }

  // ---- sortable tables: click a header; numbers by data-sort or value, text otherwise
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var dir = th.classList.contains('asc') ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove('asc', 'desc'); });
        th.classList.add(dir === 1 ? 'asc' : 'desc');
        var tbody = table.tBodies[0];
        var rows = Array.prototype.slice.call(tbody.rows);
        var key = function (tr) {
          var td = tr.cells[col];
          if (!td) return '';
          var k = td.getAttribute('data-sort');
          return k !== null ? k : td.textContent.trim();
        };
        var numeric = rows.every(function (tr) { var k = key(tr); return k === '' || isFinite(Number(k.replace(/,/g, ''))); });
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (numeric) return dir * ((Number(x.replace(/,/g, '')) || 0) - (Number(y.replace(/,/g, '')) || 0));
          return dir * x.localeCompare(y);
        });
        rows.forEach(function (tr) { tbody.appendChild(tr); });
      });
    });
  });

  // ---- graph: hover a node to see its edges; edge labels toggle; zoom
  var svg = document.getElementById('flow-graph');
  if (svg) {
    var parts = svg.querySelectorAll('.edge, .edge-label');
    var nodes = svg.querySelectorAll('.node');
    Array.prototype.forEach.call(nodes, function (node) {
      node.addEventListener('mouseenter', function () {
        var id = node.getAttribute('data-id');
        var linked = {};
        linked[id] = true;
        svg.classList.add('focus');
        Array.prototype.forEach.call(parts, function (e) {
          var hit = e.getAttribute('data-from') === id || e.getAttribute('data-to') === id;
          e.classList.toggle('hi', hit);
          if (hit) { linked[e.getAttribute('data-from')] = true; linked[e.getAttribute('data-to')] = true; }
        });
        Array.prototype.forEach.call(nodes, function (n) { n.classList.toggle('hi', !!linked[n.getAttribute('data-id')]); });
      });
      node.addEventListener('mouseleave', function () { svg.classList.remove('focus'); });
    });
    var toggle = document.getElementById('toggle-edge-labels');
    if (toggle) {
      toggle.checked = svg.classList.contains('show-edge-labels');
      toggle.addEventListener('change', function () { svg.classList.toggle('show-edge-labels', toggle.checked); });
    }
    // 100 % = as drawn, or fitted to the page when wider; the slider scales from there.
    var zoom = document.getElementById('graph-zoom');
    var w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
    if (zoom) zoom.addEventListener('input', function () {
      var fit = Math.min(w, svg.parentNode.clientWidth || w) / w;
      var k = fit * Number(zoom.value) / 100;
      svg.style.maxWidth = 'none';
      svg.setAttribute('width', String(Math.round(w * k)));
      svg.setAttribute('height', String(Math.round(h * k)));
    });
  }

  // ---- timeline: the count of the cell under the pointer
  var tl = document.getElementById('timeline-chart');
  var tip = document.getElementById('timeline-tip');
  if (tl && tip && data.timeline) {
    var labelW = Number(tl.getAttribute('data-label-w')), plotW = Number(tl.getAttribute('data-plot-w')), rowH = Number(tl.getAttribute('data-row-h'));
    var rowsT = data.timeline.rows;
    tl.addEventListener('mousemove', function (e) {
      var m = tl.getScreenCTM();
      if (!m) return;
      var p = tl.createSVGPoint();
      p.x = e.clientX; p.y = e.clientY;
      p = p.matrixTransform(m.inverse());
      var row = rowsT[Math.floor(p.y / rowH)];
      var n = row ? row.buckets.length : 0;
      var i = Math.floor((p.x - labelW) / (plotW / (n || 1)));
      if (!row || i < 0 || i >= n) { tip.hidden = true; return; }
      var t0 = data.timeline.start + i * data.timeline.bucketSeconds;
      var iso = function (t) { return new Date(t * 1000).toISOString().slice(11, 19); };
      tip.textContent = row.label + ' \u00b7 ' + iso(t0) + '\u2013' + iso(t0 + data.timeline.bucketSeconds) + ' UTC: ' + row.buckets[i] + ' edges';
      tip.style.left = (e.clientX + 12) + 'px';
      tip.style.top = (e.clientY + 12) + 'px';
      tip.hidden = false;
    });
    tl.addEventListener('mouseleave', function () { tip.hidden = true; });
  }
})();
`;

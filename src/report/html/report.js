// logtriage report: sorting, filtering and the timeline's links. Only DOM APIs and
// textContent: no text from the logs is ever parsed as HTML.
(function () {
  "use strict";
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById("data").textContent);
  var rows = data.findings;
  var PAGE = data.page;
  var table = document.getElementById("findings-table");
  // The row groups drawn so far, by finding: the page's markup holds the first PAGE ones;
  // the script draws the others from the data when a page shows them.
  var byIndex = [];
  if (table) Array.prototype.forEach.call(table.tBodies, function (b) { byIndex[Number(b.dataset.i)] = b; });
  // Every finding in the markup: filtering hides rows and sorting reorders them. Otherwise
  // the table holds one page of the filtered, sorted findings at a time.
  var whole = rows.length <= PAGE;
  var byFp = {};
  rows.forEach(function (r, i) { if (!(r.fingerprint in byFp)) byFp[r.fingerprint] = i; });
  var controls = {
    severity: document.getElementById("f-severity"),
    host: document.getElementById("f-host"),
    component: document.getElementById("f-component"),
    status: document.getElementById("f-status"),
    q: document.getElementById("f-text")
  };
  var pagers = Array.prototype.slice.call(document.querySelectorAll("div.pager"));
  // Default directions: worst, most and latest first for those; A to Z for the rest.
  var descending = { count: true, last: true };
  var state = { sort: "", dir: "", page: 0 };
  // The findings the filters let through, in the table's order (the report's to start with).
  var view = rows.map(function (_, i) { return i; });

  function key(r, k) {
    switch (k) {
      case "severity": return r.rank;
      case "count": return r.count;
      case "first": return r.first === null ? Infinity : r.first;
      case "last": return r.last === null ? -Infinity : r.last;
      default: return (r[k] === null || r[k] === undefined) ? "" : String(r[k]).toLowerCase();
    }
  }

  function isDesc(k) { return state.dir ? state.dir === "desc" : !!descending[k]; }

  // Every finding's index, in the order the sort asks for (ties in the report's order).
  function order() {
    var k = state.sort;
    var idx = rows.map(function (_, i) { return i; });
    if (!k) return idx;
    var keys = rows.map(function (r) { return key(r, k); });
    var desc = isDesc(k);
    idx.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (desc) c = -c;
      return c || a - b;
    });
    return idx;
  }

  function value(c) { return c ? c.value : ""; }

  function matcher() {
    var sev = value(controls.severity), host = value(controls.host);
    var comp = value(controls.component), status = value(controls.status);
    var q = value(controls.q).trim().toLowerCase();
    return function (r) {
      return (!sev || r.severity === sev) &&
        (!host || (host === "-" ? r.host === null : r.host === host)) &&
        (!comp || r.component === comp) &&
        (!status || r.status === status) &&
        (!q || [r.title, r.summary, r.rule, r.fingerprint, r.service, r.host]
          .some(function (s) { return s && String(s).toLowerCase().indexOf(q) >= 0; }));
    };
  }

  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // The table as the state says: filtered, sorted, and the page asked for.
  function render() {
    var r0 = performance.now();
    var ok = matcher();
    var all = order();
    view = all.filter(function (i) { return ok(rows[i]); });
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var frag = document.createDocumentFragment();
    if (whole) {
      var shownSet = {};
      view.forEach(function (i) { shownSet[i] = true; });
      all.forEach(function (i) {
        byIndex[i].hidden = !shownSet[i];
        frag.appendChild(byIndex[i]);
      });
    } else {
      var from = state.page * PAGE;
      var page = view.slice(from, from + PAGE);
      Array.prototype.slice.call(table.tBodies).forEach(function (b) { table.removeChild(b); });
      page.forEach(function (i) {
        var b = byIndex[i] || (byIndex[i] = build(i));
        b.hidden = false;
        frag.appendChild(b);
      });
      pagers.forEach(function (p) {
        p.hidden = view.length <= PAGE;
        p.querySelector(".p-range").textContent = view.length
          ? fmt(from + 1) + "–" + fmt(from + page.length) + " of " + fmt(view.length)
          : "none of " + fmt(rows.length);
        p.querySelector('[data-go="prev"]').disabled = state.page === 0;
        p.querySelector('[data-go="next"]').disabled = state.page >= pages - 1;
      });
    }
    table.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-sort]"), function (th) {
      var on = th.dataset.sort === state.sort;
      th.setAttribute("aria-sort", on ? (isDesc(state.sort) ? "descending" : "ascending") : "none");
    });
    var c = document.getElementById("shown-count");
    if (c) c.textContent = view.length === rows.length ? String(rows.length) : view.length + " of " + rows.length;
    document.body.dataset.renderMs = String(Math.round(performance.now() - r0));
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  // A finding's row group past the markup's, as the template draws it (same classes, cells
  // and attributes), its evidence and runbook drawn when opened.
  var hasStatus = !!(table && table.tHead.querySelector('th[data-sort="status"]'));
  function build(i) {
    var r = rows[i], d = data.details[i] || {};
    var b = el("tbody", null, "finding");
    b.id = "f-" + r.fingerprint;
    b.dataset.i = String(i);
    b.dataset.fp = r.fingerprint;
    b.dataset.severity = r.severity;
    b.dataset.host = r.host === null ? "-" : r.host;
    b.dataset.component = r.component;
    var tr = el("tr", null, "row");
    function cell(cls) { var td = el("td", null, cls); tr.appendChild(td); return td; }
    function add(td, tag, text, cls) { td.appendChild(el("br")); td.appendChild(el(tag, text, cls)); }
    var td = cell();
    td.appendChild(el("span", r.severity, "sev sev-" + r.severity));
    if (d.phase) add(td, "span", d.phase, "phase");
    if (hasStatus) cell("status status-" + (r.status || "")).textContent = r.status || "";
    td = cell();
    td.appendChild(el("strong", r.title));
    if (r.summary !== r.title) { td.appendChild(el("br")); td.appendChild(document.createTextNode(r.summary)); }
    td = cell();
    td.textContent = r.component;
    add(td, "span", d.layer, "layer");
    cell().textContent = r.host || "";
    td = cell();
    td.textContent = r.service || "";
    if (d.container) add(td, "code", d.container);
    cell("n").textContent = String(r.count);
    cell("t").textContent = d.first_seen || "";
    cell("t").textContent = d.last_seen || "";
    td = cell();
    td.appendChild(el("code", r.rule));
    add(td, "code", r.fingerprint, "fp");
    b.appendChild(tr);
    var more = el("tr", null, "more");
    var wide = el("td");
    wide.colSpan = table.tHead.rows[0].cells.length;
    var det = el("details");
    var rb = data.runbooks[r.rule] || { steps: [] };
    det.appendChild(el("summary", "Evidence (" + d.ev + (r.count > d.ev ? " of " + r.count : "") +
      ") and runbook (" + rb.steps.length + " steps)"));
    var lazy = el("div", null, "lazy");
    lazy.dataset.i = String(i);
    det.appendChild(lazy);
    wide.appendChild(det);
    more.appendChild(wide);
    b.appendChild(more);
    return b;
  }

  // The state lives in the URL's hash: #severity=high&host=node1&sort=count&dir=desc
  function readHash() {
    var h = location.hash.replace(/^#/, "");
    if (!h || h.indexOf("=") < 0) return false;
    var p = new URLSearchParams(h);
    ["severity", "host", "component", "status", "q"].forEach(function (k) {
      var c = controls[k];
      if (!c) return;
      var v = p.get(k) || "";
      if (c.tagName === "SELECT" && v && !Array.prototype.some.call(c.options, function (o) { return o.value === v; })) {
        // A value the page does not list: nothing matches it.
        var o = document.createElement("option");
        o.value = v;
        o.textContent = v;
        c.appendChild(o);
      }
      c.value = v;
    });
    state.sort = p.get("sort") || "";
    state.dir = p.get("dir") || "";
    state.page = Math.max(0, (parseInt(p.get("page"), 10) || 1) - 1);
    return true;
  }

  function writeHash() {
    var p = new URLSearchParams();
    ["severity", "host", "component", "status", "q"].forEach(function (k) {
      var v = value(controls[k]);
      if (v) p.set(k, v);
    });
    if (state.sort) p.set("sort", state.sort);
    if (state.dir) p.set("dir", state.dir);
    if (state.page) p.set("page", String(state.page + 1));
    var s = p.toString();
    history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
  }

  function refresh() { state.page = 0; render(); writeHash(); }

  if (table) {
    table.tHead.addEventListener("click", function (ev) {
      var th = ev.target.closest("th[data-sort]");
      if (!th) return;
      var k = th.dataset.sort;
      if (state.sort === k) {
        var d = state.dir ? state.dir === "desc" : !!descending[k];
        state.dir = d ? "asc" : "desc";
      } else {
        state.sort = k;
        state.dir = "";
      }
      refresh();
    });
    Object.keys(controls).forEach(function (k) {
      var c = controls[k];
      if (c) c.addEventListener(c.tagName === "SELECT" ? "change" : "input", refresh);
    });
    var clear = document.getElementById("f-clear");
    if (clear) clear.addEventListener("click", function () {
      Object.keys(controls).forEach(function (k) { if (controls[k]) controls[k].value = ""; });
      state.sort = "";
      state.dir = "";
      refresh();
    });
    pagers.forEach(function (p) {
      p.addEventListener("click", function (ev) {
        var go = ev.target.closest("button[data-go]");
        if (!go || go.disabled) return;
        state.page += go.dataset.go === "next" ? 1 : -1;
        render();
        writeHash();
        if (p.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_PRECEDING) table.scrollIntoView();
      });
    });
  }

  // The evidence and runbook of a finding past the markup's, drawn (as text) when opened.
  function fill(div) {
    var d = data.details && data.details[div.dataset.i];
    if (!d || div.dataset.filled) return;
    div.dataset.filled = "1";
    if (d.threshold) div.appendChild(el("p", "Reported because " + d.threshold.count + " or more occurred within " + d.threshold.within + ".", "note"));
    var keys = d.fields ? Object.keys(d.fields) : [];
    if (keys.length) {
      var p = el("p", null, "fields");
      keys.forEach(function (k) { p.appendChild(el("code", k + "=" + d.fields[k])); p.appendChild(document.createTextNode(" ")); });
      div.appendChild(p);
    }
    d.evidence.forEach(function (e) {
      var box = el("div", null, "ev");
      var at = el("div", null, "ev-at");
      at.appendChild(el("code", e[0]));
      box.appendChild(at);
      box.appendChild(el("pre", e[1]));
      div.appendChild(box);
    });
    if (d.files) div.appendChild(el("p", d.files, "note"));
    var rb = data.runbooks[d.rule] || { steps: [], references: [] };
    div.appendChild(el("h4", "Runbook"));
    var ol = el("ol", null, "steps");
    rb.steps.forEach(function (s) { ol.appendChild(el("li", s)); });
    div.appendChild(ol);
    if (rb.references && rb.references.length) div.appendChild(el("p", "References: " + rb.references.join("; "), "refs"));
  }
  if (table) table.addEventListener("toggle", function (ev) {
    var lazy = ev.target.querySelector && ev.target.querySelector("div.lazy");
    if (lazy && ev.target.open) fill(lazy);
  }, true);

  // Show a finding's row: clear the filters hiding it, open it, highlight it, scroll to it.
  var lit = null;
  function show(fp) {
    var i = byFp[fp];
    if (i === undefined || !table) return;
    if (view.indexOf(i) < 0) {
      Object.keys(controls).forEach(function (k) { if (controls[k]) controls[k].value = ""; });
      refresh();
    }
    var page = Math.floor(view.indexOf(i) / PAGE);
    if (!whole && page !== state.page) {
      state.page = page;
      render();
      writeHash();
    }
    var b = byIndex[i];
    if (lit) lit.classList.remove("hl");
    lit = b;
    b.classList.add("hl");
    var d = b.querySelector("details");
    if (d) {
      d.open = true;
      var lazy = d.querySelector("div.lazy");
      if (lazy) fill(lazy);
    }
    b.scrollIntoView({ block: "center" });
  }

  var svg = document.getElementById("tl");
  var selected = [];
  if (svg) svg.addEventListener("click", function (ev) {
    var m = ev.target.closest("rect.mark");
    if (!m) return;
    selected.forEach(function (x) { x.classList.remove("sel"); });
    selected = Array.prototype.slice.call(svg.querySelectorAll("rect.mark")).filter(function (x) {
      return x.dataset.fp === m.dataset.fp;
    });
    selected.forEach(function (x) { x.classList.add("sel"); });
    show(m.dataset.fp);
  });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a.goto");
    if (!a) return;
    ev.preventDefault();
    show(a.dataset.fp);
  });

  if (table && readHash()) render();
  // A link to a finding (#f-FINGERPRINT) shows it, wherever its row is.
  var linked = location.hash.match(/^#f-(.+)$/);
  if (linked && byFp[linked[1]] !== undefined) show(linked[1]);
  window.addEventListener("hashchange", function () {
    if (table && readHash()) render();
  // A link to a finding (#f-FINGERPRINT) shows it, wherever its row is.
  var linked = location.hash.match(/^#f-(.+)$/);
  if (linked && byFp[linked[1]] !== undefined) show(linked[1]);
  });

  document.body.dataset.pwned = String(!!window.__pwned);
  document.body.dataset.scriptMs = String(Math.round(performance.now() - t0));
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "1";
})();

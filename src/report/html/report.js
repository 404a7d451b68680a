// logtriage report: sorting, filtering and the timeline's links. Only DOM APIs and
// textContent: no text from the logs is ever parsed as HTML.
(function () {
  "use strict";
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById("data").textContent);
  var rows = data.findings;
  var table = document.getElementById("findings-table");
  var bodies = table ? Array.prototype.slice.call(table.tBodies) : [];
  var byIndex = [];
  bodies.forEach(function (b) { byIndex[Number(b.dataset.i)] = b; });
  var controls = {
    severity: document.getElementById("f-severity"),
    host: document.getElementById("f-host"),
    component: document.getElementById("f-component"),
    status: document.getElementById("f-status"),
    q: document.getElementById("f-text")
  };
  // Default directions: worst, most and latest first for those; A to Z for the rest.
  var descending = { count: true, last: true };
  var state = { sort: "", dir: "" };

  function key(r, k) {
    switch (k) {
      case "severity": return r.rank;
      case "count": return r.count;
      case "first": return r.first === null ? Infinity : r.first;
      case "last": return r.last === null ? -Infinity : r.last;
      default: return (r[k] === null || r[k] === undefined) ? "" : String(r[k]).toLowerCase();
    }
  }

  function applySort() {
    var k = state.sort;
    var idx = rows.map(function (_, i) { return i; });
    if (k) {
      var desc = state.dir ? state.dir === "desc" : !!descending[k];
      idx.sort(function (a, b) {
        var x = key(rows[a], k), y = key(rows[b], k);
        var c = x < y ? -1 : x > y ? 1 : 0;
        if (desc) c = -c;
        return c || a - b;
      });
    }
    var frag = document.createDocumentFragment();
    idx.forEach(function (i) { if (byIndex[i]) frag.appendChild(byIndex[i]); });
    table.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-sort]"), function (th) {
      var on = th.dataset.sort === k;
      var d = state.dir ? state.dir === "desc" : !!descending[k];
      th.setAttribute("aria-sort", on ? (d ? "descending" : "ascending") : "none");
    });
  }

  function value(c) { return c ? c.value : ""; }

  function applyFilter() {
    var sev = value(controls.severity), host = value(controls.host);
    var comp = value(controls.component), status = value(controls.status);
    var q = value(controls.q).trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!sev || r.severity === sev) &&
        (!host || (host === "-" ? r.host === null : r.host === host)) &&
        (!comp || r.component === comp) &&
        (!status || r.status === status) &&
        (!q || [r.title, r.summary, r.rule, r.fingerprint, r.service, r.host]
          .some(function (s) { return s && String(s).toLowerCase().indexOf(q) >= 0; }));
      if (byIndex[i]) byIndex[i].hidden = !ok;
      if (ok) shown++;
    });
    var c = document.getElementById("shown-count");
    if (c) c.textContent = shown === rows.length ? String(rows.length) : shown + " of " + rows.length;
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
    var s = p.toString();
    history.replaceState(null, "", s ? "#" + s : location.pathname + location.search);
  }

  function refresh() { applyFilter(); writeHash(); }

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
      applySort();
      writeHash();
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
      applySort();
      refresh();
    });
  }

  // The evidence and runbook of a finding past the first ones, drawn (as text) when opened.
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
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
    var b = document.getElementById("f-" + fp);
    if (!b) return;
    if (b.hidden) {
      Object.keys(controls).forEach(function (k) { if (controls[k]) controls[k].value = ""; });
      refresh();
    }
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

  if (table && readHash()) {
    applySort();
    applyFilter();
  }
  window.addEventListener("hashchange", function () {
    if (table && readHash()) { applySort(); applyFilter(); }
  });

  document.body.dataset.pwned = String(!!window.__pwned);
  document.body.dataset.scriptMs = String(Math.round(performance.now() - t0));
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "1";
})();

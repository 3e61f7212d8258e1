/* The loopscope dashboard: everything it shows comes from the JSON API (/openapi.json); it computes
 * nothing itself. Every text from the data is set with textContent, never as HTML. */
(function () {
  "use strict";

  var state = {
    lang: "en", L: {}, meta: null, parties: [], asOf: null, days: [], network: null, graph: null,
    selectedDeal: null, selectedParty: null, cycles: [], scenarios: [], form: null, requestId: 0
  };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "cls") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }
  function link(url, text) {
    if (!/^https?:\/\//.test(url || "")) { return document.createTextNode(text || ""); }
    return el("a", { href: url, rel: "noreferrer noopener", target: "_blank", text: text || url });
  }
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "{" + k + "}" : values[k]; });
  }
  function L(key, values) { return fill(state.L[key] || key, values || {}); }

  function api(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", headers: { "accept": "application/json" } };
    if (options.body !== undefined) { init.body = JSON.stringify(options.body); init.headers["content-type"] = "application/json"; }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) { return { status: response.status, body: body }; });
    });
  }
  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === null || v === undefined || v === "") { return; }
      (Array.isArray(v) ? v : [v]).forEach(function (x) { parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(x)); });
    });
    return parts.length ? "?" + parts.join("&") : "";
  }
  function debounce(fn, ms) {
    var timer = null;
    return function () { var args = arguments; clearTimeout(timer); timer = setTimeout(function () { fn.apply(null, args); }, ms); };
  }

  // ------------------------------------------------------------------ labels and language
  function applyLabels() {
    document.documentElement.setAttribute("lang", state.lang);
    document.querySelectorAll("[data-label]").forEach(function (node) { node.textContent = L(node.getAttribute("data-label")); });
    $("lang").textContent = state.lang === "en" ? "Deutsch" : "English";
    document.title = L("title");
  }
  function loadLabels() {
    return api("/api/labels?lang=" + state.lang).then(function (r) { state.L = r.body; applyLabels(); });
  }

  // ------------------------------------------------------------------ filters and the network
  function filters() {
    var kinds = [], statuses = [];
    document.querySelectorAll("#kinds input:checked").forEach(function (i) { kinds.push(i.value); });
    document.querySelectorAll("#statuses input:checked").forEach(function (i) { statuses.push(i.value); });
    var min = parseFloat($("min-amount").value);
    return { kind: kinds, status: statuses, party: $("party-filter").value || null,
             min_amount: isFinite(min) && min > 0 ? min * 1e9 : null, as_of: state.asOf, lang: state.lang };
  }
  function buildFilters() {
    var checked = {};
    document.querySelectorAll("#kinds input:checked, #statuses input:checked").forEach(function (i) { checked[i.id] = true; });
    var partyFilter = $("party-filter").value, partyPick = $("party-pick").value;
    var kinds = clear($("kinds"));
    kinds.appendChild(el("legend", { text: L("kinds") }));
    state.meta.deal_kinds.forEach(function (k) {
      kinds.appendChild(el("label", {}, [el("input", { type: "checkbox", value: k, id: "kind-" + k }), " ", el("i", { cls: "k-" + k }), L("kind_" + k)]));
    });
    var statuses = clear($("statuses"));
    statuses.appendChild(el("legend", { text: L("statuses") }));
    statuses.appendChild(el("p", { cls: "muted", text: L("live_only") }));
    state.meta.statuses.forEach(function (s) {
      statuses.appendChild(el("label", {}, [el("input", { type: "checkbox", value: s, id: "status-" + s }), " " + s]));
    });
    var select = clear($("party-filter"));
    select.appendChild(el("option", { value: "", text: L("any_party") }));
    var pick = clear($("party-pick"));
    pick.appendChild(el("option", { value: "", text: "–" }));
    state.parties.forEach(function (p) {
      select.appendChild(el("option", { value: p.id, text: p.name }));
      pick.appendChild(el("option", { value: p.id, text: p.name }));
    });
    document.querySelectorAll("#kinds input, #statuses input").forEach(function (i) {
      i.checked = !!checked[i.id];
      i.addEventListener("change", refreshNetwork);
    });
    select.value = partyFilter && state.parties.some(function (p) { return p.id === partyFilter; }) ? partyFilter : "";
    pick.value = partyPick && state.parties.some(function (p) { return p.id === partyPick; }) ? partyPick : "";
  }
  function buildSlider() {
    var first = state.meta.first_date ? new Date(state.meta.first_date + "T00:00:00Z") : new Date();
    var today = new Date();
    var end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    var start = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate()));
    var days = Math.max(0, Math.round((end - start) / 86400000));
    state.sliderStart = start;
    var slider = $("time");
    slider.max = String(days);
    slider.value = String(days);
    showDate();
  }
  function showDate() {
    var slider = $("time");
    var atEnd = Number(slider.value) >= Number(slider.max);
    var day = new Date(state.sliderStart.getTime() + Number(slider.value) * 86400000).toISOString().slice(0, 10);
    state.asOf = atEnd ? null : day;
    $("as-of-label").textContent = atEnd ? day + " (" + L("all_dates") + ")" : day;
  }

  function refreshNetwork() {
    var id = ++state.requestId;
    return api("/api/network" + query(filters())).then(function (r) {
      if (id !== state.requestId || r.status !== 200) { return; }
      state.network = r.body;
      if (!state.graph) {
        state.graph = loopscopeNetwork($("cy"), r.body, { tip: $("tip"), onEdge: selectDeal, onNode: function (p) { showParty(p); } });
        window.loopscopeDashboard.graph = state.graph;
      } else {
        state.graph.show(r.body);
      }
      $("edge-count").textContent = L("deals_shown", { n: r.body.edges.length });
      $("edge-count").setAttribute("data-count", String(r.body.edges.length));
      var legend = clear($("legend"));
      r.body.legend.forEach(function (k) { legend.appendChild(el("span", {}, [el("i", { cls: "k-" + k.kind }), k.name])); });
      var q = $("search").value.trim();
      if (q) { state.graph.search(q); }
    });
  }

  function selectDeal(d) {
    state.selectedDeal = d.id;
    var details = clear($("details"));
    details.appendChild(el("strong", { text: d.title }));
    details.appendChild(document.createTextNode(" (" + d.id + "): " + d.kind_name + ", " + d.amount + ", " + d.announced + ", " + d.status + ". "));
    details.appendChild(link(d.source_url, d.source_name));
    if (!state.meta.read_only) {
      var edit = el("button", { type: "button", id: "edit-selected", text: L("edit_selected") });
      edit.addEventListener("click", function () { editEntry("deals", d.id); });
      details.appendChild(document.createTextNode(" "));
      details.appendChild(edit);
    }
  }

  // ------------------------------------------------------------------ round trips and headline
  function refreshCycles() {
    var id = state.cyclesRequest = (state.cyclesRequest || 0) + 1;
    api("/api/circulation" + query({ as_of: state.asOf, lang: state.lang })).then(function (r) {
      if (id !== state.cyclesRequest || r.status !== 200) { return; }
      var cards = clear($("headline"));
      r.body.cards.forEach(function (c) {
        cards.appendChild(el("div", { cls: "card" }, [el("div", { cls: "label", text: c.label }), el("div", { cls: "value", text: c.value }),
                                                      el("div", { cls: "note", text: c.note })]));
      });
    });
    return api("/api/cycles" + query({ as_of: state.asOf, lang: state.lang })).then(function (r) {
      if (id !== state.cyclesRequest || r.status !== 200) { return; }
      state.cycles = r.body.cycles;
      $("cycles-help").textContent = L("cycles_total", { shown: r.body.cycles.length, total: r.body.total, k: r.body.max_length });
      var body = clear($("cycles-table").tBodies[0]);
      r.body.cycles.forEach(function (c, i) {
        var row = el("tr", { "data-index": String(i) }, [
          el("td", { cls: "num", text: String(c.rank) }),
          el("td", { text: c.names.join(" → ") + " → " + c.names[0] }),
          el("td", { cls: "num", text: c.amount }, [c.range ? el("div", { cls: "muted", text: c.range }) : null]),
          el("td", { text: c.in_time_order ? "✓" : "" })
        ]);
        row.addEventListener("click", function () { openCycle(i, row); });
        body.appendChild(row);
      });
    });
  }
  function openCycle(i, row) {
    var c = state.cycles[i];
    document.querySelectorAll("#cycles-table tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
    row.classList.add("selected");
    $("cycle-narrative").textContent = c.narrative;
    if (state.graph) { state.graph.highlight(c.parties, c.deals); }
  }

  // ------------------------------------------------------------------ party pages
  function showParty(id, stay) {
    if (!id) { return; }
    state.selectedParty = id;
    $("party-pick").value = id;
    if (!stay) { selectTab("party"); }
    api("/api/parties/" + encodeURIComponent(id) + "/page?lang=" + state.lang).then(function (r) {
      var page = clear($("party-page"));
      if (r.status !== 200) { page.textContent = r.body.detail || String(r.status); return; }
      var p = r.body.party.record;
      page.appendChild(el("h3", { text: p.name }));
      page.appendChild(el("p", { cls: "muted", text: [p.kind, p.ticker, p.country].filter(Boolean).join(" · ") }));
      if (p.notes) { page.appendChild(el("p", { text: p.notes })); }
      var x = r.body.exposure;
      if (x) {
        var t = el("table", {}, [el("tbody", {}, [
          row2(L("inflow"), x.inflow), row2(L("outflow"), x.outflow), row2(L("round_tripped"), x.round_tripped + " (" + x.round_tripped_share + ")"),
          row2(L("top_customer"), x.top_customer), row2(L("hhi"), x.hhi), row2(L("backlog"), x.backlog),
          row2(L("commitments"), x.commitments), row2(L("revenue"), x.revenue), row2(L("years"), x.years === null ? "–" : String(x.years))
        ])]);
        page.appendChild(t);
      }
      page.appendChild(el("h3", { text: L("deals") + " (" + r.body.deals.length + ")" }));
      var deals = el("table", { id: "party-deals" }, [el("tbody")]);
      r.body.deals.forEach(function (d) {
        var tr = el("tr", { cls: "clickable" }, [el("td", { text: d.announced }), el("td", { text: d.src_name + " → " + d.dst_name }),
          el("td", { text: d.kind_name }), el("td", { cls: "num", text: d.amount }), el("td", { text: d.status })]);
        tr.title = d.title;
        tr.addEventListener("click", function () { if (state.graph) { state.graph.highlight([d.src, d.dst], [d.id]); } });
        deals.tBodies[0].appendChild(tr);
      });
      page.appendChild(deals);
      page.appendChild(el("h3", { text: L("figures") + " (" + r.body.figures.length + ")" }));
      var figures = el("ul");
      r.body.figures.forEach(function (f) {
        var rec = f.record;
        var when = rec.date || (rec.period ? rec.period.start + " – " + rec.period.end : "");
        var li = el("li", {}, [rec.metric + ": " + rec.value + " " + rec.unit + " (" + rec.kind + ", " + when + ") ",
                               link(rec.sources[0].url, rec.sources[0].publisher)]);
        if (!state.meta.read_only) {
          var b = el("button", { type: "button", text: L("tab_edit") });
          b.addEventListener("click", function () { editEntry("figures", rec.id); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(b);
        }
        figures.appendChild(li);
      });
      page.appendChild(figures);
      page.appendChild(el("h3", { text: L("tab_cycles") + " (" + r.body.cycles.length + ")" }));
      var cycles = el("ul");
      r.body.cycles.slice(0, 20).forEach(function (c) {
        var li = el("li", { cls: "clickable", text: c.names.join(" → ") + " → " + c.names[0] + ": " + c.amount });
        li.addEventListener("click", function () { $("cycle-narrative").textContent = c.narrative; if (state.graph) { state.graph.highlight(c.parties, c.deals); } });
        cycles.appendChild(li);
      });
      page.appendChild(cycles);
      if (!state.meta.read_only) {
        var edit = el("button", { type: "button", text: L("tab_edit") + ": " + p.name });
        edit.addEventListener("click", function () { editEntry("parties", id); });
        page.appendChild(edit);
      }
    });
  }
  function row2(a, b) { return el("tr", {}, [el("th", { text: a }), el("td", { text: b })]); }

  // ------------------------------------------------------------------ stress tests
  var SHOCKS = ["pays_fraction", "revenue_falls", "equity_falls", "funding_freeze"];
  function buildStress() {
    var before = $("scenario").options.length ? { name: $("scenario").value, custom: $("scenario").value ? null : scenarioFromForm(),
                                                  model: $("model").value } : null;
    var select = clear($("scenario"));
    state.scenarios.forEach(function (s) { select.appendChild(el("option", { value: s.name, text: s.title })); });
    select.appendChild(el("option", { value: "", text: L("custom") }));
    var model = clear($("model"));
    [["", "–"], ["en", "Eisenberg-Noe"], ["rv", "Rogers-Veraart"], ["egj", "Elliott-Golub-Jackson"], ["debtrank", "DebtRank"], ["furfine", "Furfine"]]
      .forEach(function (m) { model.appendChild(el("option", { value: m[0], text: m[1] })); });
    if (before) { select.value = before.name; }
    scenarioChanged();
    if (before && before.custom) {
      clear($("shock-rows"));
      before.custom.shocks.forEach(addShock);
    }
    if (before) { model.value = before.model; }
  }
  function partyOptions(select, withAll) {
    if (withAll) { select.appendChild(el("option", { value: "all", text: "all" })); }
    state.parties.forEach(function (p) { select.appendChild(el("option", { value: p.id, text: p.name })); });
  }
  function addShock(shock) {
    shock = shock || { type: "pays_fraction", party: "openai", fraction: { value: 0.5 } };
    var type = el("select", { cls: "shock-type", "aria-label": "shock" });
    SHOCKS.forEach(function (t) { type.appendChild(el("option", { value: t, text: L(t) })); });
    type.value = shock.type;
    var who = el("select", { cls: "shock-party", "aria-label": "party" });
    partyOptions(who, true);
    var target = shock.party || (Array.isArray(shock.parties) ? shock.parties[0] : shock.parties) || "all";
    who.value = target;
    var size = el("input", { cls: "shock-size", type: shock.type === "funding_freeze" ? "date" : "number", min: "0", max: "100", step: "any", "aria-label": "size" });
    var sz = shock.fraction || shock.by;
    if (shock.type === "funding_freeze") { size.value = shock.after || ""; } else if (sz) {
      var v = typeof sz === "number" ? sz : sz.value;
      size.value = String(Math.round(v * 1000) / 10);
    }
    type.addEventListener("change", function () { size.type = type.value === "funding_freeze" ? "date" : "number"; size.value = ""; });
    var remove = el("button", { type: "button", text: L("remove") });
    var line = el("div", { cls: "shock" }, [type, who, size, remove]);
    line._shock = shock;
    remove.addEventListener("click", function () { line.remove(); $("scenario").value = ""; });
    [type, who, size].forEach(function (x) { x.addEventListener("change", function () { $("scenario").value = ""; }); });
    $("shock-rows").appendChild(line);
  }
  function scenarioChanged() {
    var name = $("scenario").value;
    clear($("shock-rows"));
    var quote = $("scenario-quote");
    var found = state.scenarios.filter(function (s) { return s.name === name; })[0];
    if (found) {
      found.scenario.shocks.forEach(addShock);
      $("model").value = found.scenario.model;
      if (found.quote) {
        clear(quote).appendChild(document.createTextNode("„" + found.quote.text + "“ "));
        quote.appendChild(link(found.quote.url, found.quote.publisher));
        quote.hidden = false;
      } else { quote.hidden = true; }
    } else { quote.hidden = true; addShock(); }
  }
  function scenarioFromForm() {
    var name = $("scenario").value;
    if (name) { return name; }
    var shocks = [];
    document.querySelectorAll("#shock-rows .shock").forEach(function (line) {
      var type = line.querySelector(".shock-type").value, who = line.querySelector(".shock-party").value;
      var raw = line.querySelector(".shock-size").value;
      var shock = { type: type };
      if (type === "funding_freeze") {
        if (raw) { shock.after = raw; }
        shock.parties = who === "all" ? "all" : [who];
      } else if (type === "pays_fraction") {
        shock.party = who === "all" ? (state.parties[0] || {}).id : who;
        shock.fraction = (parseFloat(raw) || 0) / 100;
      } else {
        shock.parties = who === "all" ? "all" : [who];
        shock.by = (parseFloat(raw) || 0) / 100;
      }
      shocks.push(shock);
    });
    return { name: "dashboard", title: L("custom"), shocks: shocks, model: $("model").value || "en" };
  }
  function runStress() {
    var body = { scenario: scenarioFromForm(), samples: Math.max(0, Math.min(20000, parseInt($("samples").value, 10) || 0)), seed: 1, lang: state.lang };
    if ($("model").value) { body.model = $("model").value; }
    var progress = $("stress-progress");
    $("stress-run").disabled = true;
    progress.hidden = false; progress.value = 0;
    $("stress-status").textContent = L("running", { done: 0, total: body.samples });
    clear($("stress-result"));
    api("/api/stress/jobs", { method: "POST", body: body }).then(function (r) {
      if (r.status !== 202) { stressDone(); showError($("stress-result"), r.body); return; }
      poll(r.body.id);
    });
  }
  function poll(id) {
    api("/api/stress/jobs/" + encodeURIComponent(id)).then(function (r) {
      var job = r.body;
      if (r.status !== 200) { stressDone(); showError($("stress-result"), job); return; }
      $("stress-progress").max = Math.max(1, job.total);
      $("stress-progress").value = job.done;
      $("stress-status").textContent = L("running", { done: job.done, total: job.total });
      if (job.state === "done") { stressDone(); showStress(job.result.view); }
      else if (job.state === "failed") { stressDone(); showError($("stress-result"), job.error); }
      else { setTimeout(function () { poll(id); }, 200); }
    });
  }
  function stressDone() { $("stress-run").disabled = false; $("stress-progress").hidden = true; $("stress-status").textContent = ""; }
  function showStress(v) {
    var out = clear($("stress-result"));
    out.appendChild(el("h3", { text: v.title }));
    out.appendChild(el("p", { cls: "muted", text: v.help }));
    out.appendChild(el("h3", { text: L("cascade") }));
    if (v.cascade.length) {
      var ol = el("ol", { cls: "cascade", id: "cascade" });
      v.cascade.forEach(function (r) { ol.appendChild(el("li", {}, [el("strong", { text: r.round + ": " }), r.parties.join(", ")])); });
      out.appendChild(ol);
    } else { out.appendChild(el("p", { text: L("nobody_defaults") })); }
    out.appendChild(el("p", { id: "stress-total", text: v.total + (v.monte_carlo ? " " + v.monte_carlo : "") }));
    var t = el("table", { id: "stress-table" }, [el("thead", {}, [el("tr", {}, [el("th", { text: L("party") }), el("th", { cls: "num", text: L("value_before") }),
      el("th", { cls: "num", text: L("loss") }), el("th", { cls: "num", text: L("loss_share") }), el("th", { text: L("default_round") })])]), el("tbody")]);
    v.rows.forEach(function (r) {
      t.tBodies[0].appendChild(el("tr", {}, [el("td", { text: r.party }), el("td", { cls: "num", text: r.value_before }), el("td", { cls: "num", text: r.loss }),
        el("td", { cls: "num", text: r.share }), el("td", { text: r.default })]));
    });
    out.appendChild(t);
    var details = el("details", {}, [el("summary", { text: L("assumptions") })]);
    var ul = el("ul");
    v.assumptions.forEach(function (a) { ul.appendChild(el("li", { lang: "en", text: a })); });
    details.appendChild(ul);
    out.appendChild(details);
  }
  function showError(node, body) {
    body = body || {};
    node.appendChild(el("p", { cls: "message-error", text: body.detail || "error" }));
    if (body.problems && body.problems.length) {
      var ul = el("ul", { cls: "message-error" });
      body.problems.forEach(function (p) { ul.appendChild(el("li", { text: (p.field ? p.field + ": " : "") + p.message })); });
      node.appendChild(ul);
    }
  }

  // ------------------------------------------------------------------ editing
  /* Fields of each form: [record path, label key, input type, options]. Paths with dots go into nested
   * mappings; "sources.0.url" into the first source. Everything else in the record is kept as it is. */
  var FORMS = {
    deals: [["id", "id", "text"], ["kind", "kind", "select:deal_kinds"], ["from", "from", "select:parties"], ["to", "to", "select:parties"],
            ["title", "title_field", "text"], ["announced", "announced", "date"], ["status", "status", "select:statuses"],
            ["amount.value", "value_usd", "number"], ["amount.currency", "currency", "text"], ["amount.kind", "amount_kind", "select:amount_kinds"],
            ["amount.low", "low", "number"], ["amount.high", "high", "number"],
            ["sources.0.url", "source_url", "url"], ["sources.0.publisher", "publisher", "text"], ["sources.0.quote", "quote", "long"],
            ["notes", "notes", "long"]],
    figures: [["id", "id", "text"], ["party", "party", "select:parties"], ["metric", "metric", "select:metrics"], ["value", "value_usd", "number"],
              ["unit", "unit", "text"], ["kind", "amount_kind", "select:figure_kinds"], ["date", "date", "date"],
              ["period.start", "period_start", "date"], ["period.end", "period_end", "date"], ["label", "title_field", "text"],
              ["sources.0.url", "source_url", "url"], ["sources.0.publisher", "publisher", "text"], ["sources.0.quote", "quote", "long"],
              ["notes", "notes", "long"]],
    parties: [["id", "id", "text"], ["name", "name", "text"], ["kind", "party_kind", "select:party_kinds"], ["ticker", "ticker", "text"],
              ["country", "country", "text"], ["notes", "notes", "long"]]
  };
  function getPath(record, path) {
    return path.split(".").reduce(function (x, k) { return x === undefined || x === null ? undefined : x[k]; }, record);
  }
  function setPath(record, path, value) {
    var keys = path.split("."), x = record;
    for (var i = 0; i < keys.length - 1; i++) {
      var k = keys[i], nextIsIndex = /^\d+$/.test(keys[i + 1]);
      if (x[k] === undefined || x[k] === null) {
        if (value === undefined) { return; }
        x[k] = nextIsIndex ? [] : {};
      }
      x = x[k];
    }
    var last = keys[keys.length - 1];
    if (value === undefined) { if (Array.isArray(x)) { x.splice(Number(last), 1); } else { delete x[last]; } } else { x[last] = value; }
  }
  function options(kind) {
    if (kind === "parties") { return state.parties.map(function (p) { return [p.id, p.name]; }); }
    if (kind === "figure_kinds") { return state.meta.amount_kinds.filter(function (k) { return k !== "undisclosed"; }).map(function (k) { return [k, k]; }); }
    return (state.meta[kind] || []).map(function (k) { return [k, k]; });
  }
  function openForm(section, entry) {
    var record = entry ? JSON.parse(JSON.stringify(entry.record)) : newRecord(section);
    state.form = { section: section, id: entry ? entry.id : null, version: entry ? entry.version : null, record: record };
    selectTab("edit");
    var form = $("entry-form");
    form.hidden = false;
    $("form-title").textContent = (entry ? L("tab_edit") + ": " + entry.id : L(section === "deals" ? "new_deal" : section === "figures" ? "new_figure" : "new_party")) +
      (entry && entry.file ? " (" + entry.file + ")" : "");
    var fields = clear($("form-fields"));
    FORMS[section].forEach(function (f) {
      var path = f[0], type = f[2], id = "field-" + path.replace(/\./g, "-");
      var input;
      if (type.indexOf("select:") === 0) {
        input = el("select", { id: id });
        input.appendChild(el("option", { value: "", text: "–" }));
        options(type.slice(7)).forEach(function (o) { input.appendChild(el("option", { value: o[0], text: o[1] })); });
      } else if (type === "long") {
        input = el("textarea", { id: id, rows: "3" });
      } else {
        input = el("input", { id: id, type: type === "number" ? "text" : type, inputmode: type === "number" ? "decimal" : "text" });
      }
      input.setAttribute("data-field", path);
      input.setAttribute("name", path);
      if (path === "id" && entry) { input.disabled = true; }
      var value = path === "status" ? statusOf(record) : getPath(record, path);
      input.value = value === undefined || value === null ? "" : String(value);
      input._loaded = input.value;  // an existing entry gets back only the fields the user changed
      fields.appendChild(el("label", { "for": id, text: L(f[1]) }));
      fields.appendChild(input);
    });
    $("record-json").value = JSON.stringify(record, null, 2);
    $("reason").value = "";
    $("retire").hidden = !entry || section === "parties";
    clear($("form-message"));
    clearFieldErrors();
  }
  function statusOf(record) { return record.history && record.history.length ? record.history[record.history.length - 1].status : ""; }
  function newRecord(section) {
    var today = new Date().toISOString().slice(0, 10);
    if (section === "deals") {
      return { id: "", kind: "purchase", from: "", to: "", title: "", announced: today, amount: { currency: "USD", kind: "undisclosed" },
               history: [{ date: today, status: "announced" }], sources: [{ url: "", publisher: "" }] };
    }
    if (section === "figures") { return { id: "", party: "", metric: "revenue", value: "", unit: "USD", kind: "exact", sources: [{ url: "", publisher: "" }] }; }
    return { id: "", name: "", kind: "company" };
  }
  function recordFromForm() {
    var base;
    try { base = JSON.parse($("record-json").value); } catch (e) { base = state.form.record; }
    var record = JSON.parse(JSON.stringify(base));
    FORMS[state.form.section].forEach(function (f) {
      var path = f[0], input = $("field-" + path.replace(/\./g, "-"));
      if (state.form.id && input.value === input._loaded) { return; }
      var raw = f[2] === "long" ? input.value : input.value.trim();
      if (f[2] === "long" && !raw.trim()) { raw = ""; }
      if (path === "status") {
        if (!raw) { return; }
        record.history = record.history || [];
        if (!state.form.id) { record.history = [{ date: record.announced || raw, status: raw }]; }
        else if (statusOf(record) !== raw) { record.history.push({ date: new Date().toISOString().slice(0, 10), status: raw }); }
        return;
      }
      var value = raw === "" ? undefined : (f[2] === "number" && isFinite(Number(raw)) ? Number(raw) : raw);
      setPath(record, path, value);
    });
    if (state.form.section === "deals" && !state.form.id && record.history && record.history.length === 1) {
      record.history[0].date = record.announced;
    }
    if (record.period && !record.period.start && !record.period.end) { delete record.period; }
    if (record.sources) { record.sources = record.sources.filter(function (s) { return s && Object.keys(s).length; }); }
    return record;
  }
  function clearFieldErrors() {
    document.querySelectorAll("#entry-form .field-error").forEach(function (n) { n.remove(); });
    document.querySelectorAll("#entry-form .invalid").forEach(function (n) { n.classList.remove("invalid"); });
  }
  function fieldInput(field) {
    if (!field) { return null; }
    var path = field.replace(/\[(\d+)\]/g, ".$1");
    var candidates = [path, path.split(".").slice(0, 3).join("."), path.split(".").slice(0, 2).join("."), path.split(".")[0]];
    if (path === "sources") { candidates.unshift("sources.0.url"); }
    if (path.indexOf("history") === 0) { candidates.unshift("status"); }
    for (var i = 0; i < candidates.length; i++) {
      var found = document.querySelector('#entry-form [data-field="' + CSS.escape(candidates[i]) + '"]');
      if (found) { return found; }
    }
    return null;
  }
  function showProblems(body) {
    clearFieldErrors();
    var message = clear($("form-message"));
    message.appendChild(el("p", { cls: "message-error", text: L("problems") + " " + (body.detail || "") }));
    var rest = el("ul", { cls: "message-error" });
    (body.problems || []).forEach(function (p) {
      var input = fieldInput(p.field);
      var text = (p.field ? p.field + ": " : "") + p.message;
      if (input) {
        input.classList.add("invalid");
        input.insertAdjacentElement("afterend", el("div", { cls: "field-error", role: "alert", text: text }));
      } else { rest.appendChild(el("li", { text: text })); }
    });
    if (rest.childNodes.length) { message.appendChild(rest); }
  }
  function changedFields() {
    var out = {};
    FORMS[state.form.section].forEach(function (f) {
      var input = $("field-" + f[0].replace(/\./g, "-"));
      if (input.value !== input._loaded) { out[f[0]] = input.value; }
    });
    return out;
  }
  function saveForm(ev) {
    ev.preventDefault();
    var f = state.form, record = recordFromForm();
    state.attempt = { changed: changedFields(), reason: $("reason").value };
    var body = { record: record, reason: $("reason").value };
    var path = "/api/" + f.section;
    if (f.id) { path += "/" + encodeURIComponent(f.id); body.version = f.version; }
    api(path, { method: f.id ? "PUT" : "POST", body: body }).then(function (r) { afterSave(r, f.section); });
  }
  function retireEntry() {
    var f = state.form;
    api("/api/" + f.section + "/" + encodeURIComponent(f.id) + "/retire", { method: "POST", body: { reason: $("reason").value, version: f.version } })
      .then(function (r) { afterSave(r, f.section); });
  }
  function afterSave(r, section) {
    if (r.status === 200 || r.status === 201) {
      if (r.body.entry) { openForm(section, r.body.entry); } else { $("entry-form").hidden = true; }
      clearFieldErrors();
      var saved = el("p", { cls: "message-ok", id: "saved", text: L("saved", { file: r.body.change.file }) });
      clear($("form-message")).appendChild(saved);
      if (!r.body.entry) { $("pane-edit").appendChild(saved); }
      refreshAll();
      return;
    }
    if (r.status === 409 && r.body.current) {
      // the current version, with the user's own changes put back on top and the current value beside each
      var attempt = state.attempt || { changed: {}, reason: "" };
      openForm(section, { id: r.body.current.id, record: r.body.current, version: r.body.version, file: null });
      Object.keys(attempt.changed).forEach(function (path) {
        var input = $("field-" + path.replace(/\./g, "-"));
        if (!input || input.disabled) { return; }
        var current = input.value;
        input.value = attempt.changed[path];
        if (current !== input.value) {
          input.classList.add("invalid");
          input.insertAdjacentElement("afterend", el("div", { cls: "field-error field-conflict", text: L("current_value", { value: current || "–" }) }));
        }
      });
      $("reason").value = attempt.reason;
      $("form-message").appendChild(el("p", { cls: "message-error", id: "conflict", text: L("conflict") }));
      return;
    }
    showProblems(r.body || {});
  }
  function editEntry(section, id) {
    api("/api/" + section + "/" + encodeURIComponent(id)).then(function (r) { if (r.status === 200) { openForm(section, r.body); } });
  }

  // ------------------------------------------------------------------ changes
  function refreshChanges() {
    return api("/api/changes?limit=200").then(function (r) {
      var list = clear($("changes"));
      if (r.status !== 200) { return; }
      if (!r.body.length) { list.appendChild(el("li", { cls: "muted", text: L("no_changes") })); }
      r.body.forEach(function (c) {
        list.appendChild(el("li", {}, [el("strong", { text: c.action + " " + c.section + " " + c.id }), " · " + c.time + " · " + c.file,
                                      el("div", { text: c.reason })]));
      });
    });
  }

  // ------------------------------------------------------------------ tabs and start
  function selectTab(name) {
    document.querySelectorAll(".tabs button").forEach(function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === name)); });
    document.querySelectorAll(".pane").forEach(function (p) { p.hidden = p.id !== "pane-" + name; });
    if (name === "changes") { refreshChanges(); }
  }
  function loadMeta() {
    return Promise.all([api("/api/meta"), api("/api/parties")]).then(function (rs) {
      state.meta = rs[0].body;
      state.parties = rs[1].body.slice().sort(function (a, b) { return a.name.localeCompare(b.name); });
      $("ledger-name").textContent = state.meta.name + " · " + state.meta.parties + " / " + state.meta.deals + " / " + state.meta.figures;
      $("read-only").hidden = !state.meta.read_only;
      if (state.meta.read_only) { $("read-only").title = state.meta.read_only_reason || ""; }
      $("tab-edit").hidden = state.meta.read_only;
      var problems = $("ledger-problems");
      clear(problems);
      problems.hidden = !state.meta.problems.length;
      if (state.meta.problems.length) {
        problems.appendChild(el("p", { text: L("ledger_problems") }));
        state.meta.problems.forEach(function (p) { problems.appendChild(el("div", { text: p.file + ":" + (p.line || "") + ": " + (p.field ? p.field + ": " : "") + p.message })); });
      }
    });
  }
  function refreshAll() {
    return loadMeta().then(function () { buildFilters(); return Promise.all([refreshNetwork(), refreshCycles()]); })
      .then(function () { if (state.selectedParty && !$("pane-party").hidden) { showParty(state.selectedParty, true); } });
  }
  function start() {
    window.loopscopeDashboard = { ready: false };
    var wanted = (navigator.language || "en").slice(0, 2) === "de" ? "de" : "en";
    var stored = null;
    try { stored = window.localStorage.getItem("loopscope-lang"); } catch (e) { stored = null; }
    state.lang = stored === "de" || stored === "en" ? stored : wanted;
    loadLabels().then(loadMeta).then(function () {
      buildFilters();
      buildSlider();
      return Promise.all([refreshNetwork(), refreshCycles(), api("/api/scenarios?lang=" + state.lang).then(function (r) { state.scenarios = r.body; buildStress(); })]);
    }).then(function () {
      window.loopscopeDashboard.ready = true;
      document.body.setAttribute("data-ready", "true");
    });
    var onSlide = debounce(function () { refreshNetwork(); refreshCycles(); }, 120);
    $("time").addEventListener("input", function () { showDate(); onSlide(); });
    $("search").addEventListener("input", debounce(function () {
      if (!state.graph) { return; }
      if ($("search").value.trim()) { state.graph.search($("search").value); } else { state.graph.reset(); }
    }, 100));
    $("party-filter").addEventListener("change", refreshNetwork);
    $("min-amount").addEventListener("input", debounce(refreshNetwork, 200));
    $("reset").addEventListener("click", function () {
      document.querySelectorAll("#kinds input, #statuses input").forEach(function (i) { i.checked = false; });
      $("party-filter").value = ""; $("min-amount").value = ""; $("search").value = "";
      $("time").value = $("time").max; showDate();
      $("cycle-narrative").textContent = "";
      refreshNetwork().then(function () { state.graph.reset(); state.graph.cy.fit(undefined, 30); });
      refreshCycles();
    });
    document.querySelectorAll(".tabs button").forEach(function (b) { b.addEventListener("click", function () { selectTab(b.getAttribute("data-tab")); }); });
    $("party-pick").addEventListener("change", function () { showParty($("party-pick").value); });
    $("scenario").addEventListener("change", scenarioChanged);
    $("add-shock").addEventListener("click", function () { $("scenario").value = ""; addShock(); });
    $("stress-run").addEventListener("click", runStress);
    $("new-deal").addEventListener("click", function () { openForm("deals", null); });
    $("new-figure").addEventListener("click", function () { openForm("figures", null); });
    $("new-party").addEventListener("click", function () { openForm("parties", null); });
    $("entry-form").addEventListener("submit", saveForm);
    $("retire").addEventListener("click", retireEntry);
    $("lang").addEventListener("click", function () {
      state.lang = state.lang === "en" ? "de" : "en";
      try { window.localStorage.setItem("loopscope-lang", state.lang); } catch (e) { /* private mode */ }
      loadLabels().then(function () {
        buildFilters(); showDate();
        api("/api/scenarios?lang=" + state.lang).then(function (r) { state.scenarios = r.body; buildStress(); });
        refreshNetwork(); refreshCycles();
        if (state.selectedParty) { showParty(state.selectedParty, true); }
      });
    });
    selectTab("cycles");
  }
  document.addEventListener("DOMContentLoaded", start);
})();

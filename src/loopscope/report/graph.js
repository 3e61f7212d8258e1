/* The network picture, shared by the report (inlined) and the dashboard (served as /static/graph.js).
 * loopscopeNetwork(container, network, options) draws the data of report.content.network_view with
 * cytoscape.js and returns {cy, show, highlight, reset, search}. Every text from the data is set with
 * textContent, never as HTML. */
(function () {
  "use strict";

  function toElements(net) {
    return net.nodes.map(function (n) {
      return { group: "nodes", data: { id: n.id, name: n.name, size: n.size, sized: n.sized ? 1 : 0, size_text: n.size_text },
               position: { x: n.x, y: n.y } };
    }).concat(net.edges.map(function (e) {
      return { group: "edges", data: e };
    }));
  }

  var STYLE = [
    { selector: "node", style: { "label": "data(name)", "width": "data(size)", "height": "data(size)",
      "background-color": "#4a6fa5", "font-size": 11, "text-valign": "bottom", "text-margin-y": 3,
      "text-outline-color": "#fff", "text-outline-width": 2 } },
    { selector: "node[sized = 0]", style: { "background-color": "#b8bcc4" } },
    { selector: "edge", style: { "line-color": "data(colour)", "target-arrow-color": "data(colour)",
      "target-arrow-shape": "triangle", "curve-style": "bezier", "control-point-step-size": 14,
      "width": "data(width)", "opacity": 0.8, "arrow-scale": 0.8 } },
    { selector: "edge[amount_kind = 'undisclosed']", style: { "line-style": "dotted" } },
    { selector: "edge[amount_kind = 'up_to'], edge[amount_kind = 'estimate'], edge[amount_kind = 'range']",
      style: { "line-style": "dashed" } },
    { selector: "edge[status = 'cancelled'], edge[status = 'superseded']", style: { "opacity": 0.35, "line-style": "dotted" } },
    { selector: ".faded", style: { "opacity": 0.08 } },
    { selector: "node.hit", style: { "border-width": 4, "border-color": "#b3261e" } },
    { selector: "edge.hit", style: { "opacity": 1, "z-index": 10 } }
  ];

  function lines(tip, items) {
    tip.textContent = "";
    items.forEach(function (text, i) {
      if (!text) { return; }
      var div = document.createElement("div");
      if (i === 0) { div.style.fontWeight = "600"; }
      div.textContent = text;
      tip.appendChild(div);
    });
  }

  window.loopscopeNetwork = function (container, network, options) {
    options = options || {};
    var cy = cytoscape({ container: container, elements: toElements(network), layout: { name: "preset" },
                         minZoom: 0.2, maxZoom: 4, style: STYLE });
    var tip = options.tip;
    if (tip) {
      cy.on("mouseover", "edge", function (ev) {
        var d = ev.target.data();
        lines(tip, [d.title, d.kind_name + " · " + d.amount, d.announced + " · " + d.status, d.source_name]);
        tip.style.display = "block";
      });
      cy.on("mouseover", "node", function (ev) {
        var d = ev.target.data();
        lines(tip, [d.name, d.size_text]);
        tip.style.display = "block";
      });
      cy.on("mouseout", "node, edge", function () { tip.style.display = "none"; });
      cy.on("mousemove", function (ev) {
        var e = ev.originalEvent;
        if (e) { tip.style.left = (e.clientX + 14) + "px"; tip.style.top = (e.clientY + 14) + "px"; }
      });
    }
    if (options.onEdge) { cy.on("tap", "edge", function (ev) { options.onEdge(ev.target.data()); }); }
    if (options.onNode) { cy.on("tap", "node", function (ev) { options.onNode(ev.target.id()); }); }

    function reset() { cy.elements().removeClass("faded hit"); }
    function highlight(nodeIds, edgeIds) {
      cy.elements().addClass("faded").removeClass("hit");
      cy.nodes().filter(function (n) { return nodeIds.indexOf(n.id()) >= 0; }).removeClass("faded").addClass("hit");
      cy.edges().filter(function (e) { return edgeIds.indexOf(e.id()) >= 0; }).removeClass("faded").addClass("hit");
    }
    function search(q) {
      q = (q || "").trim().toLowerCase();
      if (!q) { reset(); return 0; }
      var found = cy.nodes().filter(function (n) {
        return n.data("name").toLowerCase().indexOf(q) >= 0 || n.id().toLowerCase().indexOf(q) >= 0;
      });
      if (found.length) {
        highlight(found.closedNeighborhood().nodes().map(function (n) { return n.id(); }),
                  found.connectedEdges().map(function (e) { return e.id(); }));
      }
      return found.length;
    }
    /* Replace what is drawn by another view of the network, keeping nodes where they are. */
    function show(net) {
      var elements = toElements(net);
      var wanted = {};
      elements.forEach(function (el) { wanted[el.data.id] = el; });
      cy.batch(function () {
        cy.elements().forEach(function (el) { if (!wanted[el.id()]) { cy.remove(el); } });
        elements.forEach(function (el) {
          var existing = cy.getElementById(el.data.id);
          if (existing.length && existing.isEdge() &&
              (existing.data("source") !== el.data.source || existing.data("target") !== el.data.target)) {
            cy.remove(existing);
            existing = cy.collection();
          }
          if (existing.length) { existing.data(el.data); } else { cy.add(el); }
        });
      });
    }
    cy.fit(undefined, 30);
    return { cy: cy, show: show, highlight: highlight, reset: reset, search: search };
  };
})();

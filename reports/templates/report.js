// Built after the first paint: the page (verdict, charts, tables) shows at once, the test table follows.
window.setTimeout(function () {
  "use strict";
  // rows: [nodeid, origin, phase, outcome, duration, message, longrepr]; built with textContent only
  var rows = JSON.parse(document.getElementById("iotops-tests").textContent);
  var body = document.getElementById("t-body");
  var phase = document.getElementById("f-phase");
  var outcome = document.getElementById("f-outcome");
  var text = document.getElementById("f-text");
  var count = document.getElementById("t-count");
  var pageLabel = document.getElementById("t-page");
  var PAGE = 100, page = 0, sortKey = null, sortDir = 1, shown = rows;

  function cell(tr, value, cls) {
    var td = document.createElement("td");
    td.textContent = value;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }
  function filter() {
    var p = phase.value, o = outcome.value, t = text.value.toLowerCase();
    shown = rows.filter(function (r) {
      return (!p || r[2] === p) && (!o || r[3] === o) &&
        (!t || r[0].toLowerCase().indexOf(t) >= 0 || r[5].toLowerCase().indexOf(t) >= 0);
    });
    if (sortKey !== null) {
      shown.sort(function (a, b) { return (a[sortKey] > b[sortKey] ? 1 : a[sortKey] < b[sortKey] ? -1 : 0) * sortDir; });
    }
    page = 0;
    draw();
  }
  function draw() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    body.textContent = "";
    var frag = document.createDocumentFragment();
    shown.slice(page * PAGE, (page + 1) * PAGE).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.className = r[3];
      cell(tr, r[0]); cell(tr, r[1]); cell(tr, r[2]); cell(tr, r[3]); cell(tr, r[4].toFixed(3), "num"); cell(tr, r[5]);
      if (r[6]) {
        tr.title = "click to show the failure";
        tr.addEventListener("click", function () {
          if (tr.nextSibling && tr.nextSibling.className === "detail") { tr.nextSibling.remove(); return; }
          var d = document.createElement("tr"), td = document.createElement("td"), pre = document.createElement("pre");
          d.className = "detail"; td.colSpan = 6; pre.className = "longrepr"; pre.textContent = r[6];
          td.appendChild(pre); d.appendChild(td); tr.after(d);
        });
      }
      frag.appendChild(tr);
    });
    body.appendChild(frag);
    count.textContent = shown.length + " of " + rows.length + " tests";
    pageLabel.textContent = " page " + (page + 1) + " / " + pages + " ";
  }
  [phase, outcome].forEach(function (el) { el.addEventListener("change", filter); });
  text.addEventListener("input", filter);
  document.getElementById("t-prev").addEventListener("click", function () { if (page > 0) { page--; draw(); } });
  document.getElementById("t-next").addEventListener("click", function () { page++; draw(); });
  document.querySelectorAll("#t-table th").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = Number(th.getAttribute("data-key"));
      sortDir = sortKey === key ? -sortDir : 1; sortKey = key; filter();
    });
  });
  // static tables: click a header to sort by that column (numbers numerically)
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, index) {
      var dir = 1;
      th.addEventListener("click", function () {
        var tbody = table.tBodies[0], list = Array.prototype.slice.call(tbody.rows);
        list.sort(function (a, b) {
          var x = a.cells[index].textContent, y = b.cells[index].textContent, nx = parseFloat(x), ny = parseFloat(y);
          if (!isNaN(nx) && !isNaN(ny)) { return (nx - ny) * dir; }
          return x.localeCompare(y) * dir;
        });
        dir = -dir;
        list.forEach(function (row) { tbody.appendChild(row); });
      });
    });
  });
  filter();
}, 0);

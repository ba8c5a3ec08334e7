"use strict";
// The concordance of the HTML report: filter, sort and page the hits, open a row's turn.
// Transcript text only ever becomes text nodes (textContent), never markup.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const turns = data.turns;  // [conversation, index, speaker, model, role, source, line, column, timestamp, text]
  const hits = data.hits;    // [turn, set, pattern, start, end, line, column, relation, replay]
  const CONTEXT = 60;
  const table = document.getElementById("hits");
  if (!table) {
    document.body.dataset.ready = "1";
    return;
  }
  const body = table.tBodies[0];
  const state = {filters: {}, text: "", sort: null, descending: false, page: 0, size: 100};
  let rows = hits.map((_, i) => i);

  const value = {
    set: (h) => h[1],
    pattern: (h) => h[2],
    model: (h) => turns[h[0]][3] || "(unknown)",
    speaker: (h) => turns[h[0]][2],
    relation: (h) => h[7],
    role: (h) => turns[h[0]][4],
  };

  function where(h) {
    return turns[h[0]][5] + ":" + h[5] + ":" + h[6];
  }

  function oneLine(text) {
    return text.replace(/\r?\n/g, " \u23CE ");
  }

  function context(h) {
    const text = turns[h[0]][9];
    const from = Math.max(0, h[3] - CONTEXT);
    const to = Math.min(text.length, h[4] + CONTEXT);
    return [(from > 0 ? "\u2026" : "") + oneLine(text.slice(from, h[3])),
            oneLine(text.slice(h[3], h[4])),
            oneLine(text.slice(h[4], to)) + (to < text.length ? "\u2026" : "")];
  }

  function fillFilter(select, key) {
    const seen = new Set(hits.map((h) => value[key](h)));
    const ordered = key === "relation" ? data.relations.filter((r) => seen.has(r))
                                       : Array.from(seen).sort();
    for (const option of ordered) {
      const element = document.createElement("option");
      element.value = option;
      element.textContent = option;
      select.appendChild(element);
    }
  }

  function compare(a, b) {
    if (state.sort === null) return a - b;
    let x, y;
    if (state.sort === "where") {
      const ha = hits[a], hb = hits[b];
      x = turns[ha[0]][5]; y = turns[hb[0]][5];
      if (x === y) { x = ha[5] * 1e7 + ha[6]; y = hb[5] * 1e7 + hb[6]; }
    } else {
      x = value[state.sort](hits[a]); y = value[state.sort](hits[b]);
    }
    const order = x < y ? -1 : x > y ? 1 : a - b;
    return state.descending ? -order : order;
  }

  function matchesText(h) {
    if (!state.text) return true;
    return context(h).join(" ").toLowerCase().includes(state.text);
  }

  function select() {
    rows = [];
    for (let i = 0; i < hits.length; i++) {
      const h = hits[i];
      let keep = true;
      for (const key in state.filters) {
        if (state.filters[key] && value[key](h) !== state.filters[key]) { keep = false; break; }
      }
      if (keep && matchesText(h)) rows.push(i);
    }
    rows.sort(compare);
    state.page = 0;
    render();
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function render() {
    const first = state.page * state.size;
    const shown = rows.slice(first, first + state.size);
    const fragment = document.createDocumentFragment();
    for (const i of shown) {
      const h = hits[i];
      const tr = document.createElement("tr");
      tr.className = "hit";
      tr.dataset.hit = String(i);
      const toggle = cell(tr, "\u25B8", "c-open");
      toggle.setAttribute("aria-label", "open the turn");
      cell(tr, h[1], "c-set");
      cell(tr, h[2], "c-pattern");
      cell(tr, value.model(h), "c-model");
      cell(tr, value.speaker(h), "c-speaker");
      cell(tr, h[7] + (h[8] ? " \u21BA" : ""), "c-relation");
      cell(tr, value.role(h), "c-role");
      const path = turns[h[0]][5];
      cell(tr, path.slice(path.lastIndexOf("/") + 1) + ":" + h[5] + ":" + h[6], "c-where").title = where(h);
      const [left, match, right] = context(h);
      cell(tr, left, "c-left");
      cell(tr, match, "c-match");
      cell(tr, right, "c-right");
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
    const last = Math.min(rows.length, first + state.size);
    document.getElementById("showing").textContent = rows.length
      ? (first + 1) + "\u2013" + last + " of " + rows.length + " hits"
      : "no hits" + (hits.length ? " match the filters" : "");
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = last >= rows.length;
  }

  function regionsOf(turnNumber) {
    const spans = hits.filter((h) => h[0] === turnNumber).map((h) => [h[3], h[4]])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged = [];
    for (const [start, end] of spans) {
      const last = merged[merged.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    return merged;
  }

  function turnDetail(h) {
    const turn = turns[h[0]];
    const box = document.createElement("div");
    box.className = "turn";
    const head = document.createElement("p");
    head.className = "turn-head";
    head.textContent = "turn " + turn[1] + " \u00B7 " + turn[2] + " \u00B7 " + (turn[3] || "(unknown model)")
      + " \u00B7 " + turn[4] + " \u00B7 " + turn[5] + ":" + turn[6] + ":" + turn[7]
      + (turn[8] ? " \u00B7 " + turn[8] : "") + " \u00B7 conversation " + turn[0];
    const text = document.createElement("div");
    text.className = "turn-text";
    let position = 0;
    for (const [start, end] of regionsOf(h[0])) {
      text.appendChild(document.createTextNode(turn[9].slice(position, start)));
      const mark = document.createElement("mark");
      mark.textContent = turn[9].slice(start, end);
      text.appendChild(mark);
      position = end;
    }
    text.appendChild(document.createTextNode(turn[9].slice(position)));
    box.append(head, text);
    return box;
  }

  function toggle(tr) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("detail")) {
      next.remove();
      tr.classList.remove("open");
      tr.firstChild.textContent = "\u25B8";
      return;
    }
    const detail = document.createElement("tr");
    detail.className = "detail";
    const td = document.createElement("td");
    td.colSpan = tr.children.length;
    td.appendChild(turnDetail(hits[Number(tr.dataset.hit)]));
    detail.appendChild(td);
    tr.after(detail);
    tr.classList.add("open");
    tr.firstChild.textContent = "\u25BE";
  }

  for (const selectElement of document.querySelectorAll("select[data-filter]")) {
    const key = selectElement.dataset.filter;
    fillFilter(selectElement, key);
    selectElement.addEventListener("change", () => { state.filters[key] = selectElement.value; select(); });
  }
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  const search = document.querySelector("input[data-filter=text]");
  search.addEventListener("input", () => { state.text = search.value.toLowerCase(); select(); });
  document.getElementById("page-size").addEventListener("change", (event) => {
    state.size = Number(event.target.value); state.page = 0; render();
  });
  document.getElementById("prev").addEventListener("click", () => { state.page -= 1; render(); });
  document.getElementById("next").addEventListener("click", () => { state.page += 1; render(); });
  for (const th of table.tHead.querySelectorAll("th[data-sort]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.sort;
      state.descending = state.sort === key ? !state.descending : false;
      state.sort = key;
      for (const other of table.tHead.querySelectorAll("th[data-sort]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
      rows.sort(compare);
      state.page = 0;
      render();
    });
  }
  body.addEventListener("click", (event) => {
    const tr = event.target.closest("tr.hit");
    if (tr) toggle(tr);
  });
  render();
  window.reportReadyMs = performance.now();
  document.body.dataset.ready = "1";
})();

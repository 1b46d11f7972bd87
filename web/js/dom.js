// DOM building for every view: elements from properties and children
// (text always through textContent, never markup), and the data table the
// views share (each cell labelled, so a narrow window stacks the rows).

// An element: tag with properties (className, id, textContent, hidden, ...)
// and children (nodes or strings).
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

// A view's heading, focusable so that routing can move focus to it.
export function heading(text) {
  return el('h1', { textContent: text, tabIndex: -1 });
}

// A table with id: columns [[key, label], ...]; rows of objects whose
// values are strings or nodes. The body is returned for adding rows
// later with addRow.
export function dataTable(id, columns, rows = []) {
  const table = el('table', { id });
  const head = table.createTHead().insertRow();
  for (const [, label] of columns) head.append(el('th', { scope: 'col', textContent: label }));
  table.createTBody();
  for (const r of rows) addRow(table, columns, r);
  return table;
}

// Appends (or, with first, prepends) one row to table; returns the <tr>.
export function addRow(table, columns, row, first = false) {
  const body = table.tBodies[0];
  const tr = body.insertRow(first ? 0 : -1);
  for (const [key, label] of columns) {
    const td = el('td');
    td.dataset.label = label;
    const v = row[key];
    if (v instanceof Node) td.append(v);
    else td.textContent = v === undefined || v === null ? '' : String(v);
    tr.append(td);
  }
  return tr;
}

// A local time for unix seconds (or '' for none).
export function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : '';
}

// Saves blob as a download named name (through a short-lived object URL).
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A paragraph saying something went wrong, announced to screen readers.
export function errorLine(message) {
  const p = el('p', { className: 'error', textContent: message });
  p.setAttribute('role', 'alert');
  return p;
}

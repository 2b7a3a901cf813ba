// Cell selection in the call summaries: select cells of one column (click, Shift-click, Ctrl-click,
// drag, or the arrow keys: Shift extends, Space toggles, Escape clears) to see their sum and the
// average of the selected values; copy them, copy them with headers (tab-separated, for a
// spreadsheet), or export the selection or the whole table as CSV. Without this script the table
// is plain HTML and the page's "Download this table as CSV" link still exports it from the server.
(function () {
  'use strict';

  var FORMULA_START = /^[=+\-@\t\r]/;
  var NUMBER = /^-?\d+(\.\d+)?$/;

  function tableOf(box) {
    return box.querySelector('table[data-cell-table]');
  }
  function headerOf(table, index) {
    return table.tHead.rows[0].cells[index];
  }
  function kindOf(table, index) {
    var h = headerOf(table, index);
    return h ? h.getAttribute('data-cell-col') : null;
  }
  function labelOf(table, index) {
    var h = headerOf(table, index);
    return h ? h.getAttribute('data-cell-label') : '';
  }
  function periodIndex(table) {
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++)
      if (cells[i].getAttribute('data-cell-label') && !cells[i].hasAttribute('data-cell-col')) return i;
    return 0;
  }
  function isSelectable(cell) {
    return (
      !!cell &&
      cell.tagName === 'TD' &&
      cell.hasAttribute('data-value') &&
      !!cell.closest('tbody') &&
      !!kindOf(cell.closest('table'), cell.cellIndex)
    );
  }
  function bodyRows(table) {
    return Array.prototype.slice.call(table.tBodies[0].rows);
  }
  function column(table, index) {
    return bodyRows(table).map(function (r) {
      return r.cells[index];
    });
  }
  function selectableColumns(table) {
    var out = [];
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++) if (cells[i].hasAttribute('data-cell-col')) out.push(i);
    return out;
  }

  var states = new WeakMap();
  function stateOf(box) {
    var s = states.get(box);
    if (!s) {
      s = { col: -1, rows: [], anchor: -1, focus: -1 };
      states.set(box, s);
    }
    return s;
  }

  function activate(box) {
    if (box.hasAttribute('data-cell-active')) return;
    var table = tableOf(box);
    if (!table || !table.tBodies[0]) return;
    box.setAttribute('data-cell-active', '');
    table.setAttribute('role', 'grid');
    table.setAttribute('aria-multiselectable', 'true');
    var first = true;
    bodyRows(table).forEach(function (row) {
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!isSelectable(cell)) return;
        cell.setAttribute('tabindex', first ? '0' : '-1');
        cell.setAttribute('aria-selected', 'false');
        first = false;
      });
    });
    var bar = box.querySelector('[data-cell-select-bar]');
    if (bar) bar.hidden = false;
  }
  function activateAll() {
    document.querySelectorAll('[data-cell-select]').forEach(activate);
  }

  function formatter(box, kind) {
    var locale = box.getAttribute('data-locale') || undefined;
    var currency = box.getAttribute('data-currency') || 'EUR';
    if (kind === 'money') {
      var money = new Intl.NumberFormat(locale, { style: 'currency', currency: currency });
      var digits = money.resolvedOptions().maximumFractionDigits;
      return function (minor) {
        return money.format(minor / Math.pow(10, digits));
      };
    }
    if (kind === 'percent') {
      var pct = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
      return function (v) {
        return pct.format(v) + ' %';
      };
    }
    if (kind === 'duration') {
      return function (v) {
        var s = Math.round(v);
        return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
      };
    }
    var num = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    return function (v) {
      return num.format(v);
    };
  }

  function selectedCells(box) {
    var s = stateOf(box);
    if (s.col < 0) return [];
    var cells = column(tableOf(box), s.col);
    return s.rows
      .slice()
      .sort(function (a, b) {
        return a - b;
      })
      .map(function (i) {
        return cells[i];
      });
  }

  function render(box) {
    var table = tableOf(box);
    var s = stateOf(box);
    table.querySelectorAll('td[aria-selected="true"]').forEach(function (c) {
      c.setAttribute('aria-selected', 'false');
      c.classList.remove('cell-selected');
    });
    var cells = selectedCells(box);
    cells.forEach(function (c) {
      c.setAttribute('aria-selected', 'true');
      c.classList.add('cell-selected');
    });
    var status = box.querySelector('[data-cell-select-status]');
    box.querySelectorAll('[data-cell-action]').forEach(function (b) {
      if (b.getAttribute('data-cell-action') !== 'export-table') b.disabled = cells.length === 0;
    });
    if (!status) return;
    if (!cells.length) {
      status.textContent = 'No cells selected.';
      return;
    }
    var kind = kindOf(table, s.col);
    var values = cells
      .map(function (c) {
        return c.getAttribute('data-value');
      })
      .filter(function (v) {
        return v !== '';
      })
      .map(Number);
    var sum = values.reduce(function (a, b) {
      return a + b;
    }, 0);
    var fmt = formatter(box, kind);
    var parts = [cells.length + (cells.length === 1 ? ' cell' : ' cells') + ' selected in ' + labelOf(table, s.col)];
    if (!values.length) parts.push('no values');
    else {
      // a ratio (ASR, ACD) has no meaningful sum; its average is of the rows' ratios, not weighted by calls
      if (kind === 'sum' || kind === 'money') parts.push('Sum: ' + fmt(sum));
      parts.push('Average of the selected values: ' + fmt(sum / values.length));
    }
    status.textContent = parts.join(' · ');
  }

  function select(box, col, rows, anchor, focusRow) {
    var s = stateOf(box);
    s.col = col;
    s.rows = rows;
    s.anchor = anchor;
    s.focus = focusRow;
    render(box);
  }
  function range(a, b) {
    var out = [];
    for (var i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i);
    return out;
  }
  function focusCell(box, col, row) {
    var table = tableOf(box);
    var cell = column(table, col)[row];
    if (!cell) return;
    table.querySelectorAll('td[tabindex="0"]').forEach(function (c) {
      c.setAttribute('tabindex', '-1');
    });
    cell.setAttribute('tabindex', '0');
    cell.focus();
  }

  /** A click, Shift-click or Ctrl-click (or the start of a drag) on a cell. */
  function pick(box, cell, event) {
    var s = stateOf(box);
    var col = cell.cellIndex;
    var row = cell.parentNode.sectionRowIndex;
    if (event.shiftKey && s.col === col && s.anchor >= 0) select(box, col, range(s.anchor, row), s.anchor, row);
    else if ((event.ctrlKey || event.metaKey) && s.col === col) {
      var rows =
        s.rows.indexOf(row) >= 0
          ? s.rows.filter(function (r) {
              return r !== row;
            })
          : s.rows.concat([row]);
      select(box, col, rows, row, row);
    } else select(box, col, [row], row, row);
    focusCell(box, col, row);
  }

  var drag = null;
  document.addEventListener('mousedown', function (event) {
    var cell = event.target.closest && event.target.closest('td');
    if (event.button !== 0 || !isSelectable(cell)) return;
    var box = cell.closest('[data-cell-active]');
    if (!box) return;
    event.preventDefault(); // no text selection while dragging
    pick(box, cell, event);
    drag = { box: box, col: cell.cellIndex };
    tableOf(box).classList.add('cell-dragging');
  });
  document.addEventListener('mouseover', function (event) {
    if (!drag) return;
    var cell = event.target.closest && event.target.closest('td');
    if (!isSelectable(cell) || cell.cellIndex !== drag.col || !drag.box.contains(cell)) return;
    var s = stateOf(drag.box);
    var row = cell.parentNode.sectionRowIndex;
    select(drag.box, drag.col, range(s.anchor, row), s.anchor, row);
  });
  document.addEventListener('mouseup', function () {
    if (!drag) return;
    tableOf(drag.box).classList.remove('cell-dragging');
    drag = null;
  });

  document.addEventListener('keydown', function (event) {
    var cell = event.target;
    if (
      event.key === 'Escape' &&
      cell.closest &&
      cell.closest('[data-cell-active]') &&
      !cell.closest('input, select')
    ) {
      select(cell.closest('[data-cell-active]'), -1, [], -1, -1);
      return;
    }
    if (!isSelectable(cell)) return;
    var box = cell.closest('[data-cell-active]');
    if (!box) return;
    var table = tableOf(box);
    var s = stateOf(box);
    var col = cell.cellIndex;
    var row = cell.parentNode.sectionRowIndex;
    var last = bodyRows(table).length - 1;
    var cols = selectableColumns(table);
    var to = null;
    if (event.key === 'ArrowDown') to = { col: col, row: Math.min(last, row + 1) };
    else if (event.key === 'ArrowUp') to = { col: col, row: Math.max(0, row - 1) };
    else if (event.key === 'Home') to = { col: col, row: 0 };
    else if (event.key === 'End') to = { col: col, row: last };
    else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      var i = cols.indexOf(col) + (event.key === 'ArrowRight' ? 1 : -1);
      if (i >= 0 && i < cols.length) to = { col: cols[i], row: row };
      else {
        event.preventDefault();
        return;
      }
    } else if (event.key === ' ') {
      event.preventDefault();
      pick(box, cell, { ctrlKey: s.col === col, shiftKey: false });
      return;
    } else if ((event.ctrlKey || event.metaKey) && event.key === 'a') {
      event.preventDefault();
      select(box, col, range(0, last), 0, row);
      return;
    } else if ((event.ctrlKey || event.metaKey) && event.key === 'c') {
      event.preventDefault();
      copy(box, false);
      return;
    }
    if (!to) return;
    event.preventDefault();
    if (event.shiftKey && to.col === s.col && s.anchor >= 0)
      select(box, to.col, range(s.anchor, to.row), s.anchor, to.row);
    else select(box, to.col, [to.row], to.row, to.row);
    focusCell(box, to.col, to.row);
  });

  // ---- copy and export ----

  function periodOf(table, cell) {
    var p = cell.parentNode.cells[periodIndex(table)];
    return p ? p.getAttribute('data-copy') || p.textContent.trim() : '';
  }
  function selectionRows(box, headers) {
    var table = tableOf(box);
    var s = stateOf(box);
    var cells = selectedCells(box);
    var rows = cells.map(function (c) {
      return headers ? [periodOf(table, c), c.getAttribute('data-copy')] : [c.getAttribute('data-copy')];
    });
    if (headers) rows.unshift([labelOf(table, periodIndex(table)), labelOf(table, s.col)]);
    return rows;
  }
  function tableRows(box) {
    var table = tableOf(box);
    var indexes = [periodIndex(table)].concat(selectableColumns(table));
    var rows = [
      indexes.map(function (i) {
        return labelOf(table, i);
      }),
    ];
    bodyRows(table).forEach(function (r) {
      rows.push(
        indexes.map(function (i) {
          var c = r.cells[i];
          return c.getAttribute('data-copy') || c.textContent.trim();
        }),
      );
    });
    return rows;
  }

  function copy(box, headers) {
    var rows = selectionRows(box, headers);
    if (!rows.length || (headers && rows.length < 2)) return;
    var text =
      rows
        .map(function (r) {
          return r.join('\t');
        })
        .join('\n') + '\n';
    var n = rows.length - (headers ? 1 : 0);
    var said = 'Copied ' + n + (n === 1 ? ' value' : ' values') + (headers ? ' with headers.' : '.');
    // what was copied, for whoever reads the page (and for the tests)
    box.setAttribute('data-copied', text);
    var status = box.querySelector('[data-cell-select-status]');
    var done = function (ok) {
      if (status)
        status.textContent = ok
          ? said
          : 'Copying was refused by the browser; select the cells and press Ctrl+C instead.';
    };
    if (navigator.clipboard && navigator.clipboard.writeText)
      navigator.clipboard.writeText(text).then(
        function () {
          done(true);
        },
        function () {
          done(fallbackCopy(text));
        },
      );
    else done(fallbackCopy(text));
  }
  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  function csvCell(v) {
    var text = v === null || v === undefined ? '' : String(v);
    if (!NUMBER.test(text) && FORMULA_START.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function download(box, rows, name) {
    var csv =
      rows
        .map(function (r) {
          return r.map(csvCell).join(',');
        })
        .join('\n') + '\n';
    var url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    var a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
    var status = box.querySelector('[data-cell-select-status]');
    if (status)
      status.textContent =
        'Exported ' + (rows.length - 1) + (rows.length === 2 ? ' row' : ' rows') + ' as ' + name + '.';
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-cell-action]');
    if (!button) return;
    var box = button.closest('[data-cell-active]');
    if (!box) return;
    var action = button.getAttribute('data-cell-action');
    if (action === 'copy') copy(box, false);
    else if (action === 'copy-headers') copy(box, true);
    else if (action === 'export-selection') download(box, selectionRows(box, true), 'summary-selection.csv');
    else if (action === 'export-table') download(box, tableRows(box), 'summary.csv');
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', activateAll);
  else activateAll();
  // the table is swapped in place when the range changes: activate the new one too
  new MutationObserver(activateAll).observe(document.body, { childList: true, subtree: true });
})();

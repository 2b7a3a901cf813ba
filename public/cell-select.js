// Cell selection in the call summaries: select any rectangle of figures (click, Shift-click, drag, or
// the arrow keys: Shift extends, Home/End go along the row, Ctrl+Home/End to the first/last row,
// Ctrl+A takes all, Escape clears) to see each selected column's sum and average; copy the cells,
// copy them with headers (tab-separated, which spreadsheets paste as cells), or export the selection
// or the whole table as CSV, from the buttons or from a context menu (right-click, the menu key or
// Shift+F10). "With headers" puts the column headers first and each row's period in front of it.
// Without this script the table is plain HTML and the page's "Download this table as CSV" link still
// exports it from the server.
(function () {
  'use strict';

  var FORMULA_START = /^[=+\-@\t\r]/;
  var NUMBER = /^-?\d+(\.\d+)?$/;

  // The texts this script writes, in the page's language: the template renders them from the message
  // catalog into data-cell-texts (placeholders as {name}; a count's forms rendered for 1 and for
  // 1000003, which this script replaces by the count). English when the attribute is missing.
  var ENGLISH = {
    noValues: '{label}: no values',
    sum: 'sum {value}',
    average: 'average {value}',
    none: 'No cells selected.',
    selected: '{cells} selected ({rows} × {columns})',
    cells: { one: '1 cell', other: '1000003 cells' },
    rows: { one: '1 row', other: '1000003 rows' },
    columns: { one: '1 column', other: '1000003 columns' },
    copied: { one: 'Copied 1 value.', other: 'Copied 1000003 values.' },
    copiedHeaders: { one: 'Copied 1 value with headers.', other: 'Copied 1000003 values with headers.' },
    refused: 'Copying was refused by the browser; select the cells and press Ctrl+C instead.',
    exported: { one: 'Exported 1 row as {name}.', other: 'Exported 1000003 rows as {name}.' },
  };
  var SENTINEL = /1[,.\u00a0\u202f\u2019']?000[,.\u00a0\u202f\u2019']?003/;
  function textsOf(box) {
    var own = null;
    try {
      own = JSON.parse(box.getAttribute('data-cell-texts') || 'null');
    } catch (e) {
      own = null;
    }
    return own || ENGLISH;
  }
  /** A text of the box's language with its placeholders filled in; `count` picks a form and replaces the sample count. */
  function say_(box, key, values, count) {
    var text = textsOf(box)[key] || ENGLISH[key];
    if (typeof text === 'object') {
      var one = count === 1;
      text = one ? text.one.replace('1', String(count)) : text.other.replace(SENTINEL, String(count));
    }
    return text.replace(/\{(\w+)\}/g, function (m, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : m;
    });
  }

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
  /** The cell indexes of the columns with figures, left to right. */
  function selectableColumns(table) {
    var out = [];
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++) if (cells[i].hasAttribute('data-cell-col')) out.push(i);
    return out;
  }
  /** A cell's place in the grid of figures: row of the body, column among selectableColumns. */
  function placeOf(table, cell) {
    return { row: cell.parentNode.sectionRowIndex, col: selectableColumns(table).indexOf(cell.cellIndex) };
  }
  function cellAt(table, place) {
    var row = table.tBodies[0].rows[place.row];
    var index = selectableColumns(table)[place.col];
    return row && index !== undefined ? row.cells[index] : null;
  }

  // the selection is the rectangle between anchor and focus (places), or nothing
  var states = new WeakMap();
  function stateOf(box) {
    var s = states.get(box);
    if (!s) {
      s = { anchor: null, focus: null };
      states.set(box, s);
    }
    return s;
  }
  function rect(box) {
    var s = stateOf(box);
    if (!s.anchor || !s.focus) return null;
    return {
      top: Math.min(s.anchor.row, s.focus.row),
      bottom: Math.max(s.anchor.row, s.focus.row),
      left: Math.min(s.anchor.col, s.focus.col),
      right: Math.max(s.anchor.col, s.focus.col),
    };
  }
  /** The selected cells, row by row: [[cell, ...], ...]. */
  function selectedRows(box) {
    var r = rect(box);
    if (!r) return [];
    var table = tableOf(box);
    var out = [];
    for (var row = r.top; row <= r.bottom; row++) {
      var cells = [];
      for (var col = r.left; col <= r.right; col++) cells.push(cellAt(table, { row: row, col: col }));
      out.push(cells);
    }
    return out;
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

  /** "Attempts: sum 1,234, average 411.33" for one selected column (cells of that column). */
  function columnFigures(box, index, cells) {
    var table = tableOf(box);
    var kind = kindOf(table, index);
    var values = cells
      .map(function (c) {
        return c.getAttribute('data-value');
      })
      .filter(function (v) {
        return v !== '';
      })
      .map(Number);
    if (!values.length) return say_(box, 'noValues', { label: labelOf(table, index) });
    var sum = values.reduce(function (a, b) {
      return a + b;
    }, 0);
    var fmt = formatter(box, kind);
    // a ratio (ASR, ACD) has no meaningful sum; its average is of the rows' ratios, not weighted by calls
    var parts = [];
    if (kind === 'sum' || kind === 'money') parts.push(say_(box, 'sum', { value: fmt(sum) }));
    parts.push(say_(box, 'average', { value: fmt(sum / values.length) }));
    return labelOf(table, index) + ': ' + parts.join(', ');
  }

  function render(box) {
    var table = tableOf(box);
    table.querySelectorAll('td[aria-selected="true"]').forEach(function (c) {
      c.setAttribute('aria-selected', 'false');
      c.classList.remove('cell-selected');
    });
    var rows = selectedRows(box);
    rows.forEach(function (cells) {
      cells.forEach(function (c) {
        c.setAttribute('aria-selected', 'true');
        c.classList.add('cell-selected');
      });
    });
    box.querySelectorAll('[data-cell-action]').forEach(function (b) {
      if (b.getAttribute('data-cell-action') !== 'export-table') b.disabled = rows.length === 0;
    });
    var status = box.querySelector('[data-cell-select-status]');
    if (!status) return;
    if (!rows.length) {
      status.textContent = say_(box, 'none');
      return;
    }
    var width = rows[0].length;
    var n = rows.length * width;
    var parts = [
      say_(box, 'selected', {
        cells: say_(box, 'cells', null, n),
        rows: say_(box, 'rows', null, rows.length),
        columns: say_(box, 'columns', null, width),
      }),
    ];
    for (var i = 0; i < width; i++) {
      var cells = rows.map(function (r) {
        return r[i];
      });
      parts.push(columnFigures(box, cells[0].cellIndex, cells));
    }
    status.textContent = parts.join(' · ');
  }

  function select(box, anchor, focus) {
    var s = stateOf(box);
    s.anchor = anchor;
    s.focus = focus;
    render(box);
  }
  function focusCell(box, place) {
    var table = tableOf(box);
    var cell = cellAt(table, place);
    if (!cell) return;
    table.querySelectorAll('td[tabindex="0"]').forEach(function (c) {
      c.setAttribute('tabindex', '-1');
    });
    cell.setAttribute('tabindex', '0');
    cell.focus();
  }
  function inSelection(box, place) {
    var r = rect(box);
    return !!r && place.row >= r.top && place.row <= r.bottom && place.col >= r.left && place.col <= r.right;
  }

  /** A click or Shift-click (or the start of a drag) on a cell. */
  function pick(box, cell, extend) {
    var s = stateOf(box);
    var place = placeOf(tableOf(box), cell);
    if (extend && s.anchor) select(box, s.anchor, place);
    else select(box, place, place);
    focusCell(box, place);
  }

  var drag = null;
  document.addEventListener('mousedown', function (event) {
    var cell = event.target.closest && event.target.closest('td');
    if (event.button !== 0 || !isSelectable(cell)) return;
    var box = cell.closest('[data-cell-active]');
    if (!box) return;
    event.preventDefault(); // no text selection while dragging
    closeMenu(false);
    pick(box, cell, event.shiftKey);
    drag = box;
    tableOf(box).classList.add('cell-dragging');
  });
  document.addEventListener('mouseover', function (event) {
    if (!drag) return;
    var cell = event.target.closest && event.target.closest('td');
    if (!isSelectable(cell) || !drag.contains(cell)) return;
    var s = stateOf(drag);
    var place = placeOf(tableOf(drag), cell);
    if (s.focus && s.focus.row === place.row && s.focus.col === place.col) return;
    select(drag, s.anchor, place);
  });
  document.addEventListener('mouseup', function () {
    if (!drag) return;
    var box = drag;
    drag = null;
    tableOf(box).classList.remove('cell-dragging');
    var s = stateOf(box);
    if (s.focus) focusCell(box, s.focus);
  });

  document.addEventListener('keydown', function (event) {
    if (menu.box && menu.el.contains(event.target)) return menuKey(event);
    var cell = event.target;
    if (
      event.key === 'Escape' &&
      cell.closest &&
      cell.closest('[data-cell-active]') &&
      !cell.closest('input, select')
    ) {
      var active = cell.closest('[data-cell-active]');
      select(active, null, null);
      return;
    }
    if (!isSelectable(cell)) return;
    var box = cell.closest('[data-cell-active]');
    if (!box) return;
    var table = tableOf(box);
    var s = stateOf(box);
    var here = placeOf(table, cell);
    var lastRow = bodyRows(table).length - 1;
    var lastCol = selectableColumns(table).length - 1;
    var ctrl = event.ctrlKey || event.metaKey;
    var to = null;
    if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      event.preventDefault();
      if (!inSelection(box, here)) select(box, here, here);
      var at = cell.getBoundingClientRect();
      openMenu(box, cell, at.left + at.width / 2, at.bottom);
      return;
    }
    if (event.key === 'ArrowDown') to = { row: Math.min(lastRow, here.row + 1), col: here.col };
    else if (event.key === 'ArrowUp') to = { row: Math.max(0, here.row - 1), col: here.col };
    else if (event.key === 'ArrowRight') to = { row: here.row, col: Math.min(lastCol, here.col + 1) };
    else if (event.key === 'ArrowLeft') to = { row: here.row, col: Math.max(0, here.col - 1) };
    else if (event.key === 'Home') to = ctrl ? { row: 0, col: here.col } : { row: here.row, col: 0 };
    else if (event.key === 'End') to = ctrl ? { row: lastRow, col: here.col } : { row: here.row, col: lastCol };
    else if (event.key === ' ') {
      event.preventDefault();
      select(box, here, here);
      return;
    } else if (ctrl && event.key === 'a') {
      event.preventDefault();
      select(box, { row: 0, col: 0 }, { row: lastRow, col: lastCol });
      return;
    } else if (ctrl && event.key === 'c') {
      event.preventDefault();
      copy(box, false);
      return;
    }
    if (!to) return;
    event.preventDefault();
    // Shift extends the rectangle from its anchor: its focus corner moves, the anchor stays
    if (event.shiftKey && s.anchor) {
      select(box, s.anchor, to);
      focusCell(box, to);
    } else {
      select(box, to, to);
      focusCell(box, to);
    }
  });

  // ---- the context menu: right-click, the menu key or Shift+F10 on a cell ----

  var menu = { el: null, box: null, returnTo: null };
  function menuOf(box) {
    return box.querySelector('[data-cell-menu]');
  }
  function menuItems() {
    return Array.prototype.slice.call(menu.el.querySelectorAll('[role="menuitem"]'));
  }
  function openMenu(box, cell, x, y) {
    closeMenu(false);
    var el = menuOf(box);
    if (!el) return;
    menu = { el: el, box: box, returnTo: cell };
    el.hidden = false;
    // inside the window, beside the pointer or below the cell
    var w = el.offsetWidth;
    var h = el.offsetHeight;
    el.style.left = Math.max(0, Math.min(x, window.innerWidth - w - 4)) + 'px';
    el.style.top = Math.max(0, Math.min(y, window.innerHeight - h - 4)) + 'px';
    var items = menuItems();
    items.forEach(function (item) {
      item.setAttribute('tabindex', '-1');
    });
    if (items[0]) items[0].focus();
  }
  /** Closes the menu; `refocus` returns the focus to the cell it was opened on. */
  function closeMenu(refocus) {
    if (!menu.box) return;
    var back = menu.returnTo;
    menu.el.hidden = true;
    menu = { el: menu.el, box: null, returnTo: null };
    if (refocus && back && document.contains(back)) back.focus();
  }
  function menuKey(event) {
    var items = menuItems();
    var i = items.indexOf(document.activeElement);
    var next = null;
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      closeMenu(true);
      return;
    }
    if (event.key === 'Tab') {
      event.preventDefault();
      closeMenu(true);
      return;
    }
    if (event.key === 'ArrowDown') next = (i + 1) % items.length;
    else if (event.key === 'ArrowUp') next = (i - 1 + items.length) % items.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = items.length - 1;
    else if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      event.preventDefault();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    items[next].focus();
  }
  document.addEventListener('contextmenu', function (event) {
    if (menu.box && menu.el.contains(event.target)) {
      event.preventDefault();
      return;
    }
    var cell = event.target.closest && event.target.closest('td');
    if (!isSelectable(cell)) return;
    var box = cell.closest('[data-cell-active]');
    if (!box) return;
    event.preventDefault();
    // the keyboard's own contextmenu event (after its keydown opened the menu) changes nothing
    if (menu.box === box) return;
    var place = placeOf(tableOf(box), cell);
    if (!inSelection(box, place)) select(box, place, place);
    var focus = stateOf(box).focus || place;
    focusCell(box, focus);
    openMenu(box, cellAt(tableOf(box), focus), event.clientX, event.clientY);
  });
  document.addEventListener('mousedown', function (event) {
    if (menu.box && !menu.el.contains(event.target)) closeMenu(false);
  });
  document.addEventListener('focusin', function (event) {
    if (menu.box && !menu.el.contains(event.target)) closeMenu(false);
  });
  window.addEventListener('blur', function () {
    closeMenu(false);
  });

  // ---- copy and export ----

  function periodOf(table, row) {
    var p = table.tBodies[0].rows[row].cells[periodIndex(table)];
    return p ? p.getAttribute('data-copy') || p.textContent.trim() : '';
  }
  /** The selection as rows of text; with headers, the column headers first and the period in front. */
  function selectionRows(box, headers) {
    var table = tableOf(box);
    var r = rect(box);
    var rows = selectedRows(box);
    if (!rows.length) return [];
    var out = rows.map(function (cells, i) {
      var texts = cells.map(function (c) {
        return c.getAttribute('data-copy');
      });
      return headers ? [periodOf(table, r.top + i)].concat(texts) : texts;
    });
    if (headers)
      out.unshift(
        [labelOf(table, periodIndex(table))].concat(
          rows[0].map(function (c) {
            return labelOf(table, c.cellIndex);
          }),
        ),
      );
    return out;
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

  function say(box, text) {
    var status = box.querySelector('[data-cell-select-status]');
    if (status) status.textContent = text;
  }
  function copy(box, headers) {
    var rows = selectionRows(box, headers);
    if (!rows.length) return;
    // tab-separated rows: a spreadsheet pastes them as cells
    var text =
      rows
        .map(function (r) {
          return r.join('\t');
        })
        .join('\n') + '\n';
    var n = (rows.length - (headers ? 1 : 0)) * (rows[rows.length - 1].length - (headers ? 1 : 0));
    var said = say_(box, headers ? 'copiedHeaders' : 'copied', null, n);
    // what was copied, for whoever reads the page (and for the tests)
    box.setAttribute('data-copied', text);
    var done = function (ok) {
      say(box, ok ? said : say_(box, 'refused'));
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
    say(box, say_(box, 'exported', { name: name }, rows.length - 1));
  }

  function act(box, action) {
    if (action === 'copy') copy(box, false);
    else if (action === 'copy-headers') copy(box, true);
    else if (action === 'export-selection') {
      var rows = selectionRows(box, true);
      if (rows.length) download(box, rows, 'summary-selection.csv');
    } else if (action === 'export-table') download(box, tableRows(box), 'summary.csv');
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-cell-action]');
    if (!button) return;
    var box = button.closest('[data-cell-active]');
    if (!box) return;
    var fromMenu = menu.box === box && menu.el.contains(button);
    // the menu closes first: the focus goes back to the cells, and the announcement is not lost
    if (fromMenu) closeMenu(true);
    act(box, button.getAttribute('data-cell-action'));
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', activateAll);
  else activateAll();
  // the table is swapped in place when the range changes: activate the new one too
  new MutationObserver(activateAll).observe(document.body, { childList: true, subtree: true });
})();

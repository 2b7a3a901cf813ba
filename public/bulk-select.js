// The asset list's bulk selection: keeps the live region's count up to date as boxes are ticked, and
// adds a "select this page" box to the table's head. Delegated from the document, so it keeps working
// after htmx swaps the list. Without this script the form works the same; only the count is not shown.
(function () {
  'use strict';

  function formOf(el) {
    return el && el.closest ? el.closest('[data-bulk-form]') : null;
  }
  // the texts in the page's language, from the form's data-text-* attributes (English when absent)
  function text(form, key, fallback) {
    return form.getAttribute('data-text-' + key) || fallback;
  }
  function picks(form) {
    return Array.prototype.slice.call(form.querySelectorAll('[data-bulk-pick]'));
  }
  function update(form) {
    var out = form.querySelector('[data-bulk-count]');
    var all = form.querySelector('[data-bulk-all]');
    var boxes = picks(form);
    var ticked = boxes.filter(function (b) {
      return b.checked;
    }).length;
    boxes.forEach(function (b) {
      b.disabled = !!(all && all.checked);
    });
    var page = form.querySelector('[data-bulk-page]');
    if (page) {
      page.checked = ticked > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    if (!out) return;
    if (all && all.checked)
      out.textContent = text(form, 'all', 'Every asset that matches this filter is selected, on every page.');
    else if (ticked)
      out.textContent = text(
        form,
        ticked === 1 ? 'one' : 'many',
        ticked === 1 ? '{n} asset selected on this page.' : '{n} assets selected on this page.',
      ).replace('{n}', String(ticked));
    else out.textContent = text(form, 'none', 'No assets selected.');
  }
  function addPageBox(form) {
    var head = form.querySelector('thead th');
    if (!head || head.querySelector('[data-bulk-page]')) return;
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.id = 'bulk-page';
    box.setAttribute('data-bulk-page', '');
    box.setAttribute('aria-label', text(form, 'page', 'Select every asset on this page'));
    head.textContent = '';
    head.appendChild(box);
  }
  function setUp() {
    var forms = document.querySelectorAll('[data-bulk-form]');
    for (var i = 0; i < forms.length; i++) {
      addPageBox(forms[i]);
      update(forms[i]);
    }
  }
  document.addEventListener('change', function (e) {
    var form = formOf(e.target);
    if (!form) return;
    if (e.target.hasAttribute('data-bulk-page')) {
      picks(form).forEach(function (b) {
        b.checked = e.target.checked;
      });
    }
    update(form);
  });
  document.addEventListener('DOMContentLoaded', setUp);
  document.addEventListener('htmx:after:swap', setUp);
  document.addEventListener('htmx:afterSwap', setUp);
  if (document.readyState !== 'loading') setUp();
})();

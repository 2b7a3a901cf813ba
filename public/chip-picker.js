// The users of a group as chips: × removes one, the type-ahead (htmx) lists users whose buttons add
// one; nothing is saved until Submit posts the chips. Without this script the form offers a plain
// multi-select instead, and the chips' inputs stay disabled so only the select is sent.
(function () {
  // the texts in the page's language, from the form's data-text-* attributes (English when absent)
  function text(form, key, fallback) {
    return form.getAttribute('data-text-' + key) || fallback;
  }
  function activate(form) {
    if (form.hasAttribute('data-chip-active')) return;
    form.setAttribute('data-chip-active', '');
    // removed, not disabled: htmx's settle step puts a swapped element's own attributes back
    var fallback = form.querySelector('[data-chip-fallback]');
    if (fallback) fallback.remove();
    form.querySelectorAll('[data-chip-value]').forEach(function (i) {
      i.disabled = false;
    });
    form.querySelector('[data-chip-area]').hidden = false;
  }
  function activateAll() {
    document.querySelectorAll('form[data-chip-picker]').forEach(activate);
  }

  function changed(form, message) {
    var chips = form.querySelector('[data-chips]');
    form.querySelector('[data-chips-empty]').hidden = chips.children.length > 0;
    form.querySelector('[data-chips-pending]').textContent = message + ' Not saved yet: press Submit to save.';
  }

  function addChip(form, button) {
    var chips = form.querySelector('[data-chips]');
    var id = button.getAttribute('data-add-user');
    var name = button.getAttribute('data-user-name');
    if (!chips.querySelector('input[value="' + id + '"]')) {
      var li = document.createElement('li');
      li.className = 'chip';
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'user_ids';
      input.value = id;
      input.setAttribute('data-chip-value', '');
      var label = document.createElement('span');
      label.textContent = name;
      li.append(input, label);
      var status = button.getAttribute('data-user-status');
      if (status) {
        var badge = document.createElement('span');
        badge.className = 'badge badge-pending';
        badge.textContent = status;
        li.append(' ', badge);
      }
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'chip-remove';
      remove.setAttribute('aria-label', text(form, 'remove', 'Remove {name}').replace('{name}', name));
      remove.setAttribute('data-chip-remove', '');
      remove.textContent = '×';
      li.append(' ', remove);
      chips.append(li);
    }
    var search = form.querySelector('input[type=search]');
    var options = form.querySelector('.user-options');
    if (options) options.replaceChildren();
    if (search) {
      search.value = '';
      search.focus();
    }
    changed(form, text(form, 'added', 'Added {name}.').replace('{name}', name));
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var form = target && target.closest('form[data-chip-picker]');
    if (!form) return;
    var add = target.closest('[data-add-user]');
    if (add) return addChip(form, add);
    var remove = target.closest('[data-chip-remove]');
    if (remove) {
      var chip = remove.closest('li');
      var name = chip.querySelector('span').textContent;
      chip.remove();
      var search = form.querySelector('input[type=search]');
      if (search) search.focus();
      changed(form, text(form, 'removed', 'Removed {name}.').replace('{name}', name));
    }
  });

  // Enter in the type-ahead adds the first match instead of submitting the form
  document.addEventListener('keydown', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (event.key !== 'Enter' || !target || !target.matches('form[data-chip-picker] input[type=search]')) return;
    event.preventDefault();
    var first = target.form.querySelector('[data-add-user]');
    if (first) addChip(target.form, first);
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', activateAll);
  else activateAll();
  // the section is swapped in place after Submit: activate the new form too
  new MutationObserver(activateAll).observe(document.body, { childList: true, subtree: true });
})();

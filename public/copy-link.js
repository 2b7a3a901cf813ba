// Copy buttons for read-only fields: <button data-copy="#field-id" hidden>. The button shows only
// when this script runs; without it the field's text is still there to select and copy by hand.
(function () {
  function reveal() {
    document.querySelectorAll('button[data-copy]').forEach(function (b) {
      b.hidden = false;
    });
    document.querySelectorAll('[data-copy-hint]').forEach(function (h) {
      h.hidden = false;
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', reveal);
  else reveal();

  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
    if (!button) return;
    var field = document.querySelector(button.getAttribute('data-copy'));
    if (!field) return;
    var status = button.closest('.field') && button.closest('.field').querySelector('[data-copy-status]');
    var say = function (text) {
      if (status) status.textContent = text;
    };
    field.focus();
    field.select();
    var fallback = function () {
      var ok = false;
      try {
        ok = document.execCommand('copy');
      } catch (e) {
        ok = false;
      }
      say(ok ? 'Copied.' : 'The link is selected: press Ctrl+C (or Command+C) to copy it.');
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say('Copied.');
      }, fallback);
    } else {
      fallback();
    }
  });
})();

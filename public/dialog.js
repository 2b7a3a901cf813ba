// Links with data-dialog="id" open that <dialog> instead of going to their page; without this
// script (or without <dialog> support) they stay plain links to the same form on its own page.
(function () {
  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('[data-dialog]') : null;
    if (!link) return;
    var dialog = document.getElementById(link.getAttribute('data-dialog'));
    if (!dialog || typeof dialog.showModal !== 'function') return;
    event.preventDefault();
    dialog.showModal();
  });
})();

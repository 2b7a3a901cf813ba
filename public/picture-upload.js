// Picture upload on a site's staff page: sends the chosen file itself as the request body (with the
// page's CSRF token in a header), then shows the page the server answers with. Without JavaScript the
// form says that uploading needs it.
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-picture-upload')) return;
    event.preventDefault();
    var status = form.querySelector('[data-upload-status]');
    var file = form.querySelector('input[type=file]').files[0];
    if (!file) {
      status.textContent = 'Choose a picture to upload.';
      return;
    }
    var headers = JSON.parse(document.body.getAttribute('hx-headers:inherited') || '{}');
    var query = new URLSearchParams({ visit: form.elements.visit.value, caption: form.elements.caption.value });
    status.textContent = 'Uploading…';
    fetch(form.action + '?' + query.toString(), {
      method: 'POST',
      body: file,
      credentials: 'same-origin',
      headers: {
        'Content-Type': file.type || 'application/octet-stream',
        'X-CSRF-Token': headers['X-CSRF-Token'] || '',
      },
    }).then(
      function (res) {
        if (res.ok) window.location.assign(res.url);
        else
          status.textContent =
            res.status === 413 ? 'The picture is too large.' : 'The upload failed (' + res.status + ').';
      },
      function () {
        status.textContent = 'The upload failed: the server could not be reached.';
      },
    );
  });
})();

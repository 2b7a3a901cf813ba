// The devices map: Leaflet (loaded on first use from the app's own copy) draws one marker per device
// from the group's map.json, with tiles when a tile URL is configured and without them otherwise.
// On a group's map page it fills the map; from a link with data-map-dialog it opens the map in a
// dialog, with the same devices listed as text below it. No inline script or style: CSP allows neither.
(function () {
  var loading = null;
  function loadLeaflet(box) {
    if (window.L) return Promise.resolve(window.L);
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = box.getAttribute('data-leaflet-css');
      var js = document.createElement('script');
      js.src = box.getAttribute('data-leaflet-js');
      var ready = 0;
      var done = function () {
        if (++ready === 2) resolve(window.L);
      };
      css.onload = done;
      js.onload = done;
      css.onerror = js.onerror = function () {
        reject(new Error('Leaflet did not load'));
      };
      document.head.append(css, js);
    });
    return loading;
  }

  // the texts in the page's language, from data-text-* attributes of the map's element (English when absent)
  function text(key, fallback) {
    var el = document.querySelector('[data-map-texts]');
    return (el && el.getAttribute('data-text-' + key)) || fallback;
  }

  function escapeText(text) {
    var span = document.createElement('span');
    span.textContent = text;
    return span.innerHTML;
  }

  var current = null;
  function draw(L, canvas, settings, data) {
    if (current) current.remove();
    var map = L.map(canvas, { attributionControl: true });
    current = map;
    if (settings.tiles)
      L.tileLayer(settings.tiles, { maxZoom: 19, attribution: escapeText(settings.attribution || '') }).addTo(map);
    var points = [];
    data.devices.forEach(function (d) {
      var popup = document.createElement('div');
      var name = document.createElement('a');
      name.href = d.url;
      name.textContent = d.name;
      var fix = document.createElement('div');
      fix.textContent = text('fix', 'Position at {time}').replace('{time}', d.fixLabel);
      popup.append(name, fix);
      L.marker([d.latitude, d.longitude], {
        title: d.name + ', ' + d.fixLabel,
        alt: text('alt', '{name}, position at {time}').replace('{name}', d.name).replace('{time}', d.fixLabel),
      })
        .bindPopup(popup)
        .addTo(map);
      points.push([d.latitude, d.longitude]);
    });
    if (points.length) map.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
    else map.setView([20, 0], 2);
    return map;
  }

  function settingsOf(box) {
    return { tiles: box.getAttribute('data-tiles'), attribution: box.getAttribute('data-attribution') };
  }

  function fetchDevices(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (res) {
      if (!res.ok)
        throw new Error(text('failed', 'The map could not be loaded ({status}).').replace('{status}', res.status));
      return res.json();
    });
  }

  function listDevices(list, devices) {
    list.replaceChildren();
    devices.forEach(function (d) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = d.url;
      a.textContent = d.name;
      var time = document.createElement('time');
      time.dateTime = d.locatedAt;
      time.textContent = d.fixLabel;
      var parts = text('item', '({identifier}): position at {time}').split('{time}');
      li.append(a, ' ' + parts[0].replace('{identifier}', d.identifier), time, parts[1] || '');
      list.append(li);
    });
  }

  function openDialog(link) {
    var dialog = document.getElementById('map-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') return false;
    var canvas = dialog.querySelector('[data-map-canvas]');
    var status = dialog.querySelector('[data-map-status]');
    var list = dialog.querySelector('[data-map-list]');
    dialog.querySelector('#map-dialog-heading').textContent = link.getAttribute('data-map-title');
    list.replaceChildren();
    status.textContent = text('loading', 'Loading the map…');
    dialog.showModal();
    Promise.all([loadLeaflet(dialog), fetchDevices(link.getAttribute('data-map-json'))])
      .then(function (r) {
        var data = r[1];
        var n = data.devices.length;
        var key = (n === 1 ? 'one' : 'many') + (data.more ? '-more' : '');
        var fallback =
          '{n} device' +
          (n === 1 ? '' : 's') +
          ' with a position' +
          (data.more ? ' (the most recently located).' : '.');
        status.textContent = n
          ? text(key, fallback).replace('{n}', String(n)) +
            (settingsOf(dialog).tiles ? '' : ' ' + text('no-tiles', 'No background map is configured.'))
          : text('none', 'No device of this group has reported a position yet.');
        draw(r[0], canvas, settingsOf(dialog), data);
        listDevices(list, data.devices);
      })
      .catch(function (err) {
        status.textContent = err.message;
      });
    return true;
  }

  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('a[data-map-dialog]') : null;
    if (link && openDialog(link)) event.preventDefault();
  });

  function initPage() {
    var box = document.querySelector('[data-map-page]');
    if (!box) return;
    Promise.all([loadLeaflet(box), fetchDevices(box.getAttribute('data-map-json'))])
      .then(function (r) {
        draw(r[0], box, settingsOf(box), r[1]);
      })
      .catch(function (err) {
        box.textContent = err.message;
      });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initPage);
  else initPage();
})();

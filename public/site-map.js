// The site map: each site's geofence drawn with Leaflet (loaded on first use from the app's own copy),
// green when serviced in the chosen dates and grey otherwise, with tiles when a tile URL is configured
// and on a blank canvas without them. The list beside the map carries the same facts as text.
// Maps swapped in by htmx (a new date range) are drawn as they arrive. No inline script or style.
(function () {
  var pending = null;
  function withLeaflet(box) {
    if (window.L) return Promise.resolve(window.L);
    pending =
      pending ||
      new Promise(function (resolve, reject) {
        var sheet = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: box.dataset.leafletCss });
        var code = Object.assign(document.createElement('script'), { src: box.dataset.leafletJs });
        code.addEventListener('load', function () {
          resolve(window.L);
        });
        code.addEventListener('error', function () {
          reject(new Error('The map could not be loaded; the list has every site.'));
        });
        document.head.append(sheet, code);
      });
    return pending;
  }

  var drawn = new WeakSet();
  function drawSites(box) {
    if (drawn.has(box)) return;
    drawn.add(box);
    var sites = JSON.parse(box.dataset.sites || '[]');
    withLeaflet(box)
      .then(function (L) {
        var map = L.map(box, { attributionControl: !!box.dataset.tiles });
        if (box.dataset.tiles) {
          var credit = document.createElement('span');
          credit.textContent = box.dataset.attribution || '';
          L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: credit.innerHTML }).addTo(map);
        }
        var bounds = null;
        sites.forEach(function (site) {
          var state = site.serviced ? 'serviced' : 'idle';
          var shape = L.geoJSON(site.geofence, {
            style: { className: 'geofence geofence-' + state + ' geofence-site-' + site.id },
          });
          // an element, not a string: Leaflet would parse a string as HTML, and a site's name is text
          var tip = document.createElement('span');
          tip.textContent = site.name + (site.serviced ? ': serviced in these dates' : ': not serviced in these dates');
          shape.bindTooltip(tip);
          if (site.url)
            shape.on('click', function () {
              window.location.assign(site.url);
            });
          shape.addTo(map);
          bounds = bounds ? bounds.extend(shape.getBounds()) : shape.getBounds();
        });
        if (bounds) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
        else map.setView([20, 0], 2);
      })
      .catch(function (err) {
        box.textContent = err.message;
      });
  }

  function drawAll() {
    document.querySelectorAll('[data-site-map]').forEach(drawSites);
  }
  function start() {
    drawAll();
    new MutationObserver(drawAll).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

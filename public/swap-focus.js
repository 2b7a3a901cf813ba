// After an htmx swap that removed the element that had the focus (a paging link, a tab, a button in
// the region), the focus would fall back to the start of the page: a keyboard or screen reader user
// loses their place. Move it to the region that came in instead, which is then read out.
// A list whose search or filter swapped it in while the focus stayed in the search box says what it
// now holds in its data-announce attribute ("42 assets match"); the page's polite live region
// (#swap-status, in the layout) reads that out, since nothing else tells a screen reader the list changed.
(function () {
  document.addEventListener('htmx:after:settle', function (event) {
    var region = event.target;
    var active = document.activeElement;
    if (!(region instanceof HTMLElement) || !region.isConnected || region === document.body) return;
    announce(region);
    if (active && active !== document.body && active.isConnected) return;
    if (!region.hasAttribute('tabindex')) region.setAttribute('tabindex', '-1');
    region.focus({ preventScroll: true });
  });

  function announce(region) {
    var status = document.getElementById('swap-status');
    var source = region.matches('[data-announce]') ? region : region.querySelector('[data-announce]');
    if (!status || !source) return;
    // emptied first, so that the same words after another search are read out again
    status.textContent = '';
    setTimeout(function () {
      status.textContent = source.getAttribute('data-announce');
    }, 50);
  }
})();

// After an htmx swap that removed the element that had the focus (a paging link, a tab, a button in
// the region), the focus would fall back to the start of the page: a keyboard or screen reader user
// loses their place. Move it to the region that came in instead, which is then read out.
(function () {
  document.addEventListener('htmx:after:settle', function (event) {
    var region = event.target;
    var active = document.activeElement;
    if (!(region instanceof HTMLElement) || !region.isConnected || region === document.body) return;
    if (active && active !== document.body && active.isConnected) return;
    if (!region.hasAttribute('tabindex')) region.setAttribute('tabindex', '-1');
    region.focus({ preventScroll: true });
  });
})();

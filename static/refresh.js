// Reloads the page every N seconds, N from <meta name="pulseboard-refresh">:
// the index page, and the notice a refused screen shows, which must retry on
// its own. Any key, click, scroll or focus change starts the wait again, so a
// person reading or moving through the page is never pulled away from it
// (WCAG 2.2.1, where a <meta http-equiv="refresh"> cannot be paused); an
// unattended screen still reloads on time.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="pulseboard-refresh"]');
  var seconds = meta ? Number(meta.content) : 0;
  if (!(seconds > 0)) return;
  var timer = 0;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { location.reload(); }, seconds * 1000);
  }
  ['keydown', 'pointerdown', 'wheel', 'scroll', 'focusin'].forEach(function (type) {
    addEventListener(type, arm, { passive: true, capture: true });
  });
  arm();
})();

// After N seconds (<meta name="pulseboard-refresh">) goes to the next board of
// a rotation (<meta name="pulseboard-next">) or reloads the page: the index
// page, a board in a kiosk rotation, and the notices a refused or lost screen
// shows, which must recover on their own. Any key, click, scroll or focus
// change starts the wait again, so a person reading or moving through the
// page is never pulled away from it (WCAG 2.2.1, where a
// <meta http-equiv="refresh"> cannot be paused); an unattended screen still
// moves on time.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="pulseboard-refresh"]');
  var seconds = meta ? Number(meta.content) : 0;
  if (!(seconds > 0)) return;
  var next = document.querySelector('meta[name="pulseboard-next"]');
  var timer = 0;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (next && next.content) location.href = next.content;
      else location.reload();
    }, seconds * 1000);
  }
  ['keydown', 'pointerdown', 'wheel', 'scroll', 'focusin'].forEach(function (type) {
    addEventListener(type, arm, { passive: true, capture: true });
  });
  arm();
})();

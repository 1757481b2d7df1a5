// The console's live numbers: every data-poll seconds, while the tab is
// visible, ask the page's own address for its results part (the
// X-Pulseboard-Part header) and swap it in when it changed. Nothing is
// swapped while focus is inside the results, so a keyboard user never
// loses their place; the next poll catches up. The form is submitted by its
// button only: a select that navigated on change would move a keyboard
// user away at every arrow key (WCAG 3.2.2).
(function () {
  'use strict';
  // From and to count only with the window "from – to": off otherwise, so
  // the form does not send them and a keyboard user does not tab through
  // them. (Without this script the server ignores them instead.)
  var pick = document.querySelector('select[name="window"]');
  var edges = document.querySelectorAll('.console-range input');
  function rangeFields() {
    Array.prototype.forEach.call(edges, function (el) { el.disabled = pick.value !== 'range'; });
  }
  if (pick) {
    pick.addEventListener('change', rangeFields);
    rangeFields();
  }
  var results = document.getElementById('console-results');
  var seconds = Number(document.body.getAttribute('data-poll'));
  if (!results || !(seconds > 0) || !results.firstElementChild) return;
  var last = null;
  var busy = false;
  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(location.href, { headers: { 'X-Pulseboard-Part': 'results' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || html === last) return;
        if (results.contains(document.activeElement)) return;
        // Keep where each table was scrolled to (sideways on a phone).
        var scrolled = Array.prototype.map.call(results.querySelectorAll('.table-scroll'), function (el) { return el.scrollLeft; });
        results.innerHTML = html;
        last = html;
        Array.prototype.forEach.call(results.querySelectorAll('.table-scroll'), function (el, i) { el.scrollLeft = scrolled[i] || 0; });
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(poll, seconds * 1000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
})();

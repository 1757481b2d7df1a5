// The console's live numbers: every data-poll seconds, while the tab is
// visible, ask the page's own address for its results part (the
// X-Pulseboard-Part header) and swap it in when it changed. Nothing is
// swapped while focus is inside the results, so a keyboard user never
// loses their place; the next poll catches up. Changing a field of the
// form submits it, so the address (and the back button) follow every pick.
(function () {
  'use strict';
  var form = document.querySelector('.console-form');
  if (form) {
    form.addEventListener('change', function (e) {
      if (e.target && e.target.tagName === 'SELECT') form.requestSubmit ? form.requestSubmit() : form.submit();
    });
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

// Pulseboard board script: follows the board's live socket (see
// docs/PROTOCOL.md; the page's data-live asks for v2; its event stream,
// in the same version, where sockets are blocked), swaps tiles by id or
// patches their texts and attributes, animates changed numbers, shows
// "stale" when the server goes quiet, and reconnects with backoff. No
// framework, no build step; it holds no growing state, so a wall TV can keep
// one page open for weeks.
(() => {
  'use strict';
  const body = document.body;
  const board = body.dataset.board;
  const zone = body.dataset.zone || undefined;

  const STALE_AFTER_MS = 10000; // two missed heartbeats
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const TWEEN_MS = 700;
  // A socket that has never opened on this page fails this many times in a
  // row, or stays unopened this long, and the page falls back to the event
  // stream (SSE) for good. Only before a first open: a socket that worked
  // and then broke is a server restart, not a network that blocks sockets.
  const WS_FAILURES_BEFORE_SSE = 2;
  const WS_OPEN_TIMEOUT_MS = 5000;
  const GLOW_MS = 1200; // board.css: .num.changed's animation

  // ws is the live connection: a WebSocket, or an event stream behind the
  // same few members (openEvents), so nothing past connect() tells them apart.
  let ws = null;
  let transport = 'websocket';
  let socketOpened = false;
  let socketFailures = 0;
  let epoch = null;
  let seq = 0;
  let lastMessage = Date.now();
  let backoff = BACKOFF_MIN_MS;
  let serverStale = body.classList.contains('is-stale');
  const loadedAt = Date.now();

  const clockFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone });
  const stampFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: zone });
  const hourFmt = new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hourCycle: 'h23', timeZone: zone });

  function openSocket() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The server writes the socket's path (a template's board has its value
    // escaped in it: /boards/team/first%20line/live).
    const sock = new WebSocket(`${proto}//${location.host}${body.dataset.live}`);
    // A proxy may hold a blocked upgrade open without an answer.
    const timer = setTimeout(() => { if (sock.readyState === WebSocket.CONNECTING) sock.close(); }, WS_OPEN_TIMEOUT_MS);
    sock.addEventListener('open', () => { clearTimeout(timer); socketOpened = true; socketFailures = 0; });
    sock.addEventListener('close', () => {
      clearTimeout(timer);
      if (!socketOpened && ++socketFailures >= WS_FAILURES_BEFORE_SSE) transport = 'sse';
    });
    return sock;
  }

  // openEvents follows the board's event stream (same messages, same close
  // codes: docs/PROTOCOL.md, Server-Sent Events) behind a socket's members:
  // readyState, send and close, and the onopen, onmessage and onclose
  // handlers. It reconnects through connect()'s backoff, not the browser's,
  // and says which state it holds (last_event_id) so the server can resume.
  function openEvents() {
    // The socket's address with /events for /live, its query (the protocol
    // version, ?v=2) kept: the stream speaks the version the socket would.
    const url = new URL(body.dataset.live, location.href);
    url.pathname = url.pathname.replace(/\/live$/, '/events');
    const t = { readyState: WebSocket.CONNECTING, onopen: null, onmessage: null, onclose: null };
    let lastId = '';
    let es = null;
    const end = (code) => {
      if (t.readyState === WebSocket.CLOSED) return;
      es.close();
      t.readyState = WebSocket.CLOSED;
      setTimeout(() => t.onclose && t.onclose({ code }), 0);
    };
    const open = () => {
      if (lastId) url.searchParams.set('last_event_id', lastId); else url.searchParams.delete('last_event_id');
      es = new EventSource(url.pathname + url.search);
      es.onopen = () => { t.readyState = WebSocket.OPEN; if (t.onopen) t.onopen(); };
      es.onmessage = (ev) => { if (ev.lastEventId) lastId = ev.lastEventId; if (t.onmessage) t.onmessage(ev); };
      es.addEventListener('close', (ev) => {
        let code = 1000;
        try { code = JSON.parse(ev.data).code; } catch { /* keep 1000 */ }
        end(code);
      });
      es.onerror = () => end(1006); // the stream failed or was cut: reconnect with backoff
    };
    // The one message a screen sends is resync; a stream asks for a
    // snapshot by reopening without an id.
    t.send = () => { es.close(); lastId = ''; t.readyState = WebSocket.CONNECTING; open(); };
    t.close = () => end(1000);
    open();
    return t;
  }

  function showTransport() {
    body.dataset.transport = transport;
    const el = document.getElementById('transport');
    el.textContent = transport === 'sse' ? 'via SSE' : 'via WebSocket';
    el.title = transport === 'sse'
      ? 'Updates come by Server-Sent Events: this network does not let WebSockets through.'
      : 'Updates come by WebSocket.';
    el.hidden = false;
  }

  function connect() {
    const sock = transport === 'sse' ? openEvents() : openSocket();
    ws = sock;
    sock.onopen = () => { backoff = BACKOFF_MIN_MS; showTransport(); };
    sock.onmessage = (ev) => {
      lastMessage = Date.now();
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      handle(m);
    };
    sock.onclose = (ev) => {
      if (ws === sock) ws = null;
      if (ev.code === 4004) { location.href = '/'; return; } // board removed
      // Not paired, or the pairing was revoked: the page from the server
      // says so on screen (and retries on its own), so show that instead.
      if (ev.code === 4003) { setTimeout(() => location.reload(), 1000 + Math.random() * 2000); return; }
      updateStatus();
      const delay = backoff * (0.75 + Math.random() * 0.5); // jitter: screens do not reconnect in step
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      setTimeout(connect, delay);
    };
  }

  function handle(m) {
    switch (m.type) {
      case 'snapshot':
        epoch = m.epoch; seq = m.seq;
        applyTiles(m.tiles || []);
        break;
      case 'update':
        if (m.epoch !== epoch || m.seq !== seq + 1) { resync(); return; }
        seq = m.seq;
        // A patch that does not fit the tile on screen: the snapshot
        // asked for replaces every tile.
        if (!applyTiles(m.tiles || [])) resync();
        break;
      case 'heartbeat':
        if (m.epoch !== epoch || m.seq !== seq) resync();
        break;
      case 'reload':
        // Spread reloads so a wall of screens does not hit the server at once.
        setTimeout(() => location.reload(), Math.random() * 3000);
        return;
      default:
        return;
    }
    serverStale = !!m.stale;
    if (m.at) document.getElementById('updated').textContent = stampFmt.format(new Date(m.at));
    updateStatus();
  }

  function resync() {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resync' }));
  }

  // applyTiles swaps each tile for its server-rendered markup, or applies
  // its patch (v2), and animates the numbers that changed. It returns false
  // when a patch did not fit its tile.
  function applyTiles(tiles) {
    let ok = true;
    for (const t of tiles) {
      const el = document.getElementById('tile-' + t.id);
      if (!el) continue;
      if (t.patch) {
        if (!patchTile(el, t.patch)) ok = false;
        continue;
      }
      if (!t.html) continue;
      const before = readNumbers(el);
      const tpl = document.createElement('template');
      tpl.innerHTML = t.html;
      const fresh = tpl.content.firstElementChild;
      if (!fresh) continue;
      el.replaceWith(fresh);
      animate(fresh, before);
    }
    return ok;
  }

  // patchTile applies a v2 patch: [node, 't', text], [node, 'a', name,
  // value] or [node, 'r', name], where node indexes the tile's element and
  // text nodes in document order, the tile itself 0 (docs/PROTOCOL.md).
  // Values are set as text and attribute values, never parsed as markup.
  // internal/tilepatch's Apply mirrors this function.
  function patchTile(el, ops) {
    settle(el); // patches address the server's text, not a tween's
    const before = readNumbers(el);
    const nodes = [el];
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) nodes.push(n);
    for (const op of ops) {
      const n = Array.isArray(op) && Number.isInteger(op[0]) ? nodes[op[0]] : undefined;
      if (!n) return false;
      switch (op[1]) {
        case 't':
          if (n.nodeType !== Node.TEXT_NODE || typeof op[2] !== 'string') return false;
          n.data = op[2];
          break;
        case 'a':
        case 'r':
          if (n.nodeType !== Node.ELEMENT_NODE || typeof op[2] !== 'string' || /^on/i.test(op[2])) return false;
          if (op[1] === 'a' && typeof op[3] !== 'string') return false;
          try {
            if (op[1] === 'a') n.setAttribute(op[2], op[3]); else n.removeAttribute(op[2]);
          } catch { return false; }
          break;
        default:
          return false;
      }
    }
    animate(el, before);
    return true;
  }

  function readNumbers(el) {
    const out = new Map();
    for (const n of el.querySelectorAll('[data-key][data-num]')) {
      if (n.dataset.num !== '') out.set(n.dataset.key, parseFloat(n.dataset.num));
    }
    return out;
  }

  function format(v, fmt) {
    if (fmt === 'int') return Math.round(v).toLocaleString('en-US');
    if (fmt === 'pct') return Math.round(v) + '%';
    const r = Math.round(v);
    return r > 0 ? '+' + r : r < 0 ? '\u2212' + -r : '0';
  }

  // tweens holds each number's running tween, {final}: a patch finishes
  // it first (settle), and a tween that is no longer its number's stops.
  // Weak, so numbers swapped out with their tile leave nothing behind.
  const tweens = new WeakMap();
  // glows holds each glowing number's latest glow: only its timer ends it.
  const glows = new WeakMap();

  // settle ends the tile's tweens at their final text: the server's.
  function settle(el) {
    for (const n of el.querySelectorAll('[data-key][data-num]')) {
      const tw = tweens.get(n);
      if (!tw) continue;
      tweens.delete(n);
      n.textContent = tw.final;
    }
  }

  function animate(el, before) {
    for (const n of el.querySelectorAll('[data-key][data-num]')) {
      if (n.dataset.num === '' || !before.has(n.dataset.key)) continue;
      const from = before.get(n.dataset.key);
      const to = parseFloat(n.dataset.num);
      if (from === to || Number.isNaN(from) || Number.isNaN(to)) continue;
      const tw = { final: n.textContent };
      tweens.set(n, tw);
      const fmt = n.dataset.fmt;
      const start = performance.now();
      // Restart the glow on a number patched again while it glows, and
      // drop the class after it: the markup the server renders has none.
      // A timer, not animationend, which a busy or hidden page may never
      // fire.
      n.classList.remove('changed');
      void n.offsetWidth;
      n.classList.add('changed');
      const glow = {};
      glows.set(n, glow);
      setTimeout(() => {
        if (glows.get(n) !== glow) return;
        glows.delete(n);
        n.classList.remove('changed');
      }, GLOW_MS);
      const step = (now) => {
        // Replaced by a newer update, or settled by a patch.
        if (!n.isConnected || tweens.get(n) !== tw) return;
        const k = Math.min(1, (now - start) / TWEEN_MS);
        const eased = 1 - Math.pow(1 - k, 3);
        n.textContent = k < 1 ? format(from + (to - from) * eased, fmt) : tw.final;
        if (k < 1) requestAnimationFrame(step); else tweens.delete(n);
      };
      requestAnimationFrame(step);
    }
  }

  function updateStatus() {
    const silent = Date.now() - lastMessage > STALE_AFTER_MS;
    // A socket still opening right after load is not stale yet.
    const closed = (!ws || ws.readyState !== WebSocket.OPEN) && Date.now() - loadedAt > 3000;
    const stale = silent || closed || serverStale;
    body.classList.toggle('is-stale', stale);
    const status = document.getElementById('status');
    const banner = document.getElementById('banner');
    let text = 'live';
    let note = '';
    if (silent || closed) {
      text = 'stale';
      note = 'Stale \u2014 reconnecting. The numbers below are the last ones received.';
    } else if (serverStale) {
      text = 'stale';
      note = 'Stale \u2014 the server cannot reach its store. The numbers below are the last known ones.';
    }
    status.textContent = text;
    banner.textContent = note;
    banner.hidden = note === '';
  }

  // quiet=22-6 dims the board between 22:00 and 06:00 in the center's zone;
  // the server read the option (and shows it on screen when it was wrong).
  function quietHours() {
    if (!('quietFrom' in body.dataset)) return;
    const from = +body.dataset.quietFrom, to = +body.dataset.quietTo;
    const h = +hourFmt.format(new Date());
    body.classList.toggle('is-quiet', from <= to ? h >= from && h < to : h >= from || h < to);
  }

  function tick() {
    document.getElementById('clock').textContent = clockFmt.format(new Date());
    if (ws && ws.readyState === WebSocket.OPEN && Date.now() - lastMessage > STALE_AFTER_MS) {
      ws.close(); // silent but "open": a dead path; reconnect
    }
    updateStatus();
    quietHours();
  }

  connect();
  setInterval(tick, 1000);
  tick();
})();

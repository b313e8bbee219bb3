/*! Pulse tracker, served as-is at GET /pulse.js. No cookies.
 * <script defer data-site="example.com" src="https://pulse.example/pulse.js"></script>
 * data-api: endpoint (default: this script's origin + /collect). data-allow-localhost: track
 * localhost too (file: pages never). localStorage.pulse_ignore = "true" opts out.
 * Custom events: pulse("signup", { props: { plan: "pro" }, callback: fn }). For calls made
 * before this script has loaded, put this stub first; they run once it has:
 * <script>window.pulse=window.pulse||function(){(window.pulse.q=window.pulse.q||[]).push(arguments)}</script>
 */
(function () {
  "use strict";
  var w = window, d = document, loc = location, h = history;
  if (w.pulse && w.pulse.pulse) return; // already loaded
  var el = d.currentScript || d.querySelector("script[data-site]");
  var site = el && el.getAttribute("data-site");
  if (!site) return console.warn("pulse: data-site is missing");
  var api = el.getAttribute("data-api") || new URL(el.src).origin + "/collect";
  var off =
    loc.protocol == "file:" ||
    (!el.hasAttribute("data-allow-localhost") && /^(localhost|127(\.\d+){3}|\[::1\])$/.test(loc.hostname));
  var queue = (w.pulse && w.pulse.q) || [];
  var path, href, shown = 0, since = 0;

  function ignored() {
    try {
      return off || localStorage.getItem("pulse_ignore") == "true";
    } catch {
      return off;
    }
  }

  // callback: { status } once answered, { error } if the request failed, nothing if not sent (or sent as a beacon).
  function done(cb, result) {
    if (cb) cb(result);
  }

  // beacon: a request that must outlive the page (engagement, outbound clicks).
  function send(name, opts, beacon, url) {
    opts = opts || {};
    var cb = opts.callback;
    if (ignored()) return done(cb);
    var body = { site: site, name: name, url: url || loc.href, referrer: d.referrer };
    if (opts.props) body.props = opts.props;
    body = JSON.stringify(body);
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(api, body)) return done(cb);
    // A string body goes as text/plain: no CORS preflight.
    fetch(api, { method: "POST", body: body, keepalive: true }).then(
      function (r) { done(cb, { status: r.status }); },
      function (e) { done(cb, { error: e }); }
    );
  }

  // Engagement: time the page was visible since the last report, sent when it is hidden or left.
  function engaged() {
    var now = Date.now(), ms = shown + (since ? now - since : 0);
    shown = 0;
    if (since) since = now;
    if (ms > 0 && href) send("engagement", { props: { engaged_ms: ms } }, 1, href);
  }

  function page() {
    if (path === loc.pathname) return;
    engaged(); // the page being left, under its own URL
    path = loc.pathname;
    href = loc.href;
    send("pageview");
  }

  function track(name, opts) {
    send(name, opts);
  }
  track.pulse = 1;

  // pagehide may come before or after visibilitychange: whichever is second finds nothing to report.
  function hide() {
    if (since) shown += Date.now() - since;
    since = 0;
    engaged();
  }

  function visibility() {
    if (d.visibilityState == "hidden") hide();
    else if (!since) since = Date.now();
  }

  function click(e) {
    if (e.type == "auxclick" && e.button != 1) return;
    var a = e.target && e.target.closest && e.target.closest("a[href]");
    if (a && /^https?:$/.test(a.protocol) && a.host && a.host != loc.host) send("outbound", { props: { url: a.href } }, 1);
  }

  function start() {
    since = d.visibilityState == "visible" ? Date.now() : 0;
    ["pushState", "replaceState"].forEach(function (m) {
      var orig = h[m];
      h[m] = function () {
        var r = orig.apply(this, arguments);
        page();
        return r;
      };
    });
    w.addEventListener("popstate", page);
    // Back to a page kept in the back/forward cache: a new view of it.
    w.addEventListener("pageshow", function (e) {
      if (e.persisted) {
        path = 0;
        page();
      }
    });
    d.addEventListener("visibilitychange", visibility);
    w.addEventListener("pagehide", hide);
    d.addEventListener("click", click, true);
    d.addEventListener("auxclick", click, true);
    w.pulse = track;
    page();
    for (var i = 0; i < queue.length; i++) track.apply(null, queue[i]);
  }

  // A prerendered page is not a visit until it is shown.
  if (d.prerendering) d.addEventListener("prerenderingchange", start, { once: true });
  else start();
})();

// Red Butler's service worker (scope /): keeps the quick report page and its assets so the
// page opens without signal. Only GETs of these paths are answered: from the network when
// it answers (refreshing the copy), else from the copy. Reports themselves wait in the
// page's IndexedDB queue (static/quick.js), never here.
'use strict';
var CACHE = 'rb-quick-v1';
var PAGE = '/quick';
var ASSETS = ['/static/app.css', '/static/app.js', '/static/intake.css', '/static/intake.js',
  '/static/quick.js', '/static/favicon.svg'];

function keep(path, res) {
  if (res && res.ok && !res.redirected && res.type === 'basic') {
    var copy = res.clone();
    return caches.open(CACHE).then(function (c) { return c.put(path, copy); }).then(function () { return res; });
  }
  return Promise.resolve(res);
}

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(ASSETS).then(function () {
      // The page only when it is the page (logged in), never a login redirect.
      return fetch(PAGE, { credentials: 'same-origin' }).then(function (res) { return keep(PAGE, res); }, function () {});
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  var path = url.pathname;
  if (path !== PAGE && ASSETS.indexOf(path) < 0) { return; }
  e.respondWith(fetch(req).then(function (res) {
    return path === PAGE && url.search ? res : keep(path, res);
  }, function () {
    return caches.match(path).then(function (hit) { return hit || Response.error(); });
  }));
});

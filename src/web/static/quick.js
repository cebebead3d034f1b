// The quick report's offline queue. Each report is saved in IndexedDB first (its fields and
// photos as Blobs, under a client-made idempotency key), then sent: the case to the cases API
// with that key, then its photos. A report leaves the queue only after the server answered
// 2xx; a replay after a lost answer gets the same case (the server keeps the key), and the
// same photo twice is stored once. Without this script the form posts normally.
(function () {
  'use strict';
  var form = document.querySelector('form[data-quick]');
  if (!form || !window.indexedDB || !window.fetch || !window.FormData || !window.Promise) { return; }

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () {});
  }

  var STORE = 'quick';
  var box = document.querySelector('[data-queue]');
  var countEl = document.querySelector('[data-queue-count]');
  var listEl = document.querySelector('[data-queue-list]');
  var statusEl = document.querySelector('[data-status]');
  var submitBtn = form.querySelector('[data-submit]');
  var lang = (box && box.getAttribute('data-lang')) === 'en' ? 'en' : 'zh';
  var csrf = form.getAttribute('data-csrf');
  var api = form.getAttribute('data-api');
  var busy = false;
  var syncing = false;

  function newKey() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === 'function') { return c.randomUUID(); }
    var bytes = new Uint8Array(16);
    if (c && c.getRandomValues) { c.getRandomValues(bytes); } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var h = '';
    for (var j = 0; j < 16; j++) {
      h += (bytes[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) { h += '-'; }
    }
    return h;
  }

  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (resolve, reject) {
        var req = indexedDB.open('rb-intake', 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: 'key' }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function all() {
    return tx('readonly', function (s) { return s.getAll(); }).then(function (rs) {
      return (rs || []).sort(function (a, b) { return a.created - b.created; });
    });
  }
  function put(rec) { return tx('readwrite', function (s) { s.put(rec); }); }
  function del(key) { return tx('readwrite', function (s) { s.delete(key); }); }

  function say(text) { if (statusEl) { statusEl.textContent = text; } }
  function label(name, n) {
    var t = box ? box.getAttribute('data-' + name + '-' + lang) : '{n}';
    return (t || '{n}').replace('{n}', String(n));
  }

  function render() {
    return all().then(function (rs) {
      if (!box) { return rs; }
      box.hidden = rs.length === 0;
      box.setAttribute('data-count', String(rs.length));
      countEl.textContent = label('label', rs.length);
      listEl.innerHTML = '';
      rs.forEach(function (r) {
        var li = document.createElement('li');
        li.textContent = r.body.description + (r.photos.length ? ' 📷' + r.photos.length : '');
        if (r.error) {
          // Refused by the server (e.g. a category's question unanswered): it stays until the
          // person removes it, so nothing is dropped silently.
          li.className = 'failed';
          li.textContent += ' — ' + r.error + ' ';
          var rm = document.createElement('button');
          rm.type = 'button';
          rm.className = 'secondary';
          rm.textContent = box.getAttribute('data-delete-' + lang) || 'x';
          rm.addEventListener('click', function () {
            if (window.confirm(box.getAttribute('data-confirm-' + lang) || '?')) { del(r.key).then(render); }
          });
          li.appendChild(rm);
        }
        listEl.appendChild(li);
      });
      return rs;
    });
  }

  function toE6(v) {
    v = String(v || '').trim();
    if (!v) { return null; }
    var n = Number(v);
    return isFinite(n) ? Math.round(n * 1e6) : null;
  }

  // The chosen category's extra questions: inputs named q.<category>[code] or [code][].
  function attributes(category) {
    var out = {};
    var prefix = 'q.' + category + '[';
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || el.name.indexOf(prefix) !== 0 || el.disabled) { continue; }
      if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) { continue; }
      var code = el.name.slice(prefix.length).replace(/\]\[\]$|\]$/, '');
      var v = String(el.value || '').trim();
      if (!v) { continue; }
      out[code] = out[code] ? out[code] + ',' + v : v;
    }
    return out;
  }

  function collect() {
    var description = form.elements.description.value.trim();
    var category = form.elements.category.value;
    // Ids are 64-bit: beyond what a JavaScript number holds exactly, so the id's digits go
    // into the JSON text as they are, and the text is kept so a retry sends the same bytes.
    var nodeId = String(form.elements.node_id.value || '').trim();
    var body = {
      category: category,
      node_id: '__rb_node_id__',
      title: Array.from(description.split('\n')[0]).slice(0, 100).join(''),
      description: description,
      address: form.elements.address ? form.elements.address.value.trim() : '',
      attributes: attributes(category)
    };
    var lat = toE6(form.elements.lat && form.elements.lat.value);
    var lng = toE6(form.elements.lng && form.elements.lng.value);
    if (lat !== null && lng !== null) { body.lat_e6 = lat; body.lng_e6 = lng; }
    var files = form.elements.photo && form.elements.photo.files ? Array.from(form.elements.photo.files) : [];
    var json = JSON.stringify(body);
    if (/^[0-9]{1,19}$/.test(nodeId)) { json = json.replace('"__rb_node_id__"', nodeId); }
    return {
      key: form.elements.key.value || newKey(),
      body: body,
      json: json,
      photos: files.slice(0, 9).map(function (f) { return { name: f.name, type: f.type, blob: f }; }),
      created: Date.now(),
      case_id: null,
      number: null,
      error: null
    };
  }

  function problemText(res) {
    return res.json().then(function (p) {
      var parts = [p.detail || p.title || String(res.status)];
      return parts.join(' ');
    }, function () { return String(res.status); });
  }

  function headers(key) {
    var h = { 'X-CSRF-Token': csrf, 'Accept-Language': lang === 'en' ? 'en' : 'zh-CN' };
    if (key) { h['Idempotency-Key'] = key; }
    return h;
  }

  // Sends one report; resolves true when it left the queue, false when it must wait.
  function sendOne(rec) {
    var step = Promise.resolve();
    if (!rec.case_id) {
      step = fetch(api, {
        method: 'POST', credentials: 'same-origin',
        headers: Object.assign({ 'Content-Type': 'application/json' }, headers(rec.key)),
        body: rec.json
      }).then(function (res) {
        if (!res.ok) {
          return problemText(res).then(function (t) { var e = new Error(t); e.status = res.status; throw e; });
        }
        return res.text().then(function (text) {
          // The case's id as digits (see above); the top-level "id" is the first one that
          // follows a brace or a comma (inside strings quotes are escaped).
          var m = /[,{]"id":([0-9]+)/.exec(text);
          var c = JSON.parse(text);
          rec.case_id = m ? m[1] : String(c.id);
          rec.number = c.number; rec.error = null;
          return put(rec);
        });
      });
    }
    return step.then(function () {
      if (!rec.photos.length) { return; }
      var fd = new FormData();
      rec.photos.forEach(function (p) { fd.append('photo', p.blob, p.name || 'photo.jpg'); });
      fd.append('public', '1');
      return fetch('/api/v1/cases/' + rec.case_id + '/attachments', {
        method: 'POST', credentials: 'same-origin', headers: headers(rec.key + ':photos'), body: fd
      }).then(function (res) {
        if (!res.ok) {
          return problemText(res).then(function (t) { var e = new Error(t); e.status = res.status; throw e; });
        }
      });
    }).then(function () {
      return del(rec.key).then(function () { return true; });
    });
  }

  var sentNumbers = [];
  function sync() {
    if (syncing) { return Promise.resolve(); }
    syncing = true;
    return all().then(function (rs) {
      var chain = Promise.resolve(false);
      var stop = false;
      rs.forEach(function (rec) {
        chain = chain.then(function () {
          if (stop) { return; }
          return sendOne(rec).then(function () {
            if (rec.number) { sentNumbers.push(rec.number); }
          }, function (e) {
            if (e.status === undefined || e.status === 401 || e.status === 403 || e.status >= 500) {
              // Offline, logged out or the server is unwell: try again later, in order.
              stop = true;
              if (e.status === undefined) { say(form.getAttribute('data-offline')); }
              else { say(form.getAttribute('data-failed') + e.message); }
              return;
            }
            rec.error = e.message;
            return put(rec);
          });
        });
      });
      return chain;
    }).then(function () {
      if (sentNumbers.length) {
        say(label('sent', sentNumbers.length) + ': ' + sentNumbers.join(', '));
      }
    }, function () {}).then(function () {
      syncing = false;
      return render();
    });
  }

  // The last category used, kept on the phone (the server default may not know offline ones).
  try {
    var last = window.localStorage.getItem('rb.quick.category');
    if (last && !form.elements.category.value) {
      form.elements.category.value = last;
      form.elements.category.dispatchEvent(new Event('change'));
    }
  } catch (e) { /* storage may be off in some WebViews */ }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (busy) { return; }
    busy = true;
    if (submitBtn) { submitBtn.disabled = true; }
    var rec = collect();
    try { window.localStorage.setItem('rb.quick.category', rec.body.category); } catch (x) { /* ignore */ }
    put(rec).then(function () {
      form.elements.key.value = newKey();
      form.elements.description.value = '';
      if (form.elements.photo) { form.elements.photo.value = ''; }
      if (form.elements.lat) { form.elements.lat.value = ''; form.elements.lng.value = ''; }
      if (form.elements.address) { form.elements.address.value = ''; }
      sentNumbers = [];
      say(form.getAttribute('data-saved'));
      return render();
    }).then(function () {
      busy = false;
      if (submitBtn) { submitBtn.disabled = false; }
      if (navigator.onLine !== false) { return sync(); }
    }, function () {
      // IndexedDB refused (private mode in some WebViews): post the form the plain way.
      busy = false;
      form.submit();
    });
  });

  var sendNow = document.querySelector('[data-sync]');
  if (sendNow) { sendNow.addEventListener('click', function () { sync(); }); }
  window.addEventListener('online', function () { sync(); });
  window.addEventListener('offline', function () { say(form.getAttribute('data-offline')); });
  setInterval(function () {
    if (navigator.onLine !== false && box && box.getAttribute('data-count') !== '0') { sync(); }
  }, 15000);
  render().then(function () { if (navigator.onLine !== false) { sync(); } });
})();

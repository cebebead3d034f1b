// Intake forms, progressive enhancement only: every form works without this file.
(function () {
  'use strict';
  // Show only the chosen category's extra questions; the others are disabled so they are not sent.
  var select = document.querySelector('select[data-category-select]');
  var extras = document.querySelectorAll('fieldset[data-for-category]');
  function showExtras() {
    var chosen = select ? select.value : '';
    for (var i = 0; i < extras.length; i++) {
      var on = extras[i].getAttribute('data-for-category') === chosen;
      extras[i].hidden = !on;
      extras[i].disabled = !on;
    }
  }
  if (select && extras.length) {
    select.addEventListener('change', showExtras);
    showExtras();
  }

  // "Use my location": fills the latitude and longitude fields from the browser.
  var btn = document.querySelector('button[data-locate]');
  if (btn && navigator.geolocation) {
    var lat = document.querySelector('input[data-lat]');
    var lng = document.querySelector('input[data-lng]');
    var out = document.querySelector('[data-coords]');
    var label = btn.textContent;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      btn.disabled = true;
      btn.textContent = btn.getAttribute('data-busy');
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        if (out) { out.textContent = lat.value + ', ' + lng.value + ' (±' + Math.round(pos.coords.accuracy) + ' m)'; }
        btn.disabled = false;
        btn.textContent = label;
      }, function () {
        if (out) { out.textContent = btn.getAttribute('data-failed'); }
        btn.disabled = false;
        btn.textContent = label;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
})();

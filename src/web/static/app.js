// Progressive enhancement only: every flow works without this file.
(function () {
  // Ask before a "show in full" opening is sent without a reason.
  document.querySelectorAll('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  });
  // Refresh import progress pages.
  var p = document.querySelector('[data-refresh]');
  if (p) { setTimeout(function () { window.location.reload(); }, Number(p.getAttribute('data-refresh')) || 1000); }
})();

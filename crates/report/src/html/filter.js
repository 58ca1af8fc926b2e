// Filters the findings tables: by kind, by severity, blocking only, and by text. The state lives
// in the URL fragment (#kind=secret,vuln&severity=critical&blocking=1&q=openssl), so a link
// opens the same view; without JavaScript every row stays visible.
(function () {
  'use strict';
  var bar = document.getElementById('filters');
  var count = document.getElementById('visible-count');
  if (!bar || !count) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr[data-kind][data-severity]'));
  var search = document.getElementById('filter-search');
  var blocking = document.getElementById('filter-blocking');
  var reset = document.getElementById('filter-reset');

  function boxes(name) {
    return Array.prototype.slice.call(bar.querySelectorAll('input[type=checkbox][name="' + name + '"]'));
  }
  function decode(text) {
    try { return decodeURIComponent(text.replace(/\+/g, ' ')); } catch (e) { return text; }
  }
  function list(text) {
    return text.split(',').map(function (v) { return v.trim().toLowerCase(); })
      .filter(function (v) { return v !== ''; });
  }

  // The state a fragment says: null for a list means "no restriction".
  function fromHash() {
    var state = { kind: null, severity: null, blocking: false, q: '' };
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      if (pair === '') { return; }
      var at = pair.indexOf('=');
      var key = decode(at < 0 ? pair : pair.slice(0, at));
      var value = at < 0 ? '' : decode(pair.slice(at + 1));
      if (key === 'kind' || key === 'severity') { state[key] = list(value); }
      else if (key === 'blocking') { state.blocking = value !== '0' && value !== 'false'; }
      else if (key === 'q') { state.q = value; }
    });
    return state;
  }

  function checked(name) {
    var all = boxes(name);
    var on = all.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    return on.length === all.length ? null : on;
  }
  function fromControls() {
    return { kind: checked('kind'), severity: checked('severity'),
      blocking: blocking.checked, q: search.value };
  }

  function toHash(state) {
    var parts = [];
    if (state.kind) { parts.push('kind=' + state.kind.map(encodeURIComponent).join(',')); }
    if (state.severity) { parts.push('severity=' + state.severity.map(encodeURIComponent).join(',')); }
    if (state.blocking) { parts.push('blocking=1'); }
    if (state.q) { parts.push('q=' + encodeURIComponent(state.q)); }
    return parts.join('&');
  }

  function apply(state) {
    ['kind', 'severity'].forEach(function (name) {
      // The attribute too, so a saved copy of the page keeps the view.
      boxes(name).forEach(function (b) {
        b.checked = b.defaultChecked = !state[name] || state[name].indexOf(b.value) >= 0;
      });
    });
    blocking.checked = blocking.defaultChecked = state.blocking;
    if (search.value !== state.q) { search.value = state.q; }
    var q = state.q.toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var show = (!state.kind || state.kind.indexOf(row.getAttribute('data-kind')) >= 0) &&
        (!state.severity || state.severity.indexOf(row.getAttribute('data-severity')) >= 0) &&
        (!state.blocking || row.getAttribute('data-blocking') === 'true') &&
        (q === '' || row.textContent.toLowerCase().indexOf(q) >= 0);
      row.hidden = !show;
      if (show) { visible += 1; }
    });
    count.textContent = String(visible);
  }

  function changed() {
    var state = fromControls();
    apply(state);
    var hash = toHash(state);
    try {
      history.replaceState(null, '', hash === '' ? location.pathname + location.search : '#' + hash);
    } catch (e) { /* some browsers refuse it for file: URLs; the view still filters */ }
  }

  bar.addEventListener('change', changed);
  search.addEventListener('input', changed);
  reset.addEventListener('click', function () {
    boxes('kind').concat(boxes('severity')).forEach(function (b) { b.checked = true; });
    blocking.checked = false;
    search.value = '';
    changed();
  });
  window.addEventListener('hashchange', function () { apply(fromHash()); });
  bar.hidden = false;
  apply(fromHash());
}());

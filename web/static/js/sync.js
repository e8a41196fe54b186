// The sync page, live: each {"type":"run","run":{...}} event on the "sync" topic (pitwall.js relays
// them as 'pitwall:event') updates the run's row, or adds it at the top. Labels come from the
// <template data-status-labels> the server rendered in the viewer's language.
(function () {
  'use strict';

  var table = document.querySelector('[data-sync-runs] tbody');
  var labels = document.querySelector('template[data-status-labels]');
  if (!table || !labels) return;

  function label(kind, value) {
    var node = labels.content.querySelector('[data-' + kind + '="' + value + '"]');
    return node ? node.textContent : value;
  }

  function cell(text) {
    var td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  function when(ms) {
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        dateStyle: 'short', timeStyle: 'short'
      }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toISOString();
    }
  }

  function statusCell(td, run) {
    td.textContent = '';
    var badge = document.createElement('span');
    badge.className = 'badge badge-status badge-run-' + run.status;
    badge.textContent = label('status', run.status);
    td.appendChild(badge);
    if (run.status === 'running' && run.progress_total > 0) {
      var bar = document.createElement('progress');
      bar.max = run.progress_total;
      bar.value = run.progress_done;
      td.appendChild(document.createTextNode(' '));
      td.appendChild(bar);
    }
    if (run.error_code) {
      var code = document.createElement('span');
      code.className = 'muted';
      code.textContent = ' ' + run.error_code;
      td.appendChild(code);
    }
  }

  function render(run) {
    if (!run || typeof run.id !== 'number') return;
    var row = table.querySelector('tr[data-run-id="' + run.id + '"]');
    if (!row) {
      row = document.createElement('tr');
      row.setAttribute('data-run-id', String(run.id));
      row.appendChild(cell(run.job));
      row.appendChild(cell(label('trigger', run.trigger)));
      row.appendChild(cell(when(run.started_at)));
      var status = document.createElement('td');
      status.setAttribute('data-run-status', '');
      row.appendChild(status);
      ['data-run-items', 'data-run-calls', 'data-run-hits'].forEach(function (name) {
        var td = cell('');
        td.setAttribute(name, '');
        row.appendChild(td);
      });
      table.insertBefore(row, table.firstChild);
      var empty = document.querySelector('[data-sync-empty]');
      if (empty) empty.hidden = true;
    }
    statusCell(row.querySelector('[data-run-status]'), run);
    row.querySelector('[data-run-items]').textContent = String(run.items);
    row.querySelector('[data-run-calls]').textContent = String(run.upstream_calls);
    row.querySelector('[data-run-hits]').textContent = String(run.cache_hits);
  }

  document.addEventListener('pitwall:event', function (event) {
    var detail = event.detail || {};
    if (detail.topic !== 'sync' || !detail.data || detail.data.type !== 'run') return;
    render(detail.data.run);
  });
})();

// The DM queue monitor, live: each {"type":"dm","id":...,"status":...} event on the "admin:dm" topic
// (pitwall.js relays them as 'pitwall:event') updates the message's status badge and which of its
// Retry / Discard forms show; the counts, the queue and the attempts are then fetched again from
// the JSON API (debounced, so a burst of events costs one request). Labels and badge tones come
// from the <template data-dm-labels> the server rendered in the viewer's language.
(function () {
  'use strict';

  var TOPIC = 'admin:dm';
  var BOT_TOPIC = 'admin:bot';
  var REFRESH_DELAY_MS = 750;
  var RETRYABLE = { failed: true, dead: true, discarded: true };
  var DISCARDABLE = { pending: true, failed: true, dead: true };

  var monitor = document.querySelector('[data-dm-monitor]');
  var table = document.querySelector('[data-dm-messages] tbody');
  var labels = document.querySelector('template[data-dm-labels]');
  if (!monitor || !table || !labels) return;
  var api = monitor.getAttribute('data-dm-api');

  function labelOf(status) {
    return labels.content.querySelector('[data-status="' + status + '"]');
  }

  function rowOf(id) {
    var rows = table.querySelectorAll('tr[data-dm-id]');
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute('data-dm-id') === id) return rows[i];
    }
    return null;
  }

  function showStatus(row, status) {
    var label = labelOf(status);
    var cell = row.querySelector('[data-dm-status]');
    if (!label || !cell) return;
    var badge = document.createElement('span');
    badge.className = 'badge badge-status badge-status-' + label.getAttribute('data-tone');
    badge.textContent = label.textContent;
    cell.textContent = '';
    cell.appendChild(badge);
    var retry = row.querySelector('form[data-dm-action="retry"]');
    if (retry) retry.hidden = !RETRYABLE[status];
    var discard = row.querySelector('form[data-dm-action="discard"]');
    if (discard) discard.hidden = !DISCARDABLE[status];
  }

  function setNumber(selector, value) {
    var element = document.querySelector(selector);
    if (element && typeof value === 'number') element.textContent = String(value);
  }

  function apply(answer) {
    if (!answer || typeof answer !== 'object') return;
    var counts = answer.counts || {};
    Object.keys(counts).forEach(function (status) {
      setNumber('[data-dm-count="' + status + '"]', counts[status]);
    });
    var queue = answer.queue || {};
    setNumber('[data-dm-queue="ready"]', queue.ready);
    setNumber('[data-dm-queue="delayed"]', queue.delayed);
    (answer.messages || []).forEach(function (message) {
      var row = message && typeof message.id === 'string' ? rowOf(message.id) : null;
      if (!row) return;
      var attempts = row.querySelector('[data-dm-attempts]');
      if (attempts && typeof message.attempts === 'number') attempts.textContent = String(message.attempts);
      if (typeof message.status === 'string') showStatus(row, message.status);
    });
  }

  var timer = null;
  function refreshSoon() {
    if (!api || timer || typeof window.fetch !== 'function') return;
    timer = window.setTimeout(function () {
      timer = null;
      window.fetch(api + '?limit=200', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(apply)
        .catch(function () {
          // The next event tries again; the page keeps what it shows.
        });
    }, REFRESH_DELAY_MS);
  }

  // The bot's bridge session: connected or not (topic admin:bot).
  var botStatus = document.querySelector('[data-bot-status]');
  var botLabels = document.querySelector('template[data-bot-labels]');
  function showBot(connected) {
    if (!botStatus || !botLabels) return;
    var badge = botLabels.content.querySelector('[data-bot="' + (connected ? 'connected' : 'disconnected') + '"]');
    if (!badge) return;
    botStatus.textContent = '';
    botStatus.appendChild(badge.cloneNode(true));
  }

  document.addEventListener('pitwall:event', function (event) {
    var detail = event.detail || {};
    var data = detail.data;
    if (detail.topic === BOT_TOPIC && data && data.type === 'bot') {
      showBot(data.connected === true);
      return;
    }
    if (detail.topic !== TOPIC || !data || data.type !== 'dm' || typeof data.id !== 'string') return;
    var row = rowOf(data.id);
    if (row && typeof data.status === 'string') showStatus(row, data.status);
    refreshSoon();
  });
})();

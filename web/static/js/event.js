// An event's page, live: pitwall.js relays /ws events on the topic "event:<id>" (from <body
// data-topics>) as 'pitwall:event'. A {"type":"registrations"} event re-renders the registration
// list and the count; {"type":"availability"} updates the hour-by-hour coverage. The element contract
// is in web/templates/event.mustache. No text here: role and source labels come from the page's
// <template data-event-labels>, rendered from the catalog in the viewer's language.
(function () {
  'use strict';

  var live = document.querySelector('[data-event-live]');
  var table = document.querySelector('table[data-event-registrations]');
  var labels = document.querySelector('template[data-event-labels]');
  if (!live || !table || !labels) return;
  var eventId = Number(live.getAttribute('data-event-live'));
  var topic = 'event:' + eventId;
  var body = table.tBodies[0];

  function label(kind, value) {
    var node = labels.content.querySelector('[data-' + kind + '="' + value + '"]');
    return node ? node.textContent : '';
  }

  // The column headers' texts label cells on narrow screens (CSS reads data-label).
  function columnLabel(column) {
    var th = table.querySelector('th[data-col="' + column + '"]');
    return th ? th.textContent : '';
  }

  function cell(name, column) {
    var td = document.createElement('td');
    td.setAttribute(name, '');
    td.setAttribute('data-label', columnLabel(column));
    return td;
  }

  function newRow(registration) {
    var row = document.createElement('tr');
    row.setAttribute('data-user-id', String(registration.user_id));
    var name = cell('data-reg-name', 'name');
    var link = document.createElement('a');
    link.href = '/members/' + registration.user_id;
    name.appendChild(link);
    row.appendChild(name);
    row.appendChild(cell('data-reg-role', 'role'));
    row.appendChild(cell('data-reg-source', 'source'));
    // The member's zone and note are not in the broadcast (it is public): they show after a reload.
    return row;
  }

  function fill(row, registration) {
    var link = row.querySelector('[data-reg-name] a');
    if (link) link.textContent = registration.name;
    var role = row.querySelector('[data-reg-role]');
    if (role) {
      role.textContent = '';
      var badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = label('role', registration.role) || registration.role;
      role.appendChild(badge);
    }
    var source = row.querySelector('[data-reg-source]');
    if (source) source.textContent = label('source', registration.source) || registration.source;
  }

  // Rows are kept by member: what the server rendered (time zone, note) stays on rows that remain.
  function renderRegistrations(data) {
    if (!Array.isArray(data.registrations)) return;
    var existing = {};
    Array.prototype.forEach.call(body.querySelectorAll('tr[data-user-id]'), function (row) {
      existing[row.getAttribute('data-user-id')] = row;
    });
    var fragment = document.createDocumentFragment();
    data.registrations.forEach(function (registration) {
      if (!registration || typeof registration.user_id !== 'number') return;
      var key = String(registration.user_id);
      var row = existing[key] || newRow(registration);
      delete existing[key];
      fill(row, registration);
      fragment.appendChild(row);
    });
    Object.keys(existing).forEach(function (key) {
      existing[key].remove();
    });
    body.appendChild(fragment);

    var count = typeof data.count === 'number' ? data.count : data.registrations.length;
    var counter = document.querySelector('[data-event-count]');
    if (counter) counter.textContent = String(count);
    var empty = document.querySelector('[data-registrations-empty]');
    if (empty) empty.hidden = count > 0;
    // The coverage meters measure against everyone registered.
    document.querySelectorAll('meter[data-hour-meter]').forEach(function (meter) {
      meter.max = Math.max(count, 1);
    });
  }

  function renderCoverage(data) {
    if (!Array.isArray(data.coverage)) return;
    data.coverage.forEach(function (hour) {
      if (!hour || typeof hour.hour_start !== 'number') return;
      var row = document.querySelector('tr[data-hour="' + hour.hour_start + '"]');
      if (!row) return;
      var meter = row.querySelector('meter[data-hour-meter]');
      if (meter) meter.value = hour.available;
      [['[data-hour-available]', hour.available], ['[data-hour-drivers]', hour.drivers],
        ['[data-hour-spotters]', hour.spotters]].forEach(function (pair) {
        var node = row.querySelector(pair[0]);
        if (node && typeof pair[1] === 'number') node.textContent = String(pair[1]);
      });
    });
  }

  document.addEventListener('pitwall:event', function (event) {
    var detail = event.detail || {};
    var data = detail.data;
    if (detail.topic !== topic || !data || data.event_id !== eventId) return;
    if (data.type === 'registrations') renderRegistrations(data);
    else if (data.type === 'availability') renderCoverage(data);
  });
})();

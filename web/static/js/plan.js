// An event's race plan as members see it, and the drawing the planner page shares (window.PitwallPlan).
//
// On the event page (section[data-plan=<event id>], see web/templates/event.mustache) it fetches
// GET /api/events/<id>/plan and draws, per crew, the car, captain, drivers and spotters and a
// horizontal timeline of the stints coloured by driver, in the viewer's time zone (data-plan-tz) with
// the local night (20:00-06:00) shaded; and "my itinerary", the viewer's own stints (data-plan-viewer).
// On a {"type":"plan"} event on the topic "event:<id>" (relayed by pitwall.js) it fetches the plan
// again and redraws, without a reload. No text here: labels come from template[data-plan-labels]
// (web/templates/plan_labels.mustache), rendered from the catalog in the viewer's language.
(function () {
  'use strict';

  var lang = document.documentElement.lang || undefined;
  var NIGHT_FROM = 20;
  var NIGHT_TO = 6;
  var STEP_S = 900; // night bands and hour ticks are found in quarter hours (zones with :30 and :45 offsets)
  var COLOURS = 8; // .plan-driver-0 .. -7 in pitwall.css

  // --- labels --------------------------------------------------------------------------------------
  function labels(root) {
    var template = (root && root.querySelector('template[data-plan-labels]')) ||
      document.querySelector('template[data-plan-labels]');
    return function (key, args) {
      var node = template ? template.content.querySelector('[data-l="' + key + '"]') : null;
      var text = node ? node.textContent.trim() : '';
      if (!args) return text;
      return text.replace(/\{([a-z_]+)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : whole;
      });
    };
  }

  // --- time in the viewer's zone -------------------------------------------------------------------
  function zoneOrUtc(zone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return zone;
    } catch (e) {
      return 'UTC';
    }
  }

  function formatters(zone) {
    zone = zoneOrUtc(zone || 'UTC');
    var dayTime = new Intl.DateTimeFormat(lang, { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit' });
    var time = new Intl.DateTimeFormat(lang, { timeZone: zone, hour: '2-digit', minute: '2-digit' });
    var parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    return {
      zone: zone,
      dayTime: function (seconds) { return dayTime.format(new Date(seconds * 1000)); },
      time: function (seconds) { return time.format(new Date(seconds * 1000)); },
      // {hour, minute} of a moment in the zone.
      local: function (seconds) {
        var out = { hour: 0, minute: 0 };
        parts.formatToParts(new Date(seconds * 1000)).forEach(function (p) {
          if (p.type === 'hour') out.hour = Number(p.value) % 24;
          if (p.type === 'minute') out.minute = Number(p.value);
        });
        return out;
      }
    };
  }

  // --- the plan's pieces -----------------------------------------------------------------------------
  function memberIndex(plan) {
    var byId = {};
    (plan.members || []).forEach(function (m) { byId[m.user_id] = m; });
    return byId;
  }

  function nameOf(members, id) {
    if (id === null || id === undefined) return '';
    var m = members[id];
    return m ? m.name : '#' + id;
  }

  function stintStart(s) { return typeof s.actual_start === 'number' ? s.actual_start : s.starts_at; }
  function stintEnd(s) { return typeof s.actual_end === 'number' ? s.actual_end : s.ends_at; }

  // A stable colour per driver within the crew: their place in the crew's driver list.
  function colourOf(crew, id) {
    var i = (crew.drivers || []).indexOf(id);
    if (i < 0) i = Math.abs(Number(id) || 0);
    return 'plan-driver-' + (i % COLOURS);
  }

  function crewTitle(label, crew) {
    return crew.car_number ? label('car_numbered', { car: crew.crew + 1, number: crew.car_number })
      : label('car', { car: crew.crew + 1 });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The crew's stints on a horizontal line from the first start to the last end: one block per stint
  // (left/width in % through CSSOM, which the CSP allows), night bands behind, local hour ticks below.
  function timeline(crew, plan, options) {
    var label = options.label;
    var fmt = options.formatters;
    var members = options.members || memberIndex(plan);
    var stints = crew.stints || [];
    var wrap = element('div', 'plan-timeline');
    wrap.setAttribute('data-timeline', String(crew.crew));
    if (!stints.length) return wrap;
    var from = Math.min.apply(null, stints.map(stintStart));
    var to = Math.max.apply(null, stints.map(stintEnd));
    if (!(to > from)) return wrap;
    var span = to - from;
    var pct = function (t) { return ((t - from) / span * 100).toFixed(3) + '%'; };

    var track = element('div', 'plan-track');
    track.setAttribute('role', 'list');
    track.setAttribute('aria-label', label('timeline', { car: crew.crew + 1 }));

    // Night bands, found in quarter-hour steps from the hour before the start.
    var bandStart = null;
    var first = Math.floor(from / STEP_S) * STEP_S;
    for (var t = first; t <= to; t += STEP_S) {
      var h = fmt.local(t).hour;
      var night = h >= NIGHT_FROM || h < NIGHT_TO;
      if (night && bandStart === null) bandStart = Math.max(t, from);
      if ((!night || t + STEP_S > to) && bandStart !== null) {
        var bandEnd = night ? to : Math.max(t, from);
        if (bandEnd > bandStart) {
          var band = element('div', 'plan-night');
          band.setAttribute('aria-hidden', 'true');
          band.title = label('night');
          band.style.left = pct(bandStart);
          band.style.width = pct(from + (bandEnd - bandStart));
          track.appendChild(band);
        }
        bandStart = null;
      }
    }

    stints.forEach(function (s) {
      var start = stintStart(s);
      var end = stintEnd(s);
      var driver = s.driver;
      var name = driver !== null && driver !== undefined ? nameOf(members, driver) : label('no_driver');
      var block = element('div', 'plan-seg ' + (driver !== null && driver !== undefined ? colourOf(crew, driver) : 'plan-seg-empty'));
      block.setAttribute('role', 'listitem');
      block.setAttribute('data-stint', String(s.stint));
      block.setAttribute('data-driver', driver === null || driver === undefined ? '' : String(driver));
      if (s.locked) block.classList.add('is-locked');
      block.style.left = pct(start);
      block.style.width = pct(from + (end - start));
      var title = label('stint_title', { stint: s.stint + 1, name: name, start: fmt.dayTime(start), end: fmt.time(end) });
      block.title = title;
      block.setAttribute('aria-label', title);
      block.appendChild(element('span', 'plan-seg-name', name));
      track.appendChild(block);
    });
    wrap.appendChild(track);

    // Local hour ticks: every hour for short races, every 3 or 6 for long ones.
    var every = span <= 8 * 3600 ? 1 : span <= 26 * 3600 ? 3 : 6;
    var axis = element('div', 'plan-axis');
    axis.setAttribute('aria-hidden', 'true');
    for (var u = Math.ceil(from / STEP_S) * STEP_S; u <= to; u += STEP_S) {
      var local = fmt.local(u);
      if (local.minute !== 0 || local.hour % every !== 0) continue;
      var tick = element('span', 'plan-tick', fmt.time(u));
      tick.style.left = pct(u);
      axis.appendChild(tick);
    }
    wrap.appendChild(axis);
    return wrap;
  }

  function roster(crew, members, label) {
    var list = element('dl', 'plan-roster');
    function row(title, ids, withColour) {
      list.appendChild(element('dt', null, title));
      var dd = element('dd');
      if (!ids.length) dd.textContent = label('nobody');
      ids.forEach(function (id, i) {
        var item = element('span', 'plan-person' + (withColour ? ' ' + colourOf(crew, id) : ''), nameOf(members, id));
        item.setAttribute('data-member', String(id));
        if (i) dd.appendChild(document.createTextNode(' '));
        dd.appendChild(item);
      });
      list.appendChild(dd);
    }
    row(label('captain'), crew.captain !== null && crew.captain !== undefined ? [crew.captain] : [], false);
    row(label('drivers'), crew.drivers || [], true);
    row(label('spotters'), crew.spotters || [], false);
    return list;
  }

  // The viewer's duties, soonest first: [{crew, stint, start, end, driving}].
  function dutiesOf(plan, viewer) {
    var out = [];
    (plan.crews || []).forEach(function (crew) {
      (crew.stints || []).forEach(function (s) {
        if (s.driver === viewer) out.push({ crew: crew, stint: s, driving: true });
        else if (s.spotter === viewer) out.push({ crew: crew, stint: s, driving: false });
      });
    });
    out.sort(function (a, b) { return stintStart(a.stint) - stintStart(b.stint); });
    return out;
  }

  function statusBadge(badge, plan, label) {
    if (!badge) return;
    if (!plan.crews || !plan.crews.length) { badge.hidden = true; return; }
    badge.hidden = false;
    var key = !plan.published ? 'status_draft' : plan.published_is_current ? 'status_published' : 'status_changed';
    badge.textContent = label(key);
    badge.className = 'badge badge-status badge-status-' + (key === 'status_published' ? 'ok' : 'syncing');
    badge.setAttribute('data-plan-state', key);
  }

  function fetchPlan(eventId) {
    return fetch('/api/events/' + eventId + '/plan', {
      credentials: 'same-origin',
      headers: { accept: 'application/json' }
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw body;
        return body;
      });
    });
  }

  // Calls `load` for every {"type":"plan"} event of the event's topic whose revision differs from
  // `current()`; one fetch at a time, the latest wins.
  function onPlanEvents(eventId, current, load) {
    var topic = 'event:' + eventId;
    document.addEventListener('pitwall:event', function (event) {
      var detail = event.detail || {};
      var data = detail.data;
      if (detail.topic !== topic || !data || data.type !== 'plan' || data.event_id !== eventId) return;
      if (typeof data.revision === 'number' && data.revision === current()) return;
      load();
    });
  }

  // One fetch in flight; a request during it fetches once more after it.
  function serialLoader(eventId, apply) {
    var busy = false;
    var again = false;
    function run() {
      if (busy) { again = true; return; }
      busy = true;
      fetchPlan(eventId).then(apply, function () { /* keep what is shown */ }).then(function () {
        busy = false;
        if (again) { again = false; run(); }
      });
    }
    return run;
  }

  window.PitwallPlan = {
    labels: labels,
    formatters: formatters,
    memberIndex: memberIndex,
    nameOf: nameOf,
    colourOf: colourOf,
    crewTitle: crewTitle,
    timeline: timeline,
    roster: roster,
    statusBadge: statusBadge,
    fetchPlan: fetchPlan,
    serialLoader: serialLoader,
    onPlanEvents: onPlanEvents,
    stintStart: stintStart,
    stintEnd: stintEnd,
    element: element
  };

  // --- the event page ----------------------------------------------------------------------------
  var root = document.querySelector('section[data-plan]');
  if (!root) return;
  var eventId = Number(root.getAttribute('data-plan'));
  var viewer = Number(root.getAttribute('data-plan-viewer'));
  var label = labels(root);
  var fmt = formatters(root.getAttribute('data-plan-tz'));
  var crewsBox = root.querySelector('[data-plan-crews]');
  var empty = root.querySelector('[data-plan-empty]');
  var itinerary = root.querySelector('[data-plan-itinerary]');
  var itineraryList = root.querySelector('[data-plan-itinerary-list]');
  var revision = null;

  function render(plan) {
    revision = plan.revision;
    root.setAttribute('data-plan-revision', String(plan.revision));
    var members = memberIndex(plan);
    var crews = plan.crews || [];
    empty.hidden = crews.length > 0;
    statusBadge(root.querySelector('[data-plan-status]'), plan, label);

    var fragment = document.createDocumentFragment();
    crews.forEach(function (crew) {
      var article = element('article', 'plan-crew');
      article.setAttribute('data-crew', String(crew.crew));
      article.appendChild(element('h3', null, crewTitle(label, crew)));
      article.appendChild(roster(crew, members, label));
      article.appendChild(timeline(crew, plan, { label: label, formatters: fmt, members: members }));
      fragment.appendChild(article);
    });
    crewsBox.textContent = '';
    crewsBox.appendChild(fragment);

    var mine = viewer ? dutiesOf(plan, viewer) : [];
    itinerary.hidden = mine.length === 0;
    itineraryList.textContent = '';
    mine.forEach(function (duty) {
      var item = element('li', null, label('itinerary_item', {
        role: label(duty.driving ? 'driving' : 'spotting'),
        stint: duty.stint.stint + 1,
        car: duty.crew.crew + 1,
        start: fmt.dayTime(stintStart(duty.stint)),
        end: fmt.time(stintEnd(duty.stint))
      }));
      item.setAttribute('data-duty', duty.driving ? 'driving' : 'spotting');
      itineraryList.appendChild(item);
    });
  }

  var load = serialLoader(eventId, render);
  onPlanEvents(eventId, function () { return revision; }, load);
  load();

  // The viewer's iCal feed: the URL is shown on request (it is a credential), and can be replaced.
  var calendar = root.querySelector('[data-plan-calendar]');
  if (calendar) {
    var box = calendar.querySelector('[data-calendar-box]');
    var input = calendar.querySelector('[data-calendar-url]');
    var showUrl = function (method, path) {
      var headers = { accept: 'application/json' };
      if (method === 'POST') headers['x-csrf-token'] = calendar.getAttribute('data-csrf') || '';
      return window.fetch(path, { method: method, credentials: 'same-origin', headers: headers })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (!body || !body.url) return;
          input.value = body.url;
          box.hidden = false;
          input.select();
        });
    };
    calendar.querySelector('[data-calendar-show]').addEventListener('click', function () {
      showUrl('GET', '/api/me/calendar');
    });
    calendar.querySelector('[data-calendar-rotate]').addEventListener('click', function () {
      showUrl('POST', '/api/me/calendar/rotate');
    });
  }
})();

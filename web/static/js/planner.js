// The race planner page (/events/<id>/planner, web/templates/planner.mustache): settings, stage 1
// ("Form crews"), stage 2 ("Assign stints", per crew "Re-plan unlocked stints"), drag a driver or
// spotter chip onto another stint to swap the two (HTML5 drag and drop, with the rule engine's verdict
// on the drop shown while hovering: POST .../plan/preview), a select per stint as the keyboard way,
// locks, moves between crews, publish, race day, exports and a JRES file solved on its own.
//
// Every change is a JSON post with the revision the page shows (X-CSRF-Token from data-csrf); the
// answer is the new plan, drawn at once. A stale revision (planner.stale) reloads the plan and says
// so. Another planner's change arrives as {"type":"plan"} on "event:<id>" and is fetched. The texts
// come from template[data-plan-labels] and from the API (violations carry their localized "text").
(function () {
  'use strict';

  var P = window.PitwallPlan;
  var root = document.querySelector('[data-planner]');
  if (!root || !P) return;
  var eventId = Number(root.getAttribute('data-planner'));
  var csrf = root.getAttribute('data-csrf') || '';
  var label = P.labels(root);
  var fmt = P.formatters(root.getAttribute('data-plan-tz'));
  var api = '/api/events/' + eventId + '/plan';
  var el = P.element;

  var statusLine = root.querySelector('[data-planner-status]');
  var alertLine = root.querySelector('[data-planner-alert]');
  var crewsBox = root.querySelector('[data-planner-crews]');
  var noCrews = root.querySelector('[data-planner-no-crews]');
  var unassignedList = root.querySelector('[data-planner-unassigned]');
  var unassignedEmpty = root.querySelector('[data-planner-unassigned-empty]');
  var publishButton = root.querySelector('[data-action="publish"]');
  var publishReason = root.querySelector('[data-publish-reason]');
  var settingsForm = root.querySelector('form[data-plan-settings]');

  var plan = null;
  var busy = 0;

  // --- talking to the server ---------------------------------------------------------------------
  function say(text) {
    statusLine.textContent = text || '';
  }

  function fail(text) {
    alertLine.textContent = text || '';
    alertLine.hidden = !text;
  }

  function post(path, body) {
    busy += 1;
    root.setAttribute('aria-busy', 'true');
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: typeof body === 'string' ? body : JSON.stringify(body || {})
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { ok: res.ok, status: res.status, json: json };
      });
    }, function () {
      return { ok: false, status: 0, json: null };
    }).then(function (answer) {
      busy -= 1;
      if (!busy) root.removeAttribute('aria-busy');
      return answer;
    });
  }

  function errorOf(answer) {
    return (answer.json && answer.json.error) || { code: 'http.internal', message: '' };
  }

  // A mutation: the answer is the new plan, or an error shown (a stale plan is reloaded first).
  function mutate(path, body, done) {
    fail('');
    say(label('working'));
    return post(api + path, body).then(function (answer) {
      if (answer.ok && answer.json) {
        say(done || '');
        render(answer.json);
        return answer;
      }
      var error = errorOf(answer);
      say('');
      if (error.code === 'planner.stale') {
        fail(label('stale'));
      } else {
        fail(error.message || String(answer.status));
      }
      reload();
      return answer;
    });
  }

  var reload = P.serialLoader(eventId, function (fresh) { render(fresh); });

  // --- settings ----------------------------------------------------------------------------------
  function settingsBody() {
    var out = {};
    Array.prototype.forEach.call(settingsForm.elements, function (input) {
      var type = input.getAttribute('data-type');
      if (!type || !input.name) return;
      if (type === 'bool') out[input.name] = input.checked;
      else if (type === 'text') out[input.name] = input.value;
      else if (input.value.trim() === '') { if (type !== 'optional-int') out[input.name] = null; }
      else out[input.name] = Number(input.value);
    });
    return out;
  }

  settingsForm.addEventListener('submit', function (event) {
    event.preventDefault();
    mutate('/settings', settingsBody(), label('saved'));
  });

  // --- the page's buttons ------------------------------------------------------------------------
  function revision() { return plan ? plan.revision : 0; }

  root.querySelector('[data-action="form-crews"]').addEventListener('click', function () {
    mutate('/crews', { revision: revision() });
  });
  root.querySelector('[data-action="assign-all"]').addEventListener('click', function () {
    mutate('/stints', { revision: revision() });
  });
  publishButton.addEventListener('click', function () {
    mutate('/publish', {}, label('published_ok'));
  });
  root.querySelector('[data-action="green-flag"]').addEventListener('click', function () {
    mutate('/green-flag', {});
  });

  // --- drawing -----------------------------------------------------------------------------------
  function violationList(violations) {
    var list = el('ul', 'plan-violation-list');
    violations.forEach(function (v) {
      var item = el('li', null, v.text || v.code);
      item.setAttribute('data-code', v.code || '');
      if (typeof v.stint === 'number') item.setAttribute('data-stint', String(v.stint));
      if (v.member !== null && v.member !== undefined) item.setAttribute('data-member', String(v.member));
      list.appendChild(item);
    });
    return list;
  }

  function showViolations(box, violations) {
    box.textContent = '';
    box.classList.toggle('is-valid', violations.length === 0);
    if (!violations.length) {
      box.appendChild(el('p', null, label('valid')));
      return;
    }
    box.appendChild(el('p', 'plan-violations-heading', label('violations_heading')));
    box.appendChild(violationList(violations));
  }

  function chip(kind, crew, stint, member, members) {
    var node = el('span', 'plan-chip' + (kind === 'driver' ? ' ' + P.colourOf(crew, member) : ' plan-chip-spotter'),
      P.nameOf(members, member));
    node.setAttribute('draggable', 'true');
    node.setAttribute('data-chip', kind);
    node.setAttribute('data-crew', String(crew.crew));
    node.setAttribute('data-stint', String(stint.stint));
    node.setAttribute('data-member', String(member));
    return node;
  }

  function chooser(kind, crew, stint, members) {
    var pool = kind === 'driver' ? (crew.drivers || [])
      : (crew.spotters || []).concat(crew.drivers || []).filter(function (id, i, all) { return all.indexOf(id) === i; });
    var select = el('select', 'plan-choose');
    select.setAttribute('data-choose', kind);
    select.setAttribute('aria-label', label(kind === 'driver' ? 'choose_driver' : 'choose_spotter', { stint: stint.stint + 1 }));
    var current = kind === 'driver' ? stint.driver : stint.spotter;
    if (current === null || current === undefined) {
      var none = el('option', null, label(kind === 'driver' ? 'no_driver' : 'no_spotter'));
      none.value = '';
      select.appendChild(none);
    } else if (kind === 'spotter') {
      var clear = el('option', null, label('no_spotter'));
      clear.value = '0';
      select.appendChild(clear);
    }
    pool.forEach(function (id) {
      var option = el('option', null, P.nameOf(members, id));
      option.value = String(id);
      if (id === current) option.selected = true;
      select.appendChild(option);
    });
    if (current !== null && current !== undefined && pool.indexOf(current) < 0) {
      var other = el('option', null, P.nameOf(members, current));
      other.value = String(current);
      other.selected = true;
      select.appendChild(other);
    }
    select.addEventListener('change', function () {
      if (select.value === '') return;
      var edit = { stint: stint.stint };
      edit[kind] = Number(select.value);
      mutate('/edit', { revision: revision(), crew: crew.crew, edits: [edit] });
    });
    return select;
  }

  function moveForm(crew, member, asDriver, members) {
    var form = el('form', 'plan-move');
    var select = el('select');
    select.setAttribute('aria-label', label('move_label', { name: P.nameOf(members, member) }));
    (plan.crews || []).forEach(function (other) {
      if (other.crew === crew.crew) return;
      var option = el('option', null, P.crewTitle(label, other));
      option.value = String(other.crew);
      select.appendChild(option);
    });
    var out = el('option', null, label('move_out'));
    out.value = '';
    select.appendChild(out);
    var button = el('button', 'button button-quiet', label('move'));
    button.type = 'submit';
    form.appendChild(select);
    form.appendChild(button);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      mutate('/move', {
        revision: revision(), user_id: member, as_driver: asDriver,
        crew: select.value === '' ? null : Number(select.value)
      });
    });
    return form;
  }

  function crewRoster(crew, members) {
    var list = el('ul', 'plan-members');
    function add(id, asDriver) {
      var item = el('li');
      var name = el('span', 'plan-person' + (asDriver ? ' ' + P.colourOf(crew, id) : ''), P.nameOf(members, id));
      item.appendChild(name);
      if (crew.captain === id) item.appendChild(el('span', 'badge', label('captain')));
      item.appendChild(el('span', 'muted', label(asDriver ? 'driving' : 'spotting')));
      item.appendChild(moveForm(crew, id, asDriver, members));
      list.appendChild(item);
    }
    (crew.drivers || []).forEach(function (id) { add(id, true); });
    (crew.spotters || []).forEach(function (id) { add(id, false); });
    return list;
  }

  function stintTable(crew, members, spotters) {
    var wrap = el('div', 'table-wrap');
    var table = el('table', 'table plan-stints');
    var head = el('thead');
    var headRow = el('tr');
    var columns = ['col_stint', 'col_time', 'col_laps', 'col_driver'];
    if (spotters) columns.push('col_spotter');
    columns.push('col_lock');
    columns.forEach(function (key) {
      var th = el('th', null, label(key));
      th.scope = 'col';
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el('tbody');
    (crew.stints || []).forEach(function (s) {
      var row = el('tr');
      row.setAttribute('data-stint', String(s.stint));
      if (s.locked) row.classList.add('is-locked');
      var number = el('td', null, label('stint', { stint: s.stint + 1 }));
      number.setAttribute('data-label', label('col_stint'));
      row.appendChild(number);
      var time = el('td', null, fmt.dayTime(P.stintStart(s)) + ' – ' + fmt.time(P.stintEnd(s)));
      time.setAttribute('data-label', label('col_time'));
      row.appendChild(time);
      var laps = el('td', 'numeric', String(s.laps));
      laps.setAttribute('data-label', label('col_laps'));
      row.appendChild(laps);

      ['driver'].concat(spotters ? ['spotter'] : []).forEach(function (kind) {
        var cell = el('td', 'plan-drop');
        cell.setAttribute('data-drop', kind);
        cell.setAttribute('data-crew', String(crew.crew));
        cell.setAttribute('data-stint', String(s.stint));
        cell.setAttribute('data-label', label(kind === 'driver' ? 'col_driver' : 'col_spotter'));
        var who = kind === 'driver' ? s.driver : s.spotter;
        if (who !== null && who !== undefined && !s.locked) cell.appendChild(chip(kind, crew, s, who, members));
        else if (who !== null && who !== undefined) cell.appendChild(el('span', 'plan-chip is-locked ' + (kind === 'driver' ? P.colourOf(crew, who) : 'plan-chip-spotter'), P.nameOf(members, who)));
        if (!s.locked) cell.appendChild(chooser(kind, crew, s, members));
        row.appendChild(cell);
      });

      var lockCell = el('td');
      lockCell.setAttribute('data-label', label('col_lock'));
      var lock = el('button', 'button button-quiet', label(s.locked ? 'unlock' : 'lock'));
      lock.type = 'button';
      lock.setAttribute('data-lock', s.locked ? 'locked' : 'unlocked');
      lock.setAttribute('aria-pressed', s.locked ? 'true' : 'false');
      lock.addEventListener('click', function () {
        mutate('/lock', { revision: revision(), crew: crew.crew, stint: s.stint, locked: !s.locked });
      });
      lockCell.appendChild(lock);
      row.appendChild(lockCell);
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  function render(fresh) {
    if (!fresh || typeof fresh.revision !== 'number') return;
    plan = fresh;
    root.setAttribute('data-plan-revision', String(plan.revision));
    var members = P.memberIndex(plan);
    var crews = plan.crews || [];
    var spotters = !!(plan.settings && plan.settings.spotters);

    P.statusBadge(root.querySelector('[data-plan-status]'), plan, label);
    publishButton.disabled = !plan.publishable;
    publishReason.hidden = !!plan.publishable;

    unassignedList.textContent = '';
    (plan.unassigned || []).forEach(function (issue) {
      var item = el('li', null, issue.text || issue.code);
      item.setAttribute('data-code', issue.code || '');
      unassignedList.appendChild(item);
    });
    unassignedEmpty.hidden = (plan.unassigned || []).length > 0;
    noCrews.hidden = crews.length > 0;

    var fragment = document.createDocumentFragment();
    crews.forEach(function (crew) {
      var section = el('section', 'card plan-crew');
      section.setAttribute('data-crew', String(crew.crew));
      var headingId = 'crew-' + crew.crew + '-heading';
      section.setAttribute('aria-labelledby', headingId);
      var heading = el('h2', null, P.crewTitle(label, crew));
      heading.id = headingId;
      section.appendChild(heading);
      if (crew.score) {
        section.appendChild(el('p', 'muted', label('score', {
          total: crew.score.total, spread: crew.score.spread, changes: crew.score.driver_changes
        })));
      }
      section.appendChild(crewRoster(crew, members));

      var buttons = el('p', 'button-row');
      var replan = el('button', 'button', label('assign_crew'));
      replan.type = 'button';
      replan.setAttribute('data-action', 'assign-crew');
      replan.addEventListener('click', function () {
        mutate('/stints', { revision: revision(), crew: crew.crew });
      });
      var pit = el('button', 'button', label('pit_now'));
      pit.type = 'button';
      pit.setAttribute('data-action', 'pit');
      pit.addEventListener('click', function () {
        mutate('/pit', { crew: crew.crew });
      });
      buttons.appendChild(replan);
      buttons.appendChild(pit);
      section.appendChild(buttons);

      var violations = el('div', 'plan-violations');
      violations.setAttribute('data-crew-violations', String(crew.crew));
      violations.setAttribute('role', 'alert');
      // Stage 2's refusal (the member and the rule) heads the list when this crew could not be planned.
      showViolations(violations, (crew.solve_error ? [crew.solve_error] : []).concat(crew.violations || []));
      section.appendChild(violations);

      section.appendChild(P.timeline(crew, plan, { label: label, formatters: fmt, members: members }));
      section.appendChild(stintTable(crew, members, spotters));

      // Below the table, kept in view (sticky): showing it must not move the drop targets.
      var preview = el('div', 'plan-preview');
      preview.setAttribute('data-crew-preview', String(crew.crew));
      preview.setAttribute('aria-live', 'polite');
      preview.hidden = true;
      section.appendChild(preview);
      fragment.appendChild(section);
    });
    crewsBox.textContent = '';
    crewsBox.appendChild(fragment);
  }

  // --- drag to swap, with live validation --------------------------------------------------------
  var dragging = null; // {kind, crew, stint, member}
  var hover = null; // "crew:stint" of the target under the pointer
  var previewTimer = null;
  var previewSeq = 0;

  function stintOf(crewIndex, stintIndex) {
    var crew = plan && (plan.crews || []).filter(function (c) { return c.crew === crewIndex; })[0];
    if (!crew) return null;
    return (crew.stints || []).filter(function (s) { return s.stint === stintIndex; })[0] || null;
  }

  // The edits a drop of `from` on stint `to` makes: the two stints trade their driver (or spotter).
  function swapEdits(from, to) {
    var target = stintOf(from.crew, to);
    if (!target) return null;
    var other = from.kind === 'driver' ? target.driver : target.spotter;
    var edits = [];
    var onTarget = { stint: to };
    onTarget[from.kind] = from.member;
    edits.push(onTarget);
    if (other !== null && other !== undefined) {
      var onSource = { stint: from.stint };
      onSource[from.kind] = other;
      edits.unshift(onSource);
    } else if (from.kind === 'spotter') {
      edits.unshift({ stint: from.stint, spotter: null });
    }
    return edits;
  }

  function targetOf(event) {
    var cell = event.target && event.target.closest ? event.target.closest('td[data-drop]') : null;
    if (!cell || !dragging) return null;
    if (cell.getAttribute('data-drop') !== dragging.kind) return null;
    if (Number(cell.getAttribute('data-crew')) !== dragging.crew) return null;
    var stint = Number(cell.getAttribute('data-stint'));
    if (stint === dragging.stint) return null;
    var s = stintOf(dragging.crew, stint);
    if (!s || s.locked) return null;
    return { cell: cell, stint: stint };
  }

  function previewBox(crewIndex) {
    return crewsBox.querySelector('[data-crew-preview="' + crewIndex + '"]');
  }

  function clearDrag() {
    dragging = null;
    hover = null;
    previewSeq += 1;
    if (previewTimer) window.clearTimeout(previewTimer);
    previewTimer = null;
    crewsBox.querySelectorAll('.is-drop-target, .is-dragging').forEach(function (node) {
      node.classList.remove('is-drop-target');
      node.classList.remove('is-dragging');
    });
    crewsBox.querySelectorAll('[data-crew-preview]').forEach(function (box) {
      box.hidden = true;
      box.textContent = '';
    });
  }

  function schedulePreview(target) {
    var from = dragging;
    var key = from.crew + ':' + target.stint;
    if (hover === key) return;
    hover = key;
    if (previewTimer) window.clearTimeout(previewTimer);
    var seq = ++previewSeq;
    previewTimer = window.setTimeout(function () {
      var edits = swapEdits(from, target.stint);
      if (!edits) return;
      post(api + '/preview', { crew: from.crew, edits: edits }).then(function (answer) {
        if (seq !== previewSeq || !dragging) return;
        var box = previewBox(from.crew);
        if (!box) return;
        box.textContent = '';
        box.hidden = false;
        if (!answer.ok || !answer.json) {
          box.appendChild(el('p', null, errorOf(answer).message || ''));
          return;
        }
        var violations = answer.json.violations || [];
        box.classList.toggle('is-valid', violations.length === 0);
        if (!violations.length) {
          box.appendChild(el('p', null, label('preview_ok')));
        } else {
          box.appendChild(el('p', 'plan-violations-heading', label('preview_heading')));
          box.appendChild(violationList(violations));
        }
      });
    }, 80);
  }

  crewsBox.addEventListener('dragstart', function (event) {
    var node = event.target && event.target.closest ? event.target.closest('[data-chip]') : null;
    if (!node) return;
    dragging = {
      kind: node.getAttribute('data-chip'),
      crew: Number(node.getAttribute('data-crew')),
      stint: Number(node.getAttribute('data-stint')),
      member: Number(node.getAttribute('data-member'))
    };
    node.classList.add('is-dragging');
    if (event.dataTransfer) {
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', node.textContent);
    }
  });

  crewsBox.addEventListener('dragover', function (event) {
    var target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
    crewsBox.querySelectorAll('.is-drop-target').forEach(function (node) {
      if (node !== target.cell) node.classList.remove('is-drop-target');
    });
    target.cell.classList.add('is-drop-target');
    schedulePreview(target);
  });

  crewsBox.addEventListener('dragleave', function (event) {
    var cell = event.target && event.target.closest ? event.target.closest('td[data-drop]') : null;
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove('is-drop-target');
  });

  crewsBox.addEventListener('drop', function (event) {
    var target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    var from = dragging;
    var edits = swapEdits(from, target.stint);
    clearDrag();
    if (edits) mutate('/edit', { revision: revision(), crew: from.crew, edits: edits });
  });

  crewsBox.addEventListener('dragend', clearDrag);

  // --- JRES --------------------------------------------------------------------------------------
  var jresForm = root.querySelector('form[data-jres]');
  var jresResult = root.querySelector('[data-jres-result]');
  if (jresForm && window.FileReader) {
    jresForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var file = jresForm.querySelector('input[type="file"]').files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        jresResult.textContent = label('working');
        post('/api/planner/jres', String(reader.result)).then(function (answer) {
          jresResult.textContent = '';
          if (!answer.ok || !answer.json) {
            var p = el('p', 'alert alert-error', errorOf(answer).message || String(answer.status));
            p.setAttribute('role', 'alert');
            jresResult.appendChild(p);
            return;
          }
          var list = el('ol', 'plan-jres');
          (answer.json.plan || []).forEach(function (s) {
            var who = s.driver ? s.driver.name : label('no_driver');
            if (s.spotter) who += ' · ' + s.spotter.name;
            list.appendChild(el('li', null, label('stint', { stint: s.stint + 1 }) + ': ' + who +
              ' (' + fmt.dayTime(s.starts_at) + ' – ' + fmt.time(s.ends_at) + ')'));
          });
          var score = answer.json.score || {};
          jresResult.appendChild(el('p', 'muted', label('score', {
            total: score.total, spread: score.spread, changes: score.driver_changes
          })));
          jresResult.appendChild(list);
        });
      };
      reader.readAsText(file);
    });
  }

  // --- live --------------------------------------------------------------------------------------
  P.onPlanEvents(eventId, function () { return plan ? plan.revision : null; }, reload);
  reload();
})();

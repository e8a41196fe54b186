// Pitwall in the browser: small, no framework, no inline script (CSP: script-src 'self').
// It holds no user-visible text: every label is in the page, rendered from the catalogs.
//
// - marks <html> with class "js", so CSS collapses the navigation behind its toggle button only when
//   this script runs (without it the menu stays open);
// - language switch forms (data-autosubmit) submit when the select changes;
// - forms with data-tz-set offer the browser's time zone when it differs from the selected one;
// - elements with data-local-time and data-tz show the current time in that zone, kept current;
// - keeps one WebSocket to /ws (wss: on https), subscribes to the topics in <body data-topics>,
//   resubscribes after every reconnect (exponential backoff with jitter), and dispatches each event
//   as a `pitwall:event` CustomEvent on document: detail = {topic, data}.
//   Client frames: {"op":"subscribe","topic":...}, {"op":"ping"} (see src/platform/http/ws_hub.cpp).
(function () {
  'use strict';

  var root = document.documentElement;
  root.classList.add('js');

  function ready(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  // --- navigation toggle -----------------------------------------------------------------------
  function setupNavigation() {
    var toggle = document.querySelector('[data-nav-toggle]');
    if (!toggle) return;
    var menu = document.getElementById(toggle.getAttribute('aria-controls'));
    if (!menu) return;
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      menu.classList.toggle('is-open', open);
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
        toggle.setAttribute('aria-expanded', 'false');
        menu.classList.remove('is-open');
        toggle.focus();
      }
    });
  }

  // --- language switch ---------------------------------------------------------------------------
  function setupAutosubmit() {
    document.querySelectorAll('form[data-autosubmit]').forEach(function (form) {
      var button = form.querySelector('[data-autosubmit-button]');
      if (button) button.hidden = true;
      form.querySelectorAll('select').forEach(function (select) {
        select.addEventListener('change', function () {
          if (typeof form.requestSubmit === 'function') form.requestSubmit();
          else form.submit();
        });
      });
    });
  }

  // --- time zones --------------------------------------------------------------------------------
  function browserTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch (e) {
      return '';
    }
  }

  function setupTimeZoneOffer() {
    var zone = browserTimeZone();
    if (!zone) return;
    document.querySelectorAll('form[data-tz-set]').forEach(function (form) {
      var select = form.querySelector('select[name="time_zone"]');
      var offer = form.querySelector('[data-tz-suggest]');
      if (!select || !offer || select.value === zone) return;
      var known = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      if (!known) return;
      var name = offer.querySelector('[data-tz-name]');
      if (name) name.textContent = zone;
      offer.hidden = false;
      var use = offer.querySelector('[data-tz-use]');
      if (use) {
        use.addEventListener('click', function () {
          select.value = zone;
          offer.hidden = true;
          select.focus();
        });
      }
    });
  }

  function updateLocalTimes() {
    var lang = root.lang || undefined;
    document.querySelectorAll('[data-local-time][data-tz]').forEach(function (element) {
      try {
        element.textContent = new Intl.DateTimeFormat(lang, {
          timeZone: element.getAttribute('data-tz'),
          hour: 'numeric',
          minute: '2-digit'
        }).format(new Date());
      } catch (e) {
        // An unknown zone: keep what the server rendered.
      }
    });
  }

  function setupLocalTimes() {
    if (!document.querySelector('[data-local-time][data-tz]')) return;
    // Align the updates with the minute boundary, then once a minute.
    var now = new Date();
    var untilNextMinute = (60 - now.getSeconds()) * 1000 - now.getMilliseconds();
    window.setTimeout(function () {
      updateLocalTimes();
      window.setInterval(updateLocalTimes, 60000);
    }, untilNextMinute);
  }

  // --- live updates over /ws ---------------------------------------------------------------------
  var MIN_DELAY_MS = 1000;
  var MAX_DELAY_MS = 30000;
  var PING_INTERVAL_MS = 25000;
  var MAX_TOPICS = 64; // websocket.max_topics on the server

  function topicsOfPage() {
    var list = (document.body.getAttribute('data-topics') || '').split(/\s+/);
    var seen = {};
    return list.filter(function (topic) {
      if (!topic || seen[topic] || !/^[a-z0-9:._-]{1,128}$/.test(topic)) return false;
      seen[topic] = true;
      return true;
    }).slice(0, MAX_TOPICS);
  }

  function connectLive(topics) {
    var delay = MIN_DELAY_MS;
    var socket = null;
    var pinger = null;
    var retry = null;
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';

    function send(frame) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    }

    function scheduleReconnect() {
      if (retry) return;
      // Jittered, so a restarted server is not hit by every browser at the same instant.
      var wait = Math.round(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      retry = window.setTimeout(function () {
        retry = null;
        open();
      }, wait);
    }

    function open() {
      try {
        socket = new WebSocket(url);
      } catch (e) {
        scheduleReconnect();
        return;
      }
      socket.addEventListener('open', function () {
        delay = MIN_DELAY_MS;
        topics.forEach(function (topic) {
          send({ op: 'subscribe', topic: topic });
        });
        pinger = window.setInterval(function () {
          send({ op: 'ping' });
        }, PING_INTERVAL_MS);
      });
      socket.addEventListener('message', function (message) {
        var frame;
        try {
          frame = JSON.parse(message.data);
        } catch (e) {
          return;
        }
        if (!frame || frame.type !== 'event' || typeof frame.topic !== 'string') return;
        document.dispatchEvent(new CustomEvent('pitwall:event', {
          detail: { topic: frame.topic, data: frame.data }
        }));
      });
      socket.addEventListener('close', function () {
        if (pinger) window.clearInterval(pinger);
        pinger = null;
        socket = null;
        scheduleReconnect();
      });
      socket.addEventListener('error', function () {
        // 'close' follows and schedules the reconnect.
      });
    }

    // A tab coming back from the background reconnects at once instead of waiting out the backoff.
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState !== 'visible' || socket) return;
      if (retry) window.clearTimeout(retry);
      retry = null;
      delay = MIN_DELAY_MS;
      open();
    });
    open();
  }

  ready(function () {
    setupNavigation();
    setupAutosubmit();
    setupTimeZoneOffer();
    setupLocalTimes();
    var topics = topicsOfPage();
    if (topics.length && 'WebSocket' in window) connectLive(topics);
  });
})();

/**
 * The issue page's only script, served as a static file (/editor/assets/issue-page.js) so the editor's
 * policy can stay `script-src 'self'` with no inline script. Progressive: every form it handles is a
 * plain POST that redirects back without it. With it, a form marked `data-inplace` is posted with
 * fetch (same origin, so the editor's origin checks pass), the page the redirect leads to is fetched,
 * each `data-swap` element is replaced by its new version, the preview iframe reloads, and focus goes
 * back to the same action (or to the Undo of what was just done), so the editor keeps their place.
 * Kept as text here: the built CLI is one bundle and reads no project file at run time.
 */
export const issuePageScript = `'use strict';
(function () {
  var busy = false;
  function announce(text) {
    var region = document.getElementById('live-status');
    if (region) region.textContent = text;
  }
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-inplace')) return;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    event.preventDefault();
    if (busy) return;
    busy = true;
    var submitter = event.submitter;
    // After an Undo, back to the story's own action; otherwise the same action again.
    var key = submitter ? submitter.getAttribute('data-focus-after') || submitter.getAttribute('data-key') : null;
    var body = new URLSearchParams(new FormData(form));
    document.body.setAttribute('aria-busy', 'true');
    // getAttribute: a field named "action" shadows form.action.
    fetch(form.getAttribute('action') || window.location.href, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.text().then(function (text) { return { url: response.url, text: text }; });
      })
      .then(function (page) {
        var next = new DOMParser().parseFromString(page.text, 'text/html');
        // The list stays where the editor sees it even when a notice above it appears or goes.
        var list = document.getElementById('selection');
        var listTop = list ? list.getBoundingClientRect().top : 0;
        document.querySelectorAll('[data-swap]').forEach(function (old) {
          var fresh = old.id ? next.getElementById(old.id) : null;
          if (fresh) old.replaceWith(document.importNode(fresh, true));
          else old.remove();
        });
        next.querySelectorAll('[data-swap]').forEach(function (fresh) {
          if (!document.getElementById(fresh.id)) {
            var anchor = document.getElementById(fresh.getAttribute('data-swap-after') || '');
            if (anchor) anchor.after(document.importNode(fresh, true));
          }
        });
        var moved = document.getElementById('selection');
        if (list && moved) window.scrollBy(0, moved.getBoundingClientRect().top - listTop);
        var frame = document.querySelector('iframe.preview');
        var nextFrame = next.querySelector('iframe.preview');
        if (frame && nextFrame) frame.setAttribute('src', nextFrame.getAttribute('src'));
        var url = new URL(page.url);
        url.searchParams.delete('notice');
        url.searchParams.delete('error');
        url.searchParams.delete('undo');
        history.replaceState(null, '', url.pathname + url.search + window.location.hash);
        var message = next.querySelector('#messages [role]');
        announce(message ? message.textContent : 'Updated');
        var target =
          (key && document.querySelector('[data-key="' + CSS.escape(key) + '"]')) ||
          document.querySelector('#last-change button') ||
          document.getElementById('selection-heading');
        if (target) target.focus();
      })
      .catch(function () {
        // Anything unexpected: the plain form does it, with a full page load.
        form.submit();
      })
      .finally(function () {
        busy = false;
        document.body.removeAttribute('aria-busy');
      });
  });
  // The send's live figures: polled from the page's JSON endpoint while it sends or is paused; without
  // this script a reload shows the same figures.
  var live = document.querySelector('[data-progress-url]');
  if (live && window.fetch) {
    var progressUrl = live.getAttribute('data-progress-url');
    var set = function (name, text) {
      var element = live.querySelector('[data-field="' + name + '"]');
      if (element && element.textContent !== text) element.textContent = text;
    };
    var eta = function (seconds) {
      if (seconds === null) return '\u2013';
      if (seconds < 1) return 'under a second';
      var minutes = Math.floor(seconds / 60);
      return minutes > 0 ? minutes + ' min ' + (seconds % 60) + ' s' : seconds + ' s';
    };
    var timer = setInterval(function () {
      fetch(progressUrl, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) return;
          set('status', p.status);
          set('sent', p.sent + ' of ' + p.total);
          set('failed', String(p.failed));
          set('bounced', String(p.bounced));
          set('due', String(p.due));
          set('waiting', String(p.waiting));
          set('rate', p.perSecond >= 1 ? p.perSecond + ' messages/s' : Math.round(p.perSecond * 60) + ' messages/min');
          set('eta', eta(p.etaSeconds));
          var workers = document.getElementById('workers');
          if (workers) {
            var over = p.status === 'sent' || p.status === 'cancelled';
            workers.className = p.workers.length === 0 ? (over ? 'muted' : 'warn') : '';
            workers.textContent = p.workers.length === 0 && over
              ? 'No worker is running; none is needed, this send is over.'
              : p.workers.length === 0
              ? 'No worker is alive: nothing sends until one runs (recap worker --follow, or Start/Resume here, which sends with this server\u2019s own worker).'
              : 'Workers alive: ' + p.workers.map(function (w) { return w.host + ':' + w.pid + ' (' + (w.kind === 'serve' ? 'this server' : w.kind === 'send' ? 'recap send' : 'recap worker') + ')'; }).join(', ');
          }
          if (p.status !== 'sending' && p.status !== 'paused') {
            clearInterval(timer);
            announce('The send is ' + p.status);
          }
        })
        .catch(function () {});
    }, 2000);
  }
})();
`;

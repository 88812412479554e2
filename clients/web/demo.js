// The demo chat: one session, any number of tabs, a list of the user's earlier chats. Uses only the
// built package (dist/, `npm run build`) and the HTTP API of docs/protocol.md.
import { DurableSession, DurableSessionError, isValidId, tabInstanceId } from './dist/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let sessionId = params.get('session');
if (!sessionId) {
  sessionId = 'demo-' + Math.random().toString(36).slice(2, 10);
  params.set('session', sessionId);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}
$('session-id').textContent = sessionId;

const messagesEl = $('messages');
const views = new Map();
let session = null;
let config = null;
/** The next render scrolls to the newest text even if the reader had scrolled up (they just sent). */
let forceScroll = true;

// ------------------------------------------------------------------------------ notices

/** One visible notice above the messages; `reason` names it for tests and styles. */
function notice(reason, text, { error = false, newChat = false } = {}) {
  const n = $('notice');
  n.dataset.reason = reason;
  n.dataset.kind = error ? 'error' : 'info';
  $('notice-text').textContent = text;
  $('notice-new').hidden = !newChat;
  n.hidden = false;
}

function clearNotice(...reasons) {
  const n = $('notice');
  if (!n.hidden && (reasons.length === 0 || reasons.includes(n.dataset.reason))) n.hidden = true;
}

$('notice-close').addEventListener('click', () => clearNotice());

function setConn(state, text) {
  const c = $('conn');
  c.dataset.state = state;
  c.textContent = text;
}

/** No session to talk to (refused, invalid, erased): nothing to type into. */
function disableComposer() {
  for (const id of ['prompt', 'send', 'stop', 'steer', 'steer-send']) $(id).disabled = true;
}

// ----------------------------------------------------------------------- the side list

let listCursor = null;

function httpApi(path, init = {}) {
  const headers = { authorization: `Bearer ${config.token}` };
  if (init.body) headers['content-type'] = 'application/json';
  return fetch(`${config.httpApiUrl ?? ''}${path}`, { ...init, headers: { ...headers, ...init.headers } });
}

async function problemCode(r) {
  try { return (await r.json()).code ?? `HTTP ${r.status}`; } catch { return `HTTP ${r.status}`; }
}

function when(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** GET /v1/sessions?owner=<the demo user>: newest first, a page at a time. */
async function loadSessions({ more = false } = {}) {
  const list = $('session-list');
  const status = $('session-list-status');
  const q = new URLSearchParams({ owner: config.user, limit: '20' });
  if (more && listCursor) q.set('cursor', listCursor);
  let page;
  try {
    const r = await httpApi(`/v1/sessions?${q}`);
    if (!r.ok) throw new Error(await problemCode(r));
    page = await r.json();
  } catch (e) {
    status.textContent = `could not load your chats (${e.message})`;
    status.hidden = false;
    return;
  }
  const items = page.sessions.map((s) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `?session=${encodeURIComponent(s.sessionId)}`;
    a.dataset.sessionId = s.sessionId;
    if (s.sessionId === sessionId) a.setAttribute('aria-current', 'page');
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = s.title || s.sessionId;
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = when(s.createdAt);
    a.append(title, time);
    li.append(a);
    return li;
  });
  if (more) list.append(...items); else list.replaceChildren(...items);
  listCursor = page.nextCursor ?? null;
  $('session-list-more').hidden = !listCursor;
  status.textContent = list.children.length ? '' : 'no chats yet: your first message starts one';
  status.hidden = list.children.length > 0;
}

$('session-list-more').addEventListener('click', () => void loadSessions({ more: true }));

/** Makes the session a resource of the demo user (POST /v1/sessions) so the side list shows it. */
async function createSession(title) {
  const r = await httpApi('/v1/sessions', { method: 'POST', body: JSON.stringify({ sessionId, title: title.slice(0, 80) }) });
  // 409 SESSION_EXISTS: another tab created it first, or it began without an owner; either way it is there
  if (!r.ok && r.status !== 409) console.warn('demo: could not create the session', await problemCode(r));
}

// on a phone the side list is a drawer behind a toggle
function toggleSidebar(open) {
  document.body.classList.toggle('sidebar-open', open);
  $('sidebar-toggle').setAttribute('aria-expanded', String(open));
  $('scrim').hidden = !open;
}
$('sidebar-toggle').addEventListener('click', () => toggleSidebar(!document.body.classList.contains('sidebar-open')));
$('scrim').addEventListener('click', () => toggleSidebar(false));

// ---------------------------------------------------------------------------- rendering

/** The agent's one name: its own label (`agent.joined`), or the one the demo server announced. */
function agentName(agentId, state) {
  const label = state.agents.find((a) => a.agentId === agentId)?.label;
  if (label) return label;
  return agentId === config.agent?.id ? config.agent.label : agentId;
}

function statusText(m, run) {
  if (m.role === 'user') return '';
  switch (m.status) {
    case 'streaming': return 'streaming…';
    case 'complete': return '';
    case 'error': return 'failed';
    case 'interrupted':
      return run?.stoppedAtSeq != null && run.state !== 'running' ? `stopped at seq ${run.stoppedAtSeq}` : 'interrupted';
    default: return m.status;
  }
}

const nearBottom = () => messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 48;

function scrollToBottom() {
  $('jump').hidden = true;
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

function render(state) {
  // decided before the DOM grows: follow new text only for a reader who is at the bottom
  const follow = forceScroll || nearBottom();
  let grew = false;
  const runs = new Map(state.runs.map((r) => [r.runId, r]));
  for (const item of state.items) {
    if (item.kind !== 'message') continue;
    let v = views.get(item.messageId);
    if (!v) {
      const el = document.createElement('div');
      el.className = 'msg';
      el.dataset.messageId = item.messageId;
      el.dataset.role = item.role;
      el.innerHTML = '<span class="who"></span><span class="text"></span><span class="status"></span>';
      messagesEl.appendChild(el);
      v = { el, who: el.querySelector('.who'), text: el.querySelector('.text'), status: el.querySelector('.status'), len: -1 };
      views.set(item.messageId, v);
      grew = true;
    }
    if (v.len !== item.text.length) { v.text.textContent = item.text; v.len = item.text.length; grew = true; }
    v.el.dataset.status = item.status;
    v.el.dataset.role = item.role;
    const who = item.role === 'user' ? '' : agentName(item.agentId, state);
    if (v.who.textContent !== who) v.who.textContent = who;
    v.who.hidden = !who;
    const st = statusText(item, runs.get(item.runId));
    if (v.status.textContent !== st) v.status.textContent = st;
    v.status.hidden = !st;
  }
  if (follow) { if (grew || forceScroll) scrollToBottom(); }
  else if (grew) $('jump').hidden = false;
  forceScroll = false;

  const last = state.runs[state.runs.length - 1];
  const rs = $('run-state');
  if (!last) { rs.dataset.state = 'idle'; rs.textContent = 'no reply yet'; }
  else {
    rs.dataset.runId = last.runId;
    rs.dataset.state = last.state === 'stop_requested' ? 'stopped' : last.state;
    rs.dataset.stoppedAt = last.stoppedAtSeq ?? '';
    rs.textContent = {
      running: `${agentName(last.agentId, state)} is replying…`,
      completed: `reply complete (seq ${last.lastSeq})`,
      failed: `reply failed at seq ${last.stoppedAtSeq}`,
      stop_requested: `stopped at seq ${last.stoppedAtSeq}`,
      stopped: `stopped at seq ${last.stoppedAtSeq}`,
    }[last.state] ?? last.state;
  }
  if (!session.isClosed) {
    const running = session.activeRun();
    $('stop').disabled = !running;
    $('steer-send').disabled = !running;
  }

  const pres = $('presence');
  pres.replaceChildren(...state.presence.map((p) => {
    const li = document.createElement('li');
    li.textContent = p.role === 'agent' ? `${agentName(p.principal, state)} (agent)` : (p.label ?? p.principal);
    li.dataset.memberId = p.memberId;
    li.dataset.role = p.role;
    if (p.memberId.endsWith(`/${session.instance}`)) li.className = 'me';
    return li;
  }));
  $('last-seq').textContent = String(session.lastSeq);
}

messagesEl.addEventListener('scroll', () => { if (nearBottom()) $('jump').hidden = true; });
$('jump').addEventListener('click', scrollToBottom);

// ------------------------------------------------------------------------------- start

async function main() {
  try {
    const r = await fetch('api/config', { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    config = await r.json();
  } catch (e) {
    setConn('error', 'not connected');
    notice('config', `The demo server did not answer (${e.message}): is ./scripts/local running?`, { error: true });
    disableComposer();
    return;
  }
  if (config.agent?.label) $('prompt').placeholder = `Ask ${config.agent.label} something…`;
  void loadSessions();

  if (!isValidId(sessionId)) {
    setConn('error', 'not connected');
    notice('invalid', `“${sessionId}” is not a session id: use 1 to 128 letters, digits, “.”, “_”, “:” or “-”.`,
      { error: true, newChat: true });
    disableComposer();
    return;
  }

  const instance = tabInstanceId();
  const label = `Tab ${instance.slice(-4)}`;
  session = new DurableSession({
    url: config.webSocketUrl,
    sessionId,
    // identity per (re)connect: the token travels as a subprotocol, never in the URL of a browser
    protocols: async () => ['durable-sessions', `token.${config.token}`],
    connectQuery: ({ instance: i }) => `instance=${encodeURIComponent(i)}&label=${encodeURIComponent(label)}&surface=web`,
  });
  window.__ds = session; // for the browser tests and the curious

  session.on('state', render);
  session.on('status', (s) => {
    if (session.isClosed) return;
    setConn(s.connected ? 'connected' : 'connecting',
      s.connected ? 'live' : s.reconnecting ? `reconnecting… (${s.attempt})` : 'connecting…');
  });
  session.on('error', (e) => {
    console.warn('durable session:', e);
    if (session.isClosed) {
      // the service refused this session for good (FORBIDDEN, INVALID_MESSAGE, UNAUTHORIZED…): say so
      setConn('error', 'refused');
      notice('refused', `The service refused this session: ${e.code} — ${e.message}`, { error: true, newChat: true });
      disableComposer();
    } else if (e.code === 'INVALID_MESSAGE' && e.details?.headSeq != null) {
      // the tab held more of the session than the service has: it was erased since (the client hydrates anew)
      views.clear();
      messagesEl.replaceChildren();
      notice('erased', 'This chat was erased on the server since this tab last showed it; what you see now is what it holds.',
        { newChat: true });
    }
  });
  session.on('deleted', () => {
    // erased on the server (DELETE or retention): show nothing of it, and do not reconnect
    messagesEl.replaceChildren();
    views.clear();
    setConn('deleted', 'session deleted');
    notice('deleted', 'This chat was erased on the server (deleted, or its retention ran out). Nothing of it is kept here.',
      { error: true, newChat: true });
    disableComposer();
    void loadSessions();
  });
  session.start();
  render(session.state);
}

$('send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('prompt').value.trim();
  if (!text || !session || session.isClosed) return;
  $('prompt').value = '';
  $('send').disabled = true;
  clearNotice('stop-late', 'erased');
  forceScroll = true;
  try {
    await session.whenSynced();
    const first = !session.state.items.some((i) => i.kind === 'message');
    if (first) await createSession(text).catch((e) => console.warn('demo: could not create the session', e));
    await session.sendUserMessage(text);
    if (first) void loadSessions();
    // a product's back end would dispatch its agent here; the demo asks the local stack's simulator
    await fetch('api/turn', { method: 'POST', headers: { 'content-type': 'application/json' },
                              body: JSON.stringify({ sessionId, text }) });
  } catch (e) {
    notice('send', `Your message was not sent: ${e.message}`, { error: true });
  } finally {
    if (!session.isClosed) $('send').disabled = false;
  }
});

$('stop').addEventListener('click', async () => {
  const run = session?.activeRun();
  if (!run) return;
  try {
    await session.stop(run.runId, 'stopped from the demo page');
  } catch (e) {
    // RUN_FENCED: the run had already ended (or been stopped) when the stop reached the service
    if (e instanceof DurableSessionError && e.code === 'RUN_FENCED') {
      const state = e.frame?.details?.state;
      notice('stop-late', state === 'completed' || state === 'failed'
        ? 'The reply had already ended when your Stop arrived: nothing was stopped.'
        : 'The reply had already been stopped.');
    } else {
      notice('stop', `Stop failed: ${e.message}`, { error: true });
    }
  }
});

$('steer-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const run = session?.activeRun();
  const text = $('steer').value.trim();
  if (!run || !text) return;
  $('steer').value = '';
  try {
    await session.steer(run.runId, text);
  } catch (e) {
    notice('steer', e instanceof DurableSessionError && e.code === 'RUN_FENCED'
      ? 'The reply had already ended when your steer arrived.' : `Steer failed: ${e.message}`,
    { error: !(e instanceof DurableSessionError && e.code === 'RUN_FENCED') });
  }
});

await main();

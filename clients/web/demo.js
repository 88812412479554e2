// The demo chat: one session, any number of tabs. Uses only durable-session.js.
import { DurableSession, tabInstanceId } from './durable-session.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let sessionId = params.get('session');
if (!sessionId) {
  sessionId = 'demo-' + Math.random().toString(36).slice(2, 10);
  params.set('session', sessionId);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}
$('session-id').textContent = sessionId;

const instance = tabInstanceId();
const label = `Tab ${instance.slice(-4)}`;
const config = await (await fetch('api/config', { cache: 'no-store' })).json();

const session = new DurableSession({
  url: config.webSocketUrl,
  sessionId,
  // identity per (re)connect: the token travels as a subprotocol, never in the URL of a browser
  protocols: async () => ['durable-sessions', `token.${config.token}`],
  connectQuery: ({ instance: i }) => `instance=${encodeURIComponent(i)}&label=${encodeURIComponent(label)}&surface=web`,
});
window.__ds = session; // for the browser tests and the curious

const messagesEl = $('messages');
const views = new Map();

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

function render(state) {
  const runs = new Map(state.runs.map((r) => [r.runId, r]));
  for (const item of state.items) {
    if (item.kind !== 'message') continue;
    let v = views.get(item.messageId);
    if (!v) {
      const el = document.createElement('div');
      el.className = 'msg';
      el.dataset.messageId = item.messageId;
      el.dataset.role = item.role;
      el.innerHTML = '<span class="text"></span><span class="status"></span>';
      messagesEl.appendChild(el);
      v = { el, text: el.querySelector('.text'), status: el.querySelector('.status'), len: -1 };
      views.set(item.messageId, v);
    }
    if (v.len !== item.text.length) { v.text.textContent = item.text; v.len = item.text.length; }
    v.el.dataset.status = item.status;
    v.el.dataset.role = item.role;
    const st = statusText(item, runs.get(item.runId));
    if (v.status.textContent !== st) v.status.textContent = st;
    v.status.hidden = !st;
  }
  messagesEl.scrollTop = messagesEl.scrollHeight;

  const last = state.runs[state.runs.length - 1];
  const rs = $('run-state');
  if (!last) { rs.dataset.state = 'idle'; rs.textContent = 'no reply yet'; }
  else {
    rs.dataset.runId = last.runId;
    rs.dataset.state = last.state === 'stop_requested' ? 'stopped' : last.state;
    rs.dataset.stoppedAt = last.stoppedAtSeq ?? '';
    rs.textContent = {
      running: `${last.agentId} is replying…`,
      completed: `reply complete (seq ${last.lastSeq})`,
      failed: `reply failed at seq ${last.stoppedAtSeq}`,
      stop_requested: `stopped at seq ${last.stoppedAtSeq}`,
      stopped: `stopped at seq ${last.stoppedAtSeq}`,
    }[last.state] ?? last.state;
  }
  const running = session.activeRun();
  $('stop').disabled = !running;
  $('steer-send').disabled = !running;

  const pres = $('presence');
  pres.replaceChildren(...state.presence.map((p) => {
    const li = document.createElement('li');
    li.textContent = `${p.label ?? p.principal}${p.role === 'agent' ? ' (agent)' : ''}`;
    li.dataset.memberId = p.memberId;
    if (p.label === label) li.className = 'me';
    return li;
  }));
  $('last-seq').textContent = String(session.lastSeq);
}

session.on('state', render);
session.on('status', (s) => {
  const c = $('conn');
  c.dataset.state = s.connected ? 'connected' : 'connecting';
  c.textContent = s.connected ? 'live' : s.reconnecting ? `reconnecting… (${s.attempt})` : 'connecting…';
});
session.on('error', (e) => console.warn('durable session:', e));
session.on('deleted', () => {
  // erased on the server (DELETE or retention): show nothing of it, and do not reconnect
  messagesEl.replaceChildren();
  views.clear();
  const c = $('conn');
  c.dataset.state = 'deleted';
  c.textContent = 'session deleted';
});
session.start();
render(session.state);

$('send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('prompt').value.trim();
  if (!text) return;
  $('prompt').value = '';
  $('send').disabled = true;
  try {
    await session.sendUserMessage(text);
    // a product's back end would dispatch its agent here; the demo asks the local stack's simulator
    await fetch('api/turn', { method: 'POST', headers: { 'content-type': 'application/json' },
                              body: JSON.stringify({ sessionId, text }) });
  } finally {
    $('send').disabled = false;
  }
});

$('stop').addEventListener('click', async () => {
  const run = session.activeRun();
  if (run) await session.stop(run.runId, 'stopped from the demo page').catch((e) => console.warn(e));
});

$('steer-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const run = session.activeRun();
  const text = $('steer').value.trim();
  if (!run || !text) return;
  $('steer').value = '';
  await session.steer(run.runId, text).catch((e) => console.warn(e));
});

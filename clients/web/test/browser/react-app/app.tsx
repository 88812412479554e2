// A tiny chat page: useChat with the durable transport, and useDurableSession for the connection
// and presence. Bundled by esbuild for the browser test (test/browser/react-chat.test.js).
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useChat } from '@ai-sdk/react';
import { useDurableChatSync, useDurableChatTransport, useDurableSession } from '../../../dist/react.js';

const config: { wsUrl: string; token: string } = await (await fetch('/config')).json();
const sessionId = new URLSearchParams(location.search).get('session') ?? 'react-demo';

function App() {
  const ds = useDurableSession({
    url: config.wsUrl,
    sessionId,
    protocols: async () => ['durable-sessions', `token.${config.token}`],
    connectQuery: ({ instance }) => `instance=${instance}&label=${encodeURIComponent(`Tab ${instance.slice(-4)}`)}&surface=web`,
  });
  const transport = useDurableChatTransport(ds, { api: '/api/chat' });
  const chat = useChat({ id: sessionId, transport, resume: true });
  useDurableChatSync(ds, chat, transport);
  const [input, setInput] = useState('');
  // every applied event's type, for the test
  useEffect(() => ds.session?.on('event', (e) => { ((window as any).__events ??= []).push(e.type); }), [ds.session]);
  (window as any).__ds = ds;
  (window as any).__chat = { status: chat.status, messages: chat.messages, error: chat.error?.message ?? null,
                             session: { status: ds.status, synced: ds.synced, runs: ds.state.runs } };
  const busy = chat.status === 'submitted' || chat.status === 'streaming';
  return (
    <main>
      <header>
        <span id="conn" data-state={ds.status}>{ds.status}</span>
        <span id="status" data-status={chat.status}>{chat.status}</span>
        <span id="presence">{ds.presence.map((p) => <i key={p.memberId} data-member={p.memberId}>{p.label} </i>)}</span>
      </header>
      <form onSubmit={(e) => { e.preventDefault(); if (input.trim()) { void chat.sendMessage({ text: input }); setInput(''); } }}>
        <input id="prompt" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask about the weather" />
        <button id="send" type="submit" disabled={busy}>Send</button>
        <button id="stop" type="button" disabled={!busy} onClick={() => void chat.stop()}>Stop</button>
      </form>
      <div id="ds">
        <button id="ds-send" type="button" onClick={() => void ds.send('a note from useDurableSession')}>Note</button>
        <button id="ds-steer" type="button" disabled={!ds.activeRun} onClick={() => void ds.steer('be brief')}>Steer</button>
        <button id="ds-interrupt" type="button" disabled={!ds.activeRun} onClick={() => void ds.interrupt()}>Interrupt</button>
        <button id="ds-stop" type="button" disabled={!ds.activeRun} onClick={() => void ds.stop()}>Stop the run</button>
      </div>
      {chat.messages.map((m) => (
        <div key={m.id} className="msg" data-role={m.role} data-id={m.id}>
          {m.parts.map((p: any, i: number) => {
            if (p.type === 'text') return <p key={i} className="text">{p.text}</p>;
            if (p.type === 'reasoning') return <p key={i} className="reasoning">{p.text}</p>;
            if (p.type === 'source-url') return <a key={i} className="source" href={p.url}>{p.title}</a>;
            if (p.type === 'data-card') return <div key={i} className="card" data-status={p.data.status}>{JSON.stringify(p.data)}</div>;
            if (p.type.startsWith('tool-')) return <div key={i} className="tool" data-state={p.state}>{p.type} {JSON.stringify(p.output ?? p.input ?? null)}</div>;
            return null;
          })}
        </div>
      ))}
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);

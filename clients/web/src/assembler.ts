// Folds events into the snapshot shape of docs/protocol.md §8: the same rules, and the same JSON,
// as the Java Assembler in events/ (checked against fixtures/sessions, generated from it).
import type {
  AgentView, CustomItem, Item, MessageItem, PresenceView, RunStateName, RunView, SessionEvent, SessionState,
  StoredPart, ToolCallItem,
} from './types.js';
import { FENCED_STATES } from './types.js';

export interface MessageB {
  messageId: string;
  role: MessageItem['role'];
  agentId: string;
  runId: string | null;
  text: string;
  status: MessageItem['status'];
  firstSeq: number;
  lastSeq: number;
  reasoning: string | null;
  parts: StoredPart[] | null;
}

export interface ToolB {
  toolCallId: string;
  name: string;
  arguments: unknown;
  result: unknown;
  isError: boolean;
  status: ToolCallItem['status'];
  agentId: string;
  runId: string | null;
  firstSeq: number;
  lastSeq: number;
  messageId: string | null;
  inputText: string | null;
  dynamic: boolean;
}

interface RunB {
  runId: string;
  agentId: string;
  parentRunId: string | null;
  state: RunStateName;
  startedSeq: number;
  lastSeq: number;
  stoppedAtSeq: number | null;
}

interface MemberB {
  view: PresenceView;
  present: boolean;
  lastSeq: number;
}

/** Which run events move a run, from which states (the Java RunStateMachine). */
const TRANSITIONS: Record<string, Partial<Record<RunStateName, RunStateName>>> = {
  'run.completed': { running: 'completed' },
  'run.failed': { running: 'failed', stop_requested: 'failed' },
  'run.stop_requested': { running: 'stop_requested' },
  'run.stop_acknowledged': { stop_requested: 'stopped' },
  'run.stopped': { stop_requested: 'stopped' },
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Folds events into a {@link SessionState}. Each entity (message, tool call, custom item, run,
 * agent, member) remembers the last seq applied to it and ignores any event at or below it, so
 * applying an overlapping range twice changes nothing.
 */
export class Assembler {
  headSeq: number;
  readonly messages = new Map<string, MessageB>();
  readonly tools = new Map<string, ToolB>();
  readonly customs = new Map<number, CustomItem>();
  readonly runs = new Map<string, RunB>();
  readonly agents = new Map<string, AgentView>();
  readonly members = new Map<string, MemberB>();

  constructor(state?: Partial<SessionState> | null) {
    this.headSeq = state?.headSeq ?? 0;
    for (const i of state?.items ?? []) {
      if (i.kind === 'message') {
        this.messages.set(i.messageId, {
          messageId: i.messageId, role: i.role, agentId: i.agentId, runId: i.runId ?? null, text: i.text ?? '',
          status: i.status, firstSeq: i.firstSeq, lastSeq: i.lastSeq, reasoning: i.reasoning ?? null,
          parts: i.parts ? i.parts.map((p) => structuredClone(p)) : null,
        });
      } else if (i.kind === 'tool_call') {
        this.tools.set(i.toolCallId, {
          toolCallId: i.toolCallId, name: i.name, arguments: i.arguments ?? null, result: i.result ?? null,
          isError: !!i.isError, status: i.status, agentId: i.agentId, runId: i.runId ?? null, firstSeq: i.firstSeq,
          lastSeq: i.lastSeq, messageId: i.messageId ?? null, inputText: i.inputText ?? null, dynamic: !!i.dynamic,
        });
      } else if (i.kind === 'custom') {
        this.customs.set(i.firstSeq, { ...i, payload: i.payload ?? null });
      }
    }
    for (const r of state?.runs ?? []) this.runs.set(r.runId, { ...r });
    for (const p of state?.presence ?? []) this.members.set(p.memberId, { view: { ...p }, present: true, lastSeq: p.joinedSeq });
    for (const a of state?.agents ?? []) this.agents.set(a.agentId, { ...a });
  }

  static fold(events: Iterable<SessionEvent>): SessionState {
    const a = new Assembler();
    for (const e of events) a.apply(e);
    return a.state();
  }

  apply(e: SessionEvent): this {
    this.headSeq = Math.max(this.headSeq, e.seq);
    const d = e.data ?? {};
    switch (e.type) {
      case 'message.start': this.ifFresh(this.message(e), e, (m) => { m.role = d.role; }); break;
      case 'text.delta': this.ifFresh(this.message(e), e, (m) => appendText(m, str(d.text) ?? '')); break;
      case 'message.end': this.ifFresh(this.message(e), e, (m) => { m.status = d.reason ?? 'complete'; }); break;
      case 'reasoning.delta': this.ifFresh(this.message(e), e, (m) => appendReasoning(m, str(d.text) ?? '')); break;
      case 'message.part': this.ifFresh(this.message(e), e, (m) => addPart(m, d.part)); break;
      case 'tool.input.start':
        this.ifFresh(this.tool(e), e, (t) => {
          if (t.lastSeq === 0) t.status = 'streaming';
          if (!t.name) t.name = str(d.name) ?? '';
          if (d.dynamic === true) t.dynamic = true;
          if (t.inputText === null && t.status === 'streaming') t.inputText = '';
          if (t.messageId === null) t.messageId = str(d.messageId);
        });
        this.attachTool(e);
        break;
      case 'tool.input.delta':
        this.ifFresh(this.tool(e), e, (t) => {
          if (t.lastSeq === 0) t.status = 'streaming';
          if (t.status === 'streaming') t.inputText = (t.inputText ?? '') + (str(d.text) ?? '');
          if (t.messageId === null) t.messageId = str(d.messageId);
        });
        this.attachTool(e);
        break;
      case 'tool.call':
        this.ifFresh(this.tool(e), e, (t) => {
          t.name = str(d.name) as string;
          t.arguments = d.arguments === undefined ? null : d.arguments;
          if (t.status === 'streaming') t.status = 'pending';
          t.inputText = null;
          if (d.dynamic === true) t.dynamic = true;
          if (t.messageId === null) t.messageId = str(d.messageId);
        });
        this.attachTool(e);
        break;
      case 'tool.result':
        this.ifFresh(this.tool(e), e, (t) => {
          t.result = d.result === undefined ? null : d.result;
          t.isError = d.isError === true;
          t.status = 'done';
          t.inputText = null;
          if (t.messageId === null) t.messageId = str(d.messageId);
        });
        this.attachTool(e);
        break;
      case 'custom':
        if (!this.customs.has(e.seq)) {
          const c: CustomItem = { kind: 'custom', name: d.name, payload: d.payload === undefined ? null : d.payload,
                                  agentId: e.agentId, firstSeq: e.seq, lastSeq: e.seq };
          if (e.runId != null) c.runId = e.runId;
          this.customs.set(e.seq, c);
        }
        break;
      case 'run.interrupted': {
        const m = typeof d.messageId === 'string' ? this.messages.get(d.messageId) : undefined;
        if (m && e.seq > m.lastSeq && m.status === 'streaming') {
          m.status = 'interrupted';
          m.lastSeq = e.seq;
        }
        break;
      }
      case 'presence.joined': {
        const m = this.members.get(d.memberId);
        if (!m || e.seq > m.lastSeq) {
          this.members.set(d.memberId, {
            view: { memberId: d.memberId, principal: str(d.principal) as string, role: str(d.role) as string,
                    label: str(d.label), surface: str(d.surface), joinedSeq: e.seq },
            present: true, lastSeq: e.seq });
        }
        break;
      }
      case 'presence.left': {
        const m = this.members.get(d.memberId);
        if (m && e.seq > m.lastSeq) { m.present = false; m.lastSeq = e.seq; }
        break;
      }
      case 'agent.joined':
      case 'agent.left': {
        let a = this.agents.get(e.agentId);
        if (!a) { a = { agentId: e.agentId, label: null, present: true, firstSeq: e.seq, lastSeq: 0 }; this.agents.set(e.agentId, a); }
        if (e.seq > a.lastSeq) {
          a.present = e.type === 'agent.joined';
          if (a.present && typeof d.label === 'string') a.label = d.label;
          a.lastSeq = e.seq;
        }
        break;
      }
      default:
    }
    if (e.runId != null) this.applyToRun(e);
    return this;
  }

  private applyToRun(e: SessionEvent): void {
    const r = this.runs.get(e.runId!);
    if (!r) {
      if (e.type !== 'run.started') return; // the store never lets such an event in
      this.runs.set(e.runId!, { runId: e.runId!, agentId: e.agentId, parentRunId: str(e.data?.parentRunId),
                                state: 'running', startedSeq: e.seq, lastSeq: e.seq, stoppedAtSeq: null });
      if (!this.agents.has(e.agentId)) {
        this.agents.set(e.agentId, { agentId: e.agentId, label: null, present: true, firstSeq: e.seq, lastSeq: e.seq });
      }
      return;
    }
    if (e.seq <= r.lastSeq) return;
    r.lastSeq = e.seq;
    const next = TRANSITIONS[e.type]?.[r.state];
    if (!next) return;
    if (r.state === 'running' && FENCED_STATES.has(next)) {
      // as the store records it: a stop names the run's last seq, an end is its own last seq
      r.stoppedAtSeq = typeof e.data?.stoppedAtSeq === 'number' ? e.data.stoppedAtSeq : e.seq;
    }
    r.state = next;
  }

  /** A message's status as shown: a reply whose run was fenced without `message.end` never looks "streaming". */
  messageStatus(m: { status: MessageItem['status']; runId?: string | null }): MessageItem['status'] {
    if (m.status !== 'streaming' || !m.runId) return m.status;
    const r = this.runs.get(m.runId);
    if (!r || !FENCED_STATES.has(r.state)) return m.status;
    return r.state === 'failed' ? 'error' : r.state === 'completed' ? 'complete' : 'interrupted';
  }

  state(): SessionState {
    const items: Item[] = [];
    for (const m of this.messages.values()) items.push(this.messageItem(m));
    for (const t of this.tools.values()) items.push(toolItem(t));
    for (const c of this.customs.values()) items.push({ ...c });
    items.sort((a, b) => a.firstSeq - b.firstSeq); // stable: as the Java state, messages before tools on a tie
    return {
      headSeq: this.headSeq,
      items,
      runs: [...this.runs.values()].sort((a, b) => a.startedSeq - b.startedSeq).map((r) => ({ ...r })),
      agents: [...this.agents.values()].sort((a, b) => a.firstSeq - b.firstSeq).map((a) => ({ ...a })),
      presence: [...this.members.values()].filter((m) => m.present).map((m) => ({ ...m.view }))
        .sort((a, b) => a.joinedSeq - b.joinedSeq),
    };
  }

  messageItem(m: MessageB): MessageItem {
    const item: MessageItem = { kind: 'message', messageId: m.messageId, role: m.role, agentId: m.agentId,
                                text: m.text, status: this.messageStatus(m), firstSeq: m.firstSeq, lastSeq: m.lastSeq };
    if (m.runId !== null) item.runId = m.runId;
    if (m.reasoning !== null) item.reasoning = m.reasoning;
    if (m.parts !== null) item.parts = m.parts.map((p) => structuredClone(p));
    return item;
  }

  private ifFresh<T extends { lastSeq: number }>(entity: T, e: SessionEvent, change: (t: T) => void): void {
    if (e.seq <= entity.lastSeq) return;
    change(entity);
    entity.lastSeq = e.seq;
  }

  private message(e: SessionEvent): MessageB {
    const id = e.data.messageId as string;
    let m = this.messages.get(id);
    if (!m) {
      m = { messageId: id, role: 'assistant', agentId: e.agentId, runId: e.runId ?? null, text: '', status: 'streaming',
            firstSeq: e.seq, lastSeq: 0, reasoning: null, parts: null };
      this.messages.set(id, m);
    }
    return m;
  }

  private tool(e: SessionEvent): ToolB {
    const id = e.data.toolCallId as string;
    let t = this.tools.get(id);
    if (!t) {
      t = { toolCallId: id, name: '', arguments: null, result: null, isError: false, status: 'pending',
            agentId: e.agentId, runId: e.runId ?? null, firstSeq: e.seq, lastSeq: 0, messageId: null, inputText: null,
            dynamic: false };
      this.tools.set(id, t);
    }
    return t;
  }

  /** A tool event that names its message puts the tool call among that message's parts (once). */
  private attachTool(e: SessionEvent): void {
    if (typeof e.data.messageId !== 'string') return;
    const toolCallId = e.data.toolCallId as string;
    this.ifFresh(this.message(e), e, (m) => {
      const parts = ensureParts(m);
      if (!parts.some((p) => p.type === 'tool' && (p as { toolCallId: string }).toolCallId === toolCallId)) {
        parts.push({ type: 'tool', toolCallId });
      }
    });
  }
}

/** A tool call builder as its item (the same JSON as the Java state). */
export function toolItem(t: ToolB): ToolCallItem {
  const item: ToolCallItem = { kind: 'tool_call', toolCallId: t.toolCallId, name: t.name, arguments: t.arguments,
                               result: t.result, isError: t.isError, status: t.status, agentId: t.agentId,
                               firstSeq: t.firstSeq, lastSeq: t.lastSeq };
  if (t.runId !== null) item.runId = t.runId;
  if (t.messageId !== null) item.messageId = t.messageId;
  if (t.inputText !== null) item.inputText = t.inputText;
  if (t.dynamic) item.dynamic = true;
  return item;
}

function ensureParts(m: MessageB): StoredPart[] {
  if (m.parts === null) {
    m.parts = [];
    if (m.text.length > 0) m.parts.push({ type: 'text', length: m.text.length });
  }
  return m.parts;
}

/** Text or reasoning continues the last entry of its kind, or starts a new one after anything else. */
function extend(m: MessageB, type: 'text' | 'reasoning', length: number): void {
  const parts = m.parts!;
  const last = parts[parts.length - 1];
  if (last && last.type === type) (last as { length: number }).length += length;
  else parts.push({ type, length });
}

function appendText(m: MessageB, s: string): void {
  m.text += s;
  if (m.parts !== null) extend(m, 'text', s.length);
}

function appendReasoning(m: MessageB, s: string): void {
  ensureParts(m);
  m.reasoning = (m.reasoning ?? '') + s;
  extend(m, 'reasoning', s.length);
}

/** A data part with an id replaces the earlier one of the same type and id, in place. */
function addPart(m: MessageB, part: unknown): void {
  if (!part || typeof part !== 'object' || Array.isArray(part)) return; // validated on append: never happens
  const p = structuredClone(part) as StoredPart & { id?: unknown };
  const parts = ensureParts(m);
  if (typeof p.type === 'string' && p.type.startsWith('data-') && p.id != null) {
    const i = parts.findIndex((q) => q.type === p.type && deepEqual((q as { id?: unknown }).id, p.id));
    if (i >= 0) { parts[i] = p; return; }
  }
  parts.push(p);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// The assembled session state as Vercel AI SDK UI messages (docs/protocol.md §4.2, §8).
import type { UIMessage } from 'ai';
import type { MessageItem, SessionState, StoredPart, ToolCallItem } from '../types.js';

type UIPart = UIMessage['parts'][number];

/** The id of a message's n-th reasoning part, the same in snapshots and in replayed streams. */
export const reasoningPartId = (messageId: string, index: number) => `${messageId}-reasoning-${index}`;

/**
 * The conversation as UI messages, in log order: each message with its parts in the order they
 * were written; a tool call joins the message it names (or, written without one, the latest
 * message of its run before it; else it stands alone as an assistant message).
 */
export function toUIMessages<M extends UIMessage = UIMessage>(state: SessionState): M[] {
  const tools = new Map<string, ToolCallItem>();
  const byId = new Map<string, MessageItem>();
  for (const i of state.items) {
    if (i.kind === 'tool_call') tools.set(i.toolCallId, i);
    else if (i.kind === 'message') byId.set(i.messageId, i);
  }
  const out: UIMessage[] = [];
  const outById = new Map<string, UIMessage>();
  for (const i of state.items) {
    if (i.kind === 'message') {
      const m: UIMessage = { id: i.messageId, role: i.role, parts: messageParts(i, tools) };
      out.push(m);
      outById.set(i.messageId, m);
    } else if (i.kind === 'tool_call') {
      if (i.messageId && byId.has(i.messageId)) continue; // among its message's parts
      const owner = [...out].reverse().find((m) => {
        const item = byId.get(m.id);
        return m.role === 'assistant' && item && item.runId && item.runId === i.runId && item.firstSeq < i.firstSeq;
      });
      if (owner) owner.parts.push(toolPart(i));
      else out.push({ id: i.toolCallId, role: 'assistant', parts: [toolPart(i)] });
    }
  }
  return out as M[];
}

/** One message's parts: text and reasoning cut from their strings, tool calls from their items. */
export function messageParts(m: MessageItem, tools: Map<string, ToolCallItem>): UIPart[] {
  const streaming = m.status === 'streaming';
  // only streamed (assistant) text has a state, as in the AI SDK's own messages
  const state = (open: boolean) => (m.role === 'assistant' ? { state: open ? 'streaming' as const : 'done' as const } : {});
  if (!m.parts) return m.text ? [{ type: 'text', text: m.text, ...state(streaming) }] : [];
  const out: UIPart[] = [];
  let t = 0;
  let r = 0;
  let reasoningIndex = 0;
  m.parts.forEach((p: StoredPart, index) => {
    const open = streaming && index === m.parts!.length - 1;
    switch (p.type) {
      case 'text':
        out.push({ type: 'text', text: m.text.slice(t, t + p.length), ...state(open) });
        t += p.length;
        break;
      case 'reasoning':
        out.push({ type: 'reasoning', id: reasoningPartId(m.messageId, reasoningIndex++),
                   text: (m.reasoning ?? '').slice(r, r + p.length), ...state(open) } as UIPart);
        r += p.length;
        break;
      case 'tool': {
        const tool = tools.get(p.toolCallId);
        if (tool) out.push(toolPart(tool));
        break;
      }
      default:
        out.push(structuredClone(p) as UIPart);
    }
  });
  return out;
}

/** A tool call as the AI SDK shows it: `tool-<name>` (or `dynamic-tool`) in its current state. */
export function toolPart(t: ToolCallItem): UIPart {
  const head: Record<string, unknown> = t.dynamic
    ? { type: 'dynamic-tool', toolName: t.name, toolCallId: t.toolCallId }
    : { type: `tool-${t.name}`, toolCallId: t.toolCallId };
  if (t.status === 'streaming') {
    const part: Record<string, unknown> = { ...head, state: 'input-streaming', input: partialInput(t.inputText) };
    if (t.inputText) part.rawInput = t.inputText;
    return part as UIPart;
  }
  if (t.status === 'pending') return { ...head, state: 'input-available', input: t.arguments } as UIPart;
  if (t.isError) return { ...head, state: 'output-error', input: t.arguments, errorText: errorText(t.result) } as UIPart;
  return { ...head, state: 'output-available', input: t.arguments, output: t.result } as UIPart;
}

export function errorText(result: unknown): string {
  return typeof result === 'string' ? result : JSON.stringify(result);
}

/** The input streamed so far, when it already parses (the AI SDK shows partial JSON; a snapshot shows what parses). */
function partialInput(text: string | undefined): unknown {
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

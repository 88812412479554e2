// The wire shapes of docs/protocol.md: events (§4.1) and the assembled state (§8).

/** A stored event, as delivered. */
export interface SessionEvent {
  seq: number;
  sessionId: string;
  type: string;
  agentId: string;
  runId?: string;
  ts: number;
  /** The W3C trace context of the append that wrote it (§3.1), when it carried one. */
  traceparent?: string;
  data: Record<string, any>;
}

/** An event as a writer appends it: the service adds the envelope. */
export interface EventInput {
  type: string;
  runId?: string;
  data: Record<string, unknown>;
}

/** A part written by `message.part` (§4.2). Other fields (e.g. `providerMetadata`) are kept as written. */
export type MessagePart =
  | { type: 'step-start' }
  | { type: 'source-url'; sourceId: string; url: string; title?: string; [k: string]: unknown }
  | { type: 'source-document'; sourceId: string; mediaType: string; title: string; filename?: string; [k: string]: unknown }
  | { type: 'file'; mediaType: string; url: string; filename?: string; [k: string]: unknown }
  | { type: 'reasoning-file'; mediaType: string; url: string; [k: string]: unknown }
  | { type: `data-${string}`; id?: string; data: unknown; [k: string]: unknown };

/**
 * An entry of an assembled message's `parts`: text and reasoning take the next `length` UTF-16
 * code units of the message's `text` or `reasoning`; `tool` stands for a tool call item.
 */
export type StoredPart =
  | { type: 'text'; length: number }
  | { type: 'reasoning'; length: number }
  | { type: 'tool'; toolCallId: string }
  | MessagePart;

export interface MessageItem {
  kind: 'message';
  messageId: string;
  role: 'assistant' | 'user' | 'system';
  agentId: string;
  runId?: string;
  text: string;
  /** `streaming` until `message.end`; a message of a fenced run shows the run's end. */
  status: 'streaming' | 'complete' | 'interrupted' | 'error';
  firstSeq: number;
  lastSeq: number;
  /** All reasoning text; only on messages with more than text. */
  reasoning?: string;
  /** The content in order; only on messages with more than text. */
  parts?: StoredPart[];
}

export interface ToolCallItem {
  kind: 'tool_call';
  toolCallId: string;
  name: string;
  arguments: unknown;
  result: unknown;
  isError: boolean;
  /** `streaming` while the input streams, `pending` once called, `done` with a result. */
  status: 'streaming' | 'pending' | 'done';
  agentId: string;
  runId?: string;
  firstSeq: number;
  lastSeq: number;
  messageId?: string;
  /** The raw input streamed so far (`tool.input.delta`), until the call is complete. */
  inputText?: string;
  dynamic?: true;
}

export interface CustomItem {
  kind: 'custom';
  name: string;
  payload: unknown;
  agentId: string;
  runId?: string;
  firstSeq: number;
  lastSeq: number;
}

export type Item = MessageItem | ToolCallItem | CustomItem;

export type RunStateName = 'running' | 'stop_requested' | 'stopped' | 'completed' | 'failed';

export interface RunView {
  runId: string;
  agentId: string;
  parentRunId: string | null;
  state: RunStateName;
  startedSeq: number;
  lastSeq: number;
  /** The run's last accepted seq once it is fenced (stopped, completed, failed). */
  stoppedAtSeq: number | null;
}

export interface AgentView {
  agentId: string;
  label: string | null;
  present: boolean;
  firstSeq: number;
  lastSeq: number;
}

export interface PresenceView {
  memberId: string;
  principal: string;
  role: string;
  label: string | null;
  surface: string | null;
  joinedSeq: number;
}

/** The assembled state up to `headSeq`: what a hydrate returns (§8). */
export interface SessionState {
  headSeq: number;
  items: Item[];
  runs: RunView[];
  agents: AgentView[];
  presence: PresenceView[];
}

/** The states in which a run accepts no more events. */
export const FENCED_STATES: ReadonlySet<RunStateName> = new Set(['stop_requested', 'stopped', 'completed', 'failed']);

/** The events that end a run for good (after `run.stop_requested` the service always appends `run.stopped`). */
export const TERMINAL_RUN_EVENTS: ReadonlySet<string> = new Set(['run.stopped', 'run.completed', 'run.failed']);

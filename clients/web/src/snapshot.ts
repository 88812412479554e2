// Joins the snapshot frames of one hydrate (docs/protocol.md §8.1), as SnapshotParts in events/.
import type { SessionState } from './types.js';

export interface SnapshotFrame {
  type?: 'snapshot';
  requestId?: string;
  headSeq: number;
  part?: number;
  final?: boolean;
  state?: Partial<SessionState> & { items?: any[] };
}

const concat = (prev: any, item: any, field: string) => {
  if (item[field] != null) prev[field] = (prev[field] ?? '') + item[field];
};

export function joinSnapshot(frames: SnapshotFrame[]): SessionState {
  const state: SessionState = { headSeq: 0, items: [], runs: [], agents: [], presence: [] };
  for (const f of frames) {
    state.headSeq = f.headSeq;
    const st = f.state ?? {};
    if (st.runs) state.runs = st.runs;
    if (st.agents) state.agents = st.agents;
    if (st.presence) state.presence = st.presence;
    for (const item of st.items ?? []) {
      const prev: any = state.items[state.items.length - 1];
      if (item.continued && prev) {
        if (item.kind === 'message') {
          concat(prev, item, 'text');
          concat(prev, item, 'reasoning');
          if (Array.isArray(item.parts) && Array.isArray(prev.parts)) prev.parts.push(...item.parts);
        } else if (item.inputText != null) {
          concat(prev, item, 'inputText');
        } else {
          prev.result = item.result;
        }
      } else {
        state.items.push(structuredClone(item));
      }
    }
  }
  return state;
}

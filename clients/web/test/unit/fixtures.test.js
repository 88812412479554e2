// The browser client against the shared fixtures (fixtures/sessions, generated from the Java
// Assembler, Frames/SnapshotParts and ClientRule by events/…/FixturesTest): the same fold, the same
// snapshot join, the same client rule, so the two clients cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Assembler, ClientRule, joinSnapshot } from '../../dist/index.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/sessions');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('the fixtures are there', () => {
  assert.ok(files.length >= 10, `fixtures in ${DIR}: ${files.length}`);
});

for (const file of files) {
  const f = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
  const events = f.events;

  test(`${file}: folding the log gives the Java state`, () => {
    assert.deepStrictEqual(Assembler.fold(events), f.state);
  });

  test(`${file}: a state survives the constructor, and the rest of the log applies on top`, () => {
    const k = f.resume.afterSeq;
    assert.deepStrictEqual(new Assembler(f.resume.state).state(), f.resume.state);
    const a = new Assembler(structuredClone(f.resume.state));
    for (const e of events.slice(k)) a.apply(e);
    assert.deepStrictEqual(a.state(), f.state);
    // overlapping events apply once
    const b = new Assembler(structuredClone(f.resume.state));
    for (const e of events.slice(Math.max(0, k - 17))) b.apply(e);
    assert.deepStrictEqual(b.state(), f.state);
  });

  test(`${file}: snapshot parts join back into the state`, () => {
    const joined = joinSnapshot(structuredClone(f.snapshot.frames));
    assert.deepStrictEqual(new Assembler(joined).state(), f.resume.state);
  });

  test(`${file}: the client rule holds, drops and applies as the Java one`, () => {
    const joined = joinSnapshot(structuredClone(f.snapshot.frames));
    const a = new Assembler(joined);
    const rule = new ClientRule(joined.headSeq);
    f.delivery.frames.forEach((frame, i) => {
      const applied = [];
      for (const seq of frame) rule.hold(structuredClone(events[seq - 1]));
      rule.drain((e) => { applied.push(e.seq); a.apply(e); });
      assert.deepStrictEqual({ last: rule.last, applied, held: rule.held() }, f.delivery.after[i], `after frame ${i}`);
    });
    assert.equal(rule.last, events.length);
    assert.deepStrictEqual(a.state(), f.state);
  });
}

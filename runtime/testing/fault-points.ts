// Test-only fault injection: named points in the processor and sink loops where the fault suite can
// SIGKILL the process, fail the step or skip it, so a crash lands at an exact place in the protocol.
// Inert unless TRIBUTARY_TEST_FAULT is set. The variable is read once at module load (a test switch, not
// configuration, so it bypasses runtime/config on purpose); unset, a point costs one boolean test.
//
//   TRIBUTARY_TEST_FAULT=<point>:<action>[@<n>][,<point>:<action>[@<n>]…]   e.g. processor.commit:kill@3
//
// A point is named after the step that follows it. The rule fires the n-th time (default 1) the process
// reaches that point, once:
//   kill       SIGKILL now: the step after the point never starts
//   kill-soon  SIGKILL ~2 ms later: the step after the point is in flight (during a commit, an insert)
//   fail       throw a retryable TRIBUTARY_TEST_FAULT_INJECTED: the loop aborts and retries
//   skip       faultPoint() returns true and the caller skips its step: breaks a guarantee on purpose
import { writeSync } from 'node:fs';
import { TributaryError } from '../errors.ts';

export const FAULT_POINTS = [
  /** Processor: a transaction is open, the batch's outputs are about to be produced into it. */
  'processor.produce',
  /** Processor: outputs produced in the open transaction, input offsets not yet sent. */
  'processor.send-offsets',
  /** Processor: offsets sent to the transaction, commit not yet called. */
  'processor.commit',
  /** Processor: a batch was aborted; the consumer is about to rewind to the committed offsets. */
  'processor.rewind',
  /** Sink: a target's rows are about to be inserted (every attempt counts). */
  'sink.insert',
  /** Sink: every insert of the flush has returned; the offsets transaction has not begun. */
  'sink.commit',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export const FAULT_ACTIONS = ['kill', 'kill-soon', 'fail', 'skip'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

export interface FaultRule {
  point: FaultPoint;
  action: FaultAction;
  /** Fires on this reach of the point, counting from 1. */
  at: number;
}

export const FAULT_VARIABLE = 'TRIBUTARY_TEST_FAULT';

function invalid(text: string, why: string): TributaryError {
  return new TributaryError('TRIBUTARY_CONFIG_INVALID', `${FAULT_VARIABLE}=${text}: ${why}`, {
    context: { points: FAULT_POINTS, actions: FAULT_ACTIONS },
  });
}

/** Parses the variable's value; throws on anything it does not understand, so a typo never runs inert. */
export function parseFaultRules(text: string): FaultRule[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = /^([a-z.-]+):([a-z-]+)(?:@(\d+))?$/.exec(part);
      if (match === null) throw invalid(text, `"${part}" is not <point>:<action>[@<n>]`);
      const [, point = '', action = '', at = '1'] = match;
      if (!(FAULT_POINTS as readonly string[]).includes(point))
        throw invalid(text, `unknown point "${point}" (points: ${FAULT_POINTS.join(', ')})`);
      if (!(FAULT_ACTIONS as readonly string[]).includes(action))
        throw invalid(text, `unknown action "${action}" (actions: ${FAULT_ACTIONS.join(', ')})`);
      if (Number(at) < 1) throw invalid(text, `"${part}": @n counts from 1`);
      return { point: point as FaultPoint, action: action as FaultAction, at: Number(at) };
    });
}

export interface FaultEffects {
  kill(): void;
  killSoon(): void;
  note(line: string): void;
}

/** Counts reaches per point and applies the rule due at this one; true means "skip your step". */
export class FaultSwitch {
  private readonly reached = new Map<FaultPoint, number>();

  constructor(
    private readonly rules: readonly FaultRule[],
    private readonly effects: FaultEffects,
  ) {}

  reach(point: FaultPoint): boolean {
    const count = (this.reached.get(point) ?? 0) + 1;
    this.reached.set(point, count);
    const rule = this.rules.find((r) => r.point === point && r.at === count);
    if (rule === undefined) return false;
    this.effects.note(`${FAULT_VARIABLE}: ${point}:${rule.action}@${count} fires`);
    switch (rule.action) {
      case 'kill':
        this.effects.kill();
        return false;
      case 'kill-soon':
        this.effects.killSoon();
        return false;
      case 'fail':
        throw new TributaryError('TRIBUTARY_TEST_FAULT_INJECTED', `injected failure at ${point}`, {
          context: { point, reach: count },
        });
      case 'skip':
        return true;
    }
  }
}

const killSelf = (): void => {
  process.kill(process.pid, 'SIGKILL');
};

const processEffects: FaultEffects = {
  kill: killSelf,
  killSoon: () => setTimeout(killSelf, 2).unref(),
  // Synchronous, so the line is in the log even when the next statement kills the process.
  note: (line) => writeSync(2, `${line}\n`),
};

const configured = process.env[FAULT_VARIABLE];
const active =
  configured === undefined || configured === ''
    ? undefined
    : new FaultSwitch(parseFaultRules(configured), processEffects);

/** A named place in a loop; does nothing unless TRIBUTARY_TEST_FAULT names it. True: skip the step. */
export function faultPoint(point: FaultPoint): boolean {
  return active === undefined ? false : active.reach(point);
}

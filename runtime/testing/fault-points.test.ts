import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../errors.ts';
import { FaultSwitch, faultPoint, parseFaultRules } from './fault-points.ts';
import type { FaultEffects } from './fault-points.ts';

function recordingEffects(): FaultEffects & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    kill: () => calls.push('kill'),
    killSoon: () => calls.push('kill-soon'),
    note: () => undefined,
  };
}

describe('parseFaultRules', () => {
  it('reads several rules, @n defaulting to the first reach', () => {
    expect(parseFaultRules('processor.commit:kill@3, sink.insert:skip')).toEqual([
      { point: 'processor.commit', action: 'kill', at: 3 },
      { point: 'sink.insert', action: 'skip', at: 1 },
    ]);
  });

  it.each(['processor.comit:kill', 'sink.insert:explode', 'sink.insert', 'sink.insert:kill@0'])(
    'refuses %s instead of running inert',
    (text) => {
      let code = '';
      try {
        parseFaultRules(text);
      } catch (error) {
        if (isTributaryError(error)) code = error.code;
      }
      expect(code).toBe('TRIBUTARY_CONFIG_INVALID');
    },
  );
});

describe('FaultSwitch', () => {
  it('fires a rule only at its n-th reach of its own point', () => {
    const effects = recordingEffects();
    const faults = new FaultSwitch(parseFaultRules('processor.commit:kill@2,sink.commit:kill-soon'), effects);
    faults.reach('processor.commit');
    expect(effects.calls).toEqual([]);
    faults.reach('processor.send-offsets');
    faults.reach('processor.commit');
    expect(effects.calls).toEqual(['kill']);
    faults.reach('processor.commit');
    faults.reach('sink.commit');
    expect(effects.calls).toEqual(['kill', 'kill-soon']);
  });

  it('skip tells the caller to skip its step, once', () => {
    const faults = new FaultSwitch(parseFaultRules('sink.insert:skip@2'), recordingEffects());
    expect([1, 2, 3].map(() => faults.reach('sink.insert'))).toEqual([false, true, false]);
  });

  it('fail throws a retryable injected error', () => {
    const faults = new FaultSwitch(parseFaultRules('processor.send-offsets:fail'), recordingEffects());
    let failure: unknown;
    try {
      faults.reach('processor.send-offsets');
    } catch (error) {
      failure = error;
    }
    expect(isTributaryError(failure) && failure.code).toBe('TRIBUTARY_TEST_FAULT_INJECTED');
    expect(isTributaryError(failure) && failure.retryable).toBe(true);
  });
});

describe('faultPoint', () => {
  it('is inert when TRIBUTARY_TEST_FAULT is unset', () => {
    expect(process.env.TRIBUTARY_TEST_FAULT).toBeUndefined();
    expect(faultPoint('sink.insert')).toBe(false);
    expect(faultPoint('processor.rewind')).toBe(false);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { colourOn, textTable } from './terminal.ts';

const ESC = '\x1b';

describe('terminal output', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('colours only a terminal, and never under NO_COLOR', () => {
    vi.stubEnv('NO_COLOR', '');
    expect(colourOn({ isTTY: true })).toBe(true);
    expect(colourOn({ isTTY: false })).toBe(false);
    expect(colourOn({})).toBe(false);
    vi.stubEnv('NO_COLOR', '1');
    expect(colourOn({ isTTY: true })).toBe(false);
  });

  it('writes a table without escape codes when colour is off, even if the colour library would colour', () => {
    vi.stubEnv('FORCE_COLOR', '1');
    const plain = textTable({ head: ['figure', 'value'] }, false);
    plain.push(['events', '10']);
    expect(plain.toString()).not.toContain(ESC);
    expect(plain.toString()).toContain('figure');
  });
});

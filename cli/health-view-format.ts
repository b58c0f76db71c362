// Formatting shared by the health view's parts: colour (only when asked), borderless columns, numbers
// and UTC minutes.
export type Tone = 'bad' | 'warn' | 'dim';
export type Paint = (text: string, tone: Tone) => string;

const TONES: Record<Tone, string> = { bad: '\x1b[31m', warn: '\x1b[33m', dim: '\x1b[2m' };
export const paintFor =
  (colour: boolean): Paint =>
  (text, tone) =>
    colour && text !== '' ? `${TONES[tone]}${text}\x1b[0m` : text;

/** Borderless columns one space apart: the sparklines are the frame. */
export const COLUMNS_ONLY = {
  chars: {
    top: '',
    'top-mid': '',
    'top-left': '',
    'top-right': '',
    bottom: '',
    'bottom-mid': '',
    'bottom-left': '',
    'bottom-right': '',
    left: '',
    'left-mid': '',
    mid: '',
    'mid-mid': '',
    right: '',
    'right-mid': '',
    middle: ' ',
  },
  style: { 'padding-left': 0, 'padding-right': 0 },
};

export const utcMinute = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
export const formatRate = (perS: number): string =>
  perS < 10 ? perS.toFixed(1) : Math.round(perS).toLocaleString('en-US');
export const formatRatio = (ratio: number): string => `${(ratio * 100).toFixed(ratio < 0.1 ? 2 : 1)}%`;
export const formatMs = (ms: number): string => Math.round(ms).toLocaleString('en-US');

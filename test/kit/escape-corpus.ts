/**
 * Every family of terminal escape a captured byte could smuggle onto the user's terminal, and the
 * pattern of characters no output of execscope may carry raw (tab and line feed aside).
 */
export const ESCAPES = {
  csi: '\x1b[2J',
  'osc-title': '\x1b]0;PWNED\x07',
  'osc-clipboard': '\x1b]52;c;ZXZpbA==\x07',
  'osc-hyperlink': '\x1b]8;;http://evil.example/\x1b\\',
  dcs: '\x1bP+q544e\x1b\\',
  'c1-csi': '\u009b31m',
  'c1-osc': '\u009d0;PWNED\u009c',
  'bidi-override': '\u202egnp.exe',
  'bidi-isolate': '\u2066x\u2069',
} as const;

/** All of them in one string. */
export const ALL_ESCAPES = Object.values(ESCAPES).join('');

/** A control character, DEL, a C1 control or a bidi control, as it would reach the terminal. */
export const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

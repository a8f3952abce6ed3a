import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { PersonStats } from '../../api/types.ts';
import { toCsv } from '../../extension/message/csv.ts';
import { linkCsvRows } from '../../extension/message/link-table.tsx';
import { peopleCsvRows } from '../../extension/message/people-table.tsx';
import type { LinkHeat } from '../../extension/overlay/link-heat.ts';

/** The cells a spreadsheet would read back from the file. */
const cellsOf = (csv: string) => Papa.parse<string[]>(csv, { skipEmptyLines: true }).data;

const person = (name: string, over: Partial<PersonStats> = {}): PersonStats => ({
  recipientId: 1,
  email: 'p@shop.test',
  name,
  sentAt: '2025-01-01T10:00:00.000Z',
  openedAt: null,
  clicks: [{ linkId: 7, count: 2, suspect: 1, bot: 1, reasons: { bot: { honeypot: 1 }, suspect: { early: 1 } }, firstAt: null, lastAt: null }],
  goalAt: null,
  unsubscribedAt: null,
  ...over,
});

const heat = (text: string, share: number): LinkHeat => ({
  messageId: 1,
  linkId: 7,
  text,
  url: 'https://shop.test/beans',
  clicks: 3,
  unique: 2,
  bot: 0,
  share,
  colour: '#fff',
  rank: 1,
  people: [],
});

describe('CSV export', () => {
  it('turns a text cell that starts like a formula into text with a leading single quote', () => {
    const dangerous = ['=HYPERLINK("https://evil.test","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '=1+2\n=3'];
    const csv = toCsv(dangerous.map((d) => [d]));
    expect(cellsOf(csv).map(([cell]) => cell)).toEqual(dangerous.map((d) => `'${d}`));
    // Every such cell is quoted, with its own quotes doubled.
    expect(csv.split('\r\n')[0]).toBe(`"'=HYPERLINK(""https://evil.test"",""x"")"`);
  });

  it('keeps commas, quotes and line breaks inside a cell, and leaves harmless text as written', () => {
    const rows = [['Obama, Michelle', 'She said "hi"', 'two\nlines', 'cr\r\nlf', 'a=b', ' =1', '', null]];
    const csv = toCsv(rows);
    expect(csv).toBe('"Obama, Michelle","She said ""hi""","two\nlines","cr\r\nlf","a=b"," =1","",\r\n');
    expect(cellsOf(csv)).toEqual([['Obama, Michelle', 'She said "hi"', 'two\nlines', 'cr\r\nlf', 'a=b', ' =1', '', '']]);
  });

  it('writes numbers bare and never prefixes them, negative ones included', () => {
    expect(toCsv([[3, 0, -1, 0.25, '-1']])).toBe(`3,0,-1,0.25,"'-1"\r\n`);
  });

  it('neutralises names and link texts in the People and Links exports, and keeps their counts numbers', () => {
    const people = toCsv(peopleCsvRows([person('=cmd|" /C calc"!A0')], () => '@evil link'));
    expect(cellsOf(people)[1]).toEqual([
      'p@shop.test',
      `'=cmd|" /C calc"!A0`,
      '2025-01-01T10:00:00.000Z',
      '',
      '2',
      '1',
      '1',
      'hidden link ×1, suspect: within a minute of delivery ×1',
      `'@evil link ×2`,
      '',
    ]);
    expect(people.split('\r\n')[1]).toContain(',2,1,1,');

    const links = toCsv(linkCsvRows([heat('-10% off', 1 / 3)]));
    expect(cellsOf(links)[1]).toEqual(['7', "'-10% off", 'https://shop.test/beans', '3', '2', '0', '0.3333']);
    expect(links.split('\r\n')[1]).toBe(`7,"'-10% off","https://shop.test/beans",3,2,0,0.3333`);
  });
});

import { describe, expect, it } from 'vitest';
import { describeProblem, parseRecipients, parseRecipientsCsv } from '../../extension/compose/parse-recipients.ts';

describe('pasted recipients', () => {
  it('reads `email`, `Name <email>` and `email,name` lines, skipping blank ones', () => {
    const parsed = parseRecipients(
      ['ada@shop.test', '', 'Grace Hopper <grace@shop.test>', '"Turing, Alan" <alan@shop.test>', 'katherine@shop.test, Katherine Johnson', 'edsger@shop.test\tEdsger Dijkstra', '  '].join('\n'),
    );
    expect(parsed).toEqual({
      ok: true,
      attributes: [],
      recipients: [
        { email: 'ada@shop.test' },
        { email: 'grace@shop.test', name: 'Grace Hopper' },
        { email: 'alan@shop.test', name: 'Turing, Alan' },
        { email: 'katherine@shop.test', name: 'Katherine Johnson' },
        { email: 'edsger@shop.test', name: 'Edsger Dijkstra' },
      ],
    });
  });

  it('names each bad line by its number and returns no recipient at all', () => {
    const parsed = parseRecipients('ada@shop.test\r\nGrace <grace@shop.test>\r\n\r\nbob@\r\nAlan Turing, alan@shop.test\r\nhedy@shop.test');
    expect(parsed).toEqual({
      ok: false,
      problems: [
        { line: 4, problem: 'not an email address (“bob@”)' },
        { line: 5, problem: 'not an email address (“Alan Turing”)' },
      ],
    });
    if (parsed.ok) return;
    expect(parsed.problems.map(describeProblem)).toEqual(['line 4: not an email address (“bob@”)', 'line 5: not an email address (“Alan Turing”)']);
    expect('recipients' in parsed).toBe(false);
  });

  it('checks what the server checks, so the server never refuses an import the page let through', () => {
    const parsed = parseRecipients(`ada@shop.test, ${'A'.repeat(201)}`);
    expect(parsed).toEqual({ ok: false, problems: [{ line: 1, problem: 'the name is longer than 200 characters' }] });
  });

  it('reads pasted text whose first line names columns as CSV', () => {
    expect(parseRecipients('Email,Name,plan\nada@shop.test,Ada Lovelace,team\n')).toEqual({
      ok: true,
      attributes: ['plan'],
      recipients: [{ email: 'ada@shop.test', name: 'Ada Lovelace', attributes: { plan: 'team' } }],
    });
  });
});

describe('recipients from a CSV file', () => {
  it('takes the header row: email, an optional name, every other column an attribute', () => {
    const csv = '\uFEFFname,EMAIL,plan,first_name\r\nAda Lovelace,ada@shop.test,team,Ada\r\n,grace@shop.test,,Grace\r\n"Turing, Alan",alan@shop.test,solo,\r\n';
    expect(parseRecipientsCsv(csv)).toEqual({
      ok: true,
      attributes: ['plan', 'first_name'],
      recipients: [
        { email: 'ada@shop.test', name: 'Ada Lovelace', attributes: { plan: 'team', first_name: 'Ada' } },
        // Empty cells are no value: the tag's fallback applies.
        { email: 'grace@shop.test', attributes: { first_name: 'Grace' } },
        { email: 'alan@shop.test', name: 'Turing, Alan', attributes: { plan: 'solo' } },
      ],
    });
  });

  it('reports one bad line by its line in the file, and returns nothing', () => {
    const csv = 'email,name\nada@shop.test,Ada\ngrace@shop.test,Grace\nnot-an-address,Bob\nalan@shop.test,Alan\n';
    const parsed = parseRecipientsCsv(csv);
    expect(parsed).toEqual({ ok: false, problems: [{ line: 4, problem: 'not an email address (“not-an-address”)' }] });
  });

  it('counts lines inside a quoted value, so the line named is the one an editor shows', () => {
    const csv = 'email,name,note\nada@shop.test,Ada,"two\nlines"\n\nbob@@shop,Bob,x\n';
    expect(parseRecipientsCsv(csv)).toEqual({ ok: false, problems: [{ line: 5, problem: 'not an email address (“bob@@shop”)' }] });
  });

  it('reads semicolon-separated files, as some spreadsheets save them', () => {
    expect(parseRecipientsCsv('email;name;city\nada@shop.test;Ada;London\n')).toMatchObject({
      ok: true,
      recipients: [{ email: 'ada@shop.test', name: 'Ada', attributes: { city: 'London' } }],
    });
  });

  it('refuses a file with no email column, a column named twice, or a row longer than the header', () => {
    expect(parseRecipientsCsv('address,name\nada@shop.test,Ada\n')).toEqual({
      ok: false,
      problems: [{ line: 1, problem: 'the first row names no “email” column (it has “address”, “name”)' }],
    });
    expect(parseRecipientsCsv('email,plan,Plan\nada@shop.test,a,b\n')).toEqual({ ok: false, problems: [{ line: 1, problem: 'two columns are called “Plan”' }] });
    expect(parseRecipientsCsv('email,name\nada@shop.test,Ada,extra\n')).toEqual({
      ok: false,
      problems: [{ line: 2, problem: '3 values, but the first row names 2 columns' }],
    });
    expect(parseRecipientsCsv('email,name\nada@shop.test,Ada\n,Nobody\n')).toEqual({ ok: false, problems: [{ line: 3, problem: 'no email address' }] });
    expect(parseRecipientsCsv('')).toEqual({ ok: false, problems: [{ line: 1, problem: 'the file is empty' }] });
  });

  it('drops a trailing empty column but not an unnamed one that holds values', () => {
    expect(parseRecipientsCsv('email,name,\nada@shop.test,Ada,\n')).toEqual({ ok: true, attributes: [], recipients: [{ email: 'ada@shop.test', name: 'Ada' }] });
    expect(parseRecipientsCsv('email,,plan\nada@shop.test,x,team\n')).toEqual({ ok: false, problems: [{ line: 1, problem: 'column 2 has values but no name' }] });
  });

  it('says where a quoted value is left open', () => {
    expect(parseRecipientsCsv('email,name\nada@shop.test,Ada\ngrace@shop.test,"Grace\n')).toEqual({
      ok: false,
      problems: [{ line: 3, problem: 'a quoted value is never closed' }],
    });
  });
});

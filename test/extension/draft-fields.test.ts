import { describe, expect, it } from 'vitest';
import { CreateMessageBody, PatchMessageBody } from '../../api/schemas.ts';
import { createBody, EMPTY_DRAFT, patchBody, type DraftFields } from '../../extension/compose/draft-fields.ts';

const draft = (over: Partial<DraftFields>): DraftFields => ({ ...EMPTY_DRAFT, subject: 'Autumn beans', html: '<p>Hi</p>', ...over });

describe('the composer’s fields as the API takes them', () => {
  it('leaves empty optional fields out of a new message, so the server’s defaults apply', () => {
    expect(createBody(draft({ text: '  ', from: '', replyTo: ' ', goalEvent: '' }))).toEqual({
      body: { channel: 'email', subject: 'Autumn beans', html: '<p>Hi</p>', kind: 'marketing' },
    });
  });

  it('sends every field on an edit, null clearing what was set, and the server’s schemas accept both bodies', () => {
    const checked = createBody(draft({ from: ' Bean & Leaf <team@shop.test> ', kind: 'transactional', goalEvent: 'order', goalDays: '5' }));
    if (!('body' in checked)) throw new Error('refused');
    expect(checked.body).toEqual({
      channel: 'email',
      subject: 'Autumn beans',
      html: '<p>Hi</p>',
      kind: 'transactional',
      from: 'Bean & Leaf <team@shop.test>',
      goal: { event: 'order', withinDays: 5 },
    });
    expect(CreateMessageBody.safeParse(checked.body).success).toBe(true);
    const patch = patchBody(checked.body);
    const { channel: _channel, ...fields } = checked.body;
    expect(patch).toEqual({ ...fields, text: null, replyTo: null });
    expect(PatchMessageBody.safeParse(patch).success).toBe(true);
  });

  it('names each field that is wrong, in words, and gives no body', () => {
    expect(createBody(draft({ subject: ' ', html: '', replyTo: 'help at shop', goalEvent: 'order', goalDays: '0' }))).toEqual({
      problems: {
        subject: 'Write a subject.',
        html: 'Write, paste or load the HTML of the mail.',
        replyTo: 'This must be an address such as team@shop.example or "Shop <team@shop.example>".',
        goalDays: 'A whole number of days, 1 to 365.',
      },
    });
    // Limits only the server's schema names are still caught before the request.
    expect(createBody(draft({ subject: 'x'.repeat(999) }))).toEqual({ problems: { subject: 'Too long: at most 998 characters.' } });
  });
});

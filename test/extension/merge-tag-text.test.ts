import { describe, expect, it } from 'vitest';
import { hasMergeTags, mergeTagsAsText, sampleRecipient, showMergeTags } from '../../extension/ui/merge-tag-text.tsx';
import type { PersonStats } from '../../api/types.ts';

const ada = { email: 'ada@shop.test', name: 'Ada Lovelace' };

describe('merge tags as the team reads them', () => {
  it('fills the sample recipient’s own fields', () => {
    expect(mergeTagsAsText('Welcome, {{first_name}}!', ada)).toBe('Welcome, Ada!');
    expect(mergeTagsAsText('{{ last_name }} · {{name}} · {{email}}', ada)).toBe('Lovelace · Ada Lovelace · ada@shop.test');
    expect(showMergeTags('Hi {{first_name}}, your beans', ada)).toEqual([{ text: 'Hi Ada, your beans' }]);
  });

  it('shows what it cannot fill as a named placeholder, never as braces', () => {
    expect(showMergeTags('Invoice {{attributes.invoice_id}} for {{first_name}}')).toEqual([
      { text: 'Invoice ' },
      { placeholder: 'invoice id' },
      { text: ' for ' },
      { placeholder: 'first name' },
    ]);
    // Attributes never reach the extension: a bare tag stays a placeholder even with a sample.
    expect(mergeTagsAsText('Due {{due_date}}', ada)).toBe('Due ‹due date›');
    // Other languages' tags too: the team should not read `{{ .Name }}`.
    expect(mergeTagsAsText('{{ .Name }}, {{#if vip}}VIP{{/if}} {{{raw}}}')).toBe('‹Name›, ‹if vip›VIP‹if› ‹raw›');
    for (const s of ['{{first_name}}', '{{attributes.x}}', '{{ end }}', '{{{x}}}', 'a {{b | c}} d']) expect(mergeTagsAsText(s)).not.toMatch(/\{\{|\}\}/);
  });

  it('takes a fallback when the sample lacks the value, and a placeholder when there is no fallback', () => {
    const noName = { email: 'margaret@shop.test', name: null };
    expect(mergeTagsAsText('Hi {{first_name | there}}!', noName)).toBe('Hi there!');
    expect(mergeTagsAsText('Hi {{first_name}}!', noName)).toBe('Hi ‹first name›!');
    expect(mergeTagsAsText('Hi {{first_name | there}}!')).toBe('Hi ‹first name›!');
  });

  it('leaves text without tags as it is', () => {
    expect(showMergeTags('Spring sale')).toEqual([{ text: 'Spring sale' }]);
    expect(showMergeTags('')).toEqual([]);
    expect(hasMergeTags('Spring sale')).toBe(false);
    expect(hasMergeTags('Hi {{ .Name }}')).toBe(true);
  });

  it('samples the first recipient with a name', () => {
    const p = (name: string | null, email: string) => ({ name, email }) as PersonStats;
    expect(sampleRecipient([p(null, 'a@x'), p('Bo', 'b@x')])?.email).toBe('b@x');
    expect(sampleRecipient([p(null, 'a@x')])?.email).toBe('a@x');
    expect(sampleRecipient([])).toBeNull();
    expect(sampleRecipient(undefined)).toBeNull();
  });
});

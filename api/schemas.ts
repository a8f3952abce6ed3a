import { z } from 'zod';

const Attributes = z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]));

export const CreateMessageBody = z.strictObject({
  subject: z.string().trim().min(1).max(998),
  html: z.string().min(1).max(1_000_000),
  text: z.string().max(1_000_000).optional(),
  channel: z.enum(['email', 'in_app', 'push']).default('email'),
  goal: z
    .strictObject({ event: z.string().trim().min(1).max(100), withinDays: z.number().int().min(1).max(365) })
    .optional(),
});
export type CreateMessageBody = z.input<typeof CreateMessageBody>;

export const AddRecipientsBody = z.strictObject({
  recipients: z
    .array(
      z.strictObject({
        email: z.email().max(320),
        name: z.string().trim().max(200).optional(),
        attributes: Attributes.optional(),
      }),
    )
    .min(1)
    .max(10_000),
});
export type AddRecipientsBody = z.input<typeof AddRecipientsBody>;

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as example.com');

export const SettingsPatch = z.strictObject({
  clickTracking: z.boolean().optional(),
  leadEmailIdentification: z.boolean().optional(),
  universalLinkDomains: z.array(Domain).max(500).optional(),
  identificationWindowDays: z.number().int().min(0).max(365).optional(),
  identityCookieDays: z.number().int().min(1).max(400).optional(),
  scannerWindowSeconds: z.number().int().min(0).max(3600).optional(),
});
export type SettingsPatch = z.input<typeof SettingsPatch>;

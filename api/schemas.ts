import { z } from 'zod';
import { MAX_IDENTITY_CHARS } from './identity.ts';

const Attributes = z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]));

const Subject = z.string().trim().min(1).max(998);
const Html = z.string().min(1).max(1_000_000);
const Text = z.string().max(1_000_000);
const GoalBody = z.strictObject({ event: z.string().trim().min(1).max(100), withinDays: z.number().int().min(1).max(365) });
/** Who sees an in-app message: every visitor, identified leads only (by email click or verified), or the people listed. */
export const Audience = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('everyone') }),
  z.strictObject({ type: z.literal('identified') }),
  z.strictObject({
    type: z.literal('people'),
    emails: z.array(z.email().max(320)).max(10_000).default([]),
    userIds: z.array(z.string().trim().min(1).max(200)).max(10_000).default([]),
  }),
]);

export const PushContent = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().trim().min(1).max(2000),
  /** A web link or a deep link whose scheme is in settings.deepLinkSchemes. */
  uri: z.string().trim().min(1).max(2000),
});

/** An address, optionally with a display name: `a@b.example` or `Shop Team <a@b.example>`. */
export const MailAddress = z
  .string()
  .trim()
  .max(400)
  .regex(/^(?:[^<>@\r\n]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/, 'must be an address such as team@shop.example or "Shop <team@shop.example>"');
/** `marketing` (the default) carries List-Unsubscribe and honours the suppression list; `transactional` (receipts, password resets) does neither. */
const Kind = z.enum(['marketing', 'transactional']);

const EmailMessageBody = z.strictObject({
  channel: z.literal('email'),
  subject: Subject,
  html: Html,
  text: Text.optional(),
  /** Default: settings.defaultFrom, else CLICKTRAIL_FROM. */
  from: MailAddress.optional(),
  /** Default: settings.defaultReplyTo (none when null). */
  replyTo: MailAddress.optional(),
  /** Default: marketing. */
  kind: Kind.optional(),
  goal: GoalBody.optional(),
});
/** What only an email has, refused on another channel with a reason rather than as an unknown key. */
const NotAnEmail = {
  text: z.never({ error: 'only an email message has one' }).optional(),
  from: z.never({ error: 'only an email message has one' }).optional(),
  replyTo: z.never({ error: 'only an email message has one' }).optional(),
  kind: z.never({ error: 'only an email message has one' }).optional(),
};
const InAppMessageBody = z.strictObject({
  channel: z.literal('in_app'),
  subject: Subject,
  html: Html,
  audience: Audience,
  goal: GoalBody.optional(),
  ...NotAnEmail,
});
const PushMessageBody = z.strictObject({
  channel: z.literal('push'),
  /** The team's own name for it, as in lists and stats. */
  subject: Subject,
  push: PushContent,
  goal: GoalBody.optional(),
  ...NotAnEmail,
});

/** `channel` may be left out: an email. */
export const CreateMessageBody = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('channel' in v) ? { ...v, channel: 'email' } : v),
  z.discriminatedUnion('channel', [EmailMessageBody, InAppMessageBody, PushMessageBody]),
);
export type CreateMessageBody = z.input<typeof EmailMessageBody> | z.input<typeof InAppMessageBody> | z.input<typeof PushMessageBody>;

/**
 * `PATCH /api/messages/:id`, a draft only (409 once sent): what is given replaces what was;
 * null clears an optional field. The link placements are computed again.
 */
export const PatchMessageBody = z.strictObject({
  subject: Subject.optional(),
  html: Html.optional(),
  text: Text.nullable().optional(),
  from: MailAddress.nullable().optional(),
  replyTo: MailAddress.nullable().optional(),
  kind: Kind.optional(),
  goal: GoalBody.nullable().optional(),
});
export type PatchMessageBody = z.input<typeof PatchMessageBody>;

/** `POST /api/messages/:id/test`: the mail as `as` (a recipient's email; default the first recipient, else nobody's values) gets it, sent to `email`. */
export const TestSendBody = z.strictObject({
  email: z.email().max(320),
  as: z.email().max(320).optional(),
});
export type TestSendBody = z.input<typeof TestSendBody>;

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

/** `POST /api/messages/:id/send`, body optional. allowMissing false: refuse (409) when a recipient lacks a value for a tag of ours with no fallback. */
export const SendOptionsBody = z.strictObject({
  allowMissing: z.boolean().optional(),
});
export type SendOptionsBody = z.input<typeof SendOptionsBody>;

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as example.com');

const Origin = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/, 'must be an origin such as https://www.example.com');

export const SettingsPatch = z.strictObject({
  clickTracking: z.boolean().optional(),
  leadEmailIdentification: z.boolean().optional(),
  universalLinkDomains: z.array(Domain).max(500).optional(),
  mergeTagHosts: z.array(Domain).max(500).optional(),
  scannerNetworks: z
    .array(z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], { error: 'must be an IP address or a CIDR range such as 192.0.2.0/24' }))
    .max(10_000)
    .optional(),
  identificationWindowDays: z.number().int().min(0).max(365).optional(),
  identityCookieDays: z.number().int().min(1).max(400).optional(),
  scannerWindowSeconds: z.number().int().min(0).max(3600).optional(),
  earlyWindowSeconds: z.number().int().min(0).max(3600).optional(),
  identificationDelaySeconds: z.number().int().min(0).max(3600).optional(),
  messengerGreeting: z.string().trim().min(1).max(200).optional(),
  messengerIntro: z.string().trim().max(300).optional(),
  allowedOrigins: z.array(Origin).max(200).optional(),
  webhookUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().optional(),
  /** Lower-case URI schemes of your apps, without the colon: `myapp` for myapp://orders/42. Never http, https, javascript, data, file, mailto, tel, sms. */
  deepLinkSchemes: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(/^[a-z][a-z0-9+.-]{0,31}$/, 'must be a URI scheme such as myapp')
        .refine((s) => !RESERVED_SCHEMES.has(s), 'is not an app scheme'),
    )
    .max(50)
    .optional(),
  appLinks: z
    .strictObject({
      apple: z.array(z.strictObject({ appId: z.string().trim().regex(/^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$/, 'must be TEAMID.bundle.id'), paths: z.array(z.string().trim().min(1).max(200)).min(1).max(100) })).max(20),
      android: z
        .array(
          z.strictObject({
            packageName: z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/, 'must be a package name such as com.shop.app'),
            sha256CertFingerprints: z.array(z.string().trim().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'must be a SHA-256 fingerprint, 32 upper-case hex pairs joined by colons')).min(1).max(10),
          }),
        )
        .max(20),
    })
    .optional(),
  defaultFrom: MailAddress.nullable().optional(),
  defaultReplyTo: MailAddress.nullable().optional(),
  /** Minutes, fractions allowed (0.5: thirty seconds); at most a week. null: never. */
  replyByEmailAfterMinutes: z.number().min(0).max(10_080).nullable().optional(),
});

const RESERVED_SCHEMES = new Set(['http', 'https', 'javascript', 'data', 'file', 'blob', 'about', 'vbscript', 'mailto', 'tel', 'sms', 'ftp', 'ws', 'wss']);
export type SettingsPatch = z.input<typeof SettingsPatch>;

/** Longest message a visitor or the team may write. */
export const MAX_MESSAGE_CHARS = 4000;

const MessageText = z.string().trim().min(1, 'must not be empty').max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`);
/** The widget's own id for a message, so a retried send is stored once. */
const ClientId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 URL-safe characters');
const PageUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const MessengerBootBody = z.strictObject({
  session: z.strictObject({ id: z.number().int().positive(), secret: z.string().max(200) }).optional(),
  /** The identity cookie's value, as the widget read it. */
  identity: z.string().max(MAX_IDENTITY_CHARS).optional(),
  /** A verified identity from the host page. */
  user: z
    .strictObject({
      userId: z.string().trim().min(1).max(200),
      email: z.email().max(320),
      name: z.string().trim().max(200).optional(),
      userHash: z.string().max(200),
    })
    .optional(),
  url: PageUrl.optional(),
  referrer: z.string().max(2000).optional(),
});
export type MessengerBootBody = z.input<typeof MessengerBootBody>;

export const MessengerVisitBody = z.strictObject({ url: PageUrl, referrer: z.string().max(2000).optional() });
export const StartConversationBody = z.strictObject({ body: MessageText, clientId: ClientId, pageUrl: PageUrl.optional() });
export const SendMessageBody = z.strictObject({ body: MessageText, clientId: ClientId });
export const TeamReplyBody = z.strictObject({ body: MessageText });
/** `POST /messenger/conversations/:id/seen`: the visitor has seen the thread up to this message. */
export const ConversationSeenBody = z.strictObject({ through: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
/** `POST /messenger/contact-email`: where an anonymous visitor wants replies they miss. */
export const ContactEmailBody = z.strictObject({ email: z.email({ error: 'must be an email address such as you@example.com' }).max(320) });
export const EventName = z.string().trim().min(1).max(100);
export const MessengerEventBody = z.strictObject({ name: EventName });
export const PersonEventBody = z.strictObject({ email: z.email().max(320), name: EventName });

import { browser } from '../platform/browser.ts';

/** The marketer's own address for test sends, kept from one message to the next (storage.local, like the server settings). */
const KEY = 'testAddress';

export async function loadTestAddress(): Promise<string> {
  const got = await browser.storage.local.get(KEY);
  return typeof got[KEY] === 'string' ? got[KEY] : '';
}

export async function saveTestAddress(address: string): Promise<void> {
  await browser.storage.local.set({ [KEY]: address });
}

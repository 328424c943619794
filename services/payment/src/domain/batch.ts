import type { Money } from '@oms/contracts';
import type { AuthorisationReply } from '../db/schema.ts';
import { decideAuthorisation, type Credit } from './credit.ts';

export type PaymentCommand = { kind: 'authorise'; orderId: string; userId: string; amount: Money } | { kind: 'void'; orderId: string };

export interface Hold {
  userId: string;
  amount: number;
  currency: string;
  state: 'HELD' | 'VOIDED';
}

/** What the batch starts from, read (locked) from the database. */
export interface PaymentSnapshot {
  /** The account of every user the batch charges or releases (made first if new). */
  accounts: ReadonlyMap<string, Credit>;
  /** Each order's stored first answer, if it has one. */
  answers: ReadonlyMap<string, AuthorisationReply>;
  /** The holds of the batch's orders. */
  holds: ReadonlyMap<string, Hold>;
}

export type PaymentOutcome = { kind: 'authorise'; reply: AuthorisationReply } | { kind: 'void'; voided: boolean };

/** What to write back. */
export interface PaymentEffects {
  outcomes: PaymentOutcome[];
  /** Accounts whose held amount the batch changed, with the amount after it. */
  held: { userId: string; held: number }[];
  /** Holds taken by this batch, with their state after it. */
  newHolds: { orderId: string; hold: Hold }[];
  /** Holds taken before the batch that it voided. */
  voided: string[];
  /** First answers decided by this batch (a void's is the refusal that blocks a later authorise). */
  answers: { orderId: string; reply: AuthorisationReply }[];
}

const voidMarker: AuthorisationReply = { ok: false, reasons: [] };

/**
 * Applies a batch of payment commands to a snapshot, purely and in order, exactly as applying them
 * one by one would: an authorise holds the amount against what the commands before it left
 * available, or declines; its first answer is kept and repeated. A void releases the order's hold
 * and leaves a refusal as the order's answer when it has none, so a late authorise holds nothing.
 */
export function applyPaymentCommands(commands: readonly PaymentCommand[], snapshot: PaymentSnapshot): PaymentEffects {
  const accounts = new Map([...snapshot.accounts].map(([id, a]) => [id, { ...a }]));
  const answers = new Map(snapshot.answers);
  const holds = new Map([...snapshot.holds].map(([id, h]) => [id, { ...h }]));
  const touched = new Set<string>();
  const fresh = new Map<string, Hold>();
  const voided = new Set<string>();
  const effects: PaymentEffects = { outcomes: [], held: [], newHolds: [], voided: [], answers: [] };
  const account = (userId: string) => {
    const found = accounts.get(userId);
    if (!found) throw new Error(`account ${userId} is not in the batch's snapshot`);
    return found;
  };

  for (const command of commands) {
    const { orderId } = command;
    if (command.kind === 'authorise') {
      const known = answers.get(orderId);
      if (known) {
        effects.outcomes.push({ kind: 'authorise', reply: known });
        continue;
      }
      const credit = account(command.userId);
      const reasons = decideAuthorisation(credit, command.amount);
      if (reasons.length === 0) {
        credit.held += command.amount.amount;
        touched.add(command.userId);
        const hold: Hold = { userId: command.userId, amount: command.amount.amount, currency: command.amount.currency, state: 'HELD' };
        holds.set(orderId, hold);
        fresh.set(orderId, hold);
      }
      const reply: AuthorisationReply = { ok: reasons.length === 0, reasons };
      answers.set(orderId, reply);
      effects.answers.push({ orderId, reply });
      effects.outcomes.push({ kind: 'authorise', reply });
    } else {
      if (!answers.has(orderId)) {
        answers.set(orderId, voidMarker);
        effects.answers.push({ orderId, reply: voidMarker });
      }
      const hold = holds.get(orderId);
      if (!hold || hold.state !== 'HELD') {
        effects.outcomes.push({ kind: 'void', voided: false });
        continue;
      }
      hold.state = 'VOIDED';
      account(hold.userId).held -= hold.amount;
      touched.add(hold.userId);
      if (!fresh.has(orderId)) voided.add(orderId);
      effects.outcomes.push({ kind: 'void', voided: true });
    }
  }
  effects.held = [...touched].sort().map((userId) => ({ userId, held: account(userId).held }));
  effects.newHolds = [...fresh].map(([orderId, hold]) => ({ orderId, hold }));
  effects.voided = [...voided];
  return effects;
}

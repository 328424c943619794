import type { OrderLine } from '@oms/contracts';
import type { ReservationReply } from '../db/schema.ts';
import { mergeLines, planReservation, type StockLevel } from './reservation.ts';
import { reservationMoves, settledFrom, settlementMoves, type ReservationState, type Settlement, type StockMove } from './settlement.ts';

export type StockCommand = { kind: 'reserve'; orderId: string; lines: readonly OrderLine[] } | { kind: 'release'; orderId: string } | { kind: 'commit'; orderId: string };

export interface HeldLine {
  sku: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  state: ReservationState;
}

/** What the batch starts from, read (locked) from the database. */
export interface StockSnapshot {
  /** Stock of every SKU the batch's reserves name (absent: unknown SKU). */
  stock: ReadonlyMap<string, StockLevel>;
  /** Each order's stored reservation answer; `null` for an order whose answer row this batch has just claimed (none yet). */
  answers: ReadonlyMap<string, ReservationReply | null>;
  /** The lines the batch's orders hold. */
  held: ReadonlyMap<string, readonly HeldLine[]>;
}

export type StockOutcome = { kind: 'reserve'; reply: ReservationReply } | { kind: 'release'; released: boolean } | { kind: 'commit'; committed: boolean };

/** What to write back: counter moves, new reservation lines, changed line states, new answers. */
export interface StockEffects {
  outcomes: StockOutcome[];
  moves: StockMove[];
  /** Lines reserved by this batch, with their state after it. */
  newLines: { orderId: string; line: HeldLine }[];
  /** Lines held before the batch whose state it changed, with their final state. */
  changedLines: { orderId: string; sku: string; state: ReservationState }[];
  /** Answers this batch decided (a reserve's reply; a release's refusal needs none: it is the claimed row's). */
  answers: { orderId: string; reply: ReservationReply }[];
}

const refusal: ReservationReply = { ok: false, reasons: [], lines: [], total: null };

/**
 * Applies a batch of stock commands to a snapshot, purely and in order, exactly as applying them
 * one by one would: a reserve takes every line or none from what is left after the commands before
 * it, and its answer is kept and repeated (a reserve after the order's release finds the release's
 * refusal); a release gives back what the order holds, reserved or committed; a commit turns what
 * it holds reserved into committed. Each is idempotent per order.
 */
export function applyStockCommands(commands: readonly StockCommand[], snapshot: StockSnapshot): StockEffects {
  const stock = new Map(snapshot.stock);
  const answers = new Map(snapshot.answers);
  const held = new Map<string, HeldLine[]>([...snapshot.held].map(([id, lines]) => [id, lines.map((l) => ({ ...l }))]));
  const fresh = new Set<HeldLine>();
  const decided = new Map<string, ReservationReply>();
  const effects: StockEffects = { outcomes: [], moves: [], newLines: [], changedLines: [], answers: [] };

  // Every move counts for the commands after it: stock a release gives back can be reserved again.
  const move = (moves: readonly StockMove[]) => {
    effects.moves.push(...moves);
    for (const m of moves) {
      const s = stock.get(m.sku);
      if (s) stock.set(m.sku, { ...s, available: s.available + m.available });
    }
  };
  const settle = (orderId: string, to: Settlement): number => {
    const lines = (held.get(orderId) ?? []).filter((l) => settledFrom(to).includes(l.state));
    move(settlementMoves(lines, to));
    for (const l of lines) l.state = to;
    return lines.length;
  };

  for (const command of commands) {
    const { orderId } = command;
    if (command.kind === 'reserve') {
      const known = answers.get(orderId);
      if (known) {
        effects.outcomes.push({ kind: 'reserve', reply: known });
        continue;
      }
      const plan = planReservation(mergeLines(command.lines), stock);
      let reply: ReservationReply;
      if (plan.ok) {
        move(reservationMoves(plan.lines));
        const lines = plan.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice.amount, currency: l.unitPrice.currency, state: 'RESERVED' as const }));
        for (const l of lines) fresh.add(l);
        held.set(orderId, [...(held.get(orderId) ?? []), ...lines]);
        reply = { ok: true, reasons: [], lines: plan.lines, total: plan.total };
      } else {
        reply = { ok: false, reasons: plan.reasons, lines: [], total: null };
      }
      answers.set(orderId, reply);
      decided.set(orderId, reply);
      effects.outcomes.push({ kind: 'reserve', reply });
    } else if (command.kind === 'release') {
      // A release stores a refusal as the order's answer when there is none yet, so a reserve
      // arriving after it reserves nothing.
      if (!answers.get(orderId)) answers.set(orderId, refusal);
      effects.outcomes.push({ kind: 'release', released: settle(orderId, 'RELEASED') > 0 });
    } else {
      effects.outcomes.push({ kind: 'commit', committed: settle(orderId, 'COMMITTED') > 0 });
    }
  }

  for (const [orderId, lines] of held) {
    const before = new Map((snapshot.held.get(orderId) ?? []).map((l) => [l.sku, l.state]));
    for (const line of lines) {
      if (fresh.has(line)) effects.newLines.push({ orderId, line });
      else if (before.get(line.sku) !== line.state) effects.changedLines.push({ orderId, sku: line.sku, state: line.state });
    }
  }
  effects.answers = [...decided].map(([orderId, reply]) => ({ orderId, reply }));
  return effects;
}

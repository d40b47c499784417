// Amounts in satoshis, held as JS numbers: MAX_MONEY (2.1e15) is below 2^53, so every
// valid amount and every sum of two valid amounts is exact.

export const COIN = 100_000_000;
export const MAX_MONEY = 21_000_000 * COIN;

/** Core's MoneyRange(): 0 <= value <= MAX_MONEY. */
export function moneyRange(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_MONEY;
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { waitFor, type ApiClient } from '@oms/platform/testing';

export const FINAL = new Set(['READY_FOR_DELIVERY', 'FAILED']);

export function uniqueSku(label = 'SKU'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

export async function createUser(api: ApiClient, opts: { active?: boolean } = {}): Promise<string> {
  const res = await api.post('/api/users', { name: 'Test User', email: `u-${randomBytes(6).toString('hex')}@example.com` });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  if (opts.active === false) {
    const patched = await api.patch(`/api/users/${res.body.id}`, { active: false });
    assert.equal(patched.status, 200);
  }
  return res.body.id as string;
}

export async function createProduct(api: ApiClient, stock: number, amount = 1000): Promise<string> {
  const sku = uniqueSku();
  const res = await api.post('/api/products', { sku, name: `Product ${sku}`, price: { amount, currency: 'EUR' }, stock });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return sku;
}

export async function placeOrder(api: ApiClient, userId: string, items: { sku: string; quantity: number }[], headers?: Record<string, string>) {
  const res = await api.post('/api/orders', { userId, items }, headers);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body as { id: string; status: string };
}

export async function finalOrder(api: ApiClient, id: string, timeoutMs = 30_000) {
  const res = await waitFor(() => api.get(`/api/orders/${id}`), (r) => FINAL.has(r.body?.status), `order ${id} to reach a final state`, timeoutMs);
  return res.body;
}

export async function product(api: ApiClient, sku: string) {
  const res = await api.get(`/api/products/${sku}`);
  assert.equal(res.status, 200);
  return res.body as { available: number; reserved: number; committed: number };
}

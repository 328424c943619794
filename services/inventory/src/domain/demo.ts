/** Demo products inserted by `npm start` (OMS_DEMO_DATA). SKU-LOW has little stock on purpose. */
export const demoProducts = [
  { sku: 'SKU-001', name: 'Mechanical keyboard', price_amount: 8900, currency: 'EUR', available: 100 },
  { sku: 'SKU-002', name: 'USB-C cable', price_amount: 1200, currency: 'EUR', available: 500 },
  { sku: 'SKU-003', name: '4K monitor', price_amount: 32900, currency: 'EUR', available: 20 },
  { sku: 'SKU-LOW', name: 'Limited edition mug', price_amount: 1500, currency: 'EUR', available: 2 },
] as const;
